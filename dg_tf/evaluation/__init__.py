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
  (``python -m dg_tf.evaluate``), with the settings of
  :mod:`~dg_tf.evaluation.settings`.

The names are imported on first use (:mod:`dg_tf.lazy`): the scores load TensorFlow.
"""

# The function autocorrelation has its module's name: imported at once, or importing the module would shadow it.
from dg_tf.evaluation.autocorrelation import autocorrelation
from dg_tf.lazy import lazy_attributes

_EXPORTS = {
    "autocorrelation_per_feature": "dg_tf.evaluation.autocorrelation",
    "acf_mse": "dg_tf.evaluation.autocorrelation",
    "acf_mse_per_feature": "dg_tf.evaluation.autocorrelation",
    "per_sample_statistic": "dg_tf.evaluation.distributions",
    "wasserstein1": "dg_tf.evaluation.distributions",
    "conditional_wasserstein1": "dg_tf.evaluation.distributions",
    "attribute_labels": "dg_tf.evaluation.distributions",
    "attribute_marginals": "dg_tf.evaluation.distributions",
    "length_distribution": "dg_tf.evaluation.distributions",
    "cross_feature_correlation": "dg_tf.evaluation.distributions",
    "compare_distributions": "dg_tf.evaluation.distributions",
    "compare_cross_feature_correlation": "dg_tf.evaluation.distributions",
    "empirical_cdf": "dg_tf.evaluation.distributions",
    "LabelledSeries": "dg_tf.evaluation.utility",
    "classification_accuracies": "dg_tf.evaluation.utility",
    "tstr_classification": "dg_tf.evaluation.utility",
    "classification_ranking": "dg_tf.evaluation.utility",
    "forecasting_r2": "dg_tf.evaluation.utility",
    "tstr_forecasting": "dg_tf.evaluation.utility",
    "forecasting_ranking": "dg_tf.evaluation.utility",
    "ranking_correlation": "dg_tf.evaluation.utility",
    "discriminative_score": "dg_tf.evaluation.scores",
    "predictive_score": "dg_tf.evaluation.scores",
    "nearest_neighbours": "dg_tf.evaluation.privacy",
    "memorization_check": "dg_tf.evaluation.privacy",
    "membership_inference": "dg_tf.evaluation.privacy",
    "membership_inference_attack": "dg_tf.evaluation.privacy",
    "EvaluationConfig": "dg_tf.evaluation.settings",
    "ColumnNames": "dg_tf.evaluation.names",
    "dataset_names": "dg_tf.evaluation.names",
    "Evaluation": "dg_tf.evaluation.report",
    "evaluate": "dg_tf.evaluation.report",
    "write_report": "dg_tf.evaluation.report_files",
}

__all__ = ["autocorrelation", *_EXPORTS]

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
