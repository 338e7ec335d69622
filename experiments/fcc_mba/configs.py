"""The model configurations of the FCC MBA experiments.

- :func:`paper_config`: the original MBA configuration (the original's
  ``example_training/config.py``): no auxiliary critic, no
  auto-normalization, sample_len from the grid {1, 4, 8}, every other
  hyperparameter the paper's default (:class:`~dg_tf.config.DGConfig`). The
  original trained 17000 epochs; a 2-core CPU cannot, so the epochs are an
  argument and every result states them.
- :func:`default_config`: dg_tf's default configuration (auxiliary critic and
  auto-normalization on, the paper's WWT design), for a second DG row.
- :func:`baseline_options`: the baselines' constructor arguments for a given
  DG epoch budget, so that every model trained by gradient steps gets about
  as many optimizer steps as DG.
"""

from __future__ import annotations

from typing import Any

from dg_tf.config import DGConfig
from dg_tf.datasets import bundled_dataset

__all__ = [
    "MBA_DATA",
    "PAPER_EPOCHS",
    "DEFAULT_EPOCHS",
    "SAMPLE_LENS",
    "MAIN_SAMPLE_LEN",
    "paper_config",
    "default_config",
    "baseline_options",
]

#: The bundled FCC MBA triple (600 training series of 56 steps).
MBA_DATA = bundled_dataset("fcc_mba")
#: Epochs of the original MBA configuration.
PAPER_EPOCHS = 17000
#: Epochs these experiments train DG for by default (the whole run.py command fits in an hour on a 2-core CPU).
DEFAULT_EPOCHS = 1000
#: The original MBA sample_len grid.
SAMPLE_LENS = (1, 4, 8)
#: sample_len of the DG column of Table 2 (the bundled data's ``dg_config.json``).
MAIN_SAMPLE_LEN = 8
#: DG's optimizer steps per epoch on the 600 MBA series at batch 100 (600 // 100).
_DG_STEPS_PER_EPOCH = 6
#: AR training pairs per epoch at batch 100: 600 series x 54 steps with 3 past records, / 100.
_AR_STEPS_PER_EPOCH = 324


def paper_config(sample_len: int, epochs: int, seed: int) -> DGConfig:
    """The original MBA configuration: no auxiliary critic, no auto-normalization."""
    return DGConfig(sample_len=sample_len, epochs=epochs, seed=seed, use_aux_critic=False, self_norm=False,
                    figure_every=0)


def default_config(sample_len: int, epochs: int, seed: int) -> DGConfig:
    """dg_tf's defaults (auxiliary critic and auto-normalization on) at ``sample_len`` and ``epochs``."""
    return DGConfig(sample_len=sample_len, epochs=epochs, seed=seed, figure_every=0)


def baseline_options(dg_epochs: int) -> dict[str, dict[str, Any]]:
    """Constructor arguments of each baseline for a DG budget of ``dg_epochs`` epochs.

    The paper does not give the baselines' epochs. Here the naive GAN and the
    RNN (one step per 100 series, like DG) train ``dg_epochs`` epochs, the AR
    model (one step per 100 (series, step) pairs) as many epochs as give about
    the same number of optimizer steps, and the HMM runs its default 100 EM
    iterations (``epochs``), with the paper's sizes (appendix B) throughout.
    """
    ar_epochs = max(1, round(dg_epochs * _DG_STEPS_PER_EPOCH / _AR_STEPS_PER_EPOCH))
    return {
        "hmm": {"epochs": 100},
        "ar": {"epochs": ar_epochs},
        "rnn": {"epochs": dg_epochs},
        "naive_gan": {"epochs": dg_epochs},
    }
