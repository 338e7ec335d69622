"""Missing values in a table: report, drop or interpolate, never zero-fill.

DoppelGANger's arrays have no notion of a missing value (paper §3.1: every
active record holds a measurement), and a NaN that silently became 0 would
teach the model a value that was never measured. A policy decides instead:

* ``"error"`` (default): one :class:`~dg_tf.errors.DataFormatError` listing
  the first few missing cells (id, column, row) and how many there are;
* ``"drop"``: series with any missing attribute or feature value are dropped
  (the number is logged);
* ``"interpolate"``: inside each series, missing continuous feature values
  are interpolated linearly between the neighbouring valid steps (steps are
  evenly spaced, so this is linear in time); at the edges a value takes the
  nearest valid one; missing discrete feature values take the previous valid
  value (the next one at the start). A series with no valid value in a
  feature column is an error (use ``"drop"`` for such data), and missing
  attributes are an error: attributes are never interpolated.

A wide-style series with no value at all (every step column missing) is an
error unless the policy is ``"drop"``, which drops it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Hashable

import numpy as np
import pandas as pd

from dg_tf.errors import DataFormatError
from dg_tf.tabular.grouped import Grouped
from dg_tf.tabular.inference import column_label, numeric_values, show
from dg_tf.tabular.options import MISSING_POLICIES

__all__ = ["MISSING_POLICIES", "apply_missing_policy"]

logger = logging.getLogger(__name__)

_SHOWN = 5  # missing cells listed in an error


def apply_missing_policy(
    policy: str,
    grouped: Grouped,
    linear: Collection[Hashable],
    source: str,
    id_name: Hashable,
) -> Grouped:
    """Apply ``policy`` (see the module docstring) to the series of a table.

    Args:
        policy: ``"error"``, ``"drop"`` or ``"interpolate"``.
        grouped: the series, possibly with missing values.
        linear: feature columns interpolated linearly (the continuous ones);
            the others are filled with the previous valid value.
        source: the table's file or ``"<DataFrame>"``, for errors.
        id_name: the id column's name, for errors.

    Returns:
        The series without missing values (the input itself if it had none).

    Raises:
        DataFormatError: a missing value under ``"error"``; a missing
            attribute or an all-missing feature column of a series under
            ``"interpolate"``; an empty series unless ``"drop"``.
    """
    feature_na = grouped.features.isna().to_numpy()  # [R, F]
    attribute_na = grouped.attribute_nan_rows >= 0  # [N, A]
    empty = grouped.lengths == 0
    if not (feature_na.any() or attribute_na.any() or empty.any()):
        return grouped
    if policy == "drop":
        bad = attribute_na.any(axis=1) | empty
        rows_na = feature_na.any(axis=1).astype(np.float64)
        bad |= np.bincount(grouped.sample, weights=rows_na, minlength=grouped.num_series) > 0
        logger.warning("dropped %d of %d series with missing values", int(bad.sum()), grouped.num_series)
        return grouped.select(~bad)
    if empty.any():
        i = int(np.argmax(empty))
        raise DataFormatError(
            source,
            column_label(id_name),
            None,
            f"series id {show(grouped.ids.iloc[i])} has no values (every step column is missing); "
            "pass missing='drop' to drop empty series",
        )
    if policy == "error":
        raise _missing_error(
            grouped, feature_na, attribute_na, source,
            "pass missing='drop' to drop these series or missing='interpolate' to fill gaps in features",
        )
    if attribute_na.any():
        raise _missing_error(
            grouped, np.zeros_like(feature_na), attribute_na, source,
            "attributes are never interpolated; pass missing='drop' to drop these series",
        )
    return grouped.with_features(_interpolate(grouped, feature_na, linear, source))


def _missing_error(
    grouped: Grouped, feature_na: np.ndarray, attribute_na: np.ndarray, source: str, hint: str
) -> DataFormatError:
    """One error listing the first missing cells (by input row) and their count."""
    cells = []  # (row, series, column)
    feature_names = list(grouped.features.columns)
    sample = grouped.sample
    for r, f in zip(*np.nonzero(feature_na)):
        column = feature_names[f] if grouped.cell_columns is None else grouped.cell_columns[r]
        cells.append((int(grouped.feature_rows[r]), int(sample[r]), column))
    attribute_names = list(grouped.attributes.columns)
    for i, a in zip(*np.nonzero(attribute_na)):
        cells.append((int(grouped.attribute_nan_rows[i, a]), int(i), attribute_names[a]))
    cells.sort(key=lambda cell: cell[0])
    series = {cell[1] for cell in cells}
    shown = "; ".join(f"id {show(grouped.ids.iloc[i])} {column_label(c)} row {row}" for row, i, c in cells[:_SHOWN])
    more = f"; and {len(cells) - _SHOWN} more" if len(cells) > _SHOWN else ""
    row, _, column = cells[0]
    return DataFormatError(
        source,
        column_label(column),
        row,
        f"{len(cells)} missing values (NaN/None) in {len(series)} of {grouped.num_series} series: "
        f"{shown}{more}; {hint}",
    )


def _interpolate(grouped: Grouped, feature_na: np.ndarray, linear: Collection[Hashable], source: str) -> pd.DataFrame:
    """Feature values [R] with every gap filled (see the module docstring)."""
    sample = grouped.sample
    index = np.arange(len(sample))
    features = grouped.features.copy()
    for f, name in enumerate(features.columns):
        na = feature_na[:, f]
        if not na.any():
            continue
        # Nearest valid position before and after each row, within its series (-1: none).
        prev = np.maximum.accumulate(np.where(na, -1, index))
        prev = np.where((prev >= 0) & (sample[np.maximum(prev, 0)] == sample), prev, -1)
        after = np.minimum.accumulate(np.where(na, len(index), index)[::-1])[::-1]
        after = np.where((after < len(index)) & (sample[np.minimum(after, len(index) - 1)] == sample), after, -1)
        hopeless = na & (prev < 0) & (after < 0)
        if hopeless.any():
            r = int(np.argmax(hopeless))
            column = name if grouped.cell_columns is None else grouped.cell_columns[r]
            raise DataFormatError(
                source,
                column_label(column),
                int(grouped.feature_rows[r]),
                f"series id {show(grouped.ids.iloc[sample[r]])} has no valid value to interpolate from; "
                "pass missing='drop' to drop such series",
            )
        source_row = np.where(prev >= 0, prev, after)  # nearest-previous fill
        if name in linear:
            values = numeric_values(features[name])
            filled = values[source_row]
            both = na & (prev >= 0) & (after >= 0)
            weight = (index[both] - prev[both]) / (after[both] - prev[both])
            filled[both] = values[prev[both]] + weight * (values[after[both]] - values[prev[both]])
            features[name] = np.where(na, filled, values)
        else:
            features[name] = features[name].iloc[np.where(na, source_row, index)].reset_index(drop=True)
    return features
