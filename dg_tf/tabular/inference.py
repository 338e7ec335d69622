"""Column type inference: which columns become categorical and which continuous.

DoppelGANger models every attribute and feature as either a categorical
variable (one-hot, softmax output; binary-coded when it has many levels) or a
continuous one (scaled to a range,
paper §3.2 and §4.2). A table does not say which is which; this module
decides from the pandas dtype, and the user can override it:

* ``category``, ``bool``/``boolean`` and string columns are discrete;
* numeric columns are continuous, except that with
  ``integer_discrete_max_levels=k`` an integer column with at most ``k``
  distinct values is discrete (a float column whose values are all whole
  numbers counts as an integer column: that is what an integer column with a
  missing value becomes in a CSV file);
* ``discrete_columns`` forces discrete (any dtype, including datetimes);
  ``continuous_columns`` forces continuous (numbers and bools only).

A text column that mixes words with numbers or booleans written as text
(``"1"``, ``"2.5"``, ``"oops"``: what a numeric CSV column with one stray
value becomes; ``"A"``, ``"B"``, ``"3"``: a number among labels; ``"True"``,
``"False"``, ``"yes"``: a word in a boolean column) is an error naming the
first value of its rarest kind, unless the column is listed in
``discrete_columns`` (then every value is a label): encoding it as categories
would silently turn a typo or a measurement into a category. A text column of
numbers only, of booleans only or of words only is fine, however many
distinct values it has: above ``max_onehot_levels`` levels a discrete column
is binary-coded (``ceil(log2(levels))`` bits) rather than one-hot, so even
tens of thousands of levels fit in memory (see :mod:`~dg_tf.tabular.columns`).

Object columns are classified by their values; a column that mixes types
(strings and numbers, numbers and bools, ...) is an error naming the first
value that is not of the column's majority type; a column of one unsupported
type (lists, bytes, ...) and datetimes kept as Python objects (dtype
``object``) are errors too. Infinite numbers are an error as well (they are
not missing values and cannot be scaled).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from dg_tf.errors import DataFormatError
from dg_tf.limits import brief

__all__ = [
    "ValueClass",
    "DISCRETE",
    "CONTINUOUS",
    "value_class",
    "numeric_values",
    "infer_kind",
    "column_label",
    "show",
]

#: The value classes :func:`value_class` returns.
ValueClass = str
CATEGORY, BOOL, STRING, INTEGER, FLOAT, DATETIME, TIMEDELTA = (
    "category", "bool", "string", "integer", "float", "datetime", "timedelta",
)
NUMBERS = (INTEGER, FLOAT)

#: The two kinds of a column.
DISCRETE = "discrete"
CONTINUOUS = "continuous"

# pandas.api.types.infer_dtype results of object columns -> value class.
_OBJECT_CLASSES = {
    "string": STRING,
    "boolean": BOOL,
    "integer": INTEGER,
    "floating": FLOAT,
    "mixed-integer-float": FLOAT,
    "decimal": FLOAT,
    "empty": FLOAT,
    "datetime": DATETIME,
    "datetime64": DATETIME,
    "timedelta": TIMEDELTA,
    "timedelta64": TIMEDELTA,
}


def show(value: Any) -> str:
    """How errors show a value: ``'a'``, ``3``, ``2.5``, ``2020-01-01 00:00:00`` (no numpy wrappers; bounded)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (pd.Timestamp, pd.Timedelta)):
        return str(value)
    return brief(value)


def column_label(name: Hashable) -> str:
    """How errors name a column: ``column 'dim_0'``."""
    return f"column {show(name)}"


def _python_class(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, str):
        return STRING
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return DATETIME
    return type(value).__name__


def _mixed_types_error(series: pd.Series, name: Hashable, source: str) -> DataFormatError:
    values = series.dropna()
    classes = values.map(_python_class)
    counts = Counter(classes)
    majority = counts.most_common(1)[0][0]
    if len(counts) == 1:  # one type, but not one a table column can hold (lists, dicts, bytes, ...)
        return DataFormatError(
            source, column_label(name), int(values.index[0]),
            f"unsupported values of type {type(values.iloc[0]).__name__} (e.g. {show(values.iloc[0])}); a column "
            "must hold numbers, bools, strings, categories, datetimes or timedeltas",
        )
    first = int(np.flatnonzero((classes != majority).to_numpy())[0])
    row = int(values.index[first])
    summary = ", ".join(f"{n} {cls}" for cls, n in counts.most_common())
    return DataFormatError(
        source,
        column_label(name),
        row,
        f"mixed types ({summary}): value {show(values.iloc[first])} of type {type(values.iloc[first]).__name__} "
        f"among {majority} values; every column must hold one type",
    )


def value_class(series: pd.Series, name: Hashable, source: str) -> ValueClass:
    """The class of the values of one column, after checking them.

    Args:
        series: the column; its index must be the positional row number
            (a RangeIndex), which errors report.
        name: the column's name, for errors.
        source: the table's file or ``"<DataFrame>"``, for errors.

    Returns:
        ``"category"``, ``"bool"``, ``"string"``, ``"integer"``, ``"float"``,
        ``"datetime"`` or ``"timedelta"``.

    Raises:
        DataFormatError: the column mixes types, has an unsupported dtype
            (e.g. complex, interval) or holds an infinite number; the index
            is the first offending row.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        try:  # the categories themselves must be of a supported type
            value_class(pd.Series(dtype.categories), name, source)
        except DataFormatError as exc:
            raise DataFormatError(source, column_label(name), None, f"categories: {exc.rule}") from exc
        return CATEGORY
    if pd.api.types.is_bool_dtype(dtype) and dtype != object:
        return BOOL
    if isinstance(dtype, pd.StringDtype):
        return STRING
    if pd.api.types.is_integer_dtype(dtype):
        return INTEGER
    if pd.api.types.is_float_dtype(dtype):
        _check_finite(numeric_values(series), series, name, source)
        return FLOAT
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    if pd.api.types.is_timedelta64_dtype(dtype):
        return TIMEDELTA
    if dtype == object:
        cls = _OBJECT_CLASSES.get(pd.api.types.infer_dtype(series, skipna=True))
        if cls is None:
            raise _mixed_types_error(series, name, source)
        if cls in (DATETIME, TIMEDELTA):  # Timestamp objects: maybe several time zones, no array form
            present = series.dropna()
            raise DataFormatError(
                source, column_label(name), int(present.index[0]),
                f"{cls} values stored as Python objects (dtype object); convert the column with "
                f"pandas.to_{cls} (one time zone) first",
            )
        if cls in NUMBERS:
            _check_finite(_object_numbers(series, name, source), series, name, source)
        return cls
    raise DataFormatError(source, column_label(name), None, f"unsupported dtype {dtype}")


def _check_finite(values: np.ndarray, series: pd.Series, name: Hashable, source: str) -> None:
    bad = np.isinf(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataFormatError(
            source, column_label(name), int(series.index[row]), f"infinite value {show(values[row])} is not allowed"
        )


def _object_numbers(series: pd.Series, name: Hashable, source: str) -> np.ndarray:
    """:func:`numeric_values` of Python numbers, refusing an integer beyond float64 (``10**400`` in a CSV)."""
    try:
        return numeric_values(series)
    except OverflowError:
        row = next(i for i, v in series.items() if isinstance(v, int) and abs(v) >= 2**1024)
        raise DataFormatError(source, column_label(name), int(row),
                              f"integer {brief(series[row])} is beyond what float64 holds") from None


def numeric_values(series: pd.Series) -> np.ndarray:
    """float64 [n] values of a numeric or bool column; NaN where missing."""
    if series.dtype == object:
        series = pd.to_numeric(series)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _is_integer_valued(series: pd.Series, cls: ValueClass) -> bool:
    if cls == INTEGER:
        return True
    if cls != FLOAT:
        return False
    values = numeric_values(series)
    values = values[~np.isnan(values)]
    return bool(np.all(values == np.round(values)))


#: Text that pandas reads as a boolean in a CSV column of booleans only.
_BOOLEAN_WORDS = frozenset({"True", "False", "true", "false", "TRUE", "FALSE"})


def _text_kinds(levels: pd.Series) -> np.ndarray:
    """``"number"``, ``"boolean"`` or ``"word"`` for each distinct text value."""
    numeric = pd.to_numeric(levels.astype(object), errors="coerce").notna().to_numpy()
    boolean = levels.isin(_BOOLEAN_WORDS).to_numpy()
    return np.where(numeric, "number", np.where(boolean, "boolean", "word"))


def _check_text(series: pd.Series, name: Hashable, source: str, cell_columns: np.ndarray | None) -> None:
    """A text column's values must all be of one kind (module docstring).

    Columns in ``discrete_columns`` skip this. ``cell_columns`` [n]: the
    column of each value (wide tables), else ``name``.
    """
    present = series.dropna()
    levels = pd.Series(present.unique())
    kinds = pd.Series(_text_kinds(levels), index=levels.to_numpy()).reindex(present.to_numpy()).to_numpy()
    counts = Counter(kinds)
    if len(counts) < 2:
        return
    rarest, majority = counts.most_common()[-1][0], counts.most_common(1)[0][0]
    first, example = int(np.argmax(kinds == rarest)), int(np.argmax(kinds == majority))
    column = name if cell_columns is None else cell_columns[np.flatnonzero(series.notna().to_numpy())[first]]
    summary = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in counts.most_common())
    raise DataFormatError(
        source,
        column_label(column),
        int(present.index[first]),
        f"mixed types in a text column ({summary} written as text): {rarest} {show(present.iloc[first])} among "
        f"{majority}s such as {show(present.iloc[example])} (a numeric or boolean CSV column with one stray value "
        "is read as text); fix the value, or list the column in discrete_columns if every value is a label",
    )


def infer_kind(
    series: pd.Series,
    cls: ValueClass,
    name: Hashable,
    *,
    force_discrete: bool,
    force_continuous: bool,
    integer_discrete_max_levels: int | None,
    source: str,
    cell_columns: np.ndarray | None = None,
) -> str:
    """``"discrete"`` or ``"continuous"`` for one column (rules in the module docstring).

    Args:
        series: the column (positional RangeIndex).
        cls: its class from :func:`value_class`.
        name: the column's name, for errors.
        force_discrete: the column is in ``discrete_columns``.
        force_continuous: the column is in ``continuous_columns``.
        integer_discrete_max_levels: integer columns with at most this many
            distinct values are discrete; ``None``: integers are continuous.
        source: the table's file or ``"<DataFrame>"``, for errors.
        cell_columns: wide tables: [n] the step column of each value of
            ``series`` (whose index is then each value's row), for errors.

    Raises:
        DataFormatError: a column forced continuous holds non-numbers (the
            index is its first non-missing row), a text column mixes numbers
            and words (unless forced discrete), or a datetime/timedelta column
            is not forced discrete.
    """
    if force_discrete:
        return DISCRETE
    if force_continuous:
        if cls in NUMBERS or cls == BOOL:
            return CONTINUOUS
        present = series.dropna()
        row = int(present.index[0]) if len(present) else None
        example = f": {show(present.iloc[0])}" if len(present) else ""
        raise DataFormatError(
            source,
            column_label(name),
            row,
            f"listed in continuous_columns but holds non-numeric values ({cls}{example}); "
            "a continuous column must hold numbers (convert it with pandas.to_numeric)",
        )
    if cls == STRING:
        _check_text(series, name, source, cell_columns)
    if cls in (CATEGORY, BOOL, STRING):
        return DISCRETE
    if cls in NUMBERS:
        if integer_discrete_max_levels is not None and _is_integer_valued(series, cls):
            if series.nunique(dropna=True) <= integer_discrete_max_levels:
                return DISCRETE
        return CONTINUOUS
    raise DataFormatError(
        source,
        column_label(name),
        None,
        f"{cls} values cannot be an attribute or feature by default; list the column in discrete_columns "
        "to treat its values as categories, or convert it to numbers (e.g. days since a date)",
    )
