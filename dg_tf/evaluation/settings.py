"""The settings of an evaluation (``python -m dg_tf.evaluate``): one place for their defaults, no heavy imports."""

from __future__ import annotations

import dataclasses
from typing import Literal

__all__ = ["EvaluationConfig", "Statistic"]

#: The per-sample statistics compared by W1 (:func:`~dg_tf.evaluation.distributions.per_sample_statistic`).
Statistic = Literal["sum", "mean", "max", "min", "midpoint"]


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """Every setting of an evaluation (one place for its defaults).

    Attributes:
        statistic: per-sample statistic compared by W1 (Table 2 uses the sum:
            total bandwidth of a user).
        max_lag: ACF lags 1 .. max_lag - 1; default L - 1 (DG's).
        label_attribute: index of the discrete attribute the utility
            classifiers predict; default :func:`~dg_tf.evaluation.names.default_label_attribute`
            (the one with the fewest categories).
        utility: run train-on-synthetic / test-on-real and the rankings.
        scores: run TimeGAN's discriminative and predictive scores (small GRUs).
        score_iterations: training batches of each score's GRU; default TimeGAN's
            budget (2000 discriminator, 5000 predictor updates).
        neighbours: nearest training series kept per synthetic series (paper: 3).
        grid_rows: synthetic series shown in the nearest-neighbour figure.
        max_cross_pairs: feature pairs compared for cross-feature correlation.
        seed: seed of every random choice (splits, models).
    """

    statistic: Statistic = "sum"
    max_lag: int | None = None
    label_attribute: int | None = None
    utility: bool = True
    scores: bool = True
    score_iterations: int | None = None
    neighbours: int = 3
    grid_rows: int = 4
    max_cross_pairs: int = 6
    seed: int = 0
