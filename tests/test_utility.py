"""Downstream-task utility (paper §5.2, Fig. 12/13, Table 5, Appendix D) on data whose answer is known."""

import json

import numpy as np
import pytest

from dg_tf.evaluation.utility import (
    CLASSIFIERS,
    REGRESSORS,
    LabelledSeries,
    classification_accuracies,
    classification_ranking,
    design_matrix,
    forecasting_r2,
    forecasting_ranking,
    forecasting_split,
    ranking_correlation,
    tstr_classification,
    tstr_forecasting,
)


def sign_of_mean_data(n: int, seed: int, length: int = 12, k: int = 2) -> LabelledSeries:
    """Variable-length noise with a per-sample offset; label = sign of the mean over active steps."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, length + 1, n)
    x = rng.normal(size=(n, length, k)) + rng.normal(0, 1.0, (n, 1, 1))
    x[np.arange(length)[None, :] >= lengths[:, None]] = 0.0
    mean = x.sum(axis=(1, 2)) / (lengths * k)
    return LabelledSeries(x.astype(np.float32), lengths, (mean > 0).astype(int))


def trend_series(n: int, seed: int, length: int = 20) -> np.ndarray:
    """Noiseless linear trends a*t + b with random a, b: [n, length]."""
    rng = np.random.default_rng(seed)
    steps = np.arange(length)
    return rng.normal(size=(n, 1)) * steps[None, :] + rng.normal(size=(n, 1))


def test_design_matrix_zeroes_padding_and_appends_lengths():
    x = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2) + 1
    rows = design_matrix(x, np.array([2, 3]))
    assert rows.shape == (2, 3 * 2 + 1)
    np.testing.assert_array_equal(rows[0], [1, 2, 3, 4, 0, 0, 2])
    np.testing.assert_array_equal(rows[1], [7, 8, 9, 10, 11, 12, 3])
    assert design_matrix(x, np.array([2, 3]), include_lengths=False).shape == (2, 6)
    with pytest.raises(ValueError, match=r"lengths\[1\]=4"):
        design_matrix(x, np.array([2, 4]))
    with pytest.raises(ValueError, match=r"lengths\[0\]=0"):
        design_matrix(x, np.array([0, 1]))


def test_labelled_series_checks_label_shape():
    with pytest.raises(ValueError, match="labels must have shape"):
        LabelledSeries(np.zeros((4, 3, 1)), np.full(4, 3), np.zeros(3))


def test_identical_real_and_synthetic_give_identical_tstr_scores():
    train, test = sign_of_mean_data(120, 0), sign_of_mean_data(80, 1)
    result = tstr_classification(train, train, test, seed=3)
    assert set(result.train_real) == set(CLASSIFIERS)
    assert result.train_synthetic == result.train_real
    assert json.loads(json.dumps(result.to_dict()))["train_real"] == result.train_real


def test_labels_that_are_a_linear_function_of_the_series_are_learned():
    train, test = sign_of_mean_data(300, 0), sign_of_mean_data(200, 1)
    scores = classification_accuracies(
        train.features, train.lengths, train.labels, test.features, test.lengths, test.labels
    )
    assert scores["logistic_regression"] > 0.9
    assert scores["linear_svm"] > 0.9
    assert all(0.6 < s <= 1.0 for s in scores.values()), scores


def test_random_labels_give_chance_accuracy():
    rng = np.random.default_rng(5)
    train, test = sign_of_mean_data(200, 0), sign_of_mean_data(400, 1)
    scores = classification_accuracies(
        train.features, train.lengths, rng.integers(0, 2, 200),
        test.features, test.lengths, rng.integers(0, 2, 400),
    )
    assert all(abs(s - 0.5) < 0.1 for s in scores.values()), scores


def test_synthetic_with_scrambled_labels_loses_accuracy():
    train, test = sign_of_mean_data(200, 0), sign_of_mean_data(200, 1)
    scrambled = LabelledSeries(train.features, train.lengths, 1 - train.labels)
    classifiers = {"lr": CLASSIFIERS["logistic_regression"]}
    result = tstr_classification(train, scrambled, test, classifiers=classifiers)
    assert result.train_real["lr"] > 0.9
    assert result.train_synthetic["lr"] < 0.1


def test_classification_rejects_mismatched_shapes_and_one_class():
    a = sign_of_mean_data(20, 0, length=12)
    b = sign_of_mean_data(20, 1, length=10)
    with pytest.raises(ValueError, match="share"):
        classification_accuracies(a.features, a.lengths, a.labels, b.features, b.lengths, b.labels)
    with pytest.raises(ValueError, match="2 classes"):
        classification_accuracies(a.features, a.lengths, np.zeros(20), a.features, a.lengths, a.labels)


def test_forecasting_split_takes_the_last_horizon_steps():
    series = np.arange(2 * 5 * 2).reshape(2, 5, 2)
    inputs, targets = forecasting_split(series, 2)
    np.testing.assert_array_equal(inputs[1], series[1, :3].ravel())
    np.testing.assert_array_equal(targets[1], series[1, 3:].ravel())
    assert forecasting_split(series[..., 0], 1)[0].shape == (2, 4)
    for bad in (0, 5, 1.5):
        with pytest.raises(ValueError, match="horizon"):
            forecasting_split(series, bad)


def test_forecasting_a_noiseless_linear_trend():
    scores = forecasting_r2(trend_series(150, 0), trend_series(100, 1), horizon=5, seed=0)
    assert set(scores) == set(REGRESSORS)
    assert scores["linear_regression"] > 0.999
    assert scores["mlp_1x100"] > 0.9


def test_forecasting_on_unrelated_synthetic_is_worse_than_on_real():
    noise = np.random.default_rng(2).normal(size=(150, 20))
    regressors = {"linear_regression": REGRESSORS["linear_regression"]}
    result = tstr_forecasting(trend_series(150, 0), noise, trend_series(100, 1), 5, regressors)
    assert result.metric == "r2"
    assert result.train_real["linear_regression"] > 0.999
    assert result.train_synthetic["linear_regression"] < 0.5


def test_ranking_correlation_of_identical_and_reversed_rankings():
    real = {"a": 0.9, "b": 0.7, "c": 0.5, "d": 0.1}
    assert ranking_correlation(real, dict(real)) == pytest.approx(1.0)
    reversed_ = {"a": 0.1, "b": 0.5, "c": 0.7, "d": 0.9}
    assert ranking_correlation(real, reversed_) == pytest.approx(-1.0)
    # Only the order matters, not the values.
    assert ranking_correlation(real, {"a": 100.0, "b": 3.0, "c": 2.0, "d": -5.0}) == pytest.approx(1.0)
    assert np.isnan(ranking_correlation(real, dict.fromkeys(real, 0.5)))
    with pytest.raises(ValueError, match="same predictors"):
        ranking_correlation(real, {"a": 1.0, "b": 2.0})


def test_rankings_on_real_as_synthetic_agree_perfectly():
    a, a_test = sign_of_mean_data(150, 0), sign_of_mean_data(100, 1)
    result = classification_ranking(a, a_test, a, a_test, seed=1)
    assert result.real_scores == result.synthetic_scores
    report = json.loads(json.dumps(result.to_dict()))
    assert report["spearman"] == pytest.approx(1.0)

    regressors = {k: REGRESSORS[k] for k in ("linear_regression", "kernel_ridge_rbf")}
    trends, trends_test = trend_series(80, 0), trend_series(60, 1)
    forecast = forecasting_ranking(trends, trends_test, trends, trends_test, 5, regressors)
    assert forecast.real_scores["linear_regression"] > forecast.real_scores["kernel_ridge_rbf"]
    assert forecast.spearman == pytest.approx(1.0)
