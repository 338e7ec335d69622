"""The time column of a long table: checks, spacing and regeneration.

DoppelGANger generates a series as a sequence of records at regular steps
(paper §3.1: each record is one measurement interval; appendix A: every
dataset has a fixed interval, e.g. 6 hours for MBA, one day for web traffic).
The time column of a long table is therefore not a value to model: it is
fitted to one spacing for the whole table and regenerated as
``start + k * step``:

* integer, float or timedelta times: one fixed step, the most common
  difference between consecutive times of a series (floats allow a relative
  error of 1e-6, and come back as ``start + k * step`` in float64);
* datetimes: one fixed step if every difference is the same; otherwise a
  calendar frequency (``MS`` month starts, ``D`` days across a daylight
  saving change, ...) found by :func:`pandas.infer_freq` on the longest
  series, which every series must then follow exactly.

Each series keeps its own start (``Dataset.extras["series_start"]``, in the
numeric form of :func:`~dg_tf.tabular.dtypes.to_array`: the value itself for
numbers, int64 ticks of the dtype's unit for datetimes (from the UTC epoch
for time-zone-aware ones) and timedeltas).

Synthetic series need starts of their own. When the training series start at
different times, the start is learned as one more attribute
(:func:`fit_start`): its position on the table's step grid, counted in steps
(or calendar periods) from the earliest start, one-hot when there are at most
:data:`START_ONEHOT_POSITIONS` distinct positions and a continuous value
otherwise. The attribute generator draws it jointly with the real attributes,
so starts can depend on them, and :meth:`TimeSpec.grid_starts` puts each
generated position back on the grid (a real start between grid points comes
back on the nearest one). When every series starts at the same time there
is nothing to learn: synthetic series start there (:attr:`TimeSpec.start`,
the most common start, the smallest one on ties).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from dg_tf.errors import DataFormatError
from dg_tf.tabular.columns import ColumnSpec
from dg_tf.tabular.dtypes import (
    dtype_from_json,
    dtype_to_json,
    from_array,
    is_time_dtype,
    name_from_json,
    name_to_json,
    tick,
    to_array,
    value_to_json,
    values_from_json,
)
from dg_tf.tabular.inference import CONTINUOUS, DATETIME, DISCRETE, FLOAT, INTEGER, TIMEDELTA, column_label, show

__all__ = ["TimeSpec", "TIME_CLASSES", "START_ONEHOT_POSITIONS", "fit_start"]

#: Value classes a time column may have.
TIME_CLASSES = (INTEGER, FLOAT, DATETIME, TIMEDELTA)

_FLOAT_RTOL = 1e-6

#: A learned start with at most this many distinct grid positions is a one-hot
#: attribute (exactly the positions seen); more: a continuous one rounded to the grid.
START_ONEHOT_POSITIONS = 100


def _mode(values: np.ndarray) -> Any:
    """Most common value (the smallest on ties)."""
    unique, counts = np.unique(values, return_counts=True)
    return unique[np.argmax(counts)]


@dataclasses.dataclass(frozen=True)
class TimeSpec:
    """The fitted time axis of a long table.

    Attributes:
        name: the time column's name.
        dtype: its pandas dtype.
        step: fixed spacing in numeric form (ticks for datetimes and
            timedeltas); ``None`` with a calendar ``freq`` or when every
            series has a single step.
        freq: calendar frequency alias (datetimes only), or ``None``.
        start: default start of a synthetic series (when starts are not
            learned), in numeric form.
        origin: the earliest start of the table, numeric form: position 0 of
            the step grid of :meth:`grid_positions` (``None`` in schemas saved
            before starts were learned).
    """

    name: Hashable
    dtype: Any
    step: int | float | None
    freq: str | None
    start: int | float
    origin: int | float | None = None

    @classmethod
    def fit(
        cls,
        name: Hashable,
        times: pd.Series,
        lengths: np.ndarray,
        ids: pd.Series,
        rows: np.ndarray,
        source: str,
    ) -> "TimeSpec":
        """Fit the spacing of the time column and check every series against it.

        Args:
            name: the time column's name.
            times: [R] times sorted by (series, time), none missing (RangeIndex).
            lengths: [N] number of steps of each series (R = sum).
            ids: [N] id of each series, for errors.
            rows: [R] row of each time in the input table, for errors.
            source: the table's file or ``"<DataFrame>"``, for errors.

        Raises:
            DataFormatError: two rows of a series share a time (duplicate
                (id, time) pair), or the spacing is irregular; the message
                names the id, and the index is the offending row.
        """
        t = to_array(times)
        sample = np.repeat(np.arange(len(lengths)), lengths)
        offsets = np.cumsum(lengths) - lengths
        inner = np.flatnonzero(sample[1:] == sample[:-1])  # pairs (i, i+1) within a series
        diff = t[inner + 1] - t[inner]
        start, origin = _mode(t[offsets]).item(), t[offsets].min().item()

        def error(i: int, rule: str) -> DataFormatError:
            where = f"series id {show(ids.iloc[sample[i]])}"
            return DataFormatError(source, column_label(name), int(rows[i]), f"{where}: {rule}")

        duplicate = np.flatnonzero(diff == 0)
        if duplicate.size:
            i = inner[duplicate[0]]
            raise error(i + 1, f"duplicate (id, time) pair: time {times.iloc[i]} is also at row {int(rows[i])}")
        if diff.size == 0:
            return cls(name, times.dtype, None, None, start, origin)
        if np.issubdtype(t.dtype, np.floating):
            step = float(np.median(diff))
            off = np.abs(diff - step) > _FLOAT_RTOL * abs(step)
        else:
            step = int(_mode(diff))
            off = diff != step
        if not off.any():
            return cls(name, times.dtype, step, None, start, origin)
        if pd.api.types.is_datetime64_any_dtype(times.dtype):
            freq = _calendar_freq(times, lengths)
            if freq is not None:
                spec = cls(name, times.dtype, None, freq, start, origin)
                expected = spec.values(t[offsets], lengths)
                bad = np.flatnonzero(to_array(expected) != t)
                if not bad.size:
                    return spec
                i = int(bad[0])
                raise error(
                    i,
                    f"irregular time spacing: time {times.iloc[i]}, expected {expected.iloc[i]} (the table's "
                    f"frequency is {freq!r}; rows are sorted by time within each id)",
                )
        i = inner[int(np.argmax(off))]
        raise error(
            i + 1,
            f"irregular time spacing: {times.iloc[i + 1]} follows {times.iloc[i]}, but the table's step is "
            f"{_show_step(step, times.dtype)} (rows are sorted by time within each id; every series must have "
            "the same regular spacing)",
        )

    def values(self, starts: np.ndarray, lengths: np.ndarray) -> pd.Series:
        """Times of series starting at ``starts`` with ``lengths`` steps, concatenated.

        Args:
            starts: [N] start of each series, numeric form.
            lengths: [N] number of steps of each series.

        Returns:
            [sum(lengths)] times in the column's dtype, series after series.

        Raises:
            DataFormatError: a series has more than one step but the table
                had no spacing (every input series had a single step).
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        starts = np.asarray(starts)
        if self.freq is not None:
            first = from_array(starts, self.dtype)
            pieces = [pd.Series(pd.date_range(s, periods=n, freq=self.freq)) for s, n in zip(first, lengths)]
            if not pieces:
                return pd.Series([], dtype=self.dtype)
            return pd.concat(pieces, ignore_index=True).astype(self.dtype)
        if self.step is None and (lengths > 1).any():
            raise DataFormatError(
                "<schema>", column_label(self.name), None,
                "every series of the table had a single step, so the time step is unknown",
            )
        k = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return from_array(np.repeat(starts, lengths) + k * (self.step or 0), self.dtype)

    @property
    def has_grid(self) -> bool:
        """Whether the table has a step grid (a fixed step or a calendar frequency) to place starts on."""
        return self.origin is not None and (self.step is not None or self.freq is not None)

    def grid_positions(self, starts: np.ndarray) -> np.ndarray:
        """int64 [N] position of each start on the step grid: steps (or calendar periods) after :attr:`origin`.

        Args:
            starts: [N] starts in numeric form, none before :attr:`origin`;
                a start between grid points gets the nearest position.
        """
        starts = np.asarray(starts)
        if self.freq is not None:
            grid = self._calendar_grid(int(starts.max(initial=self.origin)))
            return np.clip(grid.searchsorted(starts), 0, len(grid) - 1).astype(np.int64)
        return np.rint((starts - self.origin) / self.step).astype(np.int64)

    def grid_starts(self, positions: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`grid_positions`: [N] starts in numeric form (the column's numeric dtype)."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.freq is not None:
            first = from_array(np.array([self.origin]), self.dtype).iloc[0]
            grid = pd.date_range(first, periods=int(positions.max(initial=0)) + 1, freq=self.freq)
            return to_array(pd.Series(grid[positions]).astype(self.dtype))
        return np.asarray(self.origin + positions * self.step)

    def _calendar_grid(self, last: int) -> np.ndarray:
        """Numeric-form grid points of the calendar frequency from :attr:`origin` through ``last``."""
        first, end = from_array(np.array([self.origin, last]), self.dtype)
        return to_array(pd.Series(pd.date_range(first, end, freq=self.freq)).astype(self.dtype))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times and steps as readable text); inverse of :meth:`from_dict`."""
        step = self.step
        if step is not None and is_time_dtype(self.dtype):
            step = str(step * tick(self.dtype))
        data = {
            "name": name_to_json(self.name),
            "dtype": dtype_to_json(self.dtype),
            "step": step,
            "freq": self.freq,
            "start": self._time_to_json(self.start),
        }
        if self.origin is not None:
            data["origin"] = self._time_to_json(self.origin)
        return data

    def _time_to_json(self, value: int | float) -> Any:
        return value_to_json(from_array(np.array([value]), self.dtype).iloc[0])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TimeSpec":
        dtype = dtype_from_json(data["dtype"])

        def time(text: Any) -> int | float:
            return to_array(pd.Series(values_from_json([text], dtype))).item()

        step = data["step"]
        if step is not None and is_time_dtype(dtype):
            step = int(pd.Timedelta(step) // tick(dtype))
        origin = time(data["origin"]) if data.get("origin") is not None else None
        return cls(name_from_json(data["name"]), dtype, step, data["freq"], time(data["start"]), origin)


def fit_start(time: TimeSpec, positions: np.ndarray) -> ColumnSpec | None:
    """The start attribute of a table's series (module docstring), or ``None`` when there is nothing to learn.

    Args:
        time: the fitted time axis.
        positions: int64 [N] each series' start on the grid (:meth:`TimeSpec.grid_positions`;
            the table must have one, :attr:`TimeSpec.has_grid`).

    Returns:
        A spec of the grid positions (int64), named after the time column:
        discrete with at most :data:`START_ONEHOT_POSITIONS` distinct
        positions, continuous otherwise; ``None`` when every series starts at
        the same position or the table has no step grid.
    """
    if not time.has_grid:
        return None
    positions = pd.Series(positions)
    distinct = positions.nunique()
    if distinct < 2:
        return None
    return ColumnSpec.fit(time.name, DISCRETE if distinct <= START_ONEHOT_POSITIONS else CONTINUOUS, positions)


def _calendar_freq(times: pd.Series, lengths: np.ndarray) -> str | None:
    """Frequency alias inferred from the longest series (needs >= 3 steps), or None."""
    longest = int(np.argmax(lengths))
    if lengths[longest] < 3:
        return None
    first = int(np.sum(lengths[:longest]))
    index = pd.DatetimeIndex(times.iloc[first : first + lengths[longest]])
    with contextlib.ExitStack() as options:
        if _OFFSET_OPTION in _option_names():  # pandas >= 3.1: ask for the offset, not the deprecated string
            options.enter_context(pd.option_context(_OFFSET_OPTION, True))
        try:
            freq = pd.infer_freq(index)
        except (TypeError, ValueError):
            return None
    return freq if freq is None or isinstance(freq, str) else freq.freqstr


#: pandas 3.1's switch making ``infer_freq`` return an offset (a string before, with a warning).
_OFFSET_OPTION = "future.infer_freq_returns_offset"


def _option_names() -> set[str]:
    """The names of pandas' ``future.*`` options in this pandas version."""
    return {f"future.{name}" for name in dir(pd.options.future)}


def _show_step(step: int | float, dtype: Any) -> str:
    return str(step * tick(dtype)) if is_time_dtype(dtype) else repr(step)
