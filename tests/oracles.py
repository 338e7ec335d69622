"""Reference formulas written from the papers' definitions, one sample and one pair at a time.

The tests compare dg_tf's vectorised metrics with these deliberately plain
loops, so an oracle never shares code (or a vectorisation trick) with the code
under test.
"""

from __future__ import annotations

import numpy as np


def dg_autocorrelation(series: np.ndarray, lengths=None, max_lag: int | None = None) -> np.ndarray:
    """DoppelGANger's autocorrelation curve (paper Fig. 1; DG issue #20) by a loop over samples and lags.

    At lag j, sample i (its first ``n = lengths[i]`` steps) gives the Pearson
    correlation of the windows ``x[:n-j]`` and ``x[j:n]``, each centred on its
    own mean; a constant window gives 1 (DG replaces a zero numerator and a zero
    denominator by 1e-8), and |r| > 1 (rounding) gives 0. The curve at lag j is
    the mean over the samples whose windows hold at least 2 steps; NaN if none.
    r is written out as DG's sum(a b) / sqrt(sum(a^2) sum(b^2)), not np.corrcoef
    (which clips to [-1, 1]): two-step windows have |r| = 1 exactly, and DG's
    rounding rule is part of the definition.
    """
    x = np.asarray(series, dtype=np.float64)
    length = x.shape[1]
    n_steps = np.full(len(x), length) if lengths is None else np.asarray(lengths)
    max_lag = length - 1 if max_lag is None else max_lag
    curve = []
    for lag in range(1, max_lag):
        values = []
        for row, n in zip(x, n_steps):
            if n - lag < 2:
                continue
            a = row[: n - lag] - row[: n - lag].mean()
            b = row[lag:n] - row[lag:n].mean()
            numerator = np.sum(a * b)
            denominator = np.sqrt(np.sum(a * a) * np.sum(b * b))
            r = (numerator if numerator != 0 else 1e-8) / (denominator if denominator != 0 else 1e-8)
            values.append(0.0 if abs(r) > 1 else float(r))
        curve.append(np.mean(values) if values else np.nan)
    return np.array(curve)


def lags_reached(lengths, max_lag: int) -> np.ndarray:
    """For lags 1 .. max_lag-1: how many series have at least 2 steps in their lag-j windows."""
    return np.array([sum(1 for n in lengths if n - lag >= 2) for lag in range(1, max_lag)], dtype=np.float64)


def acf_mse(real: np.ndarray, synthetic: np.ndarray, real_lengths=None, synthetic_lengths=None) -> float:
    """ACF-MSE (Table 3): squared curve differences averaged over the lags both curves define,
    each lag weighted by the number of real series that reach it (all equal at fixed length)."""
    max_lag = min(real.shape[1], synthetic.shape[1]) - 1
    r = dg_autocorrelation(real, real_lengths, max_lag)
    s = dg_autocorrelation(synthetic, synthetic_lengths, max_lag)
    weights = lags_reached(np.full(len(real), real.shape[1]) if real_lengths is None else real_lengths, max_lag)
    total = weight_sum = 0.0
    for a, b, w in zip(r, s, weights):
        if np.isfinite(a) and np.isfinite(b) and w > 0:
            total += w * (a - b) ** 2
            weight_sum += w
    return total / weight_sum


def membership_success(train_scores, holdout_scores) -> float:
    """Fig. 15's attack: the fraction of members among the N_train highest scores (scores without ties)."""
    scores = [(float(s), True) for s in train_scores] + [(float(s), False) for s in holdout_scores]
    assert len({s for s, _ in scores}) == len(scores), "ties: the hand count assumes distinct scores"
    top = sorted(scores, reverse=True)[: len(train_scores)]
    return sum(member for _, member in top) / len(train_scores)


def pairwise_auc(train_scores, holdout_scores) -> float:
    """ROC AUC as the Mann-Whitney fraction: P(member score > non-member score), ties counting one half."""
    wins = sum((m > h) + 0.5 * (m == h) for m in train_scores for h in holdout_scores)
    return wins / (len(train_scores) * len(holdout_scores))


def average_ranks(values) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of their ranks (as Spearman's correlation uses them)."""
    return np.array([1 + sum(w < v for w in values) + 0.5 * (sum(w == v for w in values) - 1) for v in values])
