"""The fitted description of a table: :class:`TableSchema`, with a JSON round trip.

:func:`~dg_tf.tabular.frames.from_dataframe` turns a table into DoppelGANger's
arrays (paper §3.1: attributes ``[N, A]``, features ``[N, L, K]``, generation
flags ``[N, L]``); the schema remembers everything needed to turn arrays of
that layout -- the training data or generated data -- back into a table that
looks like the input: column names and order, dtypes, category levels,
scaling ranges, the id column, the time axis, the table style (long or wide)
and, for wide tables, the step columns.

The schema is saved as indented, human-readable JSON (``save`` writes
atomically). It holds no training ids or values beyond what decoding needs:
category levels, the min/max of each continuous column and the most common
start time (and the ids when the id column itself is categorical, whose dtype
lists them). The ids and start of each training series travel in the
Dataset's ``extras`` instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Hashable
from typing import Any

import pandas as pd

from dg_tf.data.specs import Output
from dg_tf.errors import DataFormatError
from dg_tf.fileio import atomic_write, read_json
from dg_tf.limits import label
from dg_tf.tabular.columns import ColumnSpec, column_outputs
from dg_tf.tabular.dtypes import cast, dtype_from_json, dtype_to_json, is_bool_dtype, name_from_json, name_to_json
from dg_tf.tabular.inference import column_label
from dg_tf.tabular.options import STYLES
from dg_tf.tabular.timeaxis import TimeSpec

__all__ = ["TableSchema", "SCHEMA_FORMAT", "SCHEMA_VERSION", "STYLES"]

SCHEMA_FORMAT = "dg_tf.TableSchema"
SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True, eq=False)
class TableSchema:
    """How a table maps to DoppelGANger's arrays and back.

    Attributes:
        style: ``"long"`` (one row per (series, step)) or ``"wide"`` (one
            row per series, one column per step of a single feature).
        columns: the table's columns, in the input's order (id, time,
            attributes, features or step columns; unused columns are not kept).
        id_name: the id column.
        id_dtype: its dtype.
        attributes: one spec per attribute column, in ``data_attribute`` order.
        features: one spec per feature column, in ``data_feature`` order
            (wide: a single spec named ``None`` for all step columns).
        time: the time axis (long style with a time column), else ``None``.
        step_columns: wide style: the step columns, in step order.
        step_dtypes: wide style: the dtype of each step column.
        max_length: the longest series kept (input's longest or the
            ``max_length`` given).
        padded_length: L of the arrays: ``max_length`` rounded up to a
            multiple of ``sample_len``.
        sample_len: the ``sample_len`` given, or ``None``.
        missing: the missing-value policy used.
        long_series: the long-series policy used.
        num_series: N, the number of series of the fitted arrays.
        source: the table's file or ``"<DataFrame>"``.
        start: the learned start of each series (the last attribute of
            ``data_attribute``, after the attribute columns; see
            :func:`~dg_tf.tabular.timeaxis.fit_start`), or ``None`` when the
            table has no time column or every series starts at the same time.
    """

    style: str
    columns: tuple[Hashable, ...]
    id_name: Hashable
    id_dtype: Any
    attributes: tuple[ColumnSpec, ...]
    features: tuple[ColumnSpec, ...]
    time: TimeSpec | None
    step_columns: tuple[Hashable, ...] | None
    step_dtypes: tuple[Any, ...] | None
    max_length: int
    padded_length: int
    sample_len: int | None
    missing: str
    long_series: str
    num_series: int
    source: str
    start: ColumnSpec | None = None

    @property
    def attribute_specs(self) -> tuple[ColumnSpec, ...]:
        """The specs of ``data_attribute``'s blocks, in order: the attribute columns, then the start if learned."""
        return self.attributes if self.start is None else (*self.attributes, self.start)

    @property
    def attribute_outputs(self) -> list[Output]:
        """Specs of ``data_attribute`` [N, A]: each attribute column's :attr:`ColumnSpec.outputs`, in order, then
        the learned start's."""
        return column_outputs(self.attribute_specs)

    @property
    def feature_outputs(self) -> list[Output]:
        """Specs of ``data_feature`` [N, L, K]: each feature column's :attr:`ColumnSpec.outputs`, in order."""
        return column_outputs(self.features)

    def _column_dtypes(self) -> list[tuple[Hashable, Any]]:
        """(column, dtype) of every column of the table."""
        pairs = [(self.id_name, self.id_dtype)]
        if self.time is not None:
            pairs.append((self.time.name, self.time.dtype))
        pairs += [(spec.name, spec.dtype) for spec in self.attributes]
        if self.style == "wide":
            pairs += list(zip(self.step_columns, self.step_dtypes))
        else:
            pairs += [(spec.name, spec.dtype) for spec in self.features]
        return pairs

    def csv_dtypes(self) -> dict[str, str]:
        """``dtype=`` for :func:`pandas.read_csv`: text columns must stay text.

        A column of strings such as ``"007"`` or a category ``"1"`` would
        otherwise be read as a number. Keys are the header texts.
        """
        result = {}
        for name, dtype in self._column_dtypes():
            base = dtype.categories.dtype if isinstance(dtype, pd.CategoricalDtype) else dtype
            if isinstance(base, pd.StringDtype) or base == object:
                result[str(name)] = "str"
        return result

    def apply_dtypes(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``df`` with the schema's dtypes (e.g. a table read back from CSV).

        Columns named by the text of a schema column (a CSV header ``"0"``
        for the column ``0``) are renamed to it; datetimes are parsed (ISO
        8601, time zones restored), categories get their levels and order,
        integer columns with missing values become nullable. Columns the
        schema does not know are left as they are.

        Raises:
            DataFormatError: a column cannot be converted (the message names it).
        """
        rename = {str(name): name for name, _ in self._column_dtypes() if name not in df.columns}
        out = df.rename(columns={k: v for k, v in rename.items() if k in df.columns})
        for name, dtype in self._column_dtypes():
            if name in out.columns and out[name].dtype != dtype:
                try:
                    out[name] = _coerce(out[name], dtype).set_axis(out.index)
                except (TypeError, ValueError) as exc:
                    raise DataFormatError(self.source, f"column {name!r}", None, f"cannot convert to {dtype}: {exc}")
        return out

    def check_storable(self) -> None:
        """Check that :meth:`save` can write this schema (names, dtypes, levels, times as JSON).

        :func:`~dg_tf.tabular.frames.from_dataframe` calls it, so that a table
        whose schema cannot be saved fails before anything is written.

        Raises:
            DataFormatError: the first column whose name, dtype, category
                levels or times JSON cannot hold.
        """
        parts = [(name, lambda n=name, d=dtype: (name_to_json(n), dtype_to_json(d))) for name, dtype in
                 self._column_dtypes()]
        parts += [(spec.name, spec.to_dict) for spec in (*self.attribute_specs, *self.features)]
        if self.time is not None:
            parts.append((self.time.name, self.time.to_dict))
        for name, part in parts:
            try:
                json.dumps(part(), allow_nan=False)
            except (TypeError, ValueError) as exc:
                where = "step columns" if name is None else column_label(name)
                raise DataFormatError(self.source, where, None, f"cannot be stored in the table schema: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; inverse of :meth:`from_dict`."""
        return {
            "format": SCHEMA_FORMAT,
            "version": SCHEMA_VERSION,
            "source": self.source,
            "style": self.style,
            "columns": [name_to_json(c) for c in self.columns],
            "id": {"name": name_to_json(self.id_name), "dtype": dtype_to_json(self.id_dtype)},
            "time": None if self.time is None else self.time.to_dict(),
            "attributes": [spec.to_dict() for spec in self.attributes],
            "features": [spec.to_dict() for spec in self.features],
            "step_columns": None if self.step_columns is None else [
                {"name": name_to_json(name), "dtype": dtype_to_json(dtype)}
                for name, dtype in zip(self.step_columns, self.step_dtypes)
            ],
            "max_length": self.max_length,
            "padded_length": self.padded_length,
            "sample_len": self.sample_len,
            "missing": self.missing,
            "long_series": self.long_series,
            "num_series": self.num_series,
            "start": None if self.start is None else self.start.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> "TableSchema":
        """Inverse of :meth:`to_dict`.

        Raises:
            DataFormatError: ``data`` is not a table schema of this version.
        """
        try:
            if data.get("format") != SCHEMA_FORMAT or data.get("version") != SCHEMA_VERSION:
                raise ValueError(
                    f"format={data.get('format')!r} version={data.get('version')!r}, "
                    f"expected {SCHEMA_FORMAT!r} version {SCHEMA_VERSION}"
                )
            steps = data["step_columns"]
            style = data["style"]
            if style not in STYLES:
                raise ValueError(f"style={style!r} must be one of {STYLES}")
            return cls(
                style=style,
                columns=tuple(name_from_json(c) for c in data["columns"]),
                id_name=name_from_json(data["id"]["name"]),
                id_dtype=dtype_from_json(data["id"]["dtype"]),
                attributes=tuple(ColumnSpec.from_dict(d) for d in data["attributes"]),
                features=tuple(ColumnSpec.from_dict(d) for d in data["features"]),
                time=None if data["time"] is None else TimeSpec.from_dict(data["time"]),
                step_columns=None if steps is None else tuple(name_from_json(s["name"]) for s in steps),
                step_dtypes=None if steps is None else tuple(dtype_from_json(s["dtype"]) for s in steps),
                max_length=int(data["max_length"]),
                padded_length=int(data["padded_length"]),
                sample_len=None if data["sample_len"] is None else int(data["sample_len"]),
                missing=data["missing"],
                long_series=data["long_series"],
                num_series=int(data["num_series"]),
                source=data["source"],
                start=None if data.get("start") is None else ColumnSpec.from_dict(data["start"]),
            )
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
            detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DataFormatError(source, "table schema", None, f"not a valid table schema: {label(detail, 200)}") from exc

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the schema as indented JSON, atomically (temp file, then rename)."""
        with atomic_write(path, "w") as handle:
            json.dump(self.to_dict(), handle, indent=2, ensure_ascii=False)
            handle.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "TableSchema":
        """Read a schema written by :meth:`save`.

        Raises:
            DataFormatError: the file is missing, not a regular file, too
                large, not valid JSON (:func:`~dg_tf.fileio.read_json`) or not a
                table schema.
        """
        return cls.from_dict(read_json(path), source=str(path))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TableSchema):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _coerce(series: pd.Series, dtype: Any) -> pd.Series:
    """``series`` (e.g. text read from CSV) converted to ``dtype``."""
    if isinstance(dtype, pd.CategoricalDtype):
        values = _coerce(series, dtype.categories.dtype) if series.dtype != dtype.categories.dtype else series
        return values.astype(dtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pd.to_datetime(series, utc=True, format="ISO8601").dt.tz_convert(dtype.tz).astype(dtype)
    if pd.api.types.is_datetime64_dtype(dtype):
        return pd.to_datetime(series, format="ISO8601").astype(dtype)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return pd.to_timedelta(series).astype(dtype)
    if is_bool_dtype(dtype) and not pd.api.types.is_bool_dtype(series.dtype) and not pd.api.types.is_numeric_dtype(
        series.dtype
    ):
        words = {"True": True, "False": False, "true": True, "false": False}
        unknown = series.notna() & ~series.isin(list(words))
        if unknown.any():
            raise ValueError(f"{series[unknown].iloc[0]!r} is not True or False")
        series = series.map(words)
    return cast(series, dtype)
