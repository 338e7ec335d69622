"""One training run of DoppelGANger: :class:`~dg_tf.training.step.GANStep` in a
:class:`~dg_tf.training.loop.TrainingLoop`, with the run's callbacks.

The kernels (XLA or not, the LSTM's form) come from
:func:`~dg_tf.models.lstm.choose_kernels`, the replicas from
``RuntimeConfig.strategy``; a differentially private run adds the
:class:`~dg_tf.training.callbacks.PrivacyEpsilon` callback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dg_tf.config import DGConfig
from dg_tf.models import AttributeCritic, Critic, Generator, choose_kernels
from dg_tf.privacy_accounting import PrivacyReport
from dg_tf.seeding import derive_seed
from dg_tf.training.callbacks import PrivacyEpsilon
from dg_tf.training.distribute import Replicas
from dg_tf.training.loop import FigureFn, TrainingLoop
from dg_tf.training.step import GANStep

__all__ = ["Trainer"]


class Trainer(TrainingLoop):
    """The optimizers, the compiled step, checkpoints and logs of one training run.

    Args:
        config: the run's settings; ``dp_noise_multiplier`` selects the DP critic update.
        generator, critic, aux_critic: the networks, already built (variables
            created, under the strategy's scope); ``aux_critic`` is ``None``
            when ``use_aux_critic`` is off.
        features: float32 [N, L, D] encoded real features (flag channels last).
        attributes: float32 [N, A] encoded real attributes (real, then min/max).
        checkpoint_dir: where checkpoints go; ``None`` keeps none.
        logdir: TensorBoard folder; ``None`` writes no summaries.
        figure_fn: ``epoch -> image`` of a few generated series, logged every
            ``figure_every`` epochs.

    Attributes:
        step: the :class:`GANStep` (networks, optimizers, data, random stream).

    Raises:
        ConfigError: ``batch_size`` does not split evenly across the replicas.
    """

    def __init__(
        self,
        config: DGConfig,
        generator: Generator,
        critic: Critic,
        aux_critic: AttributeCritic | None,
        features: np.ndarray,
        attributes: np.ndarray,
        *,
        checkpoint_dir: str | Path | None = None,
        logdir: str | Path | None = None,
        figure_fn: FigureFn | None = None,
    ):
        kernels = choose_kernels(config)
        replicas = Replicas(config.strategy, xla=kernels.xla)
        critics = [critic] if aux_critic is None else [critic, aux_critic]
        step = GANStep(config, generator, critics, (features, attributes), replicas=replicas,
                       seed=derive_seed(config.seed, "training"))
        self.epsilon = PrivacyEpsilon(config, step.num_samples) if step.dp is not None else None
        super().__init__(
            step, config, xla=kernels.xla and replicas.strategy is None, checkpoint_dir=checkpoint_dir,
            logdir=logdir, figure_fn=figure_fn, hparams=config.to_dict(), divergence_advice=_advice(config),
            callbacks=[self.epsilon] if self.epsilon is not None else [],
        )

    def privacy_report(self) -> PrivacyReport | None:
        """The (epsilon, delta) spent by the epochs completed when training last ran; ``None`` without DP."""
        return self.epsilon.report if self.epsilon is not None else None


def _advice(config: DGConfig) -> str:
    """How to resume a diverged run: the flags that halve its learning rates."""
    flags = f"--generator-lr {config.generator_lr / 2:g} --critic-lr {config.critic_lr / 2:g}"
    if config.use_aux_critic:
        flags += f" --aux-critic-lr {config.aux_critic_lr / 2:g}"
    return (f"Resume from it with lower learning rates (python -m dg_tf.train --out RUN --resume {flags}) "
            "or a larger --batch-size.")
