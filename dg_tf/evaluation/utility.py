"""Downstream-task utility of synthetic data (paper §5.2 "Predictive modeling" and
"Algorithm comparison", Fig. 12, Fig. 13, Table 5; Appendix D, Fig. 24-26).

Protocol (Fig. 12): the real data is split into two halves of equal size, a
training set A and a test set A'. The generative model is trained on A and
generates B (for training) and B' (for testing). Then

* **train on synthetic, test on real** (Fig. 13, Fig. 24): each predictor is
  trained on B and tested on A', and reported next to the same predictor
  trained on A and tested on A' (the real-data reference, expected to be best):
  :func:`tstr_classification`, :func:`tstr_forecasting`;
* **algorithm comparison** (Table 5): the predictors are ranked by their score
  trained on B and tested on B', and by their score trained on A and tested on
  A' (the ground truth); the utility is Spearman's rank correlation of the two
  rankings: :func:`classification_ranking`, :func:`forecasting_ranking`,
  :func:`ranking_correlation`.

Tasks:

* classification (GCUT end-event type from the series, §5.2): the paper's five
  classifiers, an MLP, Gaussian naive Bayes, logistic regression, a decision
  tree and a linear SVM (:data:`CLASSIFIERS`), scored by test accuracy;
* forecasting (WWT, Appendix D): predict the last ``horizon`` steps (the paper:
  the last 50 of 550 days) from the steps before them with an MLP of five hidden
  layers of 200 units, an MLP of one hidden layer of 100 units, linear
  regression and RBF kernel regression (:data:`REGRESSORS`), scored by the
  coefficient of determination R² (footnote 11).

The paper does not give the classifiers' hyperparameters; the choices here are
the module-level constants below (scikit-learn defaults unless stated), small
enough to run in seconds on a CPU for a few thousand samples. Inputs that are
not scale-free for a model are standardised inside its pipeline (fitted on the
training set only). Every estimator with randomness is seeded from ``seed`` and
its name, so results are reproducible and identical training data gives
identical predictors.

Everything here is a pure function of NumPy arrays; no model loading, no I/O.

This module is longer than 400 lines: the classification and forecasting tasks
share the series checks, the design matrix, the seeded predictors and the
ranking correlation, which is the point of Table 5.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from dg_tf.seeding import derive_seed
from dg_tf.transforms import flags_from_lengths

__all__ = [
    "CLASSIFIERS",
    "REGRESSORS",
    "MLP_CLASSIFIER_HIDDEN",
    "MLP_REGRESSOR_DEEP_HIDDEN",
    "MLP_REGRESSOR_SHALLOW_HIDDEN",
    "MLP_MAX_ITER",
    "LOGISTIC_MAX_ITER",
    "SVM_MAX_ITER",
    "SVM_C",
    "KERNEL_RIDGE_ALPHA",
    "LabelledSeries",
    "TSTRResult",
    "RankingResult",
    "design_matrix",
    "forecasting_split",
    "classification_accuracies",
    "forecasting_r2",
    "tstr_classification",
    "tstr_forecasting",
    "ranking_correlation",
    "classification_ranking",
    "forecasting_ranking",
]

logger = logging.getLogger(__name__)

#: Hidden layers of the classification MLP (the paper gives none; scikit-learn's default).
MLP_CLASSIFIER_HIDDEN: tuple[int, ...] = (100,)
#: Hidden layers of the two forecasting MLPs (Appendix D: 5 x 200 and 1 x 100).
MLP_REGRESSOR_DEEP_HIDDEN: tuple[int, ...] = (200,) * 5
MLP_REGRESSOR_SHALLOW_HIDDEN: tuple[int, ...] = (100,)
#: Adam epochs of every MLP (scikit-learn's default); unconverged fits are logged, not fatal.
MLP_MAX_ITER = 200
#: L-BFGS iterations of logistic regression.
LOGISTIC_MAX_ITER = 1000
#: Coordinate-descent iterations and regularisation of the linear SVM.
SVM_MAX_ITER = 2000
SVM_C = 1.0
#: Ridge penalty of the RBF kernel regression (gamma = 1 / inputs, scikit-learn's default).
KERNEL_RIDGE_ALPHA = 1.0

#: ``name -> factory(seed) -> unfitted estimator`` of a family of predictors.
EstimatorFactories = Mapping[str, Callable[[int], BaseEstimator]]

#: The paper's five classifiers (§5.2, Fig. 13, Fig. 25).
CLASSIFIERS: EstimatorFactories = {
    "mlp": lambda seed: make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=MLP_CLASSIFIER_HIDDEN, max_iter=MLP_MAX_ITER, random_state=seed),
    ),
    "naive_bayes": lambda seed: GaussianNB(),
    "logistic_regression": lambda seed: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=LOGISTIC_MAX_ITER, random_state=seed)
    ),
    "decision_tree": lambda seed: DecisionTreeClassifier(random_state=seed),
    "linear_svm": lambda seed: make_pipeline(
        StandardScaler(), LinearSVC(C=SVM_C, max_iter=SVM_MAX_ITER, random_state=seed)
    ),
}


def _mlp_regressor(hidden: tuple[int, ...]) -> Callable[[int], BaseEstimator]:
    """Factory of a standardised-input, standardised-target MLP regressor."""

    def factory(seed: int) -> BaseEstimator:
        return TransformedTargetRegressor(
            regressor=make_pipeline(
                StandardScaler(),
                MLPRegressor(hidden_layer_sizes=hidden, max_iter=MLP_MAX_ITER, random_state=seed),
            ),
            transformer=StandardScaler(),
        )

    return factory


#: The paper's four forecasting regressors (Appendix D, Fig. 24, Fig. 26).
#: Kernel regression needs O(N²) memory and time in the number of training series.
REGRESSORS: EstimatorFactories = {
    "mlp_5x200": _mlp_regressor(MLP_REGRESSOR_DEEP_HIDDEN),
    "mlp_1x100": _mlp_regressor(MLP_REGRESSOR_SHALLOW_HIDDEN),
    "linear_regression": lambda seed: LinearRegression(),
    "kernel_ridge_rbf": lambda seed: make_pipeline(
        StandardScaler(), KernelRidge(alpha=KERNEL_RIDGE_ALPHA, kernel="rbf")
    ),
}


# --------------------------------------------------------------------------- #
# Data containers and results
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class LabelledSeries:
    """Series with one label each: one of A, A', B, B' in Fig. 12.

    Attributes:
        features: float [N, L, K]; steps at and after ``lengths[i]`` are ignored.
        lengths: integer [N], each in [1, L].
        labels: [N] class labels (any values scikit-learn accepts, e.g. the
            argmax of a discrete attribute such as the GCUT end-event type).
    """

    features: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        for field in ("features", "lengths", "labels"):
            object.__setattr__(self, field, np.asarray(getattr(self, field)))
        _check_series(self.features, self.lengths, "features", "lengths")
        labels = self.labels
        if labels.shape != (self.features.shape[0],):
            raise ValueError(
                f"labels must have shape [N] = ({self.features.shape[0]},), got shape {labels.shape}"
            )


@dataclasses.dataclass(frozen=True)
class TSTRResult:
    """Scores of each predictor trained on real (A) or synthetic (B) data, tested on real A'.

    Attributes:
        metric: ``"accuracy"`` or ``"r2"``.
        train_real: predictor name -> score when trained on A (the reference).
        train_synthetic: predictor name -> score when trained on B (Fig. 13 / Fig. 24).
    """

    metric: str
    train_real: dict[str, float]
    train_synthetic: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python values."""
        return {
            "metric": self.metric,
            "train_real": {k: float(v) for k, v in self.train_real.items()},
            "train_synthetic": {k: float(v) for k, v in self.train_synthetic.items()},
        }


@dataclasses.dataclass(frozen=True)
class RankingResult:
    """Algorithm comparison (Table 5).

    Attributes:
        metric: ``"accuracy"`` or ``"r2"``.
        real_scores: predictor name -> score trained on A, tested on A' (ground truth).
        synthetic_scores: predictor name -> score trained on B, tested on B'.
        spearman: rank correlation of the two rankings, in [-1, 1]; NaN when
            either set of scores is constant (no ranking exists).
    """

    metric: str
    real_scores: dict[str, float]
    synthetic_scores: dict[str, float]
    spearman: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python values (a NaN correlation becomes ``None``)."""
        return {
            "metric": self.metric,
            "real_scores": {k: float(v) for k, v in self.real_scores.items()},
            "synthetic_scores": {k: float(v) for k, v in self.synthetic_scores.items()},
            "spearman": None if np.isnan(self.spearman) else float(self.spearman),
        }


# --------------------------------------------------------------------------- #
# Design matrices
# --------------------------------------------------------------------------- #


def _check_series(features: np.ndarray, lengths: np.ndarray, fname: str, lname: str) -> None:
    """Raise ValueError unless features is [N, L, K] and lengths is [N] of integers in [1, L]."""
    x = np.asarray(features)
    if x.ndim != 3:
        raise ValueError(f"{fname} must have shape [N, L, K], got shape {x.shape}")
    n = np.asarray(lengths)
    if n.shape != (x.shape[0],):
        raise ValueError(f"{lname} must have shape [N] = ({x.shape[0]},), got shape {n.shape}")
    if n.size:
        numeric = n.astype(np.float64)
        bad = ~np.isfinite(numeric) | (numeric != np.round(numeric)) | (numeric < 1) | (numeric > x.shape[1])
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{lname}[{i}]={n[i].item()!r} must be an integer in [1, L={x.shape[1]}]")


def design_matrix(features: np.ndarray, lengths: np.ndarray, include_lengths: bool = True) -> np.ndarray:
    """Series -> one row of predictor inputs per sample.

    The classifiers of §5.2 take "time series observations" as input; here each
    series is flattened step-major (``x[0, 0..K-1], x[1, 0..K-1], ...``) after
    zeroing every step at or after its end, so padding carries no information
    beyond the length, and the length itself is appended as the last column
    when ``include_lengths`` (for variable-length data such as GCUT the
    duration is informative; for fixed-length data it is a constant column).

    Args:
        features: float [N, L, K].
        lengths: integer [N], each in [1, L].
        include_lengths: append ``lengths`` as a final column.

    Returns:
        float64 [N, L*K + 1] (or [N, L*K] without lengths).

    Raises:
        ValueError: bad shapes, or a length outside [1, L] (naming its index).
    """
    _check_series(features, lengths, "features", "lengths")
    x = np.asarray(features, dtype=np.float64)
    n, length, k = x.shape
    flags = flags_from_lengths(np.asarray(lengths), length)
    rows = (x * flags[:, :, None]).reshape(n, length * k)
    if include_lengths:
        rows = np.concatenate([rows, np.asarray(lengths, dtype=np.float64)[:, None]], axis=1)
    return rows


def forecasting_split(series: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Split fixed-length series into history (inputs) and the last ``horizon`` steps (targets).

    Appendix D: "forecasting of the page views for next 50 days, given those
    for the first 500 days" (WWT: L = 550, horizon = 50).

    Args:
        series: float [N, L] (univariate) or [N, L, K]; all series full length.
        horizon: number of final steps to predict, in [1, L - 1].

    Returns:
        ``(inputs [N, (L - horizon) * K], targets [N, horizon * K])``, float64,
        flattened step-major.

    Raises:
        ValueError: bad rank or ``horizon``.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"series must have shape [N, L] or [N, L, K], got shape {np.shape(series)}")
    n, length, _ = x.shape
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or not 1 <= horizon < length:
        raise ValueError(f"horizon={horizon!r} must be an integer in [1, L - 1 = {length - 1}]")
    return x[:, : length - horizon].reshape(n, -1), x[:, length - horizon :].reshape(n, -1)


# --------------------------------------------------------------------------- #
# Scores of a family of predictors
# --------------------------------------------------------------------------- #


def _fit(name: str, model: BaseEstimator, x: np.ndarray, y: np.ndarray) -> BaseEstimator:
    """Fit ``model``, logging (instead of warning about) an iteration limit reached."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, y)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        logger.info("%s stopped at its iteration limit before converging", name)
    return model


def classification_accuracies(
    train_features: np.ndarray,
    train_lengths: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_lengths: np.ndarray,
    test_labels: np.ndarray,
    classifiers: EstimatorFactories = CLASSIFIERS,
    seed: int = 0,
    include_lengths: bool = True,
) -> dict[str, float]:
    """Test accuracy of each classifier trained on one labelled set (§5.2, Fig. 13).

    Args:
        train_features, test_features: float [N, L, K] and [M, L, K] (same L, K).
        train_lengths, test_lengths: integer [N] and [M].
        train_labels, test_labels: [N] and [M] class labels.
        classifiers: name -> ``factory(seed)``; default the paper's five.
        seed: seeds every classifier (``derive_seed(seed, "classifier", name)``).
        include_lengths: see :func:`design_matrix`.

    Returns:
        name -> fraction of test samples classified correctly, in [0, 1].

    Raises:
        ValueError: bad shapes, mismatched (L, K), or fewer than 2 training classes.
    """
    train = LabelledSeries(train_features, train_lengths, train_labels)
    test = LabelledSeries(test_features, test_lengths, test_labels)
    if train.features.shape[1:] != test.features.shape[1:]:
        raise ValueError(
            "train and test series must share [L, K]: "
            f"{train.features.shape[1:]} != {test.features.shape[1:]}"
        )
    if np.unique(train.labels).size < 2:
        raise ValueError("train_labels must contain at least 2 classes")
    x_train = design_matrix(train.features, train.lengths, include_lengths)
    x_test = design_matrix(test.features, test.lengths, include_lengths)
    scores = {}
    for name, factory in classifiers.items():
        model = _fit(name, factory(derive_seed(seed, "classifier", name)), x_train, train.labels)
        scores[name] = float(accuracy_score(test.labels, model.predict(x_test)))
    return scores


def forecasting_r2(
    train_series: np.ndarray,
    test_series: np.ndarray,
    horizon: int,
    regressors: EstimatorFactories = REGRESSORS,
    seed: int = 0,
) -> dict[str, float]:
    """R² of each regressor forecasting the last ``horizon`` steps (Appendix D, Fig. 24).

    Each regressor is trained on ``train_series`` to map the first ``L -
    horizon`` steps to the last ``horizon`` steps (:func:`forecasting_split`)
    and scored on ``test_series`` with ``sklearn.metrics.r2_score`` (footnote
    11's definition, averaged uniformly over the ``horizon * K`` target
    columns, scikit-learn's default).

    Args:
        train_series, test_series: float [N, L] / [N, L, K] and [M, L] / [M, L, K],
            full-length series.
        horizon: steps to forecast (WWT: 50 of 550).
        regressors: name -> ``factory(seed)``; default the paper's four (kernel
            regression costs O(N²) memory: subsample WWT-sized training sets).
        seed: seeds every regressor (``derive_seed(seed, "regressor", name)``).

    Returns:
        name -> R² on the test series, in (-inf, 1].

    Raises:
        ValueError: bad shapes or ``horizon``, or train and test lengths differ.
    """
    x_train, y_train = forecasting_split(train_series, horizon)
    x_test, y_test = forecasting_split(test_series, horizon)
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(
            "train and test series must share [L, K]: "
            f"{np.shape(train_series)[1:]} != {np.shape(test_series)[1:]}"
        )
    scores = {}
    for name, factory in regressors.items():
        model = _fit(name, factory(derive_seed(seed, "regressor", name)), x_train, y_train)
        scores[name] = float(r2_score(y_test, model.predict(x_test)))
    return scores


# --------------------------------------------------------------------------- #
# Protocols of Fig. 12/13 and Table 5
# --------------------------------------------------------------------------- #


def _accuracies(
    train: LabelledSeries, test: LabelledSeries, classifiers: EstimatorFactories, seed: int
) -> dict[str, float]:
    """:func:`classification_accuracies` of two labelled sets."""
    return classification_accuracies(
        train.features, train.lengths, train.labels,
        test.features, test.lengths, test.labels,
        classifiers, seed,
    )


def tstr_classification(
    real_train: LabelledSeries,
    synthetic: LabelledSeries,
    real_test: LabelledSeries,
    classifiers: EstimatorFactories = CLASSIFIERS,
    seed: int = 0,
) -> TSTRResult:
    """Train on synthetic, test on real (Fig. 12/13): B -> A', next to A -> A'.

    Args:
        real_train: A, the real data the generative model was trained on.
        synthetic: B, generated data with labels from its generated attributes.
        real_test: A', held-out real data.
        classifiers, seed: as in :func:`classification_accuracies`; the same
            seed is used for both trainings, so identical A and B give identical scores.

    Returns:
        :class:`TSTRResult` with metric ``"accuracy"``.
    """
    return TSTRResult(
        metric="accuracy",
        train_real=_accuracies(real_train, real_test, classifiers, seed),
        train_synthetic=_accuracies(synthetic, real_test, classifiers, seed),
    )


def tstr_forecasting(
    real_train: np.ndarray,
    synthetic: np.ndarray,
    real_test: np.ndarray,
    horizon: int,
    regressors: EstimatorFactories = REGRESSORS,
    seed: int = 0,
) -> TSTRResult:
    """Train on synthetic, test on real for forecasting (Appendix D, Fig. 24): B -> A', next to A -> A'.

    Args:
        real_train: A, float [N, L] or [N, L, K].
        synthetic: B, same [L, K].
        real_test: A', same [L, K].
        horizon, regressors, seed: as in :func:`forecasting_r2`.

    Returns:
        :class:`TSTRResult` with metric ``"r2"``.
    """
    return TSTRResult(
        metric="r2",
        train_real=forecasting_r2(real_train, real_test, horizon, regressors, seed),
        train_synthetic=forecasting_r2(synthetic, real_test, horizon, regressors, seed),
    )


def ranking_correlation(real_scores: Mapping[str, float], synthetic_scores: Mapping[str, float]) -> float:
    """Spearman's rank correlation of two rankings of the same predictors (Table 5).

    Args:
        real_scores: name -> score trained on A, tested on A' (ground truth).
        synthetic_scores: name -> score trained on B, tested on B'; same names.

    Returns:
        ``scipy.stats.spearmanr`` of the scores in [-1, 1] (ties get average
        ranks); NaN when either set of scores is constant.

    Raises:
        ValueError: the names differ or fewer than 2 predictors are given.
    """
    if set(real_scores) != set(synthetic_scores):
        raise ValueError(
            f"real_scores and synthetic_scores must name the same predictors: "
            f"{sorted(real_scores)} != {sorted(synthetic_scores)}"
        )
    names = sorted(real_scores)
    if len(names) < 2:
        raise ValueError(f"ranking needs at least 2 predictors, got {names}")
    real = np.array([real_scores[n] for n in names], dtype=np.float64)
    synthetic = np.array([synthetic_scores[n] for n in names], dtype=np.float64)
    if np.ptp(real) == 0 or np.ptp(synthetic) == 0:
        return float("nan")
    return float(stats.spearmanr(real, synthetic).statistic)


def classification_ranking(
    real_train: LabelledSeries,
    real_test: LabelledSeries,
    synthetic_train: LabelledSeries,
    synthetic_test: LabelledSeries,
    classifiers: EstimatorFactories = CLASSIFIERS,
    seed: int = 0,
) -> RankingResult:
    """Algorithm comparison of the classifiers (Table 5, GCUT row; Fig. 25).

    Args:
        real_train, real_test: A and A'.
        synthetic_train, synthetic_test: B and B' (two disjoint generated sets).
        classifiers, seed: as in :func:`classification_accuracies`.

    Returns:
        :class:`RankingResult`: accuracies A -> A' and B -> B' and their Spearman correlation.
    """
    real = _accuracies(real_train, real_test, classifiers, seed)
    synthetic = _accuracies(synthetic_train, synthetic_test, classifiers, seed)
    return RankingResult("accuracy", real, synthetic, ranking_correlation(real, synthetic))


def forecasting_ranking(
    real_train: np.ndarray,
    real_test: np.ndarray,
    synthetic_train: np.ndarray,
    synthetic_test: np.ndarray,
    horizon: int,
    regressors: EstimatorFactories = REGRESSORS,
    seed: int = 0,
) -> RankingResult:
    """Algorithm comparison of the forecasting regressors (Table 5, WWT row; Fig. 26).

    Args:
        real_train, real_test: A and A', float [N, L] or [N, L, K].
        synthetic_train, synthetic_test: B and B', same [L, K].
        horizon, regressors, seed: as in :func:`forecasting_r2`.

    Returns:
        :class:`RankingResult`: R² A -> A' and B -> B' and their Spearman correlation.
    """
    real = forecasting_r2(real_train, real_test, horizon, regressors, seed)
    synthetic = forecasting_r2(synthetic_train, synthetic_test, horizon, regressors, seed)
    return RankingResult("r2", real, synthetic, ranking_correlation(real, synthetic))
