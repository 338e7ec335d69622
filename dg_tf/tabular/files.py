"""Tables on disk: CSV (optionally gzip-compressed) and Parquet.

The tabular front end of dg_tf (see :mod:`dg_tf.tabular.frames`) works on
pandas DataFrames; these two functions move them to and from files, chosen
by suffix: ``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``.

* Parquet (via pyarrow) keeps the dtypes: integers, nullable columns,
  datetimes with their time zone, categoricals with their levels and order.
  (pyarrow alone gives categoricals of numbers back as plain numbers;
  :func:`write_table` records their dtype in the file's metadata under
  ``dg_tf.dtypes`` and :func:`read_table` restores it.)
* CSV keeps only text. pandas infers the types; with
  ``keep_leading_zeros=True`` (what ``python -m dg_tf.prepare`` uses)
  integer-looking text with a leading zero (``"007"``, zip codes such as
  ``"01234"``) stays text: such values are codes, and ``7`` would merge ids
  ``"007"`` and ``"7"``. A header naming a column twice and rows with more
  fields than the header are errors (pandas would rename the column or shift
  the columns).
  Passing the fitted
  :class:`~dg_tf.tabular.schema.TableSchema` to :func:`read_table` reads
  text columns as text (so ``"007"`` stays a string) and then applies the
  schema's dtypes (:meth:`TableSchema.apply_dtypes`), so a table written by
  :func:`write_table` after :func:`~dg_tf.tabular.frames.to_dataframe` reads
  back with the same dtypes.

Writes are atomic (a temporary file in the same folder, then a rename), so a
reader never sees half a table and a failed write leaves the old file as it was.

:func:`from_table_file` reads a table file and converts it in one call (what
``python -m dg_tf.prepare`` and ``train --data FILE.csv`` do).
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Sequence
from typing import IO, Any

import numpy as np

import pandas as pd
import pyarrow
import pyarrow.parquet

from dg_tf.data.dataset import Dataset
from dg_tf.errors import ConfigError, DataFormatError
from dg_tf.fileio import atomic_write, open_regular
from dg_tf.limits import label
from dg_tf.tabular.dtypes import dtype_from_json, dtype_to_json
from dg_tf.tabular.inference import column_label
from dg_tf.tabular.frames import from_dataframe
from dg_tf.tabular.options import TABLE_FORMATS, is_table_file, table_format
from dg_tf.tabular.schema import TableSchema

__all__ = ["TABLE_FORMATS", "from_table_file", "is_table_file", "table_format", "read_table", "write_table",
           "parse_datetimes", "parse_time_text"]

_LEADING_ZERO = r"\s*[+-]?0\d"  # "007", "01234": codes, not numbers
_DTYPES_KEY = b"dg_tf.dtypes"  # Parquet metadata: {column: dtype JSON} of categoricals of non-text


def from_table_file(path: str | os.PathLike[str], **options: Any) -> tuple[Dataset, TableSchema]:
    """Read the table at ``path`` and convert it with :func:`~dg_tf.tabular.from_dataframe`.

    A CSV is read with leading zeros kept (``"007"`` stays an id) and a text
    time column parsed (:func:`parse_time_text`).

    Args:
        path: a CSV or Parquet file.
        options: :func:`~dg_tf.tabular.from_dataframe`'s keyword arguments
            (``source`` defaults to ``path``).

    Raises:
        DataFormatError: the file or the table breaks a rule (named).
        ConfigError: an option has an invalid value.
    """
    where = os.fspath(path)
    frame = parse_time_text(read_table(path, keep_leading_zeros=True), options.get("time_column"), where)
    return from_dataframe(frame, **{"source": where, **options})


def parse_time_text(frame: pd.DataFrame, time_column: Hashable | None, where: str) -> pd.DataFrame:
    """A CSV holds times as text: numbers (e.g. zero-padded steps), durations or ISO 8601 datetimes.

    Mixed UTC offsets (a daylight saving change) are converted to UTC;
    anything else is left for :func:`~dg_tf.tabular.from_dataframe` to accept
    or report.

    Raises:
        DataFormatError: a text time column with a value that is neither a
            number, a duration nor an ISO 8601 date/time, or a word among
            numbers (the index is its row).
    """
    if time_column is None or time_column not in frame or not pd.api.types.is_string_dtype(frame[time_column]):
        return frame
    text = frame[time_column]
    numbers = pd.to_numeric(text, errors="coerce")
    is_number = numbers.notna().to_numpy()
    if is_number.all():
        return frame.assign(**{time_column: numbers})
    if is_number.sum() * 2 >= len(is_number):
        row = int(np.argmin(is_number))
        raise DataFormatError(where, column_label(time_column), row,
                              f"mixed types: {text.iloc[row]!r} among numbers; every time must be a number")
    try:  # durations as pandas writes them: "0 days 00:20:30"
        return frame.assign(**{time_column: pd.to_timedelta(text)})
    except ValueError:
        return frame.assign(**{time_column: parse_datetimes(text, time_column, where)})


def read_table(
    path: str | os.PathLike[str],
    *,
    schema: TableSchema | None = None,
    parse_dates: Sequence[str] | None = None,
    keep_leading_zeros: bool = False,
) -> pd.DataFrame:
    """Read a CSV or Parquet table.

    Args:
        path: ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq`` file.
        schema: if given, text columns of a CSV are read as text and every
            column the schema knows gets its dtype back.
        parse_dates: columns to parse as datetimes (ISO 8601 text; mixed UTC
            offsets are converted to UTC), e.g. a CSV's time column.
        keep_leading_zeros: CSV without a schema: a column pandas reads as
            numbers stays text if a value has a leading zero (``"007"``,
            ``"01234"``); ``python -m dg_tf.prepare`` reads this way.

    Returns:
        The table, with a RangeIndex.

    Raises:
        DataFormatError: unknown suffix, the file is missing or not a regular
            file (a FIFO is refused without blocking,
            :func:`~dg_tf.fileio.open_regular`), or it is not a readable table
            (empty, malformed, corrupt compression, a column named twice, rows
            longer than the header, bad dates); the message names the file.
    """
    fmt = table_format(path)
    where = os.fspath(path)
    with open_regular(path) as handle:
        try:
            if fmt == "csv":
                df = _read_csv(handle, schema, keep_leading_zeros, where)
            else:
                df = pd.read_parquet(handle, engine="pyarrow").reset_index(drop=True)
                handle.seek(0)
                metadata = pyarrow.parquet.read_schema(handle).metadata or {}
                by_text = {str(c): c for c in df.columns}  # Parquet names are text; pandas may restore int names
                for name, dtype in json.loads(metadata.get(_DTYPES_KEY, b"{}")).items():
                    df[by_text[name]] = df[by_text[name]].astype(dtype_from_json(dtype))
        except DataFormatError:
            raise
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, EOFError, KeyError,
                pyarrow.ArrowException) as exc:  # ValueError: also UnicodeDecodeError; OSError: a corrupt gzip
            raise DataFormatError(where, fmt, None, f"not a readable {fmt} table: {label(str(exc), 200)}") from None
    for name in parse_dates or ():
        if name not in df.columns:
            raise DataFormatError(where, column_label(name), None, "parse_dates names a column the file does not have")
        df[name] = parse_datetimes(df[name], name, where)
    if schema is not None:
        df = schema.apply_dtypes(df)
    return df


def _read_csv(handle: IO[bytes], schema: TableSchema | None, keep_leading_zeros: bool, where: str) -> pd.DataFrame:
    """A CSV table from an open file, refusing what pandas would silently repair (see :func:`read_table`)."""
    compression = "gzip" if where.lower().endswith(".gz") else None
    header = pd.read_csv(handle, header=None, nrows=1, dtype=str, keep_default_na=False,
                         compression=compression).iloc[0]
    repeated = header[header.duplicated()]
    if len(repeated):  # pandas would rename the second one "name.1"
        raise DataFormatError(where, column_label(repeated.iloc[0]), None, "the header names this column twice")
    handle.seek(0)
    df = pd.read_csv(handle, dtype=None if schema is None else schema.csv_dtypes(), compression=compression)
    if not isinstance(df.index, pd.RangeIndex):  # pandas made the first column the index
        raise DataFormatError(where, "csv", None, f"the rows have more fields than the header's {len(header)} names")
    if schema is not None or not keep_leading_zeros:
        return df
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    if numeric:
        handle.seek(0)
        text = pd.read_csv(handle, usecols=numeric, dtype=str, compression=compression)
        for name in numeric:
            if text[name].str.match(_LEADING_ZERO).any():
                df[name] = text[name]
    return df


def parse_datetimes(series: pd.Series, name: Hashable, where: str) -> pd.Series:
    """ISO 8601 text -> datetimes; mixed UTC offsets (a daylight saving change) are converted to UTC.

    Args:
        series: [n] the column (RangeIndex), text or already datetimes.
        name: its name, for errors.
        where: the file, for errors.

    Raises:
        DataFormatError: a value is not an ISO 8601 date/time (the message
            names its row).
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    for utc in (False, True):
        try:
            return pd.to_datetime(series, format="ISO8601", utc=utc)
        except (TypeError, ValueError):
            continue
    bad = (pd.to_datetime(series, format="ISO8601", utc=True, errors="coerce").isna() & series.notna()).to_numpy()
    example = f": {series.iloc[int(bad.argmax())]!r} at row {int(bad.argmax())}" if bad.any() else ""
    raise DataFormatError(where, column_label(name), None, f"not ISO 8601 datetimes{example}")


def write_table(path: str | os.PathLike[str], df: pd.DataFrame, format: str | None = None) -> None:
    """Write a table atomically, without its index.

    Args:
        path: the file; a ``.gz`` suffix gzip-compresses a CSV.
        df: the table.
        format: ``"csv"`` or ``"parquet"``; default from the suffix.

    Raises:
        ConfigError: ``format`` is not ``"csv"`` or ``"parquet"``.
        DataFormatError: no ``format`` and an unknown suffix.
        OSError: the folder does not exist or is not writable.
    """
    fmt = table_format(path) if format is None else format
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"format={format!r} must be 'csv', 'parquet' or None")
    compression = "gzip" if os.fspath(path).lower().endswith(".gz") else None
    with atomic_write(path, "wb") as handle:
        if fmt == "csv":
            df.to_csv(handle, index=False, compression=compression, encoding="utf-8")
        else:
            table = pyarrow.Table.from_pandas(df, preserve_index=False)
            numeric_categories = {
                str(name): dtype_to_json(df[name].dtype)
                for name in df.columns
                if isinstance(df[name].dtype, pd.CategoricalDtype)
                and not pd.api.types.is_string_dtype(df[name].dtype.categories.dtype)
            }
            if numeric_categories:
                metadata = {**(table.schema.metadata or {}), _DTYPES_KEY: json.dumps(numeric_categories).encode()}
                table = table.replace_schema_metadata(metadata)
            pyarrow.parquet.write_table(table, handle)
