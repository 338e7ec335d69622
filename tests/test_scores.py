"""TimeGAN's discriminative and predictive scores on data whose answer is known (tiny GRUs)."""

import numpy as np
import pytest

from dg_tf.evaluation.scores import discriminative_score, predictive_score

N, L = 128, 12
TINY = dict(hidden_units=4, iterations=200, batch_size=32, learning_rate=1e-2)
TINY_DISCRIMINATOR = dict(hidden_units=4, iterations=100, batch_size=32)


def sinusoids(n: int = N, k: int = 1, seed: int = 0) -> np.ndarray:
    """Sinusoids of period 6 in [0.1, 0.9] with a random phase per sample; column j lags by j/2 rad."""
    rng = np.random.default_rng(seed)
    steps = np.arange(L)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1)) + 0.5 * np.arange(k)[None, None, :]
    return (0.5 + 0.4 * np.sin(2 * np.pi * steps / 6 + phase)).astype(np.float32)


FULL = np.full(N, L)


def test_identical_synthetic_is_indistinguishable_and_the_score_is_reproducible():
    real = sinusoids(k=2)
    first = discriminative_score(real, FULL, real.copy(), FULL, seed=1, **TINY_DISCRIMINATOR)
    assert first < 0.15
    assert discriminative_score(real, FULL, real.copy(), FULL, seed=1, **TINY_DISCRIMINATOR) == first


def test_clearly_different_synthetic_is_detected():
    real = sinusoids(k=2)
    assert discriminative_score(real, FULL, real + 3.0, FULL, seed=1, **TINY_DISCRIMINATOR) > 0.4


def test_values_after_the_end_are_ignored():
    rng = np.random.default_rng(3)
    real, synthetic = sinusoids(k=1), sinusoids(k=1, seed=1)
    lengths = rng.integers(4, L + 1, N)
    active = np.arange(L)[None, :] < lengths[:, None]
    garbage = np.where(active[..., None], synthetic, 50.0).astype(np.float32)
    clean = np.where(active[..., None], synthetic, 0.0).astype(np.float32)
    kwargs = dict(hidden_units=2, iterations=20, batch_size=32)
    assert discriminative_score(real, FULL, garbage, lengths, **kwargs) == discriminative_score(
        real, FULL, clean, lengths, **kwargs
    )


def test_predictive_score_of_a_sinusoid_beats_white_noise_and_is_reproducible():
    real = sinusoids(k=1)
    noise = np.random.default_rng(2).uniform(0.1, 0.9, real.shape).astype(np.float32)
    same = predictive_score(real, FULL, real.copy(), FULL, seed=0, **TINY)
    assert predictive_score(real, FULL, real.copy(), FULL, seed=0, **TINY) == same
    worse = predictive_score(real, FULL, noise, FULL, seed=0, **TINY)
    assert same < 0.6 * worse, (same, worse)


def test_predictive_last_feature_target():
    # The last column lags the first by 0.5 rad, so it is predictable from it (TimeGAN's task).
    real = sinusoids(k=2)
    noise = np.random.default_rng(2).uniform(0.1, 0.9, real.shape).astype(np.float32)
    same = predictive_score(real, FULL, real.copy(), FULL, target="last_feature", **TINY)
    assert same < 0.6 * predictive_score(real, FULL, noise, FULL, target="last_feature", **TINY)


def test_bad_inputs_name_the_argument():
    real = sinusoids(n=8, k=1)
    lengths = np.full(8, L)
    with pytest.raises(ValueError, match="last_feature"):
        predictive_score(real, lengths, real, lengths, target="last_feature")
    with pytest.raises(ValueError, match="target="):
        predictive_score(real, lengths, real, lengths, target="previous")
    with pytest.raises(ValueError, match=r"synthetic_lengths\[2\]=1 must be at least 2"):
        predictive_score(real, lengths, real, np.where(np.arange(8) == 2, 1, L))
    with pytest.raises(ValueError, match="share"):
        discriminative_score(real, lengths, real[:, :6], np.full(8, 6))
    with pytest.raises(ValueError, match="real must have shape"):
        discriminative_score(real[..., 0], lengths, real, lengths)
    with pytest.raises(ValueError, match="iterations=0"):
        discriminative_score(real, lengths, real, lengths, iterations=0)
    with pytest.raises(ValueError, match="at least 5"):
        discriminative_score(real, lengths, real[:4], lengths[:4])
    with pytest.raises(ValueError, match="hidden_units"):
        discriminative_score(real, lengths, real, lengths, hidden_units=0)
