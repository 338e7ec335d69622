"""pandas dtypes and values to and from JSON, and casting decoded values back.

A :class:`~dg_tf.tabular.schema.TableSchema` must give back every column with
the dtype the user's table had (paper §3: the generated data is meant to be
shared and used like the real data, so it has to look like it). This module
holds the small, pure helpers that make that exact:

* :func:`dtype_to_json` / :func:`dtype_from_json`: any pandas dtype the
  tabular reader accepts (numpy and nullable numbers, ``bool``/``boolean``,
  ``str``/``string`` with their storage, ``object``, ``category`` with its
  categories, their dtype and order, ``datetime64[unit(, tz)]``,
  ``timedelta64[unit]``) as a JSON object and back;
* :func:`value_to_json` / :func:`values_from_json`: category levels and time
  values as JSON scalars (timestamps as ISO 8601 strings) and back, in a
  given dtype; :func:`name_to_json` / :func:`name_from_json`: column names
  (text, integers or timestamps);
* :func:`cast`: values to a dtype, rounding for integer dtypes and switching
  a non-nullable integer or ``bool`` dtype to its nullable twin (``Int64``,
  ``boolean``, ...) only where some values are missing;
* :func:`to_array` / :func:`from_array`: a column as a plain NumPy array that
  an ``.npz`` file can hold without pickling (strings as ``<U``, datetimes and
  timedeltas as int64 ticks of their unit, UTC for time-zone-aware ones) and
  back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "dtype_to_json",
    "dtype_from_json",
    "value_to_json",
    "values_from_json",
    "name_to_json",
    "name_from_json",
    "is_integer_dtype",
    "is_bool_dtype",
    "nullable",
    "cast",
    "is_time_dtype",
    "tick",
    "to_array",
    "from_array",
]


def dtype_to_json(dtype: Any) -> dict[str, Any]:
    """JSON form of a pandas/numpy dtype; inverse of :func:`dtype_from_json`.

    Args:
        dtype: the dtype of a column.

    Returns:
        ``{"name": str(dtype)}``, plus ``categories``, ``categories_dtype`` and
        ``ordered`` for a categorical, ``storage`` and ``na_value`` for a
        string dtype.

    Raises:
        TypeError: the dtype does not survive the trip through its name
            (e.g. a sparse or interval dtype), or a category is not JSON-able.
    """
    dtype = pd.api.types.pandas_dtype(dtype)
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return {
            "name": "category",
            "ordered": bool(dtype.ordered),
            "categories_dtype": dtype_to_json(categories.dtype),
            "categories": [value_to_json(v) for v in categories],
        }
    if isinstance(dtype, pd.StringDtype):
        return {
            "name": str(dtype),
            "storage": dtype.storage,
            "na_value": "NA" if dtype.na_value is pd.NA else "nan",
        }
    name = str(dtype)
    try:
        same = pd.api.types.pandas_dtype(name) == dtype
    except TypeError:
        same = False
    if not same:
        raise TypeError(f"dtype {name!r} cannot be stored in a table schema")
    return {"name": name}


def dtype_from_json(data: dict[str, Any]) -> Any:
    """The dtype described by ``data`` (see :func:`dtype_to_json`).

    Raises:
        KeyError / TypeError / ValueError: ``data`` is not such a description.
    """
    name = data["name"]
    if name == "category":
        categories_dtype = dtype_from_json(data["categories_dtype"])
        categories = values_from_json(data["categories"], categories_dtype)
        return pd.CategoricalDtype(categories, ordered=bool(data["ordered"]))
    if "storage" in data:
        na_value = pd.NA if data["na_value"] == "NA" else np.nan
        return pd.StringDtype(storage=data["storage"], na_value=na_value)
    return pd.api.types.pandas_dtype(name)


def value_to_json(value: Any) -> bool | int | float | str:
    """A level or time value as a JSON scalar (timestamps as ISO 8601 text).

    Raises:
        TypeError: the value is missing, infinite or of an unsupported type.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise TypeError(f"value {value!r} is not finite")
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)) and not pd.isna(value):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (pd.Timedelta, np.timedelta64)) and not pd.isna(value):
        return str(pd.Timedelta(value))
    raise TypeError(f"value {value!r} of type {type(value).__name__} cannot be stored in a table schema")


def values_from_json(values: Sequence[Any], dtype: Any) -> pd.Index:
    """Inverse of :func:`value_to_json` for a list of values of one ``dtype``."""
    dtype = pd.api.types.pandas_dtype(dtype)
    values = list(values)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(pd.to_datetime(values, utc=True, format="ISO8601")).tz_convert(dtype.tz).astype(dtype)
    if pd.api.types.is_datetime64_dtype(dtype):
        return pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601")).astype(dtype)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return pd.TimedeltaIndex(pd.to_timedelta(values)).astype(dtype)
    return pd.Index(values, dtype=object).astype(dtype)


def name_to_json(name: Any) -> Any:
    """A column name as JSON: text and integers as they are, ``None`` as null, timestamps tagged.

    Wide tables pivoted from a long one have timestamps as column names;
    they are stored as ``{"timestamp": ISO 8601 text, "tz": zone or null}``.

    Raises:
        TypeError: any other kind of name.
    """
    if name is None or isinstance(name, str):
        return name
    if isinstance(name, (int, np.integer)) and not isinstance(name, (bool, np.bool_)):
        return int(name)
    if isinstance(name, pd.Timestamp) and not pd.isna(name):
        return {"timestamp": name.isoformat(), "tz": None if name.tz is None else str(name.tz)}
    raise TypeError(f"column name {name!r} of type {type(name).__name__} cannot be stored in a table schema")


def name_from_json(data: Any) -> Any:
    """Inverse of :func:`name_to_json`."""
    if isinstance(data, dict):
        stamp = pd.Timestamp(data["timestamp"])
        return stamp if data["tz"] is None else stamp.tz_convert(data["tz"])
    return data


def is_integer_dtype(dtype: Any) -> bool:
    """True for numpy and nullable integer dtypes (not bool, not categorical)."""
    return pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)


def is_bool_dtype(dtype: Any) -> bool:
    """True for ``bool`` and ``boolean`` (not for object or categorical columns)."""
    return pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype) and dtype != object


def nullable(dtype: Any) -> Any:
    """The dtype that can hold missing values: ``int32`` -> ``Int32``, ``bool`` -> ``boolean``.

    Every other dtype (float, string, categorical, datetime, nullable ones)
    already holds missing values and is returned unchanged.
    """
    dtype = pd.api.types.pandas_dtype(dtype)
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iu":
            return pd.api.types.pandas_dtype(str(dtype).capitalize().replace("Uint", "UInt"))
        if dtype.kind == "b":
            return pd.BooleanDtype()
    return dtype


def cast(values: pd.Series | np.ndarray, dtype: Any) -> pd.Series:
    """Cast decoded values to a column's dtype.

    Numbers cast to an integer dtype are rounded first (``np.rint``); numbers
    cast to a bool dtype become ``value >= 0.5``. Where some values are
    missing, a non-nullable integer or bool dtype becomes its nullable twin
    (:func:`nullable`) instead of failing; the result keeps the dtype
    otherwise.

    Args:
        values: [n] numbers (float, NaN = missing) or labels (a Series,
            possibly categorical, NaN = missing).
        dtype: the target dtype.

    Returns:
        A Series [n] with a fresh RangeIndex.
    """
    series = pd.Series(values).reset_index(drop=True)
    dtype = pd.api.types.pandas_dtype(dtype)
    missing = series.isna()
    if missing.any():
        dtype = nullable(dtype)
    if pd.api.types.is_float_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if is_bool_dtype(dtype):
            result = pd.Series(numbers >= 0.5).astype(dtype)
            result[missing.to_numpy()] = pd.NA
            return result
        if is_integer_dtype(dtype):
            series = pd.Series(np.rint(numbers))
    return series.astype(dtype)


def _unit(dtype: Any) -> str:
    """Tick unit of a datetime or timedelta dtype ("ns", "us", ...)."""
    return np.datetime_data(dtype)[0] if isinstance(dtype, np.dtype) else dtype.unit


def is_time_dtype(dtype: Any) -> bool:
    """True for datetime (naive or time-zone-aware) and timedelta dtypes."""
    return pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)


def tick(dtype: Any) -> pd.Timedelta:
    """One tick of a datetime or timedelta dtype's unit (e.g. 1 microsecond)."""
    return pd.Timedelta(1, unit=_unit(dtype))


def to_array(series: pd.Series) -> np.ndarray:
    """[n] values as a plain (non-object) NumPy array; inverse of :func:`from_array`.

    Integers become int64, floats float64, bools bool, strings ``<U``,
    datetimes and timedeltas int64 ticks of their unit (time-zone-aware
    datetimes counted from the UTC epoch), categoricals their categories'
    values. No value may be missing.

    Raises:
        TypeError: the values have no plain array form (e.g. mixed objects).
    """
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(None)
    if is_time_dtype(dtype):
        return series.to_numpy().view(np.int64)
    if is_integer_dtype(dtype):
        return series.to_numpy(dtype=np.int64)
    array = np.array(series.tolist())
    if array.dtype.hasobject or array.ndim != 1:
        raise TypeError(f"values of dtype {dtype} have no plain array form")
    return array


def from_array(values: np.ndarray, dtype: Any) -> pd.Series:
    """Inverse of :func:`to_array`: [n] values in ``dtype`` (RangeIndex)."""
    dtype = pd.api.types.pandas_dtype(dtype)
    if is_time_dtype(dtype):
        kind = "M" if pd.api.types.is_datetime64_any_dtype(dtype) else "m"
        raw = np.asarray(values, dtype=np.int64).view(f"{kind}8[{_unit(dtype)}]")
        if isinstance(dtype, pd.DatetimeTZDtype):
            return pd.Series(pd.DatetimeIndex(raw).tz_localize("UTC").tz_convert(dtype.tz))
        return pd.Series(raw)
    return cast(pd.Series(np.asarray(values)), dtype)
