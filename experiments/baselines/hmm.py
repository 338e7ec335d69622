"""The HMM baseline (paper §2.2 and §5.1.2 "Hidden Markov models").

"There is no natural way to jointly generate metadata and time series in
HMMs. Hence, we infer a separate multinomial distribution for the metadata.
During generation, metadata are randomly drawn from the multinomial
distribution on training data, independently of the time series." (§5.1.2)

The paper gives no further detail (appendix B lists none for the HMM), so the
choices here are ours:

- measurements: a Gaussian HMM (:class:`hmmlearn.hmm.GaussianHMM`, EM /
  Baum-Welch) over the records of :mod:`.common`, fitted on the active steps
  of every training series; ``num_states`` defaults to 10 and the
  covariances are diagonal (full ones are singular on the one-hot and flag
  columns, whose entries sum to 1, and made EM diverge in our runs);
- discrete features: their one-hot columns are emitted as Gaussian values and
  rounded to one-hot by argmax when decoding (as DG rounds its softmax);
- length (``length="flag"``, the default): the two generation-flag channels
  are emitted too, and a series ends at the first step whose emitted flag
  says "ends" (argmax), as for DG and the other baselines. The chain then
  learns its own length distribution (roughly geometric per state), which
  matches the paper's report that the HMM's lengths are poor (§5.2, appendix
  C Fig. 18) -- on fixed-length data too. The exact 0/1 flag columns take
  part in the Gaussian likelihood, so a few states may specialise in them;
- ``length="empirical"``: the HMM models the feature columns only, and each
  series' length is drawn from the training lengths, independently of its
  metadata and values (fixed-length data stays fixed-length).

Sampling is vectorised over series (hmmlearn's ``sample`` draws one sequence
at a time, too slow for 50000 series of 550 steps).
"""

from __future__ import annotations

import logging

import numpy as np
from hmmlearn.hmm import GaussianHMM

from dg_tf.errors import DGError
from dg_tf.seeding import derive_seed
from dg_tf.transforms import add_gen_flag_channels, flags_from_lengths
from experiments.baselines.common import MetadataFromMultinomial

__all__ = ["HMMBaseline", "sample_gaussian_hmm", "LENGTH_MODELS"]

logger = logging.getLogger(__name__)

#: How :class:`HMMBaseline` models the series lengths.
LENGTH_MODELS = ("flag", "empirical")


def _categorical(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One category per row of ``probabilities`` [n, S] (rows sum to 1): int [n]."""
    cumulative = np.cumsum(probabilities, axis=1)
    draws = (rng.random(len(probabilities))[:, None] * cumulative[:, -1:] > cumulative).sum(axis=1)
    return np.minimum(draws, probabilities.shape[1] - 1)


def sample_gaussian_hmm(hmm: GaussianHMM, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` independent sequences of ``length`` steps from a fitted Gaussian HMM.

    Args:
        hmm: fitted model (any covariance type; ``covars_`` is read in full form).
        n: number of sequences.
        length: steps per sequence.
        rng: the only source of randomness.

    Returns:
        float64 [n, length, F] emissions, F = ``hmm.n_features``.
    """
    cholesky = np.linalg.cholesky(hmm.covars_)  # [S, F, F]
    # A state seen only at the end of training series has no observed exit (a
    # zero row, which hmmlearn leaves as is): it stays put; the series has ended.
    transmat = hmm.transmat_.copy()
    stuck = transmat.sum(axis=1) == 0
    transmat[stuck] = np.eye(hmm.n_components)[stuck]
    emissions = np.empty((n, length, hmm.n_features))
    states = _categorical(rng, np.broadcast_to(hmm.startprob_, (n, hmm.n_components)))
    for t in range(length):
        noise = rng.standard_normal((n, hmm.n_features))
        emissions[:, t] = hmm.means_[states] + np.einsum("nij,nj->ni", cholesky[states], noise)
        states = _categorical(rng, transmat[states])
    return emissions


class HMMBaseline(MetadataFromMultinomial):
    """Gaussian HMM over the records, metadata from the training multinomial.

    Args:
        num_states: hidden states (the paper does not give its number).
        covariance_type: hmmlearn's ``"full"``, ``"diag"``, ``"spherical"`` or ``"tied"``.
        epochs: maximum EM iterations (hmmlearn ``n_iter``; stops earlier at ``tol``).
        tol: EM convergence threshold on the log-likelihood gain.
        length: ``"flag"`` (emit the generation flags) or ``"empirical"``
            (draw lengths from the training lengths); see the module docstring.
        seed: seeds the k-means initialization and generation.
    """

    name = "hmm"

    def __init__(
        self,
        num_states: int = 10,
        covariance_type: str = "diag",
        epochs: int = 100,
        tol: float = 1e-2,
        length: str = "flag",
        seed: int = 0,
    ):
        super().__init__(seed)
        if length not in LENGTH_MODELS:
            raise DGError(f"length={length!r} must be one of {LENGTH_MODELS}")
        self.length = length
        self.hmm = GaussianHMM(
            n_components=num_states,
            covariance_type=covariance_type,
            n_iter=epochs,
            tol=tol,
            random_state=derive_seed(self.seed, self.name, "init"),
        )
        self.training_lengths = np.zeros(0, np.int64)

    def _fit_series(self, records: np.ndarray, attributes: np.ndarray, gen_flags: np.ndarray) -> None:
        active = gen_flags > 0.5
        self.training_lengths = active.sum(axis=1)
        emitted = records if self.length == "flag" else records[..., :-2]
        self.hmm.fit(emitted[active].astype(np.float64), self.training_lengths)
        monitor = self.hmm.monitor_
        logger.info("hmm: %d EM iterations, log-likelihood %.1f", monitor.iter, monitor.history[-1])

    def _generate_series(self, attributes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, max_length = len(attributes), self.encoding.max_length
        emissions = sample_gaussian_hmm(self.hmm, n, max_length, rng)
        if self.length == "flag":
            return emissions
        lengths = rng.choice(self.training_lengths, n)
        return add_gen_flag_channels(emissions, flags_from_lengths(lengths, max_length), 1)
