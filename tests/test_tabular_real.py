"""Round trips of the real long-format CSVs in ../shared/data (skipped when absent, failed when absent in CI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED_DATA, require_data
from dg_tf import OutputType, from_dataframe, read_table, to_dataframe, write_table
from dg_tf.data.validation import validate_dataset
from test_tabular_frames import assert_table_equal, sorted_table

DATA = SHARED_DATA


@pytest.fixture(autouse=True)
def _needs_the_shared_data():
    """Every test here reads ../shared/data: skip without it, fail without it in CI (conftest.require_data)."""
    require_data(DATA)


def convert(name: str, features: list[str]):
    df = read_table(DATA / f"{name}.csv")
    dataset, schema = from_dataframe(df, id_column="series_id", time_column="step", attribute_columns=["class"],
                                     feature_columns=features, discrete_columns=["class"], source=f"{name}.csv")
    validate_dataset(dataset)
    return df, dataset, schema


def test_basic_motions():
    features = [f"dim_{i}" for i in range(6)]
    df, dataset, schema = convert("BasicMotions", features)
    assert dataset.features.shape == (80, 100, 6) and dataset.attributes.shape == (80, 4)
    assert (dataset.lengths == 100).all()
    assert list(schema.attributes[0].levels) == sorted(df["class"].unique())
    assert_table_equal(to_dataframe(dataset, schema), sorted_table(df, ["series_id", "step"]))


def test_pickup_gesture_variable_length():
    df, dataset, schema = convert("PickupGestureWiimoteZ", ["dim_0"])
    lengths = df.groupby("series_id").size().sort_index().to_numpy()
    assert dataset.features.shape == (100, 361, 1) and dataset.attributes.shape == (100, 10)
    np.testing.assert_array_equal(dataset.lengths, lengths)
    assert (dataset.lengths.min(), dataset.lengths.max()) == (29, 361)
    assert schema.attributes[0].dtype == np.int64 and list(schema.attributes[0].levels) == list(range(1, 11))
    out = to_dataframe(dataset, schema)
    assert_table_equal(out, sorted_table(df, ["series_id", "step"]))


def test_pickup_gesture_wide_matches_long():
    df, long_dataset, _ = convert("PickupGestureWiimoteZ", ["dim_0"])
    wide = df.pivot(index="series_id", columns="step", values="dim_0").reset_index()
    wide.columns.name = None
    wide.insert(1, "class", df.groupby("series_id")["class"].first().to_numpy())
    dataset, schema = from_dataframe(wide, id_column="series_id", attribute_columns=["class"],
                                     feature_columns=list(range(361)), style="wide", discrete_columns=["class"])
    np.testing.assert_array_equal(dataset.features, long_dataset.features)
    np.testing.assert_array_equal(dataset.attributes, long_dataset.attributes)
    span = float(df["dim_0"].max() - df["dim_0"].min())
    assert_table_equal(to_dataframe(dataset, schema), wide, span=span)


def test_acsf1_long_series(tmp_path):
    df, dataset, schema = convert("ACSF1", ["dim_0"])
    assert dataset.features.shape == (200, 1460, 1) and dataset.feature_outputs[0].type_ == OutputType.CONTINUOUS
    assert_table_equal(to_dataframe(dataset, schema), sorted_table(df, ["series_id", "step"]))
    # split into windows of the paper's web-traffic length, then rejoin through a Parquet file
    split, split_schema = from_dataframe(df, id_column="series_id", time_column="step", attribute_columns=["class"],
                                         feature_columns=["dim_0"], discrete_columns=["class"], max_length=550,
                                         long_series="split", sample_len=10)
    assert split.features.shape == (600, 550, 1)
    np.testing.assert_array_equal(split.lengths[:3], [550, 550, 360])
    write_table(tmp_path / "acsf1.parquet", to_dataframe(split, split_schema))
    back = read_table(tmp_path / "acsf1.parquet", schema=split_schema)
    assert_table_equal(back, sorted_table(df, ["series_id", "step"]))
    assert pd.api.types.is_integer_dtype(back["class"])
