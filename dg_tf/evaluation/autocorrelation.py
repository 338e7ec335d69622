"""Autocorrelation exactly as DoppelGANger computed it (paper Fig. 1, Fig. 11, Table 3).

The original maintainers' snippet (DoppelGANger issue #20): for each
lag j = 1 .. L-2 and each sample, the Pearson correlation between the windows
``x[:-j]`` and ``x[j:]``, each centred on its own mean; zero numerators and
denominators become 1e-8 (so a constant window gives r = 1) and |r| > 1 becomes
0; the curve is the mean over samples. This is not the statsmodels ACF.

Variable length (paper appendix B) is an extension of that definition: given
``lengths``, sample i is the series of its first ``lengths[i]`` steps, so at lag
j its windows are ``x[:n-j]`` and ``x[j:n]`` (n = lengths[i]); it counts at lag j
only if the windows hold at least 2 steps (n - j >= 2), and a lag where no
sample counts is NaN. Without ``lengths`` every sample has length L and the
curve is DG's exactly.

The ACF-MSE of Table 3 / Fig. 11 is the mean squared difference between the
real and synthetic curves over the lags. On variable-length data that plain
mean is unsound: a lag that only a handful of real series reach has a noisy
curve (with few long series it saturates at +-1) but counts as much as lag 1,
which every series reaches; on a speech set of 640 series of 7 to 29 steps
such lags made an ACF-MSE of 0.49 out of a curve difference of 0.016 over the
lags most series reach. So here each lag's squared difference is **weighted
by the number of real series that reach it** (whose lag-j windows hold at
least 2 steps): the ACF-MSE is the average over the real series' own
(series, lag) pairs. Without ``real_lengths`` (fixed length, DG's setting)
every lag has the same weight and the number is DG's plain mean exactly.

It is reported per feature as well as averaged: a
mostly-constant real feature (FCC MBA ping loss) has a curve of ≈ 1 under DG's
1e-8 rule, and small synthetic noise on it dominates an averaged number.
"""

from __future__ import annotations

import logging

import numpy as np

from dg_tf.transforms import flags_from_lengths

__all__ = ["autocorrelation", "autocorrelation_per_feature", "acf_mse", "acf_mse_per_feature", "lag_weights"]

logger = logging.getLogger(__name__)


def _default_max_lag(length: int, max_lag: int | None) -> int:
    """``max_lag`` checked against the padded length L (default L - 1)."""
    max_lag = length - 1 if max_lag is None else max_lag
    if isinstance(max_lag, bool) or not isinstance(max_lag, (int, np.integer)) or not 2 <= max_lag <= length - 1:
        raise ValueError(f"max_lag={max_lag!r} must be an integer in [2, {length - 1}] for length {length}")
    return int(max_lag)


def autocorrelation(
    series: np.ndarray, max_lag: int | None = None, lengths: np.ndarray | None = None
) -> np.ndarray:
    """DG's autocorrelation curve, optionally of variable-length series.

    Args:
        series: float [N, L], one feature column of every sample (any unit; r is
            scale-free). Values after a sample's length are ignored (may be NaN).
        max_lag: lags 1 .. max_lag - 1 are computed; default L - 1 (lags 1 .. L-2).
        lengths: int [N], active steps of each sample (``Dataset.lengths``), each
            in [0, L]; ``None`` means every sample has length L (DG's definition).

    Returns:
        float64 [max_lag - 1], entry j-1 for lag j: the mean of the per-sample r
        over the samples with at least 2 steps in their lag-j windows; NaN where
        no sample has (only possible with ``lengths``).

    Raises:
        ValueError: ``series`` is not 2-D, ``max_lag`` is outside [2, L - 1], or
            ``lengths`` is not [N] integers in [0, L] (the message names the index).
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"series must be [N, L], got shape {x.shape}")
    num_samples, length = x.shape
    max_lag = _default_max_lag(length, max_lag)
    if lengths is None:
        n = np.full(num_samples, length)
    else:
        n = np.asarray(lengths)
        if n.shape != (num_samples,):
            raise ValueError(f"lengths must have shape [N] = ({num_samples},), got shape {n.shape}")
        flags_from_lengths(n, length)  # validates every length, naming the first bad index
        n = n.astype(np.int64)
    steps = np.arange(length)
    curve = np.empty(max_lag - 1)
    for lag in range(1, max_lag):
        window = n - lag  # steps in each of the two windows
        in_window = steps[None, : length - lag] < window[:, None]
        count = np.maximum(window, 1)[:, None]
        a = np.where(in_window, x[:, :-lag], 0.0)
        b = np.where(in_window, x[:, lag:], 0.0)
        a = np.where(in_window, a - a.sum(axis=1, keepdims=True) / count, 0.0)
        b = np.where(in_window, b - b.sum(axis=1, keepdims=True) / count, 0.0)
        numerator = (a * b).sum(axis=1)
        denominator = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
        r = np.where(numerator == 0, 1e-8, numerator) / np.where(denominator == 0, 1e-8, denominator)
        r = np.where(np.abs(r) > 1, 0.0, r)
        counted = window >= 2
        curve[lag - 1] = r[counted].mean() if counted.any() else np.nan
    return curve


def autocorrelation_per_feature(
    features: np.ndarray, lengths: np.ndarray | None = None, max_lag: int | None = None
) -> np.ndarray:
    """:func:`autocorrelation` of every feature column.

    Args:
        features: float [N, L, K].
        lengths: int [N] active steps per sample, or ``None`` for length L.
        max_lag: as in :func:`autocorrelation`; default L - 1.

    Returns:
        float64 [K, max_lag - 1]; row k is the curve of column k.

    Raises:
        ValueError: ``features`` is not 3-D, or as :func:`autocorrelation`.
    """
    x = np.asarray(features)
    if x.ndim != 3:
        raise ValueError(f"features must be [N, L, K], got shape {x.shape}")
    return np.stack([autocorrelation(x[:, :, k], max_lag, lengths) for k in range(x.shape[2])])


def lag_weights(lengths: np.ndarray | None, max_lag: int) -> np.ndarray:
    """Weight of each lag in the ACF-MSE: how many series reach it.

    Args:
        lengths: int [N] active steps per series, or ``None`` (every series has
            the full length: all weights equal).
        max_lag: lags 1 .. max_lag - 1, as in :func:`autocorrelation`.

    Returns:
        float64 [max_lag - 1], entry j-1: the number of series whose lag-j
        windows hold at least 2 steps (``lengths - j >= 2``); with
        ``lengths=None``, all ones.
    """
    if lengths is None:
        return np.ones(max_lag - 1)
    n = np.asarray(lengths, dtype=np.int64)
    lags = np.arange(1, max_lag)
    return (n[None, :] - lags[:, None] >= 2).sum(axis=1).astype(np.float64)


def _curve_mse(real_curve: np.ndarray, synthetic_curve: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean squared difference over the lags where both curves are defined (NaN if none)."""
    defined = ~np.isnan(real_curve) & ~np.isnan(synthetic_curve) & (weights > 0)
    if not defined.any():
        logger.warning("no lag has an autocorrelation in both real and synthetic data; ACF-MSE is NaN")
        return float("nan")
    return float(np.average((real_curve[defined] - synthetic_curve[defined]) ** 2, weights=weights[defined]))


def _shared_max_lag(real: np.ndarray, synthetic: np.ndarray, max_lag: int | None) -> int | None:
    """Default ``max_lag`` for a comparison: min(L_real, L_synthetic) - 1."""
    if max_lag is None and real.ndim >= 2 and synthetic.ndim >= 2:
        return min(real.shape[1], synthetic.shape[1]) - 1
    return max_lag


def acf_mse(
    real: np.ndarray,
    synthetic: np.ndarray,
    max_lag: int | None = None,
    real_lengths: np.ndarray | None = None,
    synthetic_lengths: np.ndarray | None = None,
) -> float:
    """ACF-MSE of one feature (paper Table 3, Fig. 11).

    Args:
        real: float [N, L_r], one feature column of the real samples.
        synthetic: float [M, L_s], the same column of the synthetic samples.
        max_lag: as in :func:`autocorrelation`; default min(L_r, L_s) - 1.
        real_lengths: int [N] active steps, or ``None`` for length L_r.
        synthetic_lengths: int [M] active steps, or ``None`` for length L_s.

    Returns:
        Mean over lags 1 .. max_lag-1 of the squared difference of the two
        curves (unitless, in [0, 4]), each lag weighted by the number of real
        series that reach it (:func:`lag_weights`; equal weights without
        ``real_lengths``, DG's definition), taken over the lags where both
        curves are defined; NaN (with a logged warning) if there is no such lag.

    Raises:
        ValueError: as :func:`autocorrelation`.
    """
    real = np.asarray(real)
    synthetic = np.asarray(synthetic)
    max_lag = _shared_max_lag(real, synthetic, max_lag)
    real_curve = autocorrelation(real, max_lag, real_lengths)
    weights = lag_weights(real_lengths, len(real_curve) + 1)
    return _curve_mse(real_curve, autocorrelation(synthetic, max_lag, synthetic_lengths), weights)


def acf_mse_per_feature(
    real: np.ndarray,
    synthetic: np.ndarray,
    max_lag: int | None = None,
    real_lengths: np.ndarray | None = None,
    synthetic_lengths: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`acf_mse` of every feature column (report these and their mean).

    Args:
        real: float [N, L_r, K] real features.
        synthetic: float [M, L_s, K] synthetic features.
        max_lag: as in :func:`acf_mse`.
        real_lengths: int [N] active steps, or ``None``.
        synthetic_lengths: int [M] active steps, or ``None``.

    Returns:
        float64 [K]: entry k is the ACF-MSE of column k (NaN where undefined),
        lags weighted as in :func:`acf_mse`.

    Raises:
        ValueError: the arrays are not 3-D or differ in K, or as :func:`autocorrelation`.
    """
    real = np.asarray(real)
    synthetic = np.asarray(synthetic)
    if real.ndim != 3 or synthetic.ndim != 3 or real.shape[2] != synthetic.shape[2]:
        raise ValueError(
            f"real and synthetic must be [N, L, K] with the same K, got shapes {real.shape} and {synthetic.shape}"
        )
    max_lag = _shared_max_lag(real, synthetic, max_lag)
    real_curves = autocorrelation_per_feature(real, real_lengths, max_lag)
    synthetic_curves = autocorrelation_per_feature(synthetic, synthetic_lengths, max_lag)
    weights = lag_weights(real_lengths, real_curves.shape[1] + 1)
    return np.array([_curve_mse(r, s, weights) for r, s in zip(real_curves, synthetic_curves)])
