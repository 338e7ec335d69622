"""from_dataframe / to_dataframe: layouts, round trips, inference, generated data, long series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dg_tf import Normalization, OutputType, from_dataframe, to_dataframe
from dg_tf.data.validation import validate_dataset
from dg_tf.errors import DataFormatError
from dg_tf.tabular import SERIES_ID, SERIES_START

ATTRIBUTES = ["region", "size", "active", "tier", "weight"]
FEATURES = ["count", "level", "state"]
LENGTHS = [3, 5, 4, 6, 2, 5]


def make_long_table(seed: int = 0) -> pd.DataFrame:
    """Six daily series of 2..6 steps, shuffled rows.

    Attributes: string, ordered Categorical (with an unused level), bool,
    low-cardinality int, float. Features: int, float, string.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for i, n in enumerate(LENGTHS):
        start = pd.Timestamp("2021-03-01") + pd.Timedelta(days=int(rng.integers(0, 5)))
        frames.append(pd.DataFrame({
            "id": f"s{i}",
            "day": pd.date_range(start, periods=n, freq="D"),
            "region": ["north", "south", "east"][i % 3],
            "size": ["small", "large"][i % 2],
            "active": bool(i % 2),
            "tier": i % 3 + 1,
            "weight": float(rng.normal(70, 10)),
            "count": rng.integers(0, 1000, n),
            "level": rng.normal(0, 5, n),
            "state": rng.choice(["idle", "busy", "off"], n),
        }))
    df = pd.concat(frames, ignore_index=True)
    df["size"] = pd.Categorical(df["size"], categories=["small", "medium", "large"], ordered=True)
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def long_kwargs(**overrides):
    kwargs = dict(id_column="id", time_column="day", attribute_columns=ATTRIBUTES, feature_columns=FEATURES,
                  integer_discrete_max_levels=3)
    kwargs.update(overrides)
    return kwargs


def make_wide_table() -> pd.DataFrame:
    """Five series (int ids), one integer feature (range 0..9) over steps t0..t5, variable length (trailing NaN)."""
    values = np.array([
        [3, 4, 5, 6, 7, 8],
        [1, 1, 2, np.nan, np.nan, np.nan],
        [9, 8, 7, 6, np.nan, np.nan],
        [0, 2, np.nan, np.nan, np.nan, np.nan],
        [5, 5, 5, 5, 5, np.nan],
    ])
    df = pd.DataFrame({"sid": [40, 10, 30, 20, 50], "kind": ["a", "b", "a", "c", "b"],
                       "flag": [True, False, True, True, False]})
    for j in range(6):
        df[f"t{j}"] = values[:, j]
    df["t0"] = df["t0"].astype("int64")  # every series has step 0: an integer column
    df["t1"] = df["t1"].astype("int64")
    return df


def wide_kwargs(**overrides):
    kwargs = dict(id_column="sid", attribute_columns=["kind", "flag"],
                  feature_columns=[f"t{j}" for j in range(6)], style="wide")
    kwargs.update(overrides)
    return kwargs


def assert_table_equal(actual: pd.DataFrame, expected: pd.DataFrame, span: float | None = None) -> None:
    """Same columns, order and dtypes; exact values except floats.

    Floats may differ by the float32 precision of the model's [0, 1] scale:
    2**-23 of the fitted range (doubled for safety); ``span`` is that range
    (default: each float column's own range; a wide table's step columns
    share the feature's range).
    """
    actual = actual.reset_index(drop=True)
    expected = expected.reset_index(drop=True)
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected)
    for name in expected.columns:
        a, e = actual[name], expected[name]
        assert a.dtype == e.dtype, (name, a.dtype, e.dtype)
        if pd.api.types.is_float_dtype(e.dtype):
            column_span = float(np.nanmax(e) - np.nanmin(e)) if span is None else span
            np.testing.assert_allclose(a.to_numpy(float, na_value=np.nan), e.to_numpy(float, na_value=np.nan),
                                       rtol=0, atol=2 * 2**-23 * column_span + 1e-12, err_msg=str(name))
        else:
            pd.testing.assert_series_equal(a, e, check_exact=True)


def sorted_table(df: pd.DataFrame, keys) -> pd.DataFrame:
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------- long style


def test_long_round_trip_is_exact():
    df = make_long_table()
    dataset, schema = from_dataframe(df, **long_kwargs())
    out = to_dataframe(dataset, schema)
    assert_table_equal(out, sorted_table(df, ["id", "day"]))
    assert out["size"].cat.ordered and list(out["size"].cat.categories) == ["small", "medium", "large"]


def test_long_dataset_layout():
    df = make_long_table()
    dataset, schema = from_dataframe(df, **long_kwargs())
    validate_dataset(dataset)
    assert dataset.features.dtype == np.float32 and dataset.features.shape == (6, 6, 1 + 1 + 3)
    # region 3 + size 3 (unused "medium" kept, in category order) + bool 2 + tier 3 + weight 1, then the start:
    # one-hot over the distinct start days, counted from the earliest start
    day_of_start = (df.groupby("id")["day"].min().sort_index() - df["day"].min()).dt.days.to_numpy()
    start_days = np.unique(day_of_start)
    assert dataset.attributes.shape == (6, 12 + len(start_days)) and len(start_days) > 1
    assert [o.dim for o in dataset.attribute_outputs] == [3, 3, 2, 3, 1, len(start_days)]
    np.testing.assert_array_equal(dataset.attributes[:, 12:], start_days[None, :] == day_of_start[:, None])
    assert [o.type_ for o in dataset.feature_outputs] == [OutputType.CONTINUOUS, OutputType.CONTINUOUS,
                                                          OutputType.DISCRETE]
    assert dataset.feature_outputs[0].normalization == Normalization.ZERO_ONE
    np.testing.assert_array_equal(dataset.lengths, LENGTHS)  # series sorted by id s0..s5
    assert list(dataset.extras[SERIES_ID]) == [f"s{i}" for i in range(6)]
    # continuous columns span exactly [0, 1]; padding is 0
    active = dataset.gen_flags.astype(bool)
    for k in (0, 1):
        assert dataset.features[..., k][active].min() == 0.0 and dataset.features[..., k][active].max() == 1.0
    assert not dataset.features[~active].any()
    weight = dataset.attributes[:, 11]
    assert weight.min() == 0.0 and weight.max() == 1.0
    # the size one-hot follows the Categorical's order: s0 is "small", s1 "large"
    np.testing.assert_array_equal(dataset.attributes[:2, 3:6], [[1, 0, 0], [0, 0, 1]])
    starts = pd.to_datetime(dataset.extras[SERIES_START], unit="us")
    expected = df.groupby("id")["day"].min().sort_index()
    np.testing.assert_array_equal(starts, expected.to_numpy())
    assert schema.padded_length == dataset.max_length == 6


def test_schema_records_columns_and_kinds():
    df = make_long_table()
    _, schema = from_dataframe(df, **long_kwargs())
    assert schema.columns == tuple(df.columns)
    kinds = {spec.name: spec.kind for spec in schema.attributes + schema.features}
    assert kinds == {"region": "discrete", "size": "discrete", "active": "discrete", "tier": "discrete",
                     "weight": "continuous", "count": "continuous", "level": "continuous", "state": "discrete"}
    assert list(schema.attributes[0].levels) == ["east", "north", "south"]
    count = schema.features[0]
    assert (count.minimum, count.maximum) == (float(df["count"].min()), float(df["count"].max()))
    assert schema.time.step == pd.Timedelta(days=1) // pd.Timedelta(1, "us") and schema.time.freq is None


def test_inference_overrides():
    df = make_long_table()
    _, default = from_dataframe(df, **long_kwargs(integer_discrete_max_levels=None))
    assert next(s for s in default.attributes if s.name == "tier").kind == "continuous"
    _, forced = from_dataframe(df, **long_kwargs(integer_discrete_max_levels=None, discrete_columns=["tier", "level"],
                                                 continuous_columns=["active"]))
    specs = {s.name: s for s in forced.attributes + forced.features}
    assert specs["tier"].kind == "discrete" and specs["level"].kind == "discrete"
    assert specs["active"].kind == "continuous" and (specs["active"].minimum, specs["active"].maximum) == (0, 1)
    dataset, schema = from_dataframe(df, **long_kwargs(discrete_columns=["level"], continuous_columns=["active"]))
    assert_table_equal(to_dataframe(dataset, schema), sorted_table(df, ["id", "day"]))


def test_rows_without_time_column_keep_their_order_within_an_id():
    df = make_long_table().drop(columns="day")
    dataset, schema = from_dataframe(df, **long_kwargs(time_column=None))
    assert schema.time is None and SERIES_START not in dataset.extras
    assert_table_equal(to_dataframe(dataset, schema), sorted_table(df, ["id"]))


@pytest.mark.parametrize(
    "times",
    [
        pd.Series(np.arange(5) * 15 + 100),  # integer steps of 15
        pd.Series(np.arange(5) * 0.1 + 2.5),  # float steps
        pd.Series(pd.to_timedelta(np.arange(5) * 30, unit="s")),
        pd.Series(pd.date_range("2020-01-01", periods=5, freq="MS")),  # calendar months
        pd.Series(pd.date_range("2021-03-26", periods=5, freq="D", tz="Europe/Paris")),  # across a DST change
        pd.Series(pd.date_range("2021-03-26", periods=5, freq="h", tz="UTC")),
    ],
    ids=["int", "float", "timedelta", "month-start", "daily-dst", "hourly-utc"],
)
def test_time_axis_round_trip(times):
    df = pd.DataFrame({
        "id": np.repeat([7, 3, 5], 5),
        "t": pd.concat([times] * 3, ignore_index=True),
        "x": np.arange(15, dtype=np.float64) ** 2,
    })
    df = df.iloc[:-2]  # series 5 is shorter
    dataset, schema = from_dataframe(df, id_column="id", time_column="t", attribute_columns=[], feature_columns=["x"])
    assert dataset.attributes.shape == (3, 0)
    out = to_dataframe(dataset, schema)
    expected = sorted_table(df, ["id", "t"])
    if pd.api.types.is_float_dtype(df["t"].dtype):
        np.testing.assert_allclose(out["t"], expected["t"], rtol=1e-12)
        out["t"] = expected["t"]
    assert_table_equal(out, expected)


# ---------------------------------------------------------------------------- wide style


def test_wide_round_trip_and_layout():
    df = make_wide_table()
    dataset, schema = from_dataframe(df, **wide_kwargs())
    np.testing.assert_array_equal(dataset.lengths, [3, 2, 4, 6, 5])  # sorted by id 10, 20, 30, 40, 50
    assert dataset.features.shape == (5, 6, 1)
    assert schema.step_columns == tuple(f"t{j}" for j in range(6))
    assert schema.features[0].name is None and (schema.features[0].minimum, schema.features[0].maximum) == (0, 9)
    out = to_dataframe(dataset, schema)
    assert_table_equal(out, sorted_table(df, ["sid"]), span=9)
    assert out["t0"].dtype == np.int64 and out["t5"].dtype == np.float64


def test_wide_discrete_feature_round_trip():
    df = pd.DataFrame({"id": ["b", "a", "c"], "d0": ["x", "y", "y"], "d1": ["y", None, "z"], "d2": ["x", None, None]})
    dataset, schema = from_dataframe(df, id_column="id", attribute_columns=[], feature_columns=["d0", "d1", "d2"],
                                     style="wide")
    assert dataset.feature_outputs[0].type_ == OutputType.DISCRETE and dataset.feature_outputs[0].dim == 3
    np.testing.assert_array_equal(dataset.lengths, [1, 3, 2])
    assert_table_equal(to_dataframe(dataset, schema), sorted_table(df, ["id"]))


def test_wide_generated_rows_get_nullable_ints_where_a_series_ends_early():
    df = make_wide_table()
    dataset, schema = from_dataframe(df, **wide_kwargs())
    flags = np.zeros_like(dataset.gen_flags)
    flags[:, :1] = 1  # every generated series has one step
    out = to_dataframe((dataset.features, dataset.attributes, flags), schema)
    assert list(out["sid"]) == [0, 1, 2, 3, 4] and out["sid"].dtype == np.int64
    assert out["t1"].dtype == "Int64" and out["t1"].isna().all()
    assert out["t0"].dtype == np.int64 and list(out["t0"]) == [1, 0, 9, 3, 5]


def test_wide_generated_steps_beyond_the_step_columns_are_dropped(caplog):
    df = make_wide_table()
    dataset, schema = from_dataframe(df, **wide_kwargs(sample_len=4))
    assert dataset.max_length == 8
    flags = np.ones_like(dataset.gen_flags)  # generated series of 8 steps; the table has 6 step columns
    with caplog.at_level("WARNING"):
        out = to_dataframe((dataset.features, dataset.attributes, flags), schema)
    assert "dropped 10 generated steps beyond the table's 6 step columns" in caplog.text
    assert list(out.columns) == list(df.columns) and out[[f"t{j}" for j in range(6)]].notna().all().all()


# ---------------------------------------------------------------------------- generated data


def test_generated_series_without_steps_have_no_rows():
    df = make_long_table()
    dataset, schema = from_dataframe(df, **long_kwargs())
    flags = dataset.gen_flags.copy()
    flags[1] = 0
    out = to_dataframe((dataset.features, dataset.attributes, flags), schema)
    assert "synthetic-1" not in set(out["id"]) and len(out) == sum(LENGTHS) - LENGTHS[1]


def test_generated_arrays_get_new_ids_learned_starts_and_clipped_values():
    df = make_long_table()
    dataset, schema = from_dataframe(df, **long_kwargs())
    rng = np.random.default_rng(1)
    features = rng.uniform(-0.5, 1.5, dataset.features.shape).astype(np.float32)  # overshoots, raw softmax
    attributes = rng.uniform(0, 1, dataset.attributes.shape).astype(np.float32)
    out = to_dataframe({"data_feature": features, "data_attribute": attributes, "data_gen_flag": dataset.gen_flags},
                       schema)
    assert list(out["id"].unique()) == [f"synthetic-{i}" for i in range(6)] and out["id"].dtype == df["id"].dtype
    # each start is the argmax of the generated start block: that many days after the earliest start
    start_days = np.unique((df.groupby("id")["day"].min() - df["day"].min()).dt.days)
    expected = df["day"].min() + pd.to_timedelta(start_days[attributes[:, 12:].argmax(axis=1)], unit="D")
    np.testing.assert_array_equal(out.groupby("id", sort=False)["day"].min(), expected)
    assert len(set(expected)) > 1
    assert (out.groupby("id", sort=False)["day"].diff().dropna() == pd.Timedelta(days=1)).all()
    assert out["count"].dtype == np.int64 and out["count"].between(df["count"].min(), df["count"].max()).all()
    assert out["level"].between(df["level"].min(), df["level"].max()).all()
    assert out["level"].isin([df["level"].min(), df["level"].max()]).any()  # clipping reached the range ends
    assert set(out["state"]) <= set(df["state"]) and set(out["region"]) <= set(df["region"])
    assert out["size"].dtype == df["size"].dtype
    # the argmax level of the generated probabilities
    first = attributes[0, :3].argmax()
    assert out["region"].iloc[0] == ["east", "north", "south"][first]
    np.testing.assert_array_equal(out.groupby("id", sort=False).size(), LENGTHS)


def test_generated_integer_ids_are_numbered_from_zero():
    df = make_wide_table()
    dataset, schema = from_dataframe(df, **wide_kwargs())
    out = to_dataframe((dataset.features, dataset.attributes, dataset.gen_flags), schema)
    assert list(out["sid"]) == list(range(5))
    assert_table_equal(out.drop(columns="sid"), sorted_table(df, ["sid"]).drop(columns="sid"), span=9)


def test_to_dataframe_rejects_arrays_of_another_layout():
    dataset, schema = from_dataframe(make_long_table(), **long_kwargs())
    with pytest.raises(DataFormatError, match=r"data_feature.*\[N, L, 5\]"):
        to_dataframe((dataset.features[..., :4], dataset.attributes, dataset.gen_flags), schema)
    with pytest.raises(DataFormatError, match="data_attribute"):
        to_dataframe((dataset.features, dataset.attributes[:3], dataset.gen_flags), schema)
    with pytest.raises(TypeError, match="Dataset"):
        to_dataframe(dataset.features, schema)


def test_npz_round_trip_keeps_ids(tmp_path):
    from dg_tf import save_npz

    df = make_long_table()
    dataset, schema = from_dataframe(df, **long_kwargs())
    save_npz(tmp_path / "data.npz", dataset)
    with np.load(tmp_path / "data.npz", allow_pickle=False) as data:
        out = to_dataframe(data, schema)
    assert_table_equal(out, sorted_table(df, ["id", "day"]))


# ---------------------------------------------------------------------------- lengths


def test_long_series_error_truncate_split():
    df = make_long_table()
    with pytest.raises(DataFormatError, match=r"series id 's1' has 5 steps, more than max_length=4 \(3 series"):
        from_dataframe(df, **long_kwargs(max_length=4))

    dataset, schema = from_dataframe(df, **long_kwargs(max_length=4, long_series="truncate"))
    np.testing.assert_array_equal(dataset.lengths, np.minimum(LENGTHS, 4))
    out = to_dataframe(dataset, schema)
    expected = sorted_table(df, ["id", "day"]).groupby("id").head(4).reset_index(drop=True)
    assert_table_equal(out, expected)

    dataset, schema = from_dataframe(df, **long_kwargs(max_length=4, long_series="split"))
    np.testing.assert_array_equal(dataset.lengths, [3, 4, 1, 4, 4, 2, 2, 4, 1])
    assert list(dataset.extras[SERIES_ID]) == ["s0", "s1", "s1", "s2", "s3", "s3", "s4", "s5", "s5"]
    assert schema.long_series == "split" and schema.max_length == 4 and dataset.max_length == 4
    # pieces share the id, attributes and a continuous time axis: the table comes back whole
    assert_table_equal(to_dataframe(dataset, schema), sorted_table(df, ["id", "day"]))


def test_wide_split_rejoins_pieces():
    df = make_wide_table()
    dataset, schema = from_dataframe(df, **wide_kwargs(max_length=4, long_series="split"))
    np.testing.assert_array_equal(dataset.lengths, [3, 2, 4, 4, 2, 4, 1])
    assert_table_equal(to_dataframe(dataset, schema), sorted_table(df, ["sid"]), span=9)


def test_sample_len_pads_up_and_never_truncates():
    df = make_long_table()
    dataset, schema = from_dataframe(df, **long_kwargs(sample_len=4))
    assert dataset.max_length == 8 and schema.padded_length == 8 and schema.max_length == 6
    np.testing.assert_array_equal(dataset.lengths, LENGTHS)
    assert not dataset.gen_flags[:, 6:].any()
    assert_table_equal(to_dataframe(dataset, schema), sorted_table(df, ["id", "day"]))

    dataset, _ = from_dataframe(df, **long_kwargs(sample_len=5, max_length=10))
    assert dataset.max_length == 10
