"""TableSchema: JSON round trip, atomic save, dtype restoration; the dtype helpers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dg_tf import DataFormatError, TableSchema, from_dataframe, to_dataframe
from dg_tf.tabular.dtypes import cast, dtype_from_json, dtype_to_json, from_array, to_array
from test_tabular_frames import (
    assert_table_equal,
    long_kwargs,
    make_long_table,
    make_wide_table,
    sorted_table,
    wide_kwargs,
)


@pytest.mark.parametrize(
    "dtype",
    [
        "int64", "int32", "uint8", "Int64", "float32", "Float64", "bool", "boolean", "object", "str",
        pd.StringDtype("python"), pd.StringDtype("pyarrow"), "datetime64[ns]", "datetime64[us, Europe/Paris]",
        "timedelta64[s]",
        pd.CategoricalDtype(["b", "a"], ordered=True),
        pd.CategoricalDtype([3, 1, 2]),
        pd.CategoricalDtype(pd.to_datetime(["2020-01-02", "2020-01-01"])),
    ],
)
def test_dtype_json_round_trip(dtype):
    dtype = pd.api.types.pandas_dtype(dtype)
    data = json.loads(json.dumps(dtype_to_json(dtype)))
    back = dtype_from_json(data)
    assert back == dtype and str(back) == str(dtype)
    if isinstance(dtype, pd.CategoricalDtype):
        assert list(back.categories) == list(dtype.categories) and back.ordered == dtype.ordered


def test_unsupported_level_is_refused():
    with pytest.raises(TypeError, match="cannot be stored"):
        dtype_to_json(pd.CategoricalDtype([(1, 2), (3, 4)]))


def test_cast_rounds_integers_and_switches_to_nullable_only_when_needed():
    assert cast(np.array([1.4, 2.6]), "int32").tolist() == [1, 3]
    assert cast(np.array([1.4, np.nan]), "int32").dtype == "Int32"
    assert cast(np.array([0.2, 0.7]), "bool").tolist() == [False, True]
    assert cast(np.array([0.7, np.nan]), "bool").dtype == "boolean"


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", "bb"]), pd.Series([3, 1]), pd.Series([0.5, 2.0]), pd.Series([True, False]),
        pd.Series(pd.array([4, 5], dtype="Int16")), pd.Series(pd.Categorical(["x", "y"], categories=["y", "x"])),
        pd.Series(pd.date_range("2021-03-27", periods=2, freq="D", tz="Europe/Paris")),
        pd.Series(pd.to_timedelta([1, 2], unit="h")),
    ],
)
def test_array_form_round_trip(values):
    array = to_array(values)
    assert not array.dtype.hasobject
    pd.testing.assert_series_equal(from_array(array, values.dtype), values)


def test_schema_json_round_trip_and_decoding_with_a_loaded_schema(tmp_path):
    df = make_long_table()
    dataset, schema = from_dataframe(df, **long_kwargs(sample_len=4))
    path = tmp_path / "schema.json"
    schema.save(path)
    text = path.read_text()
    assert text.startswith('{\n  "format": "dg_tf.TableSchema"') and text.endswith("}\n")
    assert '"start": "2021-03-04T00:00:00"' in text and '"step": "1 days 00:00:00"' in text
    assert [p.name for p in tmp_path.iterdir()] == ["schema.json"]  # no temporary file left
    loaded = TableSchema.load(path)
    assert loaded == schema and loaded.to_dict() == schema.to_dict()
    assert loaded.feature_outputs == dataset.feature_outputs and loaded.attribute_outputs == dataset.attribute_outputs
    assert_table_equal(to_dataframe(dataset, loaded), sorted_table(df, ["id", "day"]))
    # a synthetic frame decodes the same with both schemas
    arrays = (dataset.features, dataset.attributes, dataset.gen_flags)
    pd.testing.assert_frame_equal(to_dataframe(arrays, loaded), to_dataframe(arrays, schema))


def test_wide_schema_round_trip(tmp_path):
    df = make_wide_table()
    dataset, schema = from_dataframe(df, **wide_kwargs())
    schema.save(tmp_path / "s.json")
    loaded = TableSchema.load(tmp_path / "s.json")
    assert loaded == schema and loaded.step_dtypes == schema.step_dtypes
    assert_table_equal(to_dataframe(dataset, loaded), sorted_table(df, ["sid"]), span=9)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    _, schema = from_dataframe(make_wide_table(), **wide_kwargs())
    path = tmp_path / "s.json"
    path.write_text("old")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(json, "dump", broken)
    with pytest.raises(RuntimeError):
        schema.save(path)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_load_rejects_what_is_not_a_schema(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(DataFormatError, match="bad.json: json: is not valid JSON: Expecting property name"):
        TableSchema.load(path)
    path.write_text('{"format": "something else", "version": 1}')
    with pytest.raises(DataFormatError, match="not a valid table schema: format='something else'"):
        TableSchema.load(path)
    _, schema = from_dataframe(make_wide_table(), **wide_kwargs())
    data = schema.to_dict()
    del data["features"]
    with pytest.raises(DataFormatError, match="missing key 'features'"):
        TableSchema.from_dict(data)


def test_apply_dtypes_restores_text_columns():
    df = make_long_table()
    dataset, schema = from_dataframe(df, **long_kwargs())
    out = to_dataframe(dataset, schema)
    as_text = out.astype(str)  # what a CSV gives back at worst
    restored = schema.apply_dtypes(as_text)
    assert_table_equal(restored, out)
    assert restored["size"].cat.ordered and restored["day"].dtype == out["day"].dtype
