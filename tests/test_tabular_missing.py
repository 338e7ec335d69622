"""Missing values: error (listing cells), drop, interpolate; never silently zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dg_tf import DataFormatError, from_dataframe, to_dataframe
from test_tabular_frames import make_wide_table, wide_kwargs


def gappy_table() -> pd.DataFrame:
    """Four series of 5 integer steps: 'a' and 'd' complete; 'b' has gaps in x (inner and leading), n and
    the label s; 'c' a trailing gap in x."""
    return pd.DataFrame({
        "id": ["a"] * 5 + ["b"] * 5 + ["c"] * 5 + ["d"] * 5,
        "t": list(range(5)) * 4,
        "g": ["u"] * 5 + ["v"] * 5 + ["u"] * 5 + ["v"] * 5,
        "x": [1.0, 2, 3, 4, 5, np.nan, 10, np.nan, np.nan, 40, 7, 7, 7, 7, np.nan, 0, 1, 0, 1, 0],
        "n": pd.array([1, 2, 3, 4, 5, 6, None, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0], dtype="Int64"),
        "s": ["p", "q", "p", "q", "p", "q", None, "p", None, "q", "p", "p", "p", "p", "p", "q", "q", "q", "q", "q"],
    })


def convert(df, **overrides):
    kwargs = dict(id_column="id", time_column="t", attribute_columns=["g"], feature_columns=["x", "n", "s"],
                  source="gaps.csv")
    kwargs.update(overrides)
    return from_dataframe(df, **kwargs)


def test_error_lists_first_cells_and_counts():
    with pytest.raises(DataFormatError) as info:
        convert(gappy_table())
    message = str(info.value)
    assert message.startswith("gaps.csv: column 'x' at index 5: 7 missing values (NaN/None) in 2 of 4 series: ")
    assert ("id 'b' column 'x' row 5; id 'b' column 'n' row 6; id 'b' column 's' row 6; id 'b' column 'x' row 7; "
            "id 'b' column 'x' row 8; and 2 more") in message
    assert "missing='drop'" in message and "missing='interpolate'" in message


def test_drop_removes_incomplete_series(caplog):
    with caplog.at_level("WARNING"):
        dataset, schema = convert(gappy_table(), missing="drop")
    assert "dropped 2 of 4 series with missing values" in caplog.text
    assert list(dataset.extras["series_id"]) == ["a", "d"] and schema.num_series == 2
    out = to_dataframe(dataset, schema)
    expected = gappy_table().iloc[list(range(5)) + list(range(15, 20))].reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, atol=1e-5)


def test_interpolate_fills_linearly_inside_and_nearest_at_edges():
    df = gappy_table()
    dataset, schema = convert(df, missing="interpolate")
    out = to_dataframe(dataset, schema)
    b = out[out["id"] == "b"]
    np.testing.assert_allclose(b["x"], [10, 10, 20, 30, 40], atol=1e-5)  # edge, given, linear, linear, given
    assert list(b["n"]) == [6, 7, 8, 9, 10] and b["n"].dtype == "Int64"  # interpolated, then rounded
    assert list(b["s"]) == ["q", "q", "p", "p", "q"]  # discrete: previous valid value
    c = out[out["id"] == "c"]
    np.testing.assert_allclose(c["x"], [7] * 5, atol=1e-5)  # trailing gap takes the last valid value
    a = out[out["id"] == "a"]
    np.testing.assert_allclose(a["x"], [1, 2, 3, 4, 5], atol=1e-5)
    assert not np.isnan(dataset.features).any()
    assert df["x"].isna().sum() == 4  # the input is untouched


def test_interpolate_never_fills_attributes_or_empty_columns():
    df = gappy_table()
    df.loc[12, "g"] = None
    with pytest.raises(DataFormatError, match="attributes are never interpolated") as info:
        convert(df, missing="interpolate")
    assert info.value.array == "column 'g'" and info.value.index == 12 and "id 'c'" in str(info.value)

    df = gappy_table()
    df.loc[10:14, "x"] = np.nan
    with pytest.raises(DataFormatError, match="series id 'c' has no valid value to interpolate from") as info:
        convert(df, missing="interpolate")
    assert info.value.array == "column 'x'" and info.value.index == 10


def test_drop_removes_series_with_a_missing_attribute():
    df = gappy_table()
    df.loc[2, "g"] = None
    dataset, _ = convert(df, missing="drop", feature_columns=["n"])
    assert list(dataset.extras["series_id"]) == ["c", "d"]  # a: attribute, b: feature n
    with pytest.raises(DataFormatError, match="the table has 1 series left after dropping 2 with missing values"):
        convert(df.iloc[:15], missing="drop", feature_columns=["n"])


def test_wide_inner_gap_is_missing_trailing_gap_is_the_end():
    df = make_wide_table()
    df.loc[0, "t2"] = np.nan  # id 40: 3, 4, NaN, 6, 7, 8
    with pytest.raises(DataFormatError, match=r"1 missing values .* id 40 column 't2' row 0") as info:
        from_dataframe(df, **wide_kwargs())
    assert info.value.array == "column 't2'" and info.value.index == 0
    dataset, schema = from_dataframe(df, **wide_kwargs(missing="interpolate"))
    out = to_dataframe(dataset, schema)
    np.testing.assert_allclose(out.loc[out["sid"] == 40, ["t0", "t1", "t2", "t3", "t4", "t5"]].to_numpy(float),
                               [[3, 4, 5, 6, 7, 8]], atol=1e-5)
    dataset, _ = from_dataframe(df, **wide_kwargs(missing="drop"))
    assert 40 not in dataset.extras["series_id"] and dataset.num_samples == 4


def test_wide_empty_row():
    df = make_wide_table()
    df.loc[1, [f"t{j}" for j in range(6)]] = np.nan
    df["t0"] = df["t0"].astype("float64")
    with pytest.raises(DataFormatError, match="series id 10 has no values"):
        from_dataframe(df, **wide_kwargs(missing="interpolate"))
    dataset, _ = from_dataframe(df, **wide_kwargs(missing="drop"))
    assert list(dataset.extras["series_id"]) == [20, 30, 40, 50]
