"""Metrics comparing real and synthetic data (paper §5, §6.2), as pure functions of arrays.

One module per family:

- :mod:`~dg_tf.evaluation.autocorrelation`: DG's ACF and ACF-MSE (Fig. 1, Table 3).
- :mod:`~dg_tf.evaluation.distributions`: W1 of per-sample statistics overall and
  per attribute value (Table 2, Fig. 20), (max+min)/2 (Fig. 6), attribute
  marginals (Fig. 10/19), lengths (Fig. 9/18), cross-feature correlation (Fig. 8).
- :mod:`~dg_tf.evaluation.utility`: train on synthetic / test on real
  (Fig. 12/13, Appendix D) and algorithm rankings (Table 5).
- :mod:`~dg_tf.evaluation.scores`: TimeGAN's discriminative and predictive scores.
- :mod:`~dg_tf.evaluation.privacy`: nearest-neighbour memorization (Figs. 21-23)
  and membership inference (Fig. 15).
- :mod:`~dg_tf.evaluation.report` / :mod:`~dg_tf.evaluation.report_files`:
  all of them at once, written as ``metrics.json``, figures and ``report.md``
  (``python -m dg_tf.evaluate``).
"""

from dg_tf.evaluation.autocorrelation import acf_mse, acf_mse_per_feature, autocorrelation, autocorrelation_per_feature
from dg_tf.evaluation.distributions import (
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
from dg_tf.evaluation.privacy import (
    membership_inference,
    membership_inference_attack,
    memorization_check,
    nearest_neighbours,
)
from dg_tf.evaluation.names import ColumnNames, dataset_names
from dg_tf.evaluation.report import Evaluation, EvaluationConfig, evaluate
from dg_tf.evaluation.report_files import write_report
from dg_tf.evaluation.scores import discriminative_score, predictive_score
from dg_tf.evaluation.utility import (
    LabelledSeries,
    classification_accuracies,
    classification_ranking,
    forecasting_r2,
    forecasting_ranking,
    ranking_correlation,
    tstr_classification,
    tstr_forecasting,
)

__all__ = [
    "autocorrelation",
    "autocorrelation_per_feature",
    "acf_mse",
    "acf_mse_per_feature",
    "per_sample_statistic",
    "wasserstein1",
    "conditional_wasserstein1",
    "attribute_labels",
    "attribute_marginals",
    "length_distribution",
    "cross_feature_correlation",
    "compare_distributions",
    "compare_cross_feature_correlation",
    "empirical_cdf",
    "LabelledSeries",
    "classification_accuracies",
    "tstr_classification",
    "classification_ranking",
    "forecasting_r2",
    "tstr_forecasting",
    "forecasting_ranking",
    "ranking_correlation",
    "discriminative_score",
    "predictive_score",
    "nearest_neighbours",
    "memorization_check",
    "membership_inference",
    "membership_inference_attack",
    "EvaluationConfig",
    "ColumnNames",
    "dataset_names",
    "Evaluation",
    "evaluate",
    "write_report",
]
