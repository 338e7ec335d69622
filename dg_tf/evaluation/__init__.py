"""Metrics comparing real and synthetic data (paper §5), as pure functions of arrays."""

from dg_tf.evaluation.autocorrelation import acf_mse, autocorrelation

__all__ = ["autocorrelation", "acf_mse"]
