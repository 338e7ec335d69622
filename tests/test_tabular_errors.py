"""Malformed tables: each gets one clear DataFormatError naming source, column and row or id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dg_tf import ConfigError, DataFormatError, from_dataframe
from test_tabular_frames import long_kwargs, make_long_table, make_wide_table, wide_kwargs


def small_table(ids: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Two integer-stepped series ``ids[0]`` (3 steps, rows 0-2) and ``ids[1]`` (2 steps, rows 3-4)."""
    first, second = ids
    return pd.DataFrame({
        "id": [first, first, first, second, second],
        "t": [0, 1, 2, 0, 1],
        "group": ["x", "x", "x", "y", "y"],
        "value": [1.0, 2.0, 3.0, 4.0, 5.0],
        "label": ["p", "q", "p", "q", "q"],
    })


def convert(df, source="table.csv", **overrides):
    kwargs = dict(id_column="id", time_column="t", attribute_columns=["group"], feature_columns=["value", "label"],
                  source=source)
    kwargs.update(overrides)
    return from_dataframe(df, **kwargs)


def expect_error(df, pattern, *, column=None, index=None, **overrides) -> DataFormatError:
    before = df.copy()
    with pytest.raises(DataFormatError, match=pattern) as info:
        convert(df, **overrides)
    error = info.value
    assert error.file == "table.csv" and str(error).startswith("table.csv: ")
    if column is not None:
        assert error.array == f"column {column!r}"
    if index is not None:
        assert error.index == index
    pd.testing.assert_frame_equal(df, before)  # the input is never modified
    return error


def test_small_table_is_valid():
    dataset, _ = convert(small_table())
    np.testing.assert_array_equal(dataset.lengths, [3, 2])


def test_mixed_types_name_column_and_row():
    df = small_table()
    df["value"] = pd.Series([1.0, 2.0, "three", 4.0, 5.0], dtype=object)
    expect_error(df, r"mixed types \(4 number, 1 string\): value 'three'", column="value", index=2)
    df = small_table()
    df["group"] = pd.Series(["x", "x", "x", 7, "y"], dtype=object)
    expect_error(df, "mixed types", column="group", index=3)


def test_attribute_varying_within_an_id_names_id_column_and_rows():
    df = small_table()
    df.loc[4, "group"] = "z"
    expect_error(df, r"attribute varies within series id 'b': 'z' here but 'y' at row 3", column="group", index=4)


def test_duplicate_id_time_pair():
    df = small_table()
    df.loc[2, "t"] = 1
    expect_error(df, r"series id 'a': duplicate \(id, time\) pair: time 1 is also at row 1", column="t")


def test_irregular_time_spacing_names_id_and_row():
    df = small_table()
    df.loc[2, "t"] = 5
    expect_error(df, r"series id 'a': irregular time spacing: 5 follows 1, but the table's step is 1",
                 column="t", index=2)
    df = pd.DataFrame({"id": [1] * 4 + [2] * 4,
                       "t": list(pd.date_range("2020-01-01", periods=4, freq="MS"))
                       + list(pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-15", "2020-04-01"])),
                       "group": "g", "value": 1.0, "label": "p"})
    expect_error(df, r"series id 2: irregular time spacing: time 2020-03-15 00:00:00, expected 2020-03-01 .*'MS'",
                 column="t", index=6)


def test_rows_are_sorted_by_time_within_an_id_first():
    df = small_table().iloc[[2, 0, 4, 1, 3]]
    dataset, schema = convert(df)
    np.testing.assert_array_equal(dataset.lengths, [3, 2])


def test_empty_table_and_single_row():
    expect_error(small_table().iloc[:0], "the table is empty", index=None)
    expect_error(small_table().iloc[:1], "the table has 1 series; DoppelGANger needs at least 2 series",
                 column="id")
    expect_error(small_table().iloc[:3], "the table has 1 series", column="id")


def test_fewer_than_two_series_left_after_dropping():
    df = small_table()
    df.loc[3, "value"] = np.nan
    expect_error(df, "1 series left after dropping 1 with missing values", missing="drop")


def test_non_numeric_continuous_column():
    df = small_table()
    expect_error(df, r"listed in continuous_columns but holds non-numeric values \(string: 'p'\)",
                 column="label", index=0, continuous_columns=["label"])
    df["label"] = pd.Categorical(df["label"])
    expect_error(df, "non-numeric values", column="label", continuous_columns=["label"])


def test_infinite_values():
    df = small_table()
    df.loc[3, "value"] = np.inf
    expect_error(df, "infinite value inf is not allowed", column="value", index=3)


def test_missing_value_in_id_or_time():
    df = small_table()
    df.loc[1, "id"] = None
    expect_error(df, "missing value in the id/time column", column="id", index=1)
    df = small_table().astype({"t": "float64"})
    df.loc[4, "t"] = np.nan
    expect_error(df, "missing value in the id/time column", column="t", index=4)


def test_text_time_column_asks_for_parsing():
    df = small_table()
    df["t"] = ["2020-01-0%d" % (i + 1) for i in [0, 1, 2, 0, 1]]
    expect_error(df, "time column holds string values.*pandas.to_datetime", column="t")


@pytest.mark.parametrize(
    "overrides, column, pattern",
    [
        (dict(feature_columns=["value", "nope"]), "nope", "feature_columns names a column the table does not have"),
        (dict(feature_columns=["value", "value"]), "value", "listed twice"),
        (dict(attribute_columns=["group", "value"]), "value", r"listed twice \(in attribute_columns and feature"),
        (dict(attribute_columns=["id"]), "id", r"listed twice \(in id_column and attribute_columns\)"),
        (dict(feature_columns=["value", "t"]), "t", r"listed twice \(in time_column and feature_columns\)"),
        (dict(time_column="id"), "id", "listed twice"),
        (dict(discrete_columns=["t"]), "t", "discrete_columns names a column that is not an attribute or feature"),
        (dict(discrete_columns=["value"], continuous_columns=["value"]), "value", "both discrete_columns and"),
        (dict(feature_columns=["value", ("a", "b")]), ("a", "b"), "strings or integers"),
    ],
)
def test_column_listing_errors(overrides, column, pattern):
    expect_error(small_table(), pattern, column=column, **overrides)


def test_duplicate_column_names():
    df = small_table()
    df.columns = ["id", "t", "group", "value", "value"]
    expect_error(df, "two columns of this name", column="value", feature_columns=["value"])


@pytest.mark.parametrize(
    "overrides, pattern",
    [
        (dict(style="tall"), "style='tall' must be one of 'long', 'wide'"),
        (dict(missing="zero"), "missing='zero' must be one of"),
        (dict(long_series="wrap"), "long_series='wrap' must be one of"),
        (dict(max_length=0), "max_length=0 must be a positive integer"),
        (dict(sample_len=2.5), "sample_len=2.5 must be a positive integer"),
        (dict(integer_discrete_max_levels=True), "integer_discrete_max_levels=True"),
        (dict(feature_columns=[]), "feature_columns must name at least one column"),
        (dict(style="wide"), "time_column='t' must be None for style='wide'"),
    ],
)
def test_option_errors(overrides, pattern):
    with pytest.raises(ConfigError, match=pattern):
        convert(small_table(), **overrides)


def test_datetime_feature_needs_an_explicit_kind():
    df = small_table()
    df["when"] = pd.Timestamp("2020-01-01")
    expect_error(df, "datetime values cannot be an attribute or feature by default; list the column in "
                 "discrete_columns", column="when", feature_columns=["value", "when"])
    dataset, schema = convert(df, feature_columns=["value", "when"], discrete_columns=["when"])
    assert dataset.feature_outputs[1].dim == 1


def test_long_series_error_names_the_id():
    df = make_long_table()
    with pytest.raises(DataFormatError, match="series id 's3' has 6 steps, more than max_length=5") as info:
        from_dataframe(df, **long_kwargs(max_length=5))
    assert info.value.array == "column 'id'" and df.loc[info.value.index, "id"] == "s3"


def test_wide_table_errors():
    df = make_wide_table()
    df.loc[2, "sid"] = 10
    with pytest.raises(DataFormatError, match="duplicate id 10 .also at row 1.; a wide table has one row per series"):
        from_dataframe(df, **wide_kwargs())
    df = make_wide_table()
    df["t3"] = df["t3"].astype(object)
    df.loc[0, "t3"] = "six"
    with pytest.raises(DataFormatError, match="mixed types") as info:
        from_dataframe(df, **wide_kwargs())
    assert info.value.array == "column 't3'" and info.value.index == 0
    df = make_wide_table()
    df["t5"] = ["x", None, None, None, None]
    with pytest.raises(DataFormatError, match="step columns mix types: this one holds string values") as info:
        from_dataframe(df, **wide_kwargs())
    assert info.value.array == "column 't5'"
    with pytest.raises(DataFormatError, match="discrete_columns lists some step columns but not this one"):
        from_dataframe(make_wide_table(), **wide_kwargs(discrete_columns=["t0"]))
