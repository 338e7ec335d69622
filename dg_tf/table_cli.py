"""Command-line flags that describe a table's columns (shared by ``prepare`` and ``train``).

The flags map one to one onto :func:`dg_tf.tabular.from_dataframe`'s
arguments; column lists are comma-separated.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from dg_tf.cli import comma_list, fail
from dg_tf.config import padding_sample_len
from dg_tf.data.dataset import Dataset
from dg_tf.errors import DataFormatError
from dg_tf.tabular.files import TABLE_FORMATS, parse_datetimes, read_table
from dg_tf.tabular.frames import from_dataframe
from dg_tf.tabular.inference import column_label
from dg_tf.tabular.schema import TableSchema

__all__ = ["is_table_file", "add_table_flags", "table_dataset"]


def is_table_file(path: Path) -> bool:
    """Whether ``path`` names a CSV or Parquet file (by its suffix); anything else is a dataset folder."""
    return path.name.lower().endswith(tuple(TABLE_FORMATS))


def add_table_flags(parser: argparse.ArgumentParser) -> None:
    """Add the flags naming a table's id, time, attribute and feature columns and its options."""
    group = parser.add_argument_group("table columns (CSV / Parquet input)")
    group.add_argument("--id-column", help="column identifying each series (sample)")
    group.add_argument("--time-column", default=None,
                       help="column ordering the steps (integer, float, datetime); regular spacing required")
    group.add_argument("--attribute-columns", type=comma_list, default=[],
                       help="comma-separated metadata columns, constant within a series")
    group.add_argument("--feature-columns", type=comma_list, default=None,
                       help="comma-separated measurement columns (wide style: the step columns, in step order)")
    group.add_argument("--discrete-columns", type=comma_list, default=None,
                       help="columns forced to be categorical (one-hot)")
    group.add_argument("--continuous-columns", type=comma_list, default=None,
                       help="columns forced to be continuous")
    group.add_argument("--integer-discrete-max-levels", type=int, default=None,
                       help="integer columns with at most this many distinct values are categorical")
    group.add_argument("--style", choices=("long", "wide"), default="long",
                       help="long: one row per (series, step); wide: one row per series, one column per step")
    group.add_argument("--max-length", type=int, default=None, help="longest series kept [the longest one]")
    group.add_argument("--missing", choices=("error", "drop", "interpolate"), default="error",
                       help="missing values: refuse, drop the series, or interpolate inside the series")
    group.add_argument("--long-series", choices=("error", "truncate", "split"), default="error",
                       help="series longer than --max-length: refuse, keep the start, or cut into pieces")


def _parse_time_text(frame: pd.DataFrame, time_column: str | None, where: str) -> pd.DataFrame:
    """A CSV holds times as text: numbers (e.g. zero-padded steps), durations or ISO 8601 datetimes.

    Mixed UTC offsets (a daylight saving change) are converted to UTC;
    anything else is left for :func:`from_dataframe` to accept or report.

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


def table_dataset(path: Path, args: argparse.Namespace, sample_len: int | None) -> tuple[Dataset, TableSchema, int]:
    """Read the table at ``path`` and convert it as the flags say.

    Args:
        path: a CSV or Parquet file.
        args: parsed flags of :func:`add_table_flags`.
        sample_len: S to pad the length to a multiple of; ``None`` picks
            :func:`~dg_tf.config.padding_sample_len` of the longest series.

    Returns:
        ``(dataset, schema, sample_len)``.
    """
    if args.id_column is None:
        fail(f"{path} is a table: --id-column is required")
    if args.feature_columns is None:
        fail(f"{path}: --feature-columns is required (wide style: the step columns, in step order)")
    frame = _parse_time_text(read_table(path, keep_leading_zeros=True), args.time_column, str(path))
    options = dict(
        id_column=args.id_column, time_column=args.time_column, attribute_columns=args.attribute_columns,
        feature_columns=args.feature_columns, discrete_columns=args.discrete_columns,
        continuous_columns=args.continuous_columns, style=args.style, max_length=args.max_length,
        missing=args.missing, long_series=args.long_series,
        integer_discrete_max_levels=args.integer_discrete_max_levels, source=str(path),
    )
    if sample_len is None and args.max_length is not None:
        sample_len = padding_sample_len(args.max_length)
    elif sample_len is None:  # the longest series is known only after grouping (and missing-value policy)
        sample_len = padding_sample_len(from_dataframe(frame, **options)[0].max_length)
    dataset, schema = from_dataframe(frame, sample_len=sample_len, **options)
    return dataset, schema, sample_len
