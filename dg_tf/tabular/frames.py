"""Tables in and out: :func:`from_dataframe` and :func:`to_dataframe`.

DoppelGANger's data (paper §3.1) is N samples, each with attributes (one
vector per series) and a time series of up to L records; variable length is
carried by generation flags (appendix B). Most users hold such data as a
table, in one of two styles:

* **long**: one row per (series, step): an id column, optionally a time
  column, attribute columns (constant within an id) and feature columns;
* **wide**: one row per series: an id column, attribute columns and one
  column per step of a single feature; a series ends at its last non-missing
  step (trailing NaN), NaN before that is a missing value.

:func:`from_dataframe` checks the table (one clear
:class:`~dg_tf.errors.DataFormatError` per problem, naming the source, the
column and the row or id; nothing partial is returned), infers column types
(:mod:`~dg_tf.tabular.inference`), applies the missing-value policy
(:mod:`~dg_tf.tabular.missing`) and the long-series policy, and returns the
:class:`~dg_tf.data.Dataset` plus the fitted
:class:`~dg_tf.tabular.schema.TableSchema`. :func:`to_dataframe` inverts it
for the training arrays or for generated ones.

Row order: series are sorted by id (then by time in long style, or kept in
input order without a time column). The Dataset's ``extras`` carry
``series_id`` [N] (the ids, as a plain array) and, with a time column,
``series_start`` [N] (each series' first time, numeric form), so that
``to_dataframe(*from_dataframe(df))`` gives back ``df`` (sorted by id and
time). Arrays without these extras (generated data) get new ids: ``0..N-1``
in the id column's dtype for numeric ids (``int64`` if that dtype cannot
number N series, e.g. 300 series and ``uint8`` ids), ``"synthetic-0"``, ...
otherwise; their times start at their generated start (the start attribute,
when the table's series start at different times) or at the table's one
start (:mod:`~dg_tf.tabular.timeaxis`).

This module is longer than 400 lines because it holds the two conversions,
:func:`from_dataframe` and its exact inverse :func:`to_dataframe`, with the
checks of both; the column kinds, missing values, regrouping and time axis are
already their own modules.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from dg_tf.config import padding_sample_len
from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import total_dim
from dg_tf.data.validation import validate_dataset
from dg_tf.errors import ConfigError, DataFormatError
from dg_tf.tabular.columns import ColumnSpec, column_outputs, split_columns
from dg_tf.tabular.dtypes import from_array, is_integer_dtype, to_array
from dg_tf.tabular.grouped import Grouped
from dg_tf.tabular.inference import (
    CONTINUOUS,
    FLOAT,
    INTEGER,
    NUMBERS,
    column_label,
    infer_kind,
    show,
    value_class,
)
from dg_tf.tabular.missing import apply_missing_policy
from dg_tf.tabular.options import (
    DEFAULT_LONG_SERIES, DEFAULT_MISSING, DEFAULT_STYLE, LONG_SERIES_POLICIES, MAX_ONEHOT_LEVELS, MISSING_POLICIES,
    SERIES_ID, SERIES_START, STYLES,
)
from dg_tf.tabular.schema import TableSchema
from dg_tf.tabular.timeaxis import TIME_CLASSES, TimeSpec, fit_start
from dg_tf.transforms import flags_from_lengths, lengths_from_flags

__all__ = ["from_dataframe", "to_dataframe", "SERIES_ID", "SERIES_START"]

logger = logging.getLogger(__name__)

_WIDE_VALUE = "value"  # name of the single feature of a wide table inside Grouped


# ============================================================================ from_dataframe


def from_dataframe(
    df: pd.DataFrame,
    *,
    id_column: Hashable,
    time_column: Hashable | None = None,
    attribute_columns: Sequence[Hashable],
    feature_columns: Sequence[Hashable],
    discrete_columns: Iterable[Hashable] | None = None,
    continuous_columns: Iterable[Hashable] | None = None,
    style: str = DEFAULT_STYLE,
    max_length: int | None = None,
    sample_len: int | Literal["auto"] | None = None,
    missing: str = DEFAULT_MISSING,
    long_series: str = DEFAULT_LONG_SERIES,
    integer_discrete_max_levels: int | None = None,
    max_onehot_levels: int | None = MAX_ONEHOT_LEVELS,
    source: str = "<DataFrame>",
) -> tuple[Dataset, TableSchema]:
    """Turn a long or wide table into a DoppelGANger dataset and its schema.

    Args:
        df: the table (any index; rows are reported by position, 0-based).
            Columns not named below are ignored (and absent from
            :func:`to_dataframe`'s output); ``df`` is never modified.
        id_column: the column naming the series (no missing values).
        time_column: long style only: the time of each row (integer, float,
            datetime or timedelta, regularly spaced, see
            :mod:`~dg_tf.tabular.timeaxis`); ``None``: the row order within
            each id is the step order.
        attribute_columns: per-series metadata columns (constant within an id
            in long style); may be empty.
        feature_columns: long style: the measurement columns; wide style: the
            step columns of the single feature, in step order.
        discrete_columns: columns to treat as categories (one-hot) whatever
            their dtype. In wide style list all step columns or none.
        continuous_columns: columns to treat as continuous (numbers or bools).
        style: ``"long"`` or ``"wide"``.
        max_length: longest series kept; ``None``: the longest in the table.
        sample_len: if given, L is ``max_length`` rounded up to a multiple of
            it (padding with generation flag 0; nothing is truncated);
            ``"auto"``: the S of about 50 LSTM passes over ``max_length``
            (:func:`~dg_tf.config.padding_sample_len`), recorded in the schema.
        missing: ``"error"``, ``"drop"`` or ``"interpolate"`` (see
            :mod:`~dg_tf.tabular.missing`).
        long_series: ``"error"``, ``"truncate"`` or ``"split"`` for series
            longer than ``max_length``.
        integer_discrete_max_levels: integer columns with at most this many
            distinct values are discrete; ``None``: integers are continuous.
        max_onehot_levels: a discrete column with more levels than this is
            binary-coded (``ceil(log2(levels))`` 2-way outputs) instead of
            one-hot; ``None``: always one-hot. The default,
            :data:`~dg_tf.tabular.options.MAX_ONEHOT_LEVELS`, and why: see
            :mod:`~dg_tf.tabular.columns`.
        source: name of the table in errors (e.g. its file).

    Returns:
        ``(dataset, schema)``: ``dataset.features`` float32 [N, L, K] (ZERO_ONE
        continuous columns, one-hot or binary-coded discrete ones, 0 after
        each series' end; column ``c`` is ``c.width`` wide),
        ``dataset.attributes`` float32 [N, A], ``dataset.gen_flags`` float32
        [N, L], the output specs, and ``extras`` ``series_id`` [N] (and
        ``series_start`` [N] with a time column); the schema inverts it with
        :func:`to_dataframe`.

    Raises:
        ConfigError: an option has an invalid value.
        DataFormatError: the table breaks a rule (the message names the
            source, the column and the row or id): missing or repeated
            columns, mixed types (also a text column of numbers with a stray
            word), unsupported values, infinite values, missing values (with
            ``missing="error"``), attributes varying within an id, duplicate
            (id, time) pairs, irregular time spacing, series longer than
            ``max_length`` (with ``long_series="error"``), an empty table,
            fewer than 2 series, or a name, dtype or category level that the
            schema's JSON cannot hold.

    Integer columns are decoded exactly within ``[min, max]``, but the model's
    float32 values keep only about 7 significant digits of the scaled value:
    a column whose range spans more than ``2**24`` comes back rounded (a
    warning is logged; see :mod:`~dg_tf.tabular.columns`).
    """
    _check_options(style, missing, long_series, max_length, sample_len, integer_discrete_max_levels, time_column,
                   max_onehot_levels)
    for option, names in (("attribute_columns", attribute_columns), ("feature_columns", feature_columns),
                          ("discrete_columns", discrete_columns), ("continuous_columns", continuous_columns)):
        if isinstance(names, str):  # list("site") would name the columns 's', 'i', 't', 'e'
            raise ConfigError(f"{option}={names!r} must be a list of column names, e.g. [{names!r}]")
    attribute_columns = list(attribute_columns)
    feature_columns = list(feature_columns)
    discrete = set(discrete_columns or ())
    continuous = set(continuous_columns or ())
    _check_columns(df, id_column, time_column, attribute_columns, feature_columns, discrete, continuous, source)
    frame = df.reset_index(drop=True)
    kinds = {
        name: _kind(frame[name], name, discrete, continuous, integer_discrete_max_levels, source)
        for name in attribute_columns
    }
    if style == "long":
        kinds.update(
            (name, _kind(frame[name], name, discrete, continuous, integer_discrete_max_levels, source))
            for name in feature_columns
        )
        grouped, time = _group_long(frame, id_column, time_column, attribute_columns, feature_columns, source)
        feature_names = feature_columns
    else:
        kinds[_WIDE_VALUE] = _wide_kind(frame, feature_columns, discrete, continuous, integer_discrete_max_levels,
                                        source)
        grouped, time = _group_wide(frame, id_column, attribute_columns, feature_columns, source), None
        feature_names = [_WIDE_VALUE]

    linear = [name for name in feature_names if kinds[name] == CONTINUOUS]
    total = grouped.num_series
    grouped = apply_missing_policy(missing, grouped, linear, source, id_column)
    cap = max_length if max_length is not None else int(grouped.lengths.max(initial=0))
    grouped = grouped.limit(cap, long_series, source, id_column)
    if grouped.num_series < 2:
        dropped = total - grouped.num_series
        dropped = f" left after dropping {dropped} with missing values" if dropped else ""
        raise DataFormatError(
            source,
            column_label(id_column),
            None,
            f"the table has {grouped.num_series} series{dropped}; DoppelGANger needs at least 2 series to learn "
            "a distribution",
        )
    if sample_len == "auto":
        sample_len = padding_sample_len(cap)
    padded = -(-cap // sample_len) * sample_len if sample_len else cap

    attributes = tuple(
        ColumnSpec.fit(name, kinds[name], grouped.attributes[name], frame[name].dtype, max_onehot_levels)
        for name in attribute_columns
    )
    if style == "long":
        features = tuple(
            ColumnSpec.fit(name, kinds[name], grouped.features[name], frame[name].dtype, max_onehot_levels)
            for name in feature_columns
        )
    else:
        values = grouped.features[_WIDE_VALUE]
        features = (ColumnSpec.fit(None, kinds[_WIDE_VALUE], values, values.dtype, max_onehot_levels),)
    series_rows = grouped.feature_rows[grouped.offsets]
    for spec in attributes:
        spec.check_resolution(grouped.attributes[spec.name], series_rows, _repeat(spec.name, len(series_rows)), source)
    for spec, name in zip(features, feature_names):
        cells = grouped.cell_columns
        cells = _repeat(name, len(grouped.feature_rows)) if cells is None else cells
        spec.check_resolution(grouped.features[name], grouped.feature_rows, cells, source)

    start, start_block = None, None
    if time is not None and time.has_grid:
        positions = time.grid_positions(to_array(grouped.times.iloc[grouped.offsets]))
        start = fit_start(time, positions)
        if start is not None:
            start_block = start.encode(pd.Series(positions))
            logger.info("%s: the series start at %d different times (%s); the start is learned as one more "
                        "attribute", source, len(np.unique(positions)), start.kind)
    dataset = _encode(grouped, attributes if start is None else (*attributes, start), features, feature_names, padded,
                      start_block)
    validate_dataset(dataset, source)
    used = {id_column, time_column, *attribute_columns, *feature_columns}
    schema = TableSchema(
        style=style,
        columns=tuple(c for c in df.columns if c in used),
        id_name=id_column,
        id_dtype=frame[id_column].dtype,
        attributes=attributes,
        features=features,
        time=time,
        step_columns=tuple(feature_columns) if style == "wide" else None,
        step_dtypes=tuple(frame[c].dtype for c in feature_columns) if style == "wide" else None,
        max_length=cap,
        padded_length=padded,
        sample_len=sample_len,
        missing=missing,
        long_series=long_series,
        num_series=grouped.num_series,
        source=source,
        start=start,
    )
    schema.check_storable()
    logger.info(
        "%s: %d series of up to %d steps (L=%d), %d attribute and %d feature columns",
        source, grouped.num_series, int(grouped.lengths.max()), padded, len(attributes), len(feature_columns),
    )
    return dataset, schema


def _check_positive(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
        raise ConfigError(f"{name}={value!r} must be a positive integer or None")


def _check_options(
    style: str,
    missing: str,
    long_series: str,
    max_length: int | None,
    sample_len: int | None,
    integer_discrete_max_levels: int | None,
    time_column: Hashable | None,
    max_onehot_levels: int | None,
) -> None:
    for name, value, allowed in (
        ("style", style, STYLES),
        ("missing", missing, MISSING_POLICIES),
        ("long_series", long_series, LONG_SERIES_POLICIES),
    ):
        if value not in allowed:
            raise ConfigError(f"{name}={value!r} must be one of {', '.join(map(repr, allowed))}")
    _check_positive("max_length", max_length)
    if sample_len != "auto":
        _check_positive("sample_len", sample_len)
    _check_positive("integer_discrete_max_levels", integer_discrete_max_levels)
    _check_positive("max_onehot_levels", max_onehot_levels)
    if style == "wide" and time_column is not None:
        raise ConfigError(
            f"time_column={time_column!r} must be None for style='wide' (the step columns are the time axis)"
        )


def _check_columns(
    df: pd.DataFrame,
    id_column: Hashable,
    time_column: Hashable | None,
    attribute_columns: list[Hashable],
    feature_columns: list[Hashable],
    discrete: set[Hashable],
    continuous: set[Hashable],
    source: str,
) -> None:
    """Column-level rules: the table and every listed column exist, once each."""
    if not isinstance(df, pd.DataFrame):
        raise DataFormatError(source, "table", None, f"expected a pandas DataFrame, got {type(df).__name__}")
    duplicated = df.columns[df.columns.duplicated()]
    if len(duplicated):
        raise DataFormatError(source, column_label(duplicated[0]), None, "the table has two columns of this name")
    if not feature_columns:
        raise ConfigError("feature_columns must name at least one column")
    roles = [("id_column", id_column)]
    if time_column is not None:
        roles.append(("time_column", time_column))
    roles += [("attribute_columns", c) for c in attribute_columns] + [("feature_columns", c) for c in feature_columns]
    seen: dict[Hashable, str] = {}
    for role, name in roles:
        if not isinstance(name, (str, int, np.integer, pd.Timestamp)) or isinstance(name, bool):
            raise DataFormatError(source, column_label(name), None,
                                  f"column names must be strings or integers (or timestamps) ({role})")
        if name in seen:
            raise DataFormatError(
                source, column_label(name), None, f"listed twice (in {seen[name]} and {role}); use each column once"
            )
        seen[name] = role
        if name not in df.columns:
            raise DataFormatError(source, column_label(name), None, f"{role} names a column the table does not have")
    for option, names in (("discrete_columns", discrete), ("continuous_columns", continuous)):
        for name in names:
            if seen.get(name) not in ("attribute_columns", "feature_columns"):
                raise DataFormatError(source, column_label(name), None, f"{option} names a column that is not an "
                                      "attribute or feature column")
    both = discrete & continuous
    if both:
        raise DataFormatError(source, column_label(sorted(both, key=str)[0]), None,
                              "listed in both discrete_columns and continuous_columns")
    if len(df) == 0:
        raise DataFormatError(source, "table", None, "the table is empty (no rows)")


def _kind(
    series: pd.Series,
    name: Hashable,
    discrete: set[Hashable],
    continuous: set[Hashable],
    integer_discrete_max_levels: int | None,
    source: str,
) -> str:
    return infer_kind(
        series,
        value_class(series, name, source),
        name,
        force_discrete=name in discrete,
        force_continuous=name in continuous,
        integer_discrete_max_levels=integer_discrete_max_levels,
        source=source,
    )


def _stack(frame: pd.DataFrame, columns: list[Hashable]) -> pd.Series:
    """[N * S] values of the step columns, row after row (RangeIndex)."""
    stacked = pd.concat([frame[c] for c in columns], ignore_index=True)  # column after column
    n = len(frame)
    order = (np.arange(len(columns))[None, :] * n + np.arange(n)[:, None]).ravel()
    return stacked.iloc[order].reset_index(drop=True)


def _wide_kind(
    frame: pd.DataFrame,
    steps: list[Hashable],
    discrete: set[Hashable],
    continuous: set[Hashable],
    integer_discrete_max_levels: int | None,
    source: str,
) -> str:
    """The kind of the single feature of a wide table (all step columns together)."""
    for option, names in (("discrete_columns", discrete), ("continuous_columns", continuous)):
        listed = [c for c in steps if c in names]
        if listed and len(listed) != len(steps):
            missing = next(c for c in steps if c not in names)
            raise DataFormatError(source, column_label(missing), None,
                                  f"{option} lists some step columns but not this one; list all step columns or none")
    classes = {name: value_class(frame[name], name, source) for name in steps}
    if steps[0] in continuous:  # per column, so that the error names the first non-numeric row
        for name in steps:
            infer_kind(frame[name], classes[name], name, force_discrete=False, force_continuous=True,
                       integer_discrete_max_levels=None, source=source)
    present = {name: cls for name, cls in classes.items() if frame[name].notna().any()}  # all-NaN: no type
    family = {name: "number" if cls in NUMBERS else cls for name, cls in present.items()}
    if len(set(family.values())) > 1:
        first = next(iter(family.values()))
        odd = next(name for name, f in family.items() if f != first)
        raise DataFormatError(
            source, column_label(odd), None,
            f"step columns mix types: this one holds {family[odd]} values, an earlier one {first} values",
        )
    distinct = set(present.values())
    if not distinct or distinct <= set(NUMBERS):
        cls = INTEGER if distinct == {INTEGER} else FLOAT
    else:
        cls = distinct.pop()
    stacked = _stack(frame, steps)
    return infer_kind(
        stacked.set_axis(np.repeat(np.arange(len(frame)), len(steps))),  # index: each value's row, for errors
        cls,
        steps[0],
        force_discrete=steps[0] in discrete,
        force_continuous=steps[0] in continuous,
        integer_discrete_max_levels=integer_discrete_max_levels,
        source=source,
        cell_columns=np.tile(np.array(steps, dtype=object), len(frame)),
    )


def _check_key(series: pd.Series, name: Hashable, source: str) -> None:
    """An id or time column: no missing value, one type."""
    missing = series.isna().to_numpy()
    if missing.any():
        raise DataFormatError(source, column_label(name), int(np.argmax(missing)),
                              "missing value in the id/time column; every row needs one")


def _sort_by_id(frame: pd.DataFrame, id_column: Hashable, times: np.ndarray | None) -> np.ndarray:
    """int64 [n] input rows sorted by id, then by time (or kept in order without one)."""
    codes, _ = pd.factorize(frame[id_column], sort=True)
    if times is None:
        return np.argsort(codes, kind="stable")
    return np.lexsort((times, codes))


def _group_long(
    frame: pd.DataFrame,
    id_column: Hashable,
    time_column: Hashable | None,
    attribute_columns: list[Hashable],
    feature_columns: list[Hashable],
    source: str,
) -> tuple[Grouped, TimeSpec | None]:
    """Regroup a long table per series; fit the time axis; check attributes are constant per id."""
    _check_key(frame[id_column], id_column, source)
    value_class(frame[id_column], id_column, source)
    times = None
    if time_column is not None:
        _check_key(frame[time_column], time_column, source)
        cls = value_class(frame[time_column], time_column, source)
        if cls not in TIME_CLASSES:
            raise DataFormatError(
                source, column_label(time_column), None,
                f"the time column holds {cls} values; it must hold integers, floats, datetimes or timedeltas "
                "(parse text with pandas.to_datetime, or read the file with read_table(path, parse_dates=[...]))",
            )
        times = to_array(frame[time_column])
    rows = _sort_by_id(frame, id_column, times)
    table = frame.iloc[rows].reset_index(drop=True)
    codes, _ = pd.factorize(table[id_column], sort=True)
    lengths = np.bincount(codes).astype(np.int64)
    offsets = np.cumsum(lengths) - lengths
    ids = table[id_column].iloc[offsets].reset_index(drop=True)
    time = None
    if time_column is not None:
        time = TimeSpec.fit(time_column, table[time_column], lengths, ids, rows, source)
    attributes, nan_rows = _series_attributes(table, attribute_columns, lengths, ids, rows, source)
    grouped = Grouped(
        ids=ids,
        lengths=lengths,
        attributes=attributes,
        attribute_nan_rows=nan_rows,
        features=table[feature_columns],
        feature_rows=rows.astype(np.int64),
        cell_columns=None,
        times=None if time_column is None else table[time_column],
    )
    return grouped, time


def _series_attributes(
    table: pd.DataFrame,
    columns: list[Hashable],
    lengths: np.ndarray,
    ids: pd.Series,
    rows: np.ndarray,
    source: str,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per series: each attribute's value ([N] frame) and the first row where it is missing ([N, A], -1: none).

    Raises:
        DataFormatError: an attribute takes two values within one series.
    """
    n_rows = len(table)
    offsets = np.cumsum(lengths) - lengths
    sample = np.repeat(np.arange(len(lengths)), lengths)
    position = np.arange(n_rows)
    values = {}
    nan_rows = np.full((len(lengths), len(columns)), -1, dtype=np.int64)
    for a, name in enumerate(columns):
        column = table[name]
        na = column.isna().to_numpy()
        codes, _ = pd.factorize(column)
        first_valid = np.minimum.reduceat(np.where(na, n_rows, position), offsets)  # n_rows: none
        reference = np.where(first_valid < n_rows, first_valid, offsets)  # [N] row holding the series' value
        varies = ~na & (codes != codes[reference][sample])
        if varies.any():
            r = int(np.argmax(varies))
            ref = reference[sample[r]]
            raise DataFormatError(
                source,
                column_label(name),
                int(rows[r]),
                f"attribute varies within series id {show(ids.iloc[sample[r]])}: {show(column.iloc[r])} here but "
                f"{show(column.iloc[ref])} at row {int(rows[ref])}; an attribute must be constant per id",
            )
        first_na = np.minimum.reduceat(np.where(na, position, n_rows), offsets)
        nan_rows[:, a] = np.where(first_na < n_rows, rows[np.minimum(first_na, n_rows - 1)], -1)
        values[name] = column.iloc[reference].reset_index(drop=True)
    return pd.DataFrame(values, index=pd.RangeIndex(len(lengths))), nan_rows


def _group_wide(
    frame: pd.DataFrame,
    id_column: Hashable,
    attribute_columns: list[Hashable],
    steps: list[Hashable],
    source: str,
) -> Grouped:
    """Regroup a wide table: a series ends at its last non-missing step column."""
    ids = frame[id_column]
    _check_key(ids, id_column, source)
    value_class(ids, id_column, source)
    duplicated = ids.duplicated(keep=False).to_numpy()
    if duplicated.any():
        first = int(np.argmax(duplicated))
        again = int(np.flatnonzero(duplicated & (ids == ids.iloc[first]).to_numpy())[1])
        raise DataFormatError(source, column_label(id_column), again,
                              f"duplicate id {show(ids.iloc[first])} (also at row {first}); a wide table has one row "
                              "per series")
    rows = _sort_by_id(frame, id_column, None).astype(np.int64)
    table = frame.iloc[rows].reset_index(drop=True)
    n, s = len(table), len(steps)
    values = _stack(table, steps)
    present = values.notna().to_numpy().reshape(n, s)
    lengths = np.where(present.any(axis=1), s - np.argmax(present[:, ::-1], axis=1), 0).astype(np.int64)
    keep = (np.arange(s)[None, :] < lengths[:, None]).ravel()
    attributes = table[attribute_columns]
    nan_rows = np.where(attributes.isna().to_numpy(), rows[:, None], -1).reshape(n, len(attribute_columns))
    return Grouped(
        ids=table[id_column],
        lengths=lengths,
        attributes=attributes,
        attribute_nan_rows=nan_rows.astype(np.int64),
        features=pd.DataFrame({_WIDE_VALUE: values[keep].reset_index(drop=True)}),
        feature_rows=np.repeat(rows, s)[keep],
        cell_columns=np.tile(np.array(steps, dtype=object), n)[keep],
        times=None,
    )


def _encode(
    grouped: Grouped,
    attributes: tuple[ColumnSpec, ...],
    features: tuple[ColumnSpec, ...],
    feature_names: list[Hashable],
    padded: int,
    start_block: np.ndarray | None,
) -> Dataset:
    """The Dataset of the series: one-hot or binary / [0, 1] values, zero padding to ``padded`` steps.

    ``attributes``: the specs of the attribute columns, then the learned start's if ``start_block``
    (float32 [N, width], its encoding) is given.
    """
    n = grouped.num_series
    columns = attributes if start_block is None else attributes[:-1]
    attribute_blocks = [spec.encode(grouped.attributes[spec.name]) for spec in columns]
    if start_block is not None:
        attribute_blocks.append(start_block)
    data_attribute = np.concatenate(attribute_blocks, axis=1) if attribute_blocks else np.zeros((n, 0), np.float32)
    rows = np.concatenate([spec.encode(grouped.features[name]) for spec, name in zip(features, feature_names)], axis=1)
    data_feature = np.zeros((n, padded, rows.shape[1]), np.float32)
    data_feature[grouped.sample, grouped.step] = rows
    extras = {SERIES_ID: to_array(grouped.ids)}
    if grouped.times is not None:
        extras[SERIES_START] = to_array(grouped.times.iloc[grouped.offsets])
    return Dataset(
        features=data_feature,
        attributes=data_attribute.astype(np.float32),
        gen_flags=flags_from_lengths(grouped.lengths, padded),
        feature_outputs=column_outputs(features),
        attribute_outputs=column_outputs(attributes),
        extras=extras,
    )


# ============================================================================ to_dataframe


def _repeat(name: Hashable, count: int) -> np.ndarray:
    """object [count] array of ``name`` (a tuple name stays one element)."""
    names = np.empty(count, dtype=object)
    names.fill(name)
    return names


def to_dataframe(
    dataset_or_arrays: Dataset | Mapping[str, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray],
    schema: TableSchema,
) -> pd.DataFrame:
    """Turn DoppelGANger arrays (training or generated) back into a table.

    Args:
        dataset_or_arrays: a :class:`~dg_tf.data.Dataset`; a mapping with the
            original keys ``data_feature`` [N, L, K], ``data_attribute``
            [N, A], ``data_gen_flag`` [N, L] (e.g. ``np.load`` of a synthetic
            ``.npz``), optionally ``series_id`` / ``series_start``; or the
            tuple ``(features, attributes, gen_flags)``. Values in the model's
            scale (one-hot or probabilities for discrete columns, [0, 1] for
            continuous ones).
        schema: the schema from :func:`from_dataframe` (or
            :meth:`TableSchema.load`).

    Returns:
        The table with the input's columns, order and dtypes. Long style: one
        row per active step (series with no active step have no row). Wide
        style: one row per series, NaN after its end (a step column that
        needs NaN but had a non-nullable integer or bool dtype becomes
        ``Int64``/``boolean``; steps beyond the last step column are dropped
        with a warning). Discrete values are the argmax level (binary-coded
        columns: the most probable valid level, see
        :mod:`~dg_tf.tabular.columns`); continuous
        values are clipped to the fitted [min, max] (exact within float32
        precision of that range), rounded for integer dtypes. Ids and times:
        see the module docstring.

    Raises:
        DataFormatError: the arrays do not match the schema's layout, or hold
            NaN or Inf.
        TypeError: ``dataset_or_arrays`` is none of the accepted forms.
    """
    features, attributes, gen_flags, extras = _unpack(dataset_or_arrays)
    n = _check_arrays(features, attributes, gen_flags, extras, schema)
    lengths = lengths_from_flags(gen_flags).astype(np.int64)
    ids = _output_ids(extras, schema, n)
    attribute_blocks = split_columns(attributes, schema.attribute_specs)
    attribute_values = {
        spec.name: spec.to_series(spec.decode_raw(block)) for spec, block in zip(schema.attributes, attribute_blocks)
    }
    active = np.arange(features.shape[1])[None, :] < lengths[:, None]
    blocks = split_columns(features[active], schema.features)  # each [R, spec.width], series after series
    if schema.style == "wide":
        return _wide_frame(schema, ids, attribute_values, blocks[0], lengths, SERIES_ID in extras)
    sample = np.repeat(np.arange(n), lengths)
    columns = {schema.id_name: ids.iloc[sample].reset_index(drop=True)}
    if schema.time is not None:
        columns[schema.time.name] = schema.time.values(_starts(extras, schema, attribute_blocks, n), lengths)
    for name, values in attribute_values.items():
        columns[name] = values.iloc[sample].reset_index(drop=True)
    for spec, block in zip(schema.features, blocks):
        columns[spec.name] = spec.to_series(spec.decode_raw(block))
    return pd.DataFrame({name: columns[name] for name in schema.columns}, index=pd.RangeIndex(int(lengths.sum())))


def _starts(
    extras: dict[str, np.ndarray], schema: TableSchema, attribute_blocks: list[np.ndarray], n: int
) -> np.ndarray:
    """[N] first time of each series, numeric form: the stored ones (training data), the generated start
    attribute put on the grid, or the table's most common start (see the module docstring)."""
    if SERIES_START in extras:
        return extras[SERIES_START]
    if schema.start is not None:
        positions = schema.start.to_series(schema.start.decode_raw(attribute_blocks[-1])).to_numpy(np.int64)
        return schema.time.grid_starts(positions)
    return np.full(n, schema.time.start)


def _unpack(data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    if isinstance(data, Dataset):
        return np.asarray(data.features), np.asarray(data.attributes), np.asarray(data.gen_flags), dict(data.extras)
    if isinstance(data, Mapping) or hasattr(data, "files"):  # np.load(...) of an .npz is not a Mapping
        keys = ("data_feature", "data_attribute", "data_gen_flag")
        absent = [k for k in keys if k not in data]
        if absent:
            raise DataFormatError("<arrays>", absent[0], None, "missing array")
        extras = {k: np.asarray(data[k]) for k in (SERIES_ID, SERIES_START) if k in data}
        return (*(np.asarray(data[k]) for k in keys), extras)
    if isinstance(data, (tuple, list)) and len(data) == 3:
        return (*(np.asarray(x) for x in data), {})
    raise TypeError(
        "to_dataframe takes a Dataset, a mapping with data_feature/data_attribute/data_gen_flag, or a tuple "
        f"(features, attributes, gen_flags); got {type(data).__name__}"
    )


def _check_arrays(
    features: np.ndarray, attributes: np.ndarray, gen_flags: np.ndarray, extras: dict[str, np.ndarray],
    schema: TableSchema,
) -> int:
    """N, after checking every array against the schema's layout."""
    k, a = total_dim(schema.feature_outputs), total_dim(schema.attribute_outputs)
    if features.ndim != 3 or features.shape[2] != k:
        raise DataFormatError("<arrays>", "data_feature", None,
                              f"shape {features.shape} must be [N, L, {k}] for this schema")
    n, length = features.shape[:2]
    if attributes.shape != (n, a):
        raise DataFormatError("<arrays>", "data_attribute", None, f"shape {attributes.shape} must be [{n}, {a}]")
    if gen_flags.shape != (n, length):
        raise DataFormatError("<arrays>", "data_gen_flag", None, f"shape {gen_flags.shape} must be [{n}, {length}]")
    for key, value in extras.items():
        if value.shape != (n,):
            raise DataFormatError("<arrays>", key, None, f"shape {value.shape} must be [{n}]")
    for key, value in (("data_feature", features), ("data_attribute", attributes), ("data_gen_flag", gen_flags)):
        bad = ~np.isfinite(value)
        if bad.any():  # would silently become missing values or the first category
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataFormatError("<arrays>", key, index, f"value {value[index]} is not finite (NaN or Inf)")
    return n


def _output_ids(extras: dict[str, np.ndarray], schema: TableSchema, n: int) -> pd.Series:
    """[N] ids: the stored ones, or new ones for generated series (see the module docstring)."""
    if SERIES_ID in extras:
        return from_array(extras[SERIES_ID], schema.id_dtype)
    dtype = schema.id_dtype
    base = dtype.categories.dtype if isinstance(dtype, pd.CategoricalDtype) else dtype
    if is_integer_dtype(base) or pd.api.types.is_float_dtype(base):
        new = pd.Series(np.arange(n)).astype(base)
        if not new.is_unique:  # e.g. 300 series and uint8 ids: numbering must not wrap around
            logger.warning("%d new ids do not fit the id dtype %s; numbering them as int64", n, base)
            new = pd.Series(np.arange(n))
    else:
        text = base if isinstance(base, pd.StringDtype) or base == object else "str"
        new = pd.Series([f"synthetic-{i}" for i in range(n)]).astype(text)
    if isinstance(dtype, pd.CategoricalDtype):
        return new.astype(pd.CategoricalDtype(new, ordered=dtype.ordered))
    return new


def _wide_frame(
    schema: TableSchema,
    ids: pd.Series,
    attribute_values: dict[Hashable, pd.Series],
    block: np.ndarray,
    lengths: np.ndarray,
    known_ids: bool,
) -> pd.DataFrame:
    """One row per id; pieces of a split series (same stored id) are joined back in order."""
    n = len(lengths)
    codes = pd.factorize(ids)[0] if known_ids else np.arange(n)  # output row of each series
    first = np.unique(codes, return_index=True)[1]  # first series of each output row
    order = np.argsort(codes, kind="stable")
    starts = np.cumsum(lengths[order]) - lengths[order]
    group_first = np.searchsorted(codes[order], codes[order], side="left")
    offset = np.empty(n, dtype=np.int64)
    offset[order] = starts - starts[group_first]  # steps of earlier pieces of the same row
    sample = np.repeat(np.arange(n), lengths)
    step = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths) + offset[sample]
    width = len(schema.step_columns)
    inside = step < width
    if not inside.all():
        logger.warning(
            "dropped %d generated steps beyond the table's %d step columns", int((~inside).sum()), width
        )
    spec = schema.features[0]
    continuous = spec.kind == CONTINUOUS  # raw values: floats (NaN = absent) or level codes (-1 = absent)
    matrix = np.full((len(first), width), np.nan if continuous else -1, np.float64 if continuous else np.int64)
    matrix[codes[sample][inside], step[inside]] = spec.decode_raw(block)[inside]
    columns = {schema.id_name: ids.iloc[first].reset_index(drop=True)}
    for name, values in attribute_values.items():
        columns[name] = values.iloc[first].reset_index(drop=True)
    for j, (name, dtype) in enumerate(zip(schema.step_columns, schema.step_dtypes)):
        columns[name] = spec.to_series(matrix[:, j], dtype)
    return pd.DataFrame({name: columns[name] for name in schema.columns}, index=pd.RangeIndex(len(first)))
