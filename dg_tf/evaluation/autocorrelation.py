"""Autocorrelation exactly as DoppelGANger computed it (paper Fig. 1, Table 3).

The maintainer's snippet (original issue #20, ORIGINAL_DG_SPEC.md §8): for each
lag j = 1 .. L-2 and each sample, the Pearson correlation between the windows
``x[:-j]`` and ``x[j:]``, each centred on its own mean; zero numerators and
denominators become 1e-8 (so a constant window gives r = 1) and |r| > 1 becomes
0; the curve is the mean over samples. This is not the statsmodels ACF.
"""

from __future__ import annotations

import numpy as np

__all__ = ["autocorrelation", "acf_mse"]


def autocorrelation(series: np.ndarray, max_lag: int | None = None) -> np.ndarray:
    """DG's autocorrelation curve of fixed-length series.

    Args:
        series: float [N, L], one feature column of every sample.
        max_lag: lags 1 .. max_lag - 1 are computed; default L - 1 (lags 1 .. L-2).

    Returns:
        float64 [max_lag - 1], entry j-1 for lag j.

    Raises:
        ValueError: ``series`` is not 2-D or ``max_lag`` is outside [2, L - 1].
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"series must be [N, L], got shape {x.shape}")
    length = x.shape[1]
    max_lag = length - 1 if max_lag is None else max_lag
    if not 2 <= max_lag <= length - 1:
        raise ValueError(f"max_lag={max_lag} must lie in [2, {length - 1}] for length {length}")
    curve = np.empty(max_lag - 1)
    for lag in range(1, max_lag):
        a = x[:, :-lag] - x[:, :-lag].mean(axis=1, keepdims=True)
        b = x[:, lag:] - x[:, lag:].mean(axis=1, keepdims=True)
        numerator = (a * b).sum(axis=1)
        denominator = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
        r = np.where(numerator == 0, 1e-8, numerator) / np.where(denominator == 0, 1e-8, denominator)
        curve[lag - 1] = np.where(np.abs(r) > 1, 0.0, r).mean()
    return curve


def acf_mse(real: np.ndarray, synthetic: np.ndarray, max_lag: int | None = None) -> float:
    """Mean squared error between the real and synthetic autocorrelation curves (Table 3)."""
    return float(np.mean((autocorrelation(real, max_lag) - autocorrelation(synthetic, max_lag)) ** 2))
