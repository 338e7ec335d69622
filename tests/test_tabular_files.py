"""read_table / write_table: CSV, gzip CSV, Parquet; dtypes; atomic writes; bad files."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pandas as pd
import pytest

from dg_tf import ConfigError, DataFormatError, from_dataframe, read_table, to_dataframe, write_table
from test_tabular_frames import (
    assert_table_equal,
    long_kwargs,
    make_long_table,
    make_wide_table,
    sorted_table,
)


def typed_table() -> pd.DataFrame:
    return pd.DataFrame({
        "code": ["007", "010", "7"],
        "cat": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "mid", "hi"], ordered=True),
        "icat": pd.Categorical([3, 1, 3], categories=[3, 2, 1]),
        "n": pd.array([1, None, 3], dtype="Int64"),
        "i": np.array([1, 2, 3], dtype=np.int32),
        "b": [True, False, True],
        "when": pd.date_range("2021-03-27", periods=3, freq="D", tz="Europe/Paris"),
        "x": [0.1, np.nan, 1e-300],
    })


def test_parquet_keeps_dtypes(tmp_path):
    df = typed_table()
    for name in ("t.parquet", "t.pq"):
        write_table(tmp_path / name, df)
        back = read_table(tmp_path / name)
        pd.testing.assert_frame_equal(back, df)
        assert back["cat"].cat.ordered and list(back["cat"].cat.categories) == ["lo", "mid", "hi"]
        assert list(back["icat"].cat.categories) == [3, 2, 1]
    assert pd.read_parquet(tmp_path / "t.pq")["icat"].dtype == np.int64  # what pyarrow alone gives back


def test_parquet_round_trip_through_a_schema(tmp_path):
    df = make_long_table()
    df["tier"] = pd.Categorical(df["tier"], categories=[3, 2, 1])
    dataset, schema = from_dataframe(df, **long_kwargs())
    out = to_dataframe(dataset, schema)
    write_table(tmp_path / "t.parquet", out)
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), out)
    back = read_table(tmp_path / "t.parquet", schema=schema)
    assert back["tier"].dtype == df["tier"].dtype
    assert_table_equal(back, sorted_table(df, ["id", "day"]))


@pytest.mark.parametrize("name", ["t.csv", "t.CSV", "t.csv.gz"])
def test_csv_round_trip_through_a_schema(tmp_path, name):
    df = make_long_table()
    df["id"] = df["id"].str.replace("s", "0")  # ids that look like numbers: "00", "01", ...
    dataset, schema = from_dataframe(df, **long_kwargs())
    out = to_dataframe(dataset, schema)
    path = tmp_path / name
    write_table(path, out)
    if name.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
        assert gzip.decompress(path.read_bytes()).decode().startswith("id,day,region,size")
    plain = read_table(path)
    assert plain["id"].dtype == np.int64  # without the schema, "00" is a number
    back = read_table(path, schema=schema)
    assert_table_equal(back, out)
    assert list(back["id"])[:2] == ["00", "00"]


def test_csv_wide_table_with_integer_step_names(tmp_path):
    df = make_wide_table()
    df.columns = ["sid", "kind", "flag", 0, 1, 2, 3, 4, 5]
    dataset, schema = from_dataframe(df, id_column="sid", attribute_columns=["kind", "flag"],
                                     feature_columns=[0, 1, 2, 3, 4, 5], style="wide")
    write_table(tmp_path / "w.csv", to_dataframe(dataset, schema))
    back = read_table(tmp_path / "w.csv", schema=schema)
    assert list(back.columns) == ["sid", "kind", "flag", 0, 1, 2, 3, 4, 5]
    assert_table_equal(back, sorted_table(df, ["sid"]), span=9)


def test_csv_parse_dates_gives_a_usable_time_column(tmp_path):
    df = make_long_table()
    write_table(tmp_path / "t.csv", df)
    raw = read_table(tmp_path / "t.csv")
    with pytest.raises(DataFormatError, match="time column holds string values"):
        from_dataframe(raw, **long_kwargs())
    parsed = read_table(tmp_path / "t.csv", parse_dates=["day"])
    dataset, schema = from_dataframe(parsed, **long_kwargs())
    np.testing.assert_array_equal(np.sort(dataset.lengths), sorted([3, 5, 4, 6, 2, 5]))
    with pytest.raises(DataFormatError, match="parse_dates names a column the file does not have"):
        read_table(tmp_path / "t.csv", parse_dates=["nope"])
    with pytest.raises(DataFormatError, match="column 'region': not ISO 8601 datetimes"):
        read_table(tmp_path / "t.csv", parse_dates=["region"])


def test_unknown_suffix_and_format(tmp_path):
    with pytest.raises(DataFormatError, match=r"t\.xlsx: file name: unknown table suffix; expected one of \.csv"):
        read_table(tmp_path / "t.xlsx")
    with pytest.raises(DataFormatError, match="unknown table suffix"):
        write_table(tmp_path / "t.txt", typed_table())
    write_table(tmp_path / "t.txt", typed_table(), format="parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.txt"), typed_table().astype({"icat": "int64"}))
    with pytest.raises(ConfigError, match="format='xlsx'"):
        write_table(tmp_path / "t.csv", typed_table(), format="xlsx")


def test_unreadable_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFormatError, match="empty.csv: csv: not a readable csv table"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataFormatError, match="bad.parquet: parquet: not a readable parquet table"):
        read_table(tmp_path / "bad.parquet")
    (tmp_path / "ragged.csv").write_text('a,b\n1,2\n3,"4\n')
    with pytest.raises(DataFormatError, match="ragged.csv: csv"):
        read_table(tmp_path / "ragged.csv")
    with pytest.raises(DataFormatError, match="absent.csv: file: missing file"):
        read_table(tmp_path / "absent.csv")
    os.mkfifo(tmp_path / "fifo.csv")  # refused at once, never opened for a blocking read
    with pytest.raises(DataFormatError, match=r"fifo.csv: file: is a FIFO \(named pipe\), not a regular file"):
        read_table(tmp_path / "fifo.csv")


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "t.parquet"
    write_table(path, typed_table())
    before = path.read_bytes()
    unwritable = pd.DataFrame({"x": [object(), object()]})
    with pytest.raises(Exception):
        write_table(path, unwritable)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_csv_round_trip_with_time_zone_nullable_ints_and_bools(tmp_path):
    days = pd.Series(pd.date_range("2021-03-26", periods=5, freq="D", tz="Europe/Paris"))  # crosses DST
    df = pd.DataFrame({
        "id": np.repeat([1, 2], 5),
        "t": pd.concat([days, days], ignore_index=True),
        "on": np.repeat([True, False], 5),
        "n": pd.array(np.arange(10) * 3, dtype="Int64"),
        "cat": pd.Categorical(np.tile(["lo", "hi"], 5), categories=["lo", "hi"], ordered=True),
    })
    dataset, schema = from_dataframe(df, id_column="id", time_column="t", attribute_columns=["on"],
                                     feature_columns=["n", "cat"])
    assert schema.time.freq == "D"
    write_table(tmp_path / "t.csv.gz", to_dataframe(dataset, schema))
    assert_table_equal(read_table(tmp_path / "t.csv.gz", schema=schema), df)
