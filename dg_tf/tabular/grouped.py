"""A table regrouped per series, and the policy for series longer than ``max_length``.

Internal to :mod:`dg_tf.tabular`: both table styles (long and wide) are first
turned into a :class:`Grouped`: per series its id, length and attribute
values, and one row per (series, step) of feature values, series after
series. Missing values, long series and the encoding into DoppelGANger's
arrays (paper §3.1: N samples of attributes and up to L records of features)
then work the same for both styles.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from dg_tf.errors import DataFormatError
from dg_tf.tabular.inference import column_label, show
from dg_tf.tabular.options import LONG_SERIES_POLICIES

__all__ = ["Grouped", "LONG_SERIES_POLICIES"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Grouped:
    """Series of a table (N series, R = sum of lengths feature rows).

    Attributes:
        ids: [N] id of each series, in the id column's dtype (RangeIndex).
        lengths: int64 [N] number of steps of each series.
        attributes: [N] attribute columns, original dtypes (RangeIndex).
        attribute_nan_rows: int64 [N, A] first input row where the attribute
            is missing in that series, -1 where it is present.
        features: [R] feature columns, series after series, steps in order
            (RangeIndex).
        feature_rows: int64 [R] input row of each feature row.
        cell_columns: wide style: [R] the step column each value came from;
            ``None`` in long style (the value's column is the feature column).
        times: [R] time of each feature row, or ``None`` without a time column.
    """

    ids: pd.Series
    lengths: np.ndarray
    attributes: pd.DataFrame
    attribute_nan_rows: np.ndarray
    features: pd.DataFrame
    feature_rows: np.ndarray
    cell_columns: np.ndarray | None
    times: pd.Series | None

    @property
    def num_series(self) -> int:
        return int(len(self.lengths))

    @property
    def offsets(self) -> np.ndarray:
        """int64 [N] position of each series' first feature row."""
        return np.cumsum(self.lengths) - self.lengths

    @property
    def sample(self) -> np.ndarray:
        """int64 [R] series of each feature row."""
        return np.repeat(np.arange(self.num_series), self.lengths)

    @property
    def step(self) -> np.ndarray:
        """int64 [R] step (0-based) of each feature row within its series."""
        return np.arange(int(self.lengths.sum())) - np.repeat(self.offsets, self.lengths)

    def series_row(self, i: int) -> int | None:
        """Input row of series ``i``'s first value (None for an empty series)."""
        return int(self.feature_rows[self.offsets[i]]) if self.lengths[i] else None

    def with_features(self, features: pd.DataFrame) -> "Grouped":
        """The same series with replaced feature values [R]."""
        return dataclasses.replace(self, features=features)

    def _take(self, series: np.ndarray, lengths: np.ndarray, rows: np.ndarray) -> "Grouped":
        """Series ``series`` [N'] (repeats allowed) with ``lengths`` [N'], keeping feature rows ``rows``."""
        return Grouped(
            ids=self.ids.iloc[series].reset_index(drop=True),
            lengths=np.asarray(lengths, dtype=np.int64),
            attributes=self.attributes.iloc[series].reset_index(drop=True),
            attribute_nan_rows=self.attribute_nan_rows[series],
            features=self.features.iloc[rows].reset_index(drop=True),
            feature_rows=self.feature_rows[rows],
            cell_columns=None if self.cell_columns is None else self.cell_columns[rows],
            times=None if self.times is None else self.times.iloc[rows].reset_index(drop=True),
        )

    def select(self, keep: np.ndarray) -> "Grouped":
        """Only the series where ``keep`` [N] (bool) is true."""
        keep = np.asarray(keep, dtype=bool)
        return self._take(np.flatnonzero(keep), self.lengths[keep], np.flatnonzero(keep[self.sample]))

    def limit(self, max_length: int, policy: str, source: str, id_name: object) -> "Grouped":
        """Apply the long-series policy: no series longer than ``max_length`` steps.

        Args:
            max_length: the longest allowed series.
            policy: ``"error"``; ``"truncate"`` (keep each series' first
                ``max_length`` steps); ``"split"`` (cut each series into
                consecutive pieces of ``max_length`` steps, the last one
                shorter; each piece is a series with the same id and
                attributes).
            source: the table's file or ``"<DataFrame>"``, for errors.
            id_name: the id column's name, for errors.

        Raises:
            DataFormatError: ``policy="error"`` and a series is too long (the
                message names its id, its length and how many are too long).
        """
        too_long = self.lengths > max_length
        if not too_long.any():
            return self
        count = int(too_long.sum())
        if policy == "error":
            i = int(np.argmax(too_long))
            raise DataFormatError(
                source,
                column_label(id_name),
                self.series_row(i),
                f"series id {show(self.ids.iloc[i])} has {int(self.lengths[i])} steps, more than "
                f"max_length={max_length} ({count} series are longer); pass long_series='truncate' to keep "
                "the first max_length steps or long_series='split' to cut them into several series",
            )
        if policy == "truncate":
            logger.warning("truncated %d series to their first %d steps", count, max_length)
            rows = np.flatnonzero(self.step < max_length)
            return self._take(np.arange(self.num_series), np.minimum(self.lengths, max_length), rows)
        pieces = -(-self.lengths // max_length)  # ceil
        series = np.repeat(np.arange(self.num_series), pieces)
        first_step = (np.arange(len(series)) - np.repeat(np.cumsum(pieces) - pieces, pieces)) * max_length
        lengths = np.minimum(self.lengths[series] - first_step, max_length)
        logger.info("split %d long series into %d series of at most %d steps", count, len(series), max_length)
        return self._take(series, lengths, np.arange(len(self.feature_rows)))
