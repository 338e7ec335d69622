"""DG's autocorrelation (paper Fig. 1, Table 3) on signals whose answer is known."""

import numpy as np
import pytest

from dg_tf.evaluation import acf_mse, autocorrelation
from dg_tf.evaluation.autocorrelation import acf_mse_per_feature, autocorrelation_per_feature, lag_weights

import oracles


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


# --------------------------------------------------------------------------- #
# Variable length, per feature
# --------------------------------------------------------------------------- #


def test_hand_computed_curves():
    """Curves worked out by hand from DG's definition (each window centred on its own mean)."""
    alternating = (-1.0) ** np.arange(12)[None, :]
    np.testing.assert_array_equal(autocorrelation(alternating), [-1.0, 1.0] * 5)  # -1 at odd lags, +1 at even
    # A ramp's two windows differ by a constant, so r = 1 at every lag (a global-mean ACF would decay).
    np.testing.assert_array_equal(autocorrelation(np.arange(10.0)[None, :]), np.ones(8))
    # [0, 1, 0, 0]: lag 1 windows [0, 1, 0] and [1, 0, 0] give r = (-1/3) / (2/3); lag 2's [0, 0] is constant: 1.
    np.testing.assert_allclose(autocorrelation(np.array([[0.0, 1.0, 0.0, 0.0]])), [-0.5, 1.0], rtol=1e-15)
    # That series (length 4) beside an alternating one (length 6): lag 3 and 4 see the alternating one alone.
    mixed = np.array([[0.0, 1.0, 0.0, 0.0, 9.0, 9.0], [1.0, -1.0, 1.0, -1.0, 1.0, -1.0]])
    np.testing.assert_allclose(autocorrelation(mixed, lengths=np.array([4, 6])), [-0.75, 1.0, -1.0, 1.0], rtol=1e-15)


def test_curves_equal_the_definition_computed_sample_by_sample():
    """Random walks with constant stretches, fixed and variable lengths, several max_lag: the
    vectorised curve equals the per-sample Pearson loop of tests/oracles.py."""
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=(40, 37)), axis=1)
    x[:3, 5:] = 0.0  # constant windows at the longer lags (DG's 1e-8 rule: r = 1)
    lengths = rng.integers(2, 38, 40)
    for max_lag in (None, 2, 20):
        np.testing.assert_allclose(autocorrelation(x, max_lag), oracles.dg_autocorrelation(x, None, max_lag),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(autocorrelation(x, max_lag, lengths),
                                   oracles.dg_autocorrelation(x, lengths, max_lag), rtol=1e-10, atol=1e-12)


def test_acf_mse_equals_the_definition_weighted_by_the_real_series_reaching_each_lag():
    """ACF-MSE of variable-length real and synthetic sets equals the hand-weighted mean of tests/oracles.py;
    at fixed length it is the plain mean over the lags."""
    rng = np.random.default_rng(13)
    real, synthetic = np.cumsum(rng.normal(size=(2, 30, 16)), axis=2)
    real_lengths, synthetic_lengths = rng.integers(3, 17, 30), rng.integers(3, 17, 30)
    expected = oracles.acf_mse(real, synthetic, real_lengths, synthetic_lengths)
    assert acf_mse(real, synthetic, real_lengths=real_lengths, synthetic_lengths=synthetic_lengths) == pytest.approx(
        expected, rel=1e-10)
    np.testing.assert_array_equal(lag_weights(real_lengths, 15), oracles.lags_reached(real_lengths, 15))
    plain = np.mean((oracles.dg_autocorrelation(real) - oracles.dg_autocorrelation(synthetic)) ** 2)
    assert acf_mse(real, synthetic) == pytest.approx(plain, rel=1e-10)


def test_sinusoid_local_maxima_are_exactly_the_multiples_of_7_and_troughs_near_minus_one():
    rng = np.random.default_rng(4)
    steps = np.arange(84)
    lengths = rng.integers(60, 85, 80)
    phase = rng.uniform(0, 2 * np.pi, (80, 1))
    series = np.sin(2 * np.pi * steps[None, :] / 7 + phase) + rng.normal(0, 0.05, (80, 84))
    series[steps[None, :] >= lengths[:, None]] = 0.0
    curve = autocorrelation(series, 40, lengths)
    inner = curve[1:-1]
    peaks = np.flatnonzero((inner > curve[:-2]) & (inner > curve[2:])) + 2  # lag of each local maximum
    np.testing.assert_array_equal(peaks, [7, 14, 21, 28, 35])
    assert int(np.argmin(curve[:7])) + 1 in (3, 4)  # half period 3.5
    assert curve[3 - 1] < -0.85 and curve[4 - 1] < -0.85


def test_variable_length_white_noise_has_no_autocorrelation():
    rng = np.random.default_rng(5)
    lengths = rng.integers(30, 61, 3000)
    noise = rng.normal(size=(3000, 60))
    noise[np.arange(60)[None, :] >= lengths[:, None]] = 0.0
    curve = autocorrelation(noise, lengths=lengths)
    assert np.abs(curve[:15]).max() < 0.05
    assert not np.isnan(curve).any()  # every lag up to 58 has a length-60 sample


def test_padding_is_ignored_and_equals_the_truncated_fixed_length_curve():
    rng = np.random.default_rng(6)
    active = np.cumsum(rng.normal(size=(25, 20)), axis=1)
    padded = np.concatenate([active, np.zeros((25, 10))], axis=1)
    expected = autocorrelation(active)  # lags 1 .. 18
    lengths = np.full(25, 20)
    np.testing.assert_allclose(autocorrelation(padded, 19, lengths), expected, rtol=1e-12, atol=1e-15)
    garbage = padded.copy()
    garbage[:, 20:] = np.nan  # anything after the end is ignored
    np.testing.assert_allclose(autocorrelation(garbage, 19, lengths), expected, rtol=1e-12, atol=1e-15)
    # Beyond lag 18 every window is shorter than 2 steps: NaN.
    tail = autocorrelation(padded, lengths=lengths)
    assert tail.shape == (28,)
    np.testing.assert_allclose(tail[:18], expected, rtol=1e-12, atol=1e-15)
    assert np.isnan(tail[18:]).all()


def test_each_lag_averages_only_the_samples_long_enough_for_it():
    rng = np.random.default_rng(7)
    long = np.cumsum(rng.normal(size=(6, 30)), axis=1)
    short = np.cumsum(rng.normal(size=(4, 10)), axis=1)
    mixed = np.concatenate([long, np.pad(short, ((0, 0), (0, 20)))])
    lengths = np.array([30] * 6 + [10] * 4)
    curve = autocorrelation(mixed, lengths=lengths)
    long_curve, short_curve = autocorrelation(long), autocorrelation(short)
    # Lag 5: both groups count, weighted by their sizes.
    assert curve[4] == pytest.approx((6 * long_curve[4] + 4 * short_curve[4]) / 10, rel=1e-12)
    # Lag 8 is the last lag of the length-10 samples (window of 2 steps); lag 9 has only the long ones.
    assert curve[7] == pytest.approx((6 * long_curve[7] + 4 * short_curve[7]) / 10, rel=1e-12)
    assert curve[8] == pytest.approx(long_curve[8], rel=1e-12)
    assert curve[20] == pytest.approx(long_curve[20], rel=1e-12)


def test_constant_active_window_counts_as_one_whatever_the_padding():
    x = np.random.default_rng(8).normal(size=(4, 12))
    x[:, :6] = 2.5
    np.testing.assert_array_equal(autocorrelation(x, 5, lengths=np.full(4, 6)), 1.0)


def test_per_feature_curves_and_mse():
    rng = np.random.default_rng(9)
    steps = np.arange(30)
    phase = rng.uniform(0, 2 * np.pi, (40, 1))
    sine = np.sin(2 * np.pi * steps / 7 + phase)
    noise = rng.normal(size=(40, 30))
    real = np.stack([sine, noise], axis=-1)
    curves = autocorrelation_per_feature(real, max_lag=10)
    assert curves.shape == (2, 9)
    np.testing.assert_array_equal(curves[1], autocorrelation(noise, 10))
    synthetic = np.stack([sine, sine], axis=-1)  # periodic where the real column is noise
    per_feature = acf_mse_per_feature(real, synthetic)
    assert per_feature.shape == (2,)
    assert per_feature[0] == 0.0
    assert per_feature[1] == pytest.approx(acf_mse(real[:, :, 1], synthetic[:, :, 1]), rel=1e-12)
    assert per_feature[1] > 0.2
    with pytest.raises(ValueError, match="same K"):
        acf_mse_per_feature(real, synthetic[:, :, :1])


def test_acf_mse_with_lengths_skips_undefined_lags_and_is_zero_for_identical_data():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(8, 20))
    lengths = np.full(8, 9)  # lags >= 8 are NaN
    assert acf_mse(x, x, real_lengths=lengths, synthetic_lengths=lengths) == 0.0
    y = rng.normal(size=(8, 20))
    expected = np.mean((autocorrelation(x, 8, lengths) - autocorrelation(y, 8)) ** 2)
    assert acf_mse(x, y, real_lengths=lengths) == pytest.approx(expected, rel=1e-12)
    # Real and synthetic of different padded lengths are compared up to the shorter one.
    assert acf_mse(x, y[:, :12]) == pytest.approx(np.mean((autocorrelation(x, 11) - autocorrelation(y[:, :12])) ** 2))


def test_acf_mse_is_nan_when_no_lag_is_defined_in_both(caplog):
    x = np.random.default_rng(11).normal(size=(5, 10))
    with caplog.at_level("WARNING"):
        assert np.isnan(acf_mse(x, x, real_lengths=np.full(5, 2)))
    assert "ACF-MSE is NaN" in caplog.text


def test_bad_lengths_are_rejected_with_the_index():
    x = np.zeros((3, 6))
    with pytest.raises(ValueError, match=r"lengths\[1\]=.*max_length=6"):
        autocorrelation(x, lengths=np.array([6, 7, 2]))
    with pytest.raises(ValueError, match="shape"):
        autocorrelation(x, lengths=np.array([6, 6]))
    with pytest.raises(ValueError, match=r"\[N, L, K\]"):
        autocorrelation_per_feature(x)


def test_acf_mse_weights_each_lag_by_the_real_series_that_reach_it():
    # 9 real series of length 6 and 1 of length 30: lags 5..28 are reached by the long one alone.
    rng = np.random.default_rng(12)
    real = np.zeros((10, 30))
    real[:9, :6] = rng.normal(size=(9, 6))
    real[9] = np.cumsum(rng.normal(size=30))
    lengths = np.array([6] * 9 + [30])
    synthetic = rng.normal(size=(10, 30))
    real_curve, synthetic_curve = autocorrelation(real, lengths=lengths), autocorrelation(synthetic)
    squared = (real_curve - synthetic_curve) ** 2
    # Lags 1..4 are reached by all 10 series (windows of >= 2 steps), lags 5..28 by one.
    weights = np.array([10.0] * 4 + [1.0] * 24)
    np.testing.assert_array_equal(lag_weights(lengths, 29), weights)
    expected = (10 * squared[:4].sum() + squared[4:].sum()) / (40 + 24)
    assert acf_mse(real, synthetic, real_lengths=lengths) == pytest.approx(expected, rel=1e-12)
    # The plain mean would let the 24 lags of one noisy series dominate.
    assert acf_mse(real, synthetic, real_lengths=lengths) != pytest.approx(squared.mean(), rel=1e-3)
    np.testing.assert_allclose(acf_mse_per_feature(real[:, :, None], synthetic[:, :, None], real_lengths=lengths),
                               [expected], rtol=1e-12)
    # Fixed length: every lag weighs the same, DG's plain mean.
    np.testing.assert_array_equal(lag_weights(None, 29), np.ones(28))
