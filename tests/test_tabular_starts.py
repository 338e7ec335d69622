"""Learned start times: the start attribute, its grid, its decoding and its schema round trip."""

import numpy as np
import pandas as pd
import pytest

from dg_tf import TableSchema, from_dataframe, to_dataframe
from dg_tf.evaluation.names import names_from_schema
from dg_tf.tabular import SERIES_START
from dg_tf.tabular.inference import CONTINUOUS, DISCRETE


def _table(starts: list, step, periods: int = 3, freq: str | None = None) -> pd.DataFrame:
    frames = []
    for i, start in enumerate(starts):
        times = (pd.date_range(start, periods=periods, freq=freq) if freq is not None
                 else [start + k * step for k in range(periods)])
        frames.append(pd.DataFrame({"id": i, "t": times, "kind": "ab"[i % 2], "x": np.arange(periods) + i}))
    return pd.concat(frames, ignore_index=True)


def _fit(df):
    return from_dataframe(df, id_column="id", time_column="t", attribute_columns=["kind"], feature_columns=["x"])


def _generated(dataset, start_block):
    """The dataset's arrays with the start block replaced and no stored starts (as generated data has)."""
    attributes = dataset.attributes.copy()
    attributes[:, -start_block.shape[1]:] = start_block
    return {"data_feature": dataset.features, "data_attribute": attributes, "data_gen_flag": dataset.gen_flags}


def test_month_starts_are_counted_in_calendar_months():
    starts = ["2020-01-01", "2020-03-01", "2020-03-01", "2021-01-01"]
    dataset, schema = _fit(_table([pd.Timestamp(s) for s in starts], None, freq="MS"))
    assert schema.start.kind == DISCRETE and list(schema.start.levels) == [0, 2, 12]  # months after Jan 2020
    np.testing.assert_array_equal(dataset.attributes[:, -3:], np.eye(3)[[0, 1, 1, 2]])
    # generated: position 12 for every series -> every series starts in January 2021, monthly
    out = to_dataframe(_generated(dataset, np.tile([0.1, 0.2, 0.7], (4, 1)).astype(np.float32)), schema)
    assert (out.groupby("id")["t"].min() == pd.Timestamp("2021-01-01")).all()
    assert list(out["t"][:3]) == list(pd.date_range("2021-01-01", periods=3, freq="MS"))
    names = names_from_schema(schema)  # the evaluation names the start attribute and its positions
    assert names.attributes == ("kind", "t start") and names.levels[1] == ("0", "2", "12")


def test_many_start_positions_are_continuous_and_rounded_to_the_grid():
    starts = list(range(0, 5 * 150, 5))  # 150 distinct positions, step 5
    dataset, schema = _fit(_table(starts, 5))
    assert schema.start.kind == CONTINUOUS and (schema.start.minimum, schema.start.maximum) == (0, 149)
    values = np.array([0.0, 0.5, 1.0, 0.2017] * 37 + [0.3, 0.9], np.float32)[:, None]
    out = to_dataframe(_generated(dataset, values), schema)
    got = out.groupby("id")["t"].min().to_numpy()
    np.testing.assert_array_equal(got, 5 * np.rint(values[:, 0].astype(np.float64) * 149))
    assert (got % 5 == 0).all()


def test_float_times_off_the_grid_come_back_on_the_nearest_grid_point():
    dataset, schema = _fit(_table([10.0, 10.5, 11.2, 12.0], 0.5))  # 11.2 is between grid points 11.0 and 11.5
    assert list(schema.start.levels) == [0, 1, 2, 4]
    out = to_dataframe(_generated(dataset, np.eye(4, dtype=np.float32)), schema)
    np.testing.assert_allclose(out.groupby("id")["t"].min(), [10.0, 10.5, 11.0, 12.0])
    # the training arrays keep their exact starts
    np.testing.assert_array_equal(dataset.extras[SERIES_START], [10.0, 10.5, 11.2, 12.0])
    assert to_dataframe(dataset, schema)["t"].iloc[6] == 11.2


def test_one_common_start_learns_nothing():
    dataset, schema = _fit(_table([7, 7, 7], 1))
    assert schema.start is None and len(dataset.attribute_outputs) == 1
    out = to_dataframe((dataset.features, dataset.attributes, dataset.gen_flags), schema)
    assert (out.groupby("id")["t"].min() == 7).all()


def test_schema_json_keeps_the_start_and_old_schemas_still_load(tmp_path):
    df = _table([pd.Timestamp("2024-01-01") + pd.Timedelta(days=d) for d in (0, 3, 3, 5)], pd.Timedelta(days=1))
    dataset, schema = _fit(df)
    schema.save(tmp_path / "s.json")
    loaded = TableSchema.load(tmp_path / "s.json")
    assert loaded == schema and loaded.time.origin == schema.time.origin and list(loaded.start.levels) == [0, 3, 5]
    old = schema.to_dict()
    del old["start"], old["time"]["origin"]
    legacy = TableSchema.from_dict(old)
    assert legacy.start is None and legacy.time.origin is None
    out = to_dataframe((dataset.features, dataset.attributes[:, :2], dataset.gen_flags), legacy)
    assert (out.groupby("id")["t"].min() == pd.Timestamp("2024-01-04")).all()  # the most common start


@pytest.mark.parametrize("split", [True, False])
def test_split_series_pieces_start_where_they_were_cut(split):
    df = _table([0, 0, 0], 1, periods=9)
    options = dict(long_series="split", max_length=4) if split else {}
    dataset, schema = from_dataframe(df, id_column="id", time_column="t", attribute_columns=["kind"],
                                     feature_columns=["x"], **options)
    if split:  # pieces of 4, 4 and 1 steps start at 0, 4 and 8
        assert list(schema.start.levels) == [0, 4, 8]
        np.testing.assert_array_equal(dataset.extras[SERIES_START], [0, 4, 8] * 3)
    else:
        assert schema.start is None
