"""DG's autocorrelation on signals whose answer is known."""

import numpy as np
import pytest

from dg_tf.evaluation import acf_mse, autocorrelation


def test_white_noise_has_no_autocorrelation():
    noise = np.random.default_rng(0).normal(size=(2000, 60))
    curve = autocorrelation(noise)
    assert curve.shape == (58,)
    assert np.abs(curve[:20]).max() < 0.05  # per-window means bias r by about -1/window


def test_sinusoid_of_period_7_peaks_at_multiples_of_7():
    rng = np.random.default_rng(1)
    steps = np.arange(84)
    phase = rng.uniform(0, 2 * np.pi, (50, 1))
    # A little noise: for an exact sinusoid, rounding makes some r = 1 + 1e-16, which DG sets to 0.
    series = np.sin(2 * np.pi * steps[None, :] / 7 + phase) + rng.normal(0, 0.05, (50, 84))
    curve = autocorrelation(series, 40)
    for lag in (7, 14, 21, 28, 35):
        assert curve[lag - 1] > 0.98
        assert curve[lag - 1] > curve[lag - 2] and curve[lag - 1] > curve[lag]
    assert curve[3 - 1] < -0.2


def test_constant_window_counts_as_one_and_identical_data_has_zero_mse():
    constant = np.zeros((5, 10))
    np.testing.assert_allclose(autocorrelation(constant), 1.0)
    x = np.random.default_rng(2).normal(size=(10, 12))
    assert acf_mse(x, x) == 0.0
    with pytest.raises(ValueError, match="max_lag=12"):
        autocorrelation(x, 12)
