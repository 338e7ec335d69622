"""Privacy checks: memorization (paper §5.2, appendix C) and membership inference (§6.2).

*Memorization* ("DG does not overfit", §5.2; Figs. 21-23): for each synthetic
series, find its nearest neighbours in the training data by square error. The
distances alone say little, because two independent real samples are not at
distance 0 either, so they are compared with the *floor*: the distances from
held-out real samples to their nearest training sample. A generator that copies its training data puts synthetic
samples much closer to the training set than held-out data ever gets.

*Membership inference* (§6.2, Fig. 15; the original maintainers' snippet):
score the real training and held-out samples with the
trained critic, sort all scores in descending order, and report the fraction of
the top ``N_train`` that are training samples. Chance is
``N_train / (N_train + N_holdout)`` (50% when the two sets have equal size).

Distances here are Euclidean over all ``L * K`` feature values of a series
(steps after a series' end are zero), i.e. the square root of the paper's
square error; ``distance ** 2 / (L * K)`` is the per-value mean square error.
Features are compared in the dataset's own (normalized) scale.

This module is a little longer than 400 lines: the two privacy metrics share
the series flattening and score checks, and each is short; a split would only
separate the paper's §6.2 from itself.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any, Callable

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from dg_tf.data.dataset import Dataset
from dg_tf.transforms import flags_from_lengths, mask_after_end

__all__ = [
    "MemorizationReport",
    "MembershipInferenceResult",
    "nearest_neighbours",
    "memorization_check",
    "membership_inference",
    "membership_inference_attack",
]

logger = logging.getLogger(__name__)

#: Quantiles of the nearest-neighbour distances summarized in a report.
QUANTILE_LEVELS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


# --------------------------------------------------------------------------- #
# Nearest neighbours
# --------------------------------------------------------------------------- #


def _flatten(
    name: str,
    features: np.ndarray,
    lengths: np.ndarray | None,
    attributes: np.ndarray | None,
) -> np.ndarray:
    """float64 [N, L*K (+ A)]: features zeroed after each end, flattened, then attributes."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 3 or x.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty [N, L, K] array, got shape {x.shape}")
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (x.shape[0],):
            raise ValueError(f"{name} lengths must have shape [{x.shape[0]}], got {lengths.shape}")
        x = mask_after_end(x, flags_from_lengths(lengths, x.shape[1]))
    flat = x.reshape(x.shape[0], -1)
    if attributes is not None:
        a = np.asarray(attributes, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] != x.shape[0]:
            raise ValueError(f"{name} attributes must have shape [{x.shape[0]}, A], got {a.shape}")
        flat = np.concatenate([flat, a], axis=1)
    if not np.isfinite(flat).all():
        raise ValueError(f"{name} holds NaN or Inf")
    return flat


def _search(queries: np.ndarray, references: np.ndarray, k: int, names: tuple[str, str]):
    """k nearest rows of ``references`` for each row of ``queries`` (both flattened)."""
    if queries.shape[1] != references.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} differ in shape: {queries.shape[1]} vs "
            f"{references.shape[1]} values per sample (same L, K and attributes needed)"
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(references):
        raise ValueError(f"k={k!r} must be an integer in [1, {len(references)}] (the {names[1]} size)")
    _, indices = NearestNeighbors(n_neighbors=k).fit(references).kneighbors(queries)
    # sklearn's brute-force distances use |x|^2 - 2xy + |y|^2, which is not exactly 0 for
    # identical rows; recompute them directly so copies are at distance 0, and re-sort.
    distances = np.linalg.norm(queries[:, None, :] - references[indices], axis=-1)
    order = np.argsort(distances, axis=1, kind="stable")
    return np.take_along_axis(indices, order, 1), np.take_along_axis(distances, order, 1)


def nearest_neighbours(
    queries: np.ndarray,
    references: np.ndarray,
    query_lengths: np.ndarray | None = None,
    reference_lengths: np.ndarray | None = None,
    k: int = 1,
    *,
    query_attributes: np.ndarray | None = None,
    reference_attributes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest reference series of each query series (paper appendix C).

    Each series is flattened over its L*K values; the distance is Euclidean,
    i.e. the square root of the paper's square error. Padding must be zero
    after a series' end (the DG format guarantees it); when lengths are given,
    steps at or after them are zeroed first. Series of different lengths are
    compared over the whole padded window (a longer series' extra steps count
    against the zeros of a shorter one).

    Args:
        queries: float [M, L, K].
        references: float [N, L, K].
        query_lengths, reference_lengths: optional int [M] / [N] active steps.
        k: neighbours per query, 1 <= k <= N.
        query_attributes, reference_attributes: optional float [M, A] / [N, A];
            when given (both), they are appended to the flattened features, so
            the distance also covers the metadata.

    Returns:
        ``(indices, distances)``: int64 [M, k] rows of ``references`` and
        float64 [M, k] distances, closest first.

    Raises:
        ValueError: bad shapes, non-finite values, ``k`` out of range, or
            attributes given for only one side.
    """
    if (query_attributes is None) != (reference_attributes is None):
        raise ValueError("query_attributes and reference_attributes must be given together")
    q = _flatten("queries", queries, query_lengths, query_attributes)
    r = _flatten("references", references, reference_lengths, reference_attributes)
    return _search(q, r, k, ("queries", "references"))


# --------------------------------------------------------------------------- #
# Memorization
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True, eq=False)
class MemorizationReport:
    """Nearest-training-neighbour distances of synthetic and held-out samples.

    Attributes:
        indices: int64 [M, k] the training samples nearest to each synthetic
            sample, closest first (to plot a synthetic series next to them).
        distances: float64 [M, k] their distances.
        holdout_indices: int64 [H] the training sample nearest to each held-out one.
        holdout_distances: float64 [H] its distance (the floor).
        quantile_levels: the levels of the two quantile tuples.
        synthetic_quantiles: quantiles of ``distances[:, 0]``.
        holdout_quantiles: quantiles of ``holdout_distances``.
        percentile: the holdout percentile used as threshold (e.g. 5).
        threshold: that (empirical) percentile of ``holdout_distances``.
        fraction_closer: fraction of synthetic samples with nearest distance
            strictly below ``threshold``.
        expected_fraction: its expected value, about ``percentile / 100``,
            when the synthetic samples are as far from the training data as
            new real data.
        p_value: one-sided test of ``fraction_closer`` exceeding
            ``expected_fraction`` (see :func:`memorization_check`).
        copy_tolerance: distance at or under which a synthetic sample counts as a copy.
        copy_fraction: fraction of synthetic samples that are copies.
        flagged: ``copy_fraction > 0``, or ``fraction_closer >= flag_ratio *
            expected_fraction`` with ``p_value < alpha`` (see :func:`memorization_check`).
    """

    indices: np.ndarray
    distances: np.ndarray
    holdout_indices: np.ndarray
    holdout_distances: np.ndarray
    quantile_levels: tuple[float, ...]
    synthetic_quantiles: tuple[float, ...]
    holdout_quantiles: tuple[float, ...]
    percentile: float
    threshold: float
    fraction_closer: float
    expected_fraction: float
    p_value: float
    copy_tolerance: float
    copy_fraction: float
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: every scalar and the quantiles, without the per-sample arrays."""
        return {
            "num_synthetic": int(self.distances.shape[0]),
            "num_holdout": int(self.holdout_distances.shape[0]),
            "neighbours": int(self.distances.shape[1]),
            "quantile_levels": list(self.quantile_levels),
            "synthetic_quantiles": list(self.synthetic_quantiles),
            "holdout_quantiles": list(self.holdout_quantiles),
            "percentile": self.percentile,
            "threshold": self.threshold,
            "fraction_closer": self.fraction_closer,
            "expected_fraction": self.expected_fraction,
            "p_value": self.p_value,
            "copy_tolerance": self.copy_tolerance,
            "copy_fraction": self.copy_fraction,
            "flagged": self.flagged,
        }


def memorization_check(
    synthetic: Dataset,
    train: Dataset,
    holdout: Dataset,
    *,
    k: int = 3,
    percentile: float = 5.0,
    copy_tolerance: float = 1e-6,
    flag_ratio: float = 2.0,
    alpha: float = 0.01,
    include_attributes: bool = False,
) -> MemorizationReport:
    """Does the generator copy its training data? (paper §5.2, Figs. 21-23)

    Distances are those of :func:`nearest_neighbours`. The held-out real
    samples give the floor: the threshold is their empirical
    ``percentile``-th percentile, the r-th smallest holdout distance with
    ``r = max(1, ceil(H * percentile / 100))``. A sample drawn like the
    holdout falls under it with probability ``r / (H + 1)`` (about
    ``percentile / 100``), and if the synthetic samples are such draws, the
    number of them under it follows BetaBinomial(M, r, H - r + 1) exactly
    (for continuous distances), which accounts for the noise of the
    threshold itself. The report is *flagged* when

    - some synthetic sample is a copy (distance <= ``copy_tolerance``), or
    - the fraction of synthetic samples under the threshold is at least
      ``flag_ratio`` times the expected ``r / (H + 1)`` *and* that
      beta-binomial test rejects "no closer than held-out data" at level
      ``alpha`` (so neither a few close samples in a small synthetic set nor
      a tiny excess in a huge one triggers it).

    Args:
        synthetic: M generated samples.
        train: N samples the model was trained on.
        holdout: H real samples it was not trained on (same specs and L).
        k: training neighbours kept per synthetic sample (the paper shows 3).
        percentile: holdout percentile used as threshold, in (0, 100).
        copy_tolerance: distance counted as an exact copy (>= 0).
        flag_ratio: how many times the expected fraction flags (> 1).
        alpha: significance level of the test.
        include_attributes: also compare the attributes (appended to the features).

    Returns:
        A :class:`MemorizationReport`.

    Raises:
        ValueError: incompatible shapes or an argument out of range.
    """
    if not 0 < percentile < 100:
        raise ValueError(f"percentile={percentile} must lie in (0, 100)")
    if copy_tolerance < 0:
        raise ValueError(f"copy_tolerance={copy_tolerance} must be >= 0")
    if flag_ratio <= 1:
        raise ValueError(f"flag_ratio={flag_ratio} must be > 1")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha} must lie in (0, 1)")

    def flat(name: str, data: Dataset) -> np.ndarray:
        attributes = data.attributes if include_attributes else None
        return _flatten(name, data.features, data.lengths, attributes)

    s, t, h = flat("synthetic", synthetic), flat("train", train), flat("holdout", holdout)
    indices, distances = _search(s, t, k, ("synthetic", "train"))
    holdout_indices, holdout_distances = _search(h, t, 1, ("holdout", "train"))
    holdout_indices, holdout_distances = holdout_indices[:, 0], holdout_distances[:, 0]
    nearest = distances[:, 0]

    num_holdout = len(holdout_distances)
    rank = max(1, math.ceil(num_holdout * percentile / 100))
    threshold = float(np.sort(holdout_distances)[rank - 1])
    closer = int(np.count_nonzero(nearest < threshold))
    fraction_closer = closer / len(nearest)
    expected = rank / (num_holdout + 1)
    p_value = float(stats.betabinom.sf(closer - 1, len(nearest), rank, num_holdout - rank + 1))
    copy_fraction = float(np.mean(nearest <= copy_tolerance))
    flagged = copy_fraction > 0 or (fraction_closer >= flag_ratio * expected and p_value < alpha)
    levels = QUANTILE_LEVELS
    report = MemorizationReport(
        indices=indices,
        distances=distances,
        holdout_indices=holdout_indices,
        holdout_distances=holdout_distances,
        quantile_levels=levels,
        synthetic_quantiles=tuple(float(v) for v in np.quantile(nearest, levels)),
        holdout_quantiles=tuple(float(v) for v in np.quantile(holdout_distances, levels)),
        percentile=float(percentile),
        threshold=threshold,
        fraction_closer=fraction_closer,
        expected_fraction=expected,
        p_value=p_value,
        copy_tolerance=float(copy_tolerance),
        copy_fraction=copy_fraction,
        flagged=bool(flagged),
    )
    logger.info(
        "memorization: %.1f%% of synthetic samples closer to train than the holdout %g-th percentile "
        "(p=%.3g), %.1f%% copies -> %s",
        100 * fraction_closer, percentile, p_value, 100 * copy_fraction,
        "FLAGGED" if flagged else "not flagged",
    )
    return report


# --------------------------------------------------------------------------- #
# Membership inference
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class MembershipInferenceResult:
    """Outcome of the critic-score membership inference attack (paper Fig. 15).

    Attributes:
        success_rate: fraction of training samples among the ``num_train``
            highest scores, ties shared out in expectation (see
            :func:`membership_inference`); in [0, 1].
        chance_level: ``num_train / (num_train + num_holdout)``, the expected
            success rate of scores that carry no information.
        auc: ROC AUC of the scores as a member-vs-holdout classifier (0.5 = chance).
        num_train: number of member (training) samples scored.
        num_holdout: number of non-member samples scored.
    """

    success_rate: float
    chance_level: float
    auc: float
    num_train: int
    num_holdout: int

    def to_dict(self) -> dict[str, Any]:
        """All fields, JSON-ready."""
        return dataclasses.asdict(self)


def _check_scores(name: str, scores: np.ndarray) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{name} must be a non-empty [N] array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}[{int(np.argmin(np.isfinite(x)))}] is not finite")
    return x


def membership_inference(train_scores: np.ndarray, holdout_scores: np.ndarray) -> MembershipInferenceResult:
    """Success rate of guessing training membership from scores (the original maintainers' attack).

    All scores are sorted in descending order and the top ``N_train`` are
    guessed to be members; the success rate is the fraction of them that are.
    Higher scores must mean "more likely a member" (for a critic: more real).

    Ties are broken uniformly at random *in expectation*, which is
    deterministic: if the ``N_train``-th highest score ``s`` is shared by ``e``
    samples of which ``e_m`` are members, and ``g`` samples score above ``s``,
    the remaining ``N_train - g`` places hold ``(N_train - g) * e_m / e``
    members on average. So constant scores give exactly the chance level.

    Args:
        train_scores: float [N_train] scores of samples the model was trained on.
        holdout_scores: float [N_holdout] scores of real samples it never saw.

    Returns:
        A :class:`MembershipInferenceResult`.

    Raises:
        ValueError: a score array is empty, not 1-D, or not finite.
    """
    members = _check_scores("train_scores", train_scores)
    others = _check_scores("holdout_scores", holdout_scores)
    n_train, n_holdout = len(members), len(others)
    scores = np.concatenate([members, others])
    is_member = np.concatenate([np.ones(n_train, bool), np.zeros(n_holdout, bool)])
    cutoff = np.sort(scores)[::-1][n_train - 1]
    above, tied = scores > cutoff, scores == cutoff
    expected_members = np.count_nonzero(above & is_member) + (
        (n_train - np.count_nonzero(above)) * np.count_nonzero(tied & is_member) / np.count_nonzero(tied)
    )
    return MembershipInferenceResult(
        success_rate=float(expected_members / n_train),
        chance_level=n_train / (n_train + n_holdout),
        auc=float(roc_auc_score(is_member, scores)),
        num_train=n_train,
        num_holdout=n_holdout,
    )


def membership_inference_attack(
    score_fn: Callable[[Dataset], np.ndarray],
    train: Dataset,
    holdout: Dataset,
) -> MembershipInferenceResult:
    """Score both real sets with ``score_fn`` and run :func:`membership_inference`.

    Args:
        score_fn: maps a dataset of N samples to float [N] scores, higher =
            more likely a member; e.g. ``model.critic_scores`` (paper §6.2 uses
            the trained critic).
        train: the samples the model was trained on.
        holdout: real samples it was not trained on.

    Returns:
        A :class:`MembershipInferenceResult`.

    Raises:
        ValueError: ``score_fn`` did not return one finite score per sample.
    """
    results = []
    for name, data in (("train", train), ("holdout", holdout)):
        scores = np.asarray(score_fn(data))
        if scores.shape != (data.num_samples,):
            raise ValueError(
                f"score_fn returned shape {scores.shape} for the {name} set; expected [{data.num_samples}]"
            )
        results.append(_check_scores(f"{name} scores", scores))
    result = membership_inference(*results)
    logger.info(
        "membership inference: success %.1f%% (chance %.1f%%), AUC %.3f",
        100 * result.success_rate, 100 * result.chance_level, result.auc,
    )
    return result
