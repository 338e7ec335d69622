"""Distribution fidelity metrics of DoppelGANger (paper §5.2, appendix C).

* Per-sample statistics of one feature over its active steps: the total
  bandwidth of an MBA user (sum, Table 2 / Fig. 20) and the (max+min)/2 of a
  WWT page-view series (midpoint, Fig. 6).
* Wasserstein-1 distances between real and synthetic samples of such a
  statistic, overall and per attribute value (Table 2: DSL vs cable users).
* Metadata marginals (Fig. 10 / Fig. 19): category probabilities with total
  variation and Jensen-Shannon distances; W1 and KS for continuous attributes.
* The length distribution (Fig. 9 / Fig. 18).
* Per-sample Pearson correlation between two features (Fig. 8) and empirical
  CDFs for plotting (Fig. 8, Fig. 20).

Table 2 normalisation. Footnote 9 only defines W1 ("the integrated absolute
error between 2 CDFs", which is what ``scipy.stats.wasserstein_distance``
computes); the paper applies no further normalisation. Its values (0.68 to
7.98) are in the units of the published MBA arrays, whose byte counter is
min-max scaled to [0, 1] by the dataset's ``data_feature_min/max``, so the
per-sample total of 56 steps lies in [0, 56] (the real totals span about 0.2
to 12). Raw W1 on those arrays is therefore the number to compare with
Table 2; ``normalize`` optionally divides W1 by the real values' range or
standard deviation to get a scale-free number for other datasets.

Everything here is a pure function of NumPy arrays; nothing loads a model.
Results with several parts are frozen dataclasses whose ``to_dict()`` is
JSON-ready (plain floats, lists; NaN becomes ``None``).

This module is longer than 400 lines: it is one metric family (distributions of
per-sample quantities), whose functions share the masking, JSON conversion and
comparison helpers; each function is short.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import ConstantInputWarning, ks_2samp, pearsonr, wasserstein_distance

from dg_tf.data.specs import Output
from dg_tf.evaluation.settings import Statistic
from dg_tf.transforms import flags_from_lengths, split_outputs

__all__ = [
    "Statistic",
    "Normalize",
    "per_sample_statistic",
    "wasserstein1",
    "conditional_wasserstein1",
    "attribute_labels",
    "DiscreteMarginal",
    "ContinuousMarginal",
    "attribute_marginals",
    "LengthDistribution",
    "length_distribution",
    "cross_feature_correlation",
    "DistributionComparison",
    "compare_distributions",
    "compare_cross_feature_correlation",
    "empirical_cdf",
]

logger = logging.getLogger(__name__)

Normalize = Literal["real_range", "real_std"]
_STATISTICS = ("sum", "mean", "max", "min", "midpoint")


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _json_float(value: float) -> float | None:
    """``value`` as a plain float, or ``None`` if it is NaN or infinite."""
    value = float(value)
    return value if np.isfinite(value) else None


def _json_floats(values: Sequence[float] | np.ndarray) -> list[float | None]:
    return [_json_float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def _values(values: np.ndarray, name: str, allow_nan: bool = False) -> np.ndarray:
    """``values`` as float64 [N], checked to be 1-D and (unless allowed) finite."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must have shape [N], got shape {x.shape}")
    bad = np.isinf(x) if allow_nan else ~np.isfinite(x)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i}]={float(x[i])} must be finite")
    return x


def _active_mask(features: np.ndarray, lengths: np.ndarray, name: str) -> np.ndarray:
    """bool [N, L] of active steps, after checking ``features`` [N, L, K] and ``lengths`` [N]."""
    if features.ndim != 3:
        raise ValueError(f"{name} must have shape [N, L, K], got shape {features.shape}")
    lengths = np.asarray(lengths)
    if lengths.shape != features.shape[:1]:
        raise ValueError(f"lengths must have shape [N] = ({features.shape[0]},), got shape {lengths.shape}")
    return flags_from_lengths(lengths, features.shape[1]) > 0.5


def _feature_column(features: np.ndarray, feature: int, name: str) -> np.ndarray:
    """float64 [N, L] column ``feature`` of ``features`` [N, L, K]."""
    num_features = features.shape[2]
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)) or not 0 <= feature < num_features:
        raise ValueError(f"{name}={feature!r} must be a column index in [0, {num_features - 1}]")
    return features[:, :, feature].astype(np.float64)


# --------------------------------------------------------------------------- #
# Per-sample statistics and W1 (Table 2, Fig. 6, Fig. 20)
# --------------------------------------------------------------------------- #


def per_sample_statistic(
    features: np.ndarray, lengths: np.ndarray, feature: int, statistic: Statistic = "sum"
) -> np.ndarray:
    """One number per sample from one feature column, over active steps only.

    ``"sum"`` is the total bandwidth of Table 2 / Fig. 20 (summed over the two
    weeks of an MBA sample); ``"midpoint"`` is (max+min)/2 of Fig. 6. Padding
    after each sample's length is ignored, whatever it holds.

    Args:
        features: float [N, L, K].
        lengths: int [N] active steps per sample, each in [0, L].
        feature: column index in [0, K).
        statistic: ``"sum"``, ``"mean"``, ``"max"``, ``"min"`` or ``"midpoint"``.

    Returns:
        float64 [N] in the feature's units (summed over steps for ``"sum"``).
        A sample of length 0 gives 0 for ``"sum"`` and NaN otherwise.

    Raises:
        ValueError: bad shapes, column, lengths or statistic name.
    """
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic={statistic!r} must be one of {_STATISTICS}")
    features = np.asarray(features)
    active = _active_mask(features, lengths, "features")
    x = _feature_column(features, feature, "feature")
    if statistic in ("sum", "mean"):
        total = np.where(active, x, 0.0).sum(axis=1)
        if statistic == "sum":
            return total
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / active.sum(axis=1)
    empty = ~active.any(axis=1)
    high = np.where(empty, np.nan, np.where(active, x, -np.inf).max(axis=1))
    low = np.where(empty, np.nan, np.where(active, x, np.inf).min(axis=1))
    return {"max": high, "min": low, "midpoint": (high + low) / 2}[statistic]


def _normalizing_scale(real_values: np.ndarray, normalize: Normalize | None) -> float:
    """Divisor of W1: 1, or the range / population std of ``real_values``."""
    scales = {"real_range": np.ptp, "real_std": np.std}
    if normalize is None:
        return 1.0
    if normalize not in scales:
        raise ValueError(f"normalize={normalize!r} must be None, 'real_range' or 'real_std'")
    if real_values.size == 0:
        raise ValueError(f"normalize={normalize!r} needs at least one real value")
    scale = float(scales[normalize](real_values))
    if scale == 0:
        raise ValueError(f"normalize={normalize!r} needs real values that are not all equal")
    return scale


def wasserstein1(
    real_values: np.ndarray, synthetic_values: np.ndarray, normalize: Normalize | None = None
) -> float:
    """Wasserstein-1 distance between two empirical distributions (Table 2, footnote 9).

    W1 is the integrated absolute difference of the two empirical CDFs
    (``scipy.stats.wasserstein_distance``). It is shift invariant and scales
    with the values, so a constant shift c gives W1 = |c|.

    Args:
        real_values: float [N] finite real samples of a statistic.
        synthetic_values: float [M] finite synthetic samples.
        normalize: ``None`` for raw W1 in the values' units (what Table 2
            reports); ``"real_range"`` / ``"real_std"`` divide W1 by the range /
            standard deviation of ``real_values`` (the same as computing W1 after
            rescaling both samples by it), giving a unitless number.

    Returns:
        W1 >= 0.

    Raises:
        ValueError: an input is not 1-D, is empty or holds NaN/inf, or
            ``normalize`` is unknown or the real values are constant.
    """
    real = _values(real_values, "real_values")
    synthetic = _values(synthetic_values, "synthetic_values")
    for name, x in (("real_values", real), ("synthetic_values", synthetic)):
        if x.size == 0:
            raise ValueError(f"{name} is empty; W1 needs at least one value")
    scale = _normalizing_scale(real, normalize)
    return float(wasserstein_distance(real, synthetic)) / scale


def _label_key(label: Any) -> Hashable:
    """A NumPy scalar label as the plain Python value (JSON-ready dict key)."""
    return label.item() if isinstance(label, np.generic) else label


def conditional_wasserstein1(
    real_values: np.ndarray,
    real_labels: np.ndarray,
    synthetic_values: np.ndarray,
    synthetic_labels: np.ndarray,
    normalize: Normalize | None = None,
) -> dict[Hashable, float]:
    """W1 of a statistic separately for each attribute value (Table 2).

    Table 2 is ``conditional_wasserstein1`` of the per-sample total bandwidth
    (:func:`per_sample_statistic` with ``"sum"``) with the connection
    technology as labels, reported for the DSL and cable labels.

    Args:
        real_values: float [N] finite real statistic values.
        real_labels: [N] label of each real sample (e.g. :func:`attribute_labels`).
        synthetic_values: float [M] finite synthetic statistic values.
        synthetic_labels: [M] label of each synthetic sample.
        normalize: as in :func:`wasserstein1`; the scale is taken from all real
            values (every label), so the per-label numbers share one unit.

    Returns:
        ``{label: W1}`` for every label in either set, sorted by label, keys as
        plain Python values. A label missing from one side gets NaN and a logged
        warning (a generator that never produces a category is a fidelity
        failure to report, not an error).

    Raises:
        ValueError: shapes differ, values are not finite, or as :func:`wasserstein1`.
    """
    real = _values(real_values, "real_values")
    synthetic = _values(synthetic_values, "synthetic_values")
    real_labels = np.asarray(real_labels)
    synthetic_labels = np.asarray(synthetic_labels)
    for name, values, labels in (("real", real, real_labels), ("synthetic", synthetic, synthetic_labels)):
        if labels.shape != values.shape:
            raise ValueError(
                f"{name}_labels must have shape {values.shape} like {name}_values, got shape {labels.shape}"
            )
    scale = _normalizing_scale(real, normalize)
    result: dict[Hashable, float] = {}
    missing: dict[str, list[Hashable]] = {"real": [], "synthetic": []}
    for label in np.union1d(real_labels, synthetic_labels):
        in_real = real[real_labels == label]
        in_synthetic = synthetic[synthetic_labels == label]
        key = _label_key(label)
        if in_real.size == 0 or in_synthetic.size == 0:
            missing["synthetic" if in_synthetic.size == 0 else "real"].append(key)
            result[key] = float("nan")
        else:
            result[key] = wasserstein1(in_real, in_synthetic) / scale
    for side, keys in missing.items():
        if keys:
            logger.warning("labels %s have no %s samples; their W1 is NaN", keys, side)
    return result


# --------------------------------------------------------------------------- #
# Metadata marginals (Fig. 10, Fig. 19)
# --------------------------------------------------------------------------- #


def _check_attributes(attributes: np.ndarray, attribute_outputs: Sequence[Output], name: str) -> list[np.ndarray]:
    """Blocks of ``attributes`` [N, A], one per output, after checking the shape."""
    attributes = np.asarray(attributes)
    if attributes.ndim != 2:
        raise ValueError(f"{name} must have shape [N, A], got shape {attributes.shape}")
    try:
        return split_outputs(attributes, attribute_outputs)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def attribute_labels(attributes: np.ndarray, attribute_outputs: Sequence[Output], index: int) -> np.ndarray:
    """Category of one discrete attribute in every sample: argmax of its one-hot block.

    Soft (generated) blocks are argmaxed as DG does downstream; ties go to the
    first category.

    Args:
        attributes: float [N, A], A = total width of ``attribute_outputs``.
        attribute_outputs: the attribute specs, in column order.
        index: which output, in [0, len(attribute_outputs)); must be discrete.

    Returns:
        int64 [N] category indices in [0, attribute_outputs[index].dim).

    Raises:
        ValueError: bad shape, index out of range, or the output is continuous.
    """
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(attribute_outputs):
        raise ValueError(f"index={index!r} must be an attribute output index in [0, {len(attribute_outputs) - 1}]")
    if not attribute_outputs[index].is_discrete:
        raise ValueError(f"attribute output {index} ({attribute_outputs[index]!r}) is not discrete")
    blocks = _check_attributes(attributes, attribute_outputs, "attributes")
    return blocks[index].argmax(axis=1).astype(np.int64)


@dataclasses.dataclass(frozen=True)
class DiscreteMarginal:
    """Real vs synthetic distribution of one discrete attribute (Fig. 10, Fig. 19).

    Attributes:
        output_index: position of the output in ``attribute_outputs``.
        real_probabilities: per-category frequency in the real data (sums to 1).
        synthetic_probabilities: per-category frequency in the synthetic data.
        total_variation: ½ Σ|p - q|, in [0, 1].
        jensen_shannon: Jensen-Shannon *distance* (square root of the divergence,
            base 2), in [0, 1].
    """

    output_index: int
    real_probabilities: tuple[float, ...]
    synthetic_probabilities: tuple[float, ...]
    total_variation: float
    jensen_shannon: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_index": self.output_index,
            "type": "discrete",
            "real_probabilities": _json_floats(self.real_probabilities),
            "synthetic_probabilities": _json_floats(self.synthetic_probabilities),
            "total_variation": _json_float(self.total_variation),
            "jensen_shannon": _json_float(self.jensen_shannon),
        }


@dataclasses.dataclass(frozen=True)
class ContinuousMarginal:
    """Real vs synthetic distribution of one continuous attribute, per column.

    Attributes:
        output_index: position of the output in ``attribute_outputs``.
        wasserstein1: W1 of each column, in the attribute's (normalised) units.
        ks_statistic: two-sample Kolmogorov-Smirnov statistic of each column, in [0, 1].
    """

    output_index: int
    wasserstein1: tuple[float, ...]
    ks_statistic: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_index": self.output_index,
            "type": "continuous",
            "wasserstein1": _json_floats(self.wasserstein1),
            "ks_statistic": _json_floats(self.ks_statistic),
        }


def _category_probabilities(block: np.ndarray) -> np.ndarray:
    """float64 [C] frequency of each argmax category of a [N, C] one-hot block."""
    return np.bincount(block.argmax(axis=1), minlength=block.shape[1]) / block.shape[0]


def attribute_marginals(
    real_attributes: np.ndarray, synthetic_attributes: np.ndarray, attribute_outputs: Sequence[Output]
) -> list[DiscreteMarginal | ContinuousMarginal]:
    """Compare every attribute's marginal distribution (Fig. 10, Fig. 19).

    Discrete outputs are argmaxed (see :func:`attribute_labels`) and compared by
    total variation and Jensen-Shannon distance
    (``scipy.spatial.distance.jensenshannon``, base 2); continuous outputs by W1
    (:func:`wasserstein1`) and the KS statistic (``scipy.stats.ks_2samp``).

    Args:
        real_attributes: float [N, A].
        synthetic_attributes: float [M, A].
        attribute_outputs: the attribute specs spanning A, in column order.

    Returns:
        One result per output, in order.

    Raises:
        ValueError: bad shapes, an empty side, or non-finite continuous values.
    """
    real_blocks = _check_attributes(real_attributes, attribute_outputs, "real_attributes")
    synthetic_blocks = _check_attributes(synthetic_attributes, attribute_outputs, "synthetic_attributes")
    for name, blocks in (("real_attributes", real_blocks), ("synthetic_attributes", synthetic_blocks)):
        if blocks and blocks[0].shape[0] == 0:
            raise ValueError(f"{name} has no samples")
    results: list[DiscreteMarginal | ContinuousMarginal] = []
    for i, (output, real, synthetic) in enumerate(zip(attribute_outputs, real_blocks, synthetic_blocks)):
        if output.is_discrete:
            p = _category_probabilities(real)
            q = _category_probabilities(synthetic)
            results.append(
                DiscreteMarginal(
                    output_index=i,
                    real_probabilities=tuple(float(v) for v in p),
                    synthetic_probabilities=tuple(float(v) for v in q),
                    total_variation=float(0.5 * np.abs(p - q).sum()),
                    jensen_shannon=float(jensenshannon(p, q, base=2)),
                )
            )
        else:
            results.append(
                ContinuousMarginal(
                    output_index=i,
                    wasserstein1=tuple(wasserstein1(real[:, c], synthetic[:, c]) for c in range(output.dim)),
                    ks_statistic=tuple(
                        float(ks_2samp(real[:, c], synthetic[:, c]).statistic) for c in range(output.dim)
                    ),
                )
            )
    return results


# --------------------------------------------------------------------------- #
# Length distribution (Fig. 9, Fig. 18)
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class LengthDistribution:
    """Real vs synthetic series lengths (Fig. 9, Fig. 18).

    Attributes:
        real_probabilities: entry l-1 is the fraction of real series of length l,
            for l = 1 .. max_length.
        synthetic_probabilities: the same for the synthetic series.
        wasserstein1: W1 between the two length samples, in steps.
        total_variation: ½ Σ|p - q| between the histograms, in [0, 1].
    """

    real_probabilities: tuple[float, ...]
    synthetic_probabilities: tuple[float, ...]
    wasserstein1: float
    total_variation: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "lengths": list(range(1, len(self.real_probabilities) + 1)),
            "real_probabilities": _json_floats(self.real_probabilities),
            "synthetic_probabilities": _json_floats(self.synthetic_probabilities),
            "wasserstein1": _json_float(self.wasserstein1),
            "total_variation": _json_float(self.total_variation),
        }


def _length_histogram(lengths: np.ndarray, max_length: int, name: str) -> np.ndarray:
    """float64 [max_length] frequency of each length 1 .. max_length."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(f"{name} must be a non-empty [N] array, got shape {lengths.shape}")
    bad = (lengths != np.round(lengths)) | (lengths < 1) | (lengths > max_length)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i}]={lengths[i]!r} must be an integer in [1, max_length={max_length}]")
    counts = np.bincount(lengths.astype(np.int64) - 1, minlength=max_length)
    return counts / lengths.size


def length_distribution(
    real_lengths: np.ndarray, synthetic_lengths: np.ndarray, max_length: int
) -> LengthDistribution:
    """Compare the distributions of series lengths (Fig. 9, Fig. 18).

    Args:
        real_lengths: int [N] real lengths, each in [1, max_length].
        synthetic_lengths: int [M] synthetic lengths, each in [1, max_length].
        max_length: L, the padded length.

    Returns:
        Both normalised histograms over 1 .. max_length, W1 (steps) and TV.

    Raises:
        ValueError: ``max_length`` < 1, or a length is not an integer in [1, max_length].
    """
    if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1:
        raise ValueError(f"max_length={max_length!r} must be a positive integer")
    p = _length_histogram(real_lengths, max_length, "real_lengths")
    q = _length_histogram(synthetic_lengths, max_length, "synthetic_lengths")
    return LengthDistribution(
        real_probabilities=tuple(float(v) for v in p),
        synthetic_probabilities=tuple(float(v) for v in q),
        wasserstein1=wasserstein1(real_lengths, synthetic_lengths),
        total_variation=float(0.5 * np.abs(p - q).sum()),
    )


# --------------------------------------------------------------------------- #
# Cross-feature correlation and CDFs (Fig. 8, Fig. 20)
# --------------------------------------------------------------------------- #


def cross_feature_correlation(
    features: np.ndarray, lengths: np.ndarray, feature_a: int, feature_b: int
) -> np.ndarray:
    """Pearson correlation between two features within each sample (Fig. 8).

    Fig. 8 plots the CDF over samples of corr(CPU rate, memory) of GCUT. Only
    the first ``lengths[i]`` steps of sample i are used (``scipy.stats.pearsonr``
    on each group of equal length).

    Args:
        features: float [N, L, K].
        lengths: int [N] active steps per sample.
        feature_a: column index in [0, K).
        feature_b: column index in [0, K).

    Returns:
        float64 [N] correlations in [-1, 1]; NaN for a sample where either
        series is constant over its active steps or that has fewer than 2
        active steps (the correlation is undefined there; unlike DG's
        autocorrelation no 1e-8 substitute is used).

    Raises:
        ValueError: bad shapes, columns or lengths.
    """
    features = np.asarray(features)
    active = _active_mask(features, lengths, "features")
    a = _feature_column(features, feature_a, "feature_a")
    b = _feature_column(features, feature_b, "feature_b")
    n = active.sum(axis=1)
    result = np.full(features.shape[0], np.nan)
    for length in np.unique(n[n >= 2]):
        group = n == length
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConstantInputWarning)
            with np.errstate(invalid="ignore", divide="ignore"):
                result[group] = pearsonr(a[group, :length], b[group, :length], axis=1).statistic
    return result


def empirical_cdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points of the empirical CDF, for step plots (Fig. 8, Fig. 20).

    Args:
        values: float [N] finite values.

    Returns:
        ``(x, y)``: float64 [N] sorted values and float64 [N] with
        ``y[i] = (i + 1) / N``, the fraction of values <= x[i].

    Raises:
        ValueError: ``values`` is not 1-D or holds NaN/inf.
    """
    x = np.sort(_values(values, "values"))
    return x, np.arange(1, x.size + 1) / x.size


@dataclasses.dataclass(frozen=True)
class DistributionComparison:
    """Real vs synthetic samples of a per-sample statistic (Fig. 8, Fig. 20).

    Attributes:
        wasserstein1: W1 between the finite values (NaN if a side has none).
        real_cdf: ``(x, y)`` of :func:`empirical_cdf` of the finite real values.
        synthetic_cdf: the same for the synthetic values.
        real_nan_count: real values left out as NaN (e.g. constant series).
        synthetic_nan_count: synthetic values left out as NaN.
    """

    wasserstein1: float
    real_cdf: tuple[tuple[float, ...], tuple[float, ...]]
    synthetic_cdf: tuple[tuple[float, ...], tuple[float, ...]]
    real_nan_count: int
    synthetic_nan_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "wasserstein1": _json_float(self.wasserstein1),
            "real_cdf": {"x": _json_floats(self.real_cdf[0]), "y": _json_floats(self.real_cdf[1])},
            "synthetic_cdf": {"x": _json_floats(self.synthetic_cdf[0]), "y": _json_floats(self.synthetic_cdf[1])},
            "real_nan_count": self.real_nan_count,
            "synthetic_nan_count": self.synthetic_nan_count,
        }


def compare_distributions(real_values: np.ndarray, synthetic_values: np.ndarray) -> DistributionComparison:
    """W1 and CDF points of two samples of a statistic, ignoring NaNs.

    Args:
        real_values: float [N], NaN allowed (left out and counted).
        synthetic_values: float [M], NaN allowed.

    Returns:
        The comparison; its W1 is NaN, with a logged warning, if either side
        has no finite value (e.g. a mode-collapsed generator of constant series).

    Raises:
        ValueError: an input is not 1-D or holds inf.
    """
    real = _values(real_values, "real_values", allow_nan=True)
    synthetic = _values(synthetic_values, "synthetic_values", allow_nan=True)
    real_finite = real[~np.isnan(real)]
    synthetic_finite = synthetic[~np.isnan(synthetic)]
    if real_finite.size and synthetic_finite.size:
        distance = wasserstein1(real_finite, synthetic_finite)
    else:
        logger.warning(
            "no finite values to compare (real: %d of %d, synthetic: %d of %d); W1 is NaN",
            real_finite.size, real.size, synthetic_finite.size, synthetic.size,
        )
        distance = float("nan")
    real_x, real_y = empirical_cdf(real_finite)
    synthetic_x, synthetic_y = empirical_cdf(synthetic_finite)
    return DistributionComparison(
        wasserstein1=distance,
        real_cdf=(tuple(real_x.tolist()), tuple(real_y.tolist())),
        synthetic_cdf=(tuple(synthetic_x.tolist()), tuple(synthetic_y.tolist())),
        real_nan_count=int(real.size - real_finite.size),
        synthetic_nan_count=int(synthetic.size - synthetic_finite.size),
    )


def compare_cross_feature_correlation(
    real_features: np.ndarray,
    real_lengths: np.ndarray,
    synthetic_features: np.ndarray,
    synthetic_lengths: np.ndarray,
    feature_a: int,
    feature_b: int,
) -> DistributionComparison:
    """Fig. 8: distributions of the per-sample correlation of two features.

    Args:
        real_features: float [N, L, K].
        real_lengths: int [N].
        synthetic_features: float [M, L', K].
        synthetic_lengths: int [M].
        feature_a: column index in [0, K).
        feature_b: column index in [0, K).

    Returns:
        :func:`compare_distributions` of the two :func:`cross_feature_correlation`
        arrays (undefined correlations left out and counted).

    Raises:
        ValueError: as :func:`cross_feature_correlation`.
    """
    return compare_distributions(
        cross_feature_correlation(real_features, real_lengths, feature_a, feature_b),
        cross_feature_correlation(synthetic_features, synthetic_lengths, feature_a, feature_b),
    )
