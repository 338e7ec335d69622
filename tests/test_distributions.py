"""Distribution metrics (paper §5.2, Table 2, Fig. 6, 8, 9/18, 10/19, 20) against hand-computed answers."""

import json
import math

import numpy as np
import pytest

from dg_tf import Normalization, Output, OutputType
from dg_tf.evaluation.distributions import (
    ContinuousMarginal,
    DiscreteMarginal,
    attribute_labels,
    attribute_marginals,
    compare_cross_feature_correlation,
    compare_distributions,
    conditional_wasserstein1,
    cross_feature_correlation,
    empirical_cdf,
    length_distribution,
    per_sample_statistic,
    wasserstein1,
)

ATTRIBUTE_OUTPUTS = [
    Output(OutputType.DISCRETE, 3),
    Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
    Output(OutputType.DISCRETE, 2),
]


def _attributes(categories: np.ndarray, values: np.ndarray, flags: np.ndarray) -> np.ndarray:
    return np.concatenate([np.eye(3)[categories], values[:, None], np.eye(2)[flags]], axis=1)


# --------------------------------------------------------------------------- #
# Per-sample statistics
# --------------------------------------------------------------------------- #


def test_per_sample_statistics_use_active_steps_only():
    features = np.zeros((3, 5, 2))
    features[0, :, 1] = [1, 4, 2, 99, -99]  # length 3, garbage padding
    features[1, :, 1] = [-1, 0, 3, 2, 1]  # length 5
    features[2, :, 1] = [7, 7, 7, 7, 7]  # length 0
    lengths = np.array([3, 5, 0])
    stats = {s: per_sample_statistic(features, lengths, 1, s) for s in ("sum", "mean", "max", "min", "midpoint")}
    assert all(v.dtype == np.float64 and v.shape == (3,) for v in stats.values())
    np.testing.assert_array_equal(stats["sum"], [7.0, 5.0, 0.0])
    np.testing.assert_array_equal(stats["mean"][:2], [7 / 3, 1.0])
    np.testing.assert_array_equal(stats["max"][:2], [4.0, 3.0])
    np.testing.assert_array_equal(stats["min"][:2], [1.0, -1.0])
    np.testing.assert_array_equal(stats["midpoint"][:2], [2.5, 1.0])
    for name in ("mean", "max", "min", "midpoint"):
        assert np.isnan(stats[name][2])


def test_a_padded_sample_has_the_statistics_of_its_active_part():
    rng = np.random.default_rng(0)
    active = rng.uniform(size=(10, 6, 1))
    padded = np.concatenate([active, rng.uniform(size=(10, 4, 1))], axis=1)
    for statistic in ("sum", "mean", "max", "min", "midpoint"):
        np.testing.assert_allclose(
            per_sample_statistic(padded, np.full(10, 6), 0, statistic),
            per_sample_statistic(active, np.full(10, 6), 0, statistic),
            rtol=1e-15,
        )


def test_per_sample_statistic_rejects_bad_arguments():
    features = np.zeros((2, 4, 2))
    with pytest.raises(ValueError, match="statistic='median'"):
        per_sample_statistic(features, np.array([4, 4]), 0, "median")
    with pytest.raises(ValueError, match="feature=2"):
        per_sample_statistic(features, np.array([4, 4]), 2)
    with pytest.raises(ValueError, match=r"lengths\[0\]"):
        per_sample_statistic(features, np.array([5, 4]), 0)


# --------------------------------------------------------------------------- #
# Wasserstein-1
# --------------------------------------------------------------------------- #


def test_w1_of_identical_shifted_and_scaled_samples():
    x = np.random.default_rng(1).normal(size=500)
    assert wasserstein1(x, x) == 0.0
    assert wasserstein1(x, x + 2.5) == pytest.approx(2.5, rel=1e-12)
    assert wasserstein1(x + 2.5, x) == pytest.approx(2.5, rel=1e-12)
    # CDFs of {0, 1} and {0, 2} differ by 1/2 on [1, 2).
    assert wasserstein1(np.array([0.0, 1.0]), np.array([0.0, 2.0])) == 0.5
    # Unequal sample sizes: {0} vs {0, 0, 3} differ by 1/3 on [0, 3).
    assert wasserstein1(np.array([0.0]), np.array([0.0, 0.0, 3.0])) == pytest.approx(1.0)


def test_w1_normalisation_divides_by_the_real_scale():
    real, synthetic = np.array([0.0, 1.0]), np.array([0.0, 2.0])
    assert wasserstein1(real, synthetic, normalize="real_range") == 0.5
    assert wasserstein1(real, synthetic, normalize="real_std") == 1.0  # std of {0, 1} is 1/2
    assert wasserstein1(1000 * real, 1000 * synthetic, normalize="real_range") == pytest.approx(0.5)
    with pytest.raises(ValueError, match="not all equal"):
        wasserstein1(np.ones(3), synthetic, normalize="real_range")
    with pytest.raises(ValueError, match="normalize='max'"):
        wasserstein1(real, synthetic, normalize="max")


def test_w1_rejects_nan_and_empty_input():
    with pytest.raises(ValueError, match=r"synthetic_values\[1\]=nan"):
        wasserstein1(np.zeros(3), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="real_values is empty"):
        wasserstein1(np.zeros(0), np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \[N\]"):
        wasserstein1(np.zeros((2, 2)), np.zeros(3))


def test_conditional_w1_per_label(caplog):
    rng = np.random.default_rng(2)
    real = rng.normal(size=400)
    real_labels = np.repeat([0, 1, 2], [150, 150, 100])
    synthetic = real[:300].copy()
    synthetic[150:] += 3.0  # only label 1 is shifted
    synthetic_labels = real_labels[:300]  # label 2 never generated
    with caplog.at_level("WARNING"):
        result = conditional_wasserstein1(real, real_labels, synthetic, synthetic_labels)
    assert list(result) == [0, 1, 2] and all(type(k) is int for k in result)
    assert result[0] == 0.0
    assert result[1] == pytest.approx(3.0, rel=1e-12)
    assert math.isnan(result[2])
    assert "labels [2] have no synthetic samples" in caplog.text
    scaled = conditional_wasserstein1(real, real_labels, synthetic, synthetic_labels, normalize="real_std")
    assert scaled[1] == pytest.approx(3.0 / np.std(real), rel=1e-12)
    with pytest.raises(ValueError, match="synthetic_labels must have shape"):
        conditional_wasserstein1(real, real_labels, synthetic, synthetic_labels[:10])


def test_table2_pipeline_total_bandwidth_by_connection_technology():
    # Sum over active steps, then W1 per category of the conditioning attribute.
    rng = np.random.default_rng(3)
    categories = rng.integers(0, 3, 60)
    features = rng.uniform(size=(60, 8, 1)) + categories[:, None, None]
    attributes = _attributes(categories, rng.uniform(size=60), rng.integers(0, 2, 60))
    labels = attribute_labels(attributes, ATTRIBUTE_OUTPUTS, 0)
    totals = per_sample_statistic(features, np.full(60, 8), 0, "sum")
    synthetic_totals = totals + np.where(labels == 2, 0.5, 0.0)
    result = conditional_wasserstein1(totals, labels, synthetic_totals, labels)
    assert result[0] == 0.0 and result[1] == 0.0
    assert result[2] == pytest.approx(0.5, rel=1e-12)


# --------------------------------------------------------------------------- #
# Attributes
# --------------------------------------------------------------------------- #


def test_attribute_labels_are_the_argmax_of_one_block():
    categories = np.array([2, 0, 1, 1])
    flags = np.array([1, 0, 0, 1])
    attributes = _attributes(categories, np.full(4, 0.9), flags)  # 0.9 would win a wrong argmax
    np.testing.assert_array_equal(attribute_labels(attributes, ATTRIBUTE_OUTPUTS, 0), categories)
    np.testing.assert_array_equal(attribute_labels(attributes, ATTRIBUTE_OUTPUTS, 2), flags)
    soft = np.array([[0.2, 0.5, 0.3, 0.0, 0.6, 0.4]])
    np.testing.assert_array_equal(attribute_labels(soft, ATTRIBUTE_OUTPUTS, 0), [1])
    with pytest.raises(ValueError, match="not discrete"):
        attribute_labels(attributes, ATTRIBUTE_OUTPUTS, 1)
    with pytest.raises(ValueError, match="index=3"):
        attribute_labels(attributes, ATTRIBUTE_OUTPUTS, 3)
    with pytest.raises(ValueError, match="total_dim"):
        attribute_labels(attributes[:, :5], ATTRIBUTE_OUTPUTS, 0)


def test_identical_attributes_have_zero_distances():
    rng = np.random.default_rng(4)
    attributes = _attributes(rng.integers(0, 3, 50), rng.uniform(size=50), rng.integers(0, 2, 50))
    results = attribute_marginals(attributes, attributes, ATTRIBUTE_OUTPUTS)
    assert [type(r) for r in results] == [DiscreteMarginal, ContinuousMarginal, DiscreteMarginal]
    for result in results:
        if isinstance(result, DiscreteMarginal):
            assert result.total_variation == 0.0 and result.jensen_shannon == 0.0
            assert result.real_probabilities == result.synthetic_probabilities
            assert sum(result.real_probabilities) == pytest.approx(1.0)
        else:
            assert result.wasserstein1 == (0.0,) and result.ks_statistic == (0.0,)


def test_attribute_marginals_match_hand_computed_distances():
    real = _attributes(np.array([0, 0, 1, 1]), np.array([0.0, 0.0, 0.0, 0.0]), np.array([0, 0, 0, 0]))
    synthetic = _attributes(np.array([0, 1, 2, 2]), np.array([1.0, 1.0, 1.0, 1.0]), np.array([0, 0, 1, 1]))
    categories, value, flag = attribute_marginals(real, synthetic, ATTRIBUTE_OUTPUTS)
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    assert categories.real_probabilities == tuple(p) and categories.synthetic_probabilities == tuple(q)
    assert categories.total_variation == 0.5
    m = (p + q) / 2
    kl = lambda a, b: sum(x * math.log2(x / y) for x, y in zip(a, b) if x > 0)  # noqa: E731
    assert categories.jensen_shannon == pytest.approx(math.sqrt((kl(p, m) + kl(q, m)) / 2), rel=1e-12)
    assert categories.jensen_shannon == pytest.approx(0.5579230, abs=1e-6)
    assert value.wasserstein1 == (1.0,) and value.ks_statistic == (1.0,)  # disjoint supports
    assert flag.total_variation == 0.5
    assert flag.jensen_shannon == pytest.approx(math.sqrt(1.5 - 0.75 * math.log2(3)), rel=1e-12)
    json.dumps([r.to_dict() for r in (categories, value, flag)], allow_nan=False)


# --------------------------------------------------------------------------- #
# Lengths
# --------------------------------------------------------------------------- #


def test_length_distribution():
    lengths = np.array([1, 3, 3, 5])
    same = length_distribution(lengths, lengths.copy(), 5)
    assert same.wasserstein1 == 0.0 and same.total_variation == 0.0
    assert same.real_probabilities == (0.25, 0.0, 0.5, 0.0, 0.25)
    shifted = length_distribution(np.array([1, 1, 2, 2]), np.array([2, 2, 2, 2]), 3)
    assert shifted.real_probabilities == (0.5, 0.5, 0.0)
    assert shifted.synthetic_probabilities == (0.0, 1.0, 0.0)
    assert shifted.total_variation == 0.5 and shifted.wasserstein1 == 0.5
    assert shifted.to_dict()["lengths"] == [1, 2, 3]
    json.dumps(shifted.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match=r"synthetic_lengths\[1\]=.*max_length=3"):
        length_distribution(np.array([1]), np.array([1, 4]), 3)
    with pytest.raises(ValueError, match=r"real_lengths\[0\]"):
        length_distribution(np.array([0]), np.array([1]), 3)


# --------------------------------------------------------------------------- #
# Cross-feature correlation and CDFs
# --------------------------------------------------------------------------- #


def test_cross_feature_correlation_over_active_steps():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(5, 10))
    features = np.stack([a, 2 * a + 1, rng.normal(size=(5, 10))], axis=-1)
    features[1, :, 1] = -features[1, :, 0]
    features[2, :, 1] = 3.0  # constant: undefined
    lengths = np.array([10, 7, 10, 1, 6])
    features[4, 6:, :] = rng.normal(size=(4, 3)) * 100  # garbage padding
    r = cross_feature_correlation(features, lengths, 0, 1)
    np.testing.assert_allclose(r[[0, 1, 4]], [1.0, -1.0, 1.0], rtol=1e-12)
    assert np.isnan(r[2]) and np.isnan(r[3])  # constant; a single step
    other = cross_feature_correlation(features, lengths, 0, 2)
    for i in (0, 1, 2, 4):
        n = lengths[i]
        assert other[i] == pytest.approx(np.corrcoef(features[i, :n, 0], features[i, :n, 2])[0, 1], rel=1e-10)


def test_empirical_cdf_points():
    x, y = empirical_cdf(np.array([3.0, 1.0, 2.0, 2.0]))
    np.testing.assert_array_equal(x, [1.0, 2.0, 2.0, 3.0])
    np.testing.assert_array_equal(y, [0.25, 0.5, 0.75, 1.0])
    with pytest.raises(ValueError, match=r"values\[0\]=nan"):
        empirical_cdf(np.array([np.nan]))


def test_compare_distributions_ignores_nan(caplog):
    comparison = compare_distributions(np.array([0.0, np.nan, 1.0]), np.array([np.nan, 0.0, 2.0, np.nan]))
    assert comparison.wasserstein1 == 0.5
    assert comparison.real_nan_count == 1 and comparison.synthetic_nan_count == 2
    assert comparison.real_cdf == ((0.0, 1.0), (0.5, 1.0))
    assert comparison.to_dict()["synthetic_cdf"] == {"x": [0.0, 2.0], "y": [0.5, 1.0]}
    with caplog.at_level("WARNING"):
        collapsed = compare_distributions(np.array([0.5]), np.array([np.nan, np.nan]))
    assert math.isnan(collapsed.wasserstein1) and collapsed.synthetic_cdf == ((), ())
    assert "W1 is NaN" in caplog.text
    assert json.loads(json.dumps(collapsed.to_dict(), allow_nan=False))["wasserstein1"] is None


def test_compare_cross_feature_correlation():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(30, 12))
    real = np.stack([a, a + 0.3 * rng.normal(size=(30, 12))], axis=-1)
    lengths = rng.integers(4, 13, 30)
    same = compare_cross_feature_correlation(real, lengths, real, lengths, 0, 1)
    assert same.wasserstein1 == 0.0 and same.real_cdf == same.synthetic_cdf
    anti = np.stack([a, -real[:, :, 1]], axis=-1)  # every correlation flips sign
    flipped = compare_cross_feature_correlation(real, lengths, anti, lengths, 0, 1)
    r = cross_feature_correlation(real, lengths, 0, 1)
    assert flipped.wasserstein1 == pytest.approx(wasserstein1(r, -r), rel=1e-12)
    assert flipped.wasserstein1 > 1.0  # real correlations are high and positive
