"""The paper's baselines (Lin et al., IMC 2020, §5.1.2 and appendix B).

Each has DG's user contract: ``fit(dataset)`` then ``generate(n, seed)``
returning a :class:`~dg_tf.data.Dataset` in the training data's layout, so
:func:`dg_tf.save_npz` writes the same ``.npz`` as ``python -m dg_tf.generate``.

- :class:`HMMBaseline` (:mod:`.hmm`): Gaussian HMM over the series.
- :class:`ARBaseline` (:mod:`.ar`): MLP ``R_t = f(A, R_{t-1..t-3})``.
- :class:`RNNBaseline` (:mod:`.rnn`): teacher-forced LSTM with metadata input.
- :class:`NaiveGANBaseline` (:mod:`.naive_gan`): WGAN-GP with MLP generator and critic.

The first three draw metadata from the training multinomial. Command line:
``python -m experiments.baselines.run --model hmm|ar|rnn|naive_gan --data DIR --out FILE.npz``.
"""

from experiments.baselines.ar import ARBaseline
from experiments.baselines.common import Baseline
from experiments.baselines.hmm import HMMBaseline
from experiments.baselines.naive_gan import NaiveGANBaseline
from experiments.baselines.rnn import RNNBaseline

#: The baselines by command-line name.
BASELINES: dict[str, type[Baseline]] = {
    "hmm": HMMBaseline,
    "ar": ARBaseline,
    "rnn": RNNBaseline,
    "naive_gan": NaiveGANBaseline,
}

__all__ = ["Baseline", "HMMBaseline", "ARBaseline", "RNNBaseline", "NaiveGANBaseline", "BASELINES"]
