"""One evaluation of synthetic data against real data: every metric family, as JSON.

:func:`evaluate` runs the paper's metrics (§5, §6.2) on a real training set, a
synthetic set and, when there is one, a held-out real set:

- ``fidelity``: synthetic vs real training data: ACF-MSE per feature (Table 3,
  Fig. 1), W1 of a per-sample statistic overall and per value of each discrete
  attribute (Table 2, Fig. 20), W1 of (max+min)/2 (Fig. 6), attribute
  marginals (Fig. 10/19), the length distribution (Fig. 9/18), per-sample
  cross-feature correlations (Fig. 8);
- ``floor``: the same numbers for the held-out real set vs the training set.
  Two real samples are never at distance 0, so a synthetic number is good
  when it is near the floor;
- ``utility``: train on synthetic, test on real (Fig. 12/13) for a discrete
  attribute predicted from the series; algorithm rankings (Table 5);
- ``scores``: TimeGAN's discriminative and predictive scores;
- ``privacy``: nearest-neighbour memorization (Figs. 21-23) and, given a
  scoring function such as a trained critic, membership inference (Fig. 15).

All arrays are compared in the dataset's own scale (the scale of the training
``.npz``). Nothing here writes files; :mod:`dg_tf.evaluation.report_files`
turns the result into figures and a page.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable

import numpy as np
from scipy import stats

from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import continuous_columns
from dg_tf.evaluation.autocorrelation import acf_mse_per_feature
from dg_tf.evaluation.distributions import (
    attribute_labels,
    attribute_marginals,
    compare_cross_feature_correlation,
    conditional_wasserstein1,
    length_distribution,
    per_sample_statistic,
    wasserstein1,
)
from dg_tf.evaluation.names import ColumnNames, default_label_attribute
from dg_tf.evaluation.privacy import (
    MemorizationReport,
    membership_inference_attack,
    memorization_check,
    nearest_neighbours,
)
from dg_tf.evaluation.scores import discriminative_score, predictive_score
from dg_tf.evaluation.settings import EvaluationConfig
from dg_tf.evaluation.utility import LabelledSeries, classification_ranking, tstr_classification
from dg_tf.seeding import derive_seed

__all__ = ["EvaluationConfig", "Evaluation", "evaluate", "split_in_two"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes:
        metrics: JSON-ready nested dict of every number (``metrics.json``).
        memorization: the nearest-neighbour report (for the figure), when a
            held-out set was given.
        neighbour_indices: int [M, k] nearest training series of each synthetic one.
        neighbour_distances: float [M, k] their distances.
    """

    metrics: dict[str, Any]
    memorization: MemorizationReport | None
    neighbour_indices: np.ndarray
    neighbour_distances: np.ndarray


def split_in_two(dataset: Dataset, seed: int) -> tuple[Dataset, Dataset]:
    """A seeded random split of ``dataset`` into two halves (first gets the extra sample)."""
    order = np.random.default_rng(seed).permutation(dataset.num_samples)
    half = (dataset.num_samples + 1) // 2
    return _subset(dataset, order[:half]), _subset(dataset, order[half:])


def _subset(dataset: Dataset, rows: np.ndarray) -> Dataset:
    return dataclasses.replace(
        dataset,
        features=dataset.features[rows],
        attributes=dataset.attributes[rows],
        gen_flags=dataset.gen_flags[rows],
        extras={},
    )


def _discrete_attributes(dataset: Dataset) -> list[int]:
    return [i for i, o in enumerate(dataset.attribute_outputs) if o.is_discrete]


def _label_key(names: ColumnNames, attribute: int, label: Any) -> str:
    return names.level(attribute, int(label))


def _fidelity(real: Dataset, other: Dataset, names: ColumnNames, config: EvaluationConfig) -> dict[str, Any]:
    """Distances between the real training set and ``other`` (synthetic, or holdout for the floor)."""
    columns = continuous_columns(real.feature_outputs, names.features)
    result: dict[str, Any] = {}
    if columns:
        indices = [c for c, _ in columns]
        per_feature = acf_mse_per_feature(
            real.features[:, :, indices], other.features[:, :, indices], config.max_lag,
            real_lengths=real.lengths, synthetic_lengths=other.lengths,
        )
        result["acf_mse"] = {
            "mean": _json(np.nanmean(per_feature)) if np.isfinite(per_feature).any() else None,
            "per_feature": {name: _json(v) for (_, name), v in zip(columns, per_feature)},
        }
    statistics: dict[str, Any] = {}
    for column, name in columns:
        real_values = per_sample_statistic(real.features, real.lengths, column, config.statistic)
        other_values = per_sample_statistic(other.features, other.lengths, column, config.statistic)
        by_attribute = {}
        for a in _discrete_attributes(real):
            per_label = conditional_wasserstein1(
                real_values, attribute_labels(real.attributes, real.attribute_outputs, a),
                other_values, attribute_labels(other.attributes, other.attribute_outputs, a),
            )
            by_attribute[names.attributes[a]] = {_label_key(names, a, k): _json(v) for k, v in per_label.items()}
        midpoints = [per_sample_statistic(d.features, d.lengths, column, "midpoint") for d in (real, other)]
        statistics[name] = {
            "statistic": config.statistic,
            "wasserstein1": wasserstein1(real_values, other_values),
            "wasserstein1_by_attribute": by_attribute,
            "midpoint_wasserstein1": wasserstein1(*midpoints),
        }
    result["statistics"] = statistics
    marginals = attribute_marginals(real.attributes, other.attributes, real.attribute_outputs)
    result["attributes"] = {names.attributes[m.output_index]: m.to_dict() for m in marginals}
    lengths = length_distribution(real.lengths, other.lengths, real.max_length)
    result["lengths"] = {"wasserstein1": lengths.wasserstein1, "total_variation": lengths.total_variation}
    pairs = [(a, b) for i, a in enumerate(columns) for b in columns[i + 1:]][: config.max_cross_pairs]
    result["cross_feature_correlation"] = {
        f"{na} ~ {nb}": _json(compare_cross_feature_correlation(
            real.features, real.lengths, other.features, other.lengths, ca, cb).wasserstein1)
        for (ca, na), (cb, nb) in pairs
    }
    return result


def _json(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _labelled(dataset: Dataset, attribute: int) -> LabelledSeries:
    return LabelledSeries(
        dataset.features, dataset.lengths, attribute_labels(dataset.attributes, dataset.attribute_outputs, attribute)
    )


def _utility(
    real: Dataset, synthetic: Dataset, holdout: Dataset | None, names: ColumnNames, config: EvaluationConfig
) -> dict[str, Any]:
    """Fig. 12 protocol: A = real training data, A' = held-out real, B / B' = synthetic halves."""
    discrete = _discrete_attributes(real)
    attribute = config.label_attribute
    if attribute is None:
        attribute = default_label_attribute(real.attribute_outputs, skip=names.bit_attributes)
    if attribute is None:
        return {"skipped": "no discrete attribute with 2 or more categories to predict"}
    if attribute not in discrete:
        raise ValueError(f"label_attribute={attribute} is not a discrete attribute output (discrete: {discrete})")
    if holdout is None:
        train, test = split_in_two(real, derive_seed(config.seed, "utility split"))
        protocol = ("A and A' are two random halves of the real data (no held-out set was given; "
                    "the generator saw A', so these numbers are optimistic)")
    else:
        train, test = real, holdout
        protocol = "A = real training data, A' = held-out real data"
    synthetic_train, synthetic_test = split_in_two(synthetic, derive_seed(config.seed, "synthetic split"))
    tstr = tstr_classification(
        _labelled(train, attribute), _labelled(synthetic, attribute), _labelled(test, attribute), seed=config.seed
    )
    ranking = classification_ranking(
        _labelled(train, attribute), _labelled(test, attribute),
        _labelled(synthetic_train, attribute), _labelled(synthetic_test, attribute), seed=config.seed,
    )
    return {
        "label_attribute": names.attributes[attribute],
        "protocol": protocol,
        "train_on_synthetic_test_on_real": tstr.to_dict(),
        "algorithm_ranking": ranking.to_dict(),
    }


def _scores(real: Dataset, synthetic: Dataset, config: EvaluationConfig) -> dict[str, Any]:
    """TimeGAN's scores on the continuous feature columns.

    The predictive score needs a step to predict, so it uses only series of
    length >= 2 (the number left out is reported).
    """
    columns = [c for c, _ in continuous_columns(real.feature_outputs)]
    if not columns:
        return {"skipped": "no continuous feature"}
    x_real, x_synthetic = real.features[:, :, columns], synthetic.features[:, :, columns]
    kwargs: dict[str, Any] = {"seed": config.seed}
    if config.score_iterations is not None:
        kwargs["iterations"] = config.score_iterations
    result: dict[str, Any] = {
        "discriminative": discriminative_score(x_real, real.lengths, x_synthetic, synthetic.lengths, **kwargs)
    }
    usable = [d.lengths >= 2 for d in (real, synthetic)]
    result["predictive_series_left_out"] = {"real": int((~usable[0]).sum()), "synthetic": int((~usable[1]).sum())}
    if all(u.any() for u in usable):
        result["predictive"] = predictive_score(
            x_real[usable[0]], real.lengths[usable[0]], x_synthetic[usable[1]], synthetic.lengths[usable[1]], **kwargs
        )
    else:
        result["predictive"] = None
    return result


#: p-value under which the held-out set is reported as not drawn like the training set.
HOLDOUT_MISMATCH_P = 0.01


def _holdout_check(real: Dataset, holdout: Dataset, names: ColumnNames) -> dict[str, Any]:
    """Is the held-out set drawn like the training set? Chi-square test per discrete attribute.

    The floor and the memorization threshold assume it is; a split by time,
    site or customer (e.g. FCC MBA's published test split) makes new real data
    look farther away than it would, and the synthetic data look too close.
    """
    p_values = {}
    for a in _discrete_attributes(real):
        counts = np.stack([np.bincount(attribute_labels(d.attributes, d.attribute_outputs, a),
                                       minlength=d.attribute_outputs[a].dim) for d in (real, holdout)])
        counts = counts[:, counts.sum(axis=0) > 0]
        p_values[names.attributes[a]] = (
            float(stats.chi2_contingency(counts).pvalue) if counts.shape[1] > 1 else 1.0
        )
    mismatched = sorted(name for name, p in p_values.items() if p < HOLDOUT_MISMATCH_P)
    return {"attribute_p_values": p_values, "mismatched_attributes": mismatched}


def _describe(dataset: Dataset) -> dict[str, Any]:
    lengths = dataset.lengths
    return {
        "num_samples": dataset.num_samples,
        "max_length": dataset.max_length,
        "feature_columns": int(dataset.features.shape[2]),
        "attribute_columns": int(dataset.attributes.shape[1]),
        "length_min": int(lengths.min()),
        "length_median": float(np.median(lengths)),
        "length_max": int(lengths.max()),
    }


def evaluate(
    real: Dataset,
    synthetic: Dataset,
    *,
    holdout: Dataset | None = None,
    score_fn: Callable[[Dataset], np.ndarray] | None = None,
    names: ColumnNames | None = None,
    config: EvaluationConfig = EvaluationConfig(),
) -> Evaluation:
    """Every metric of the paper for one synthetic set.

    Args:
        real: the real data the generator was trained on (A), [N, L, K].
        synthetic: generated data (B) with the same specs and L.
        holdout: real data the generator did not see (A'), same specs and L;
            enables the floor, memorization and membership inference.
        score_fn: maps a dataset to per-sample scores, higher = "more real";
            e.g. ``DoppelGANger.critic_scores`` (membership inference, §6.2).
        names: human names of the columns; default "feature i" / "attribute i".
        config: the settings.

    Returns:
        :class:`Evaluation` whose ``metrics`` is JSON-ready.

    Raises:
        ValueError: the three sets do not share specs and length.
    """
    for name, other in (("synthetic", synthetic), ("holdout", holdout)):
        if other is not None and (
            other.feature_outputs != real.feature_outputs
            or other.attribute_outputs != real.attribute_outputs
            or other.max_length != real.max_length
        ):
            raise ValueError(f"the {name} data's specs or length (L={other.max_length}) differ from the real data's")
    names = ColumnNames.default(real) if names is None else names
    metrics: dict[str, Any] = {
        "data": {
            "real": _describe(real),
            "synthetic": _describe(synthetic),
            "holdout": None if holdout is None else _describe(holdout),
        },
        "config": dataclasses.asdict(config),
    }
    logger.info("fidelity metrics")
    metrics["fidelity"] = _fidelity(real, synthetic, names, config)
    metrics["floor"] = None if holdout is None else _fidelity(real, holdout, names, config)
    metrics["holdout_check"] = None if holdout is None else _holdout_check(real, holdout, names)
    if config.utility:
        logger.info("utility: train on synthetic, test on real")
        metrics["utility"] = _utility(real, synthetic, holdout, names, config)
    if config.scores:
        logger.info("TimeGAN discriminative and predictive scores")
        metrics["scores"] = _scores(real, synthetic, config)
    privacy: dict[str, Any] = {}
    memorization = None
    if holdout is not None:
        memorization = memorization_check(synthetic, real, holdout, k=config.neighbours)
        privacy["memorization"] = memorization.to_dict()
        indices, distances = memorization.indices, memorization.distances
    else:
        indices, distances = nearest_neighbours(
            synthetic.features, real.features, synthetic.lengths, real.lengths, k=config.neighbours
        )
        privacy["memorization"] = {"skipped": "needs a held-out real set for the distance floor"}
        privacy["nearest_distance_quantiles"] = np.quantile(distances[:, 0], [0, 0.5, 1]).tolist()
    if score_fn is not None and holdout is not None:
        privacy["membership_inference"] = membership_inference_attack(score_fn, real, holdout).to_dict()
    elif score_fn is not None:
        privacy["membership_inference"] = {"skipped": "needs a held-out real set"}
    metrics["privacy"] = privacy
    return Evaluation(metrics, memorization, indices, distances)
