"""Adversarial tables: what real users hold, round-tripped exactly, and every malformed one refused once.

Property-style (seeded) random long and wide tables with nullable dtypes,
categorical / zero-padded / integer ids, shuffled rows, time columns of every
kind, odd column names, constant columns, huge integers; then every malformed
table must give exactly one DataFormatError naming the column and row, and
``python -m dg_tf.prepare`` must write nothing for it.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from dg_tf import ConfigError, DataFormatError, TableSchema, from_dataframe, load_dataset, read_table, to_dataframe
from dg_tf.cli import run_main
from dg_tf.prepare import main as prepare_main
from test_tabular_errors import small_table as two_series_table

# ---------------------------------------------------------------------------- helpers

ID_STYLES = ("padded", "int", "category", "Int64", "string", "uint16")
TIME_STYLES = ("none", "int", "float", "daily", "tz_hourly", "5min", "timedelta", "huge_int")


def _ids(style: str, n: int, rng: np.random.Generator) -> pd.Series:
    labels = rng.permutation(n) * 3 + 1
    if style == "padded":  # "007" and "7" are two different series
        return pd.Series([f"{v:03d}" if i % 2 else str(v) for i, v in enumerate(labels)], dtype=object)
    if style == "int":
        return pd.Series(labels.astype(np.int64))
    if style == "category":
        text = [f"host {v}" for v in labels]
        return pd.Series(pd.Categorical(text, categories=sorted(text) + ["never used"]))
    if style == "Int64":
        return pd.Series(pd.array(labels, dtype="Int64"))
    if style == "string":
        return pd.Series([f"ñ-{v}" for v in labels], dtype="string")
    return pd.Series(labels.astype(np.uint16))


def _times(style: str, starts: np.ndarray, lengths: np.ndarray) -> pd.Series | None:
    k = np.concatenate([np.arange(n) for n in lengths])
    start = np.repeat(starts, lengths)
    if style == "none":
        return None
    if style == "int":
        return pd.Series(start * 10 + k * 10)
    if style == "float":
        return pd.Series(0.25 * start + 0.25 * k + 100.5)
    if style == "huge_int":  # epoch nanoseconds as plain integers
        return pd.Series(1_700_000_000_000_000_000 + (start + k) * 60_000_000_000, dtype=np.int64)
    if style == "daily":
        return pd.Series(pd.Timestamp("2021-03-20") + pd.to_timedelta(start + k, unit="D"))
    if style == "tz_hourly":  # crosses the daylight saving change of 2021-03-28
        return pd.Series(pd.Timestamp("2021-03-27 20:00", tz="Europe/Paris") + pd.to_timedelta(start + k, unit="h"))
    if style == "5min":
        return pd.Series(pd.Timestamp("2022-01-01") + pd.to_timedelta(5 * (start + k), unit="min"))
    return pd.Series(pd.to_timedelta(30 * (start + k), unit="s"))


def random_long_table(seed: int, max_length: int = 60) -> tuple[pd.DataFrame, dict]:
    """A shuffled long table: n series of 1..max_length steps, 5 attributes and 7 features of mixed dtypes."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    lengths = rng.integers(1, max_length + 1, n)
    lengths[0] = 1  # a one-step series among long ones
    id_style, time_style = ID_STYLES[seed % len(ID_STYLES)], TIME_STYLES[seed % len(TIME_STYLES)]
    ids = _ids(id_style, n, rng)
    rows = np.repeat(np.arange(n), lengths)
    r = len(rows)
    table = {"series id": ids.iloc[rows].reset_index(drop=True)}
    times = _times(time_style, rng.integers(0, 4, n), lengths)
    if times is not None:
        table["t"] = times
    region = np.array(["north", "south", "east", "west"])[rng.integers(0, 4, n)]
    region[rng.integers(0, n)] = "solo"  # a level that appears in one series only
    table.update({
        "région": pd.Categorical(region[rows], categories=["west", "solo", "south", "north", "east", "unused"],
                                 ordered=True),
        "wired": pd.array((np.arange(n) % 2 == 0)[rows], dtype="boolean" if seed % 2 else "bool"),
        "tier": pd.array(rng.integers(1, 4, n)[rows], dtype="Int64"),
        "site": "only-site",  # constant over the whole table
        7: rng.normal(50, 20, n)[rows],  # an integer column name
        "bytes": rng.integers(-(10**12), 10**12, r),
        "load": rng.normal(0, 1e12, r),
        "count": pd.array(rng.integers(0, 9, r), dtype="Int32"),
        "ratio": rng.random(r).astype(np.float32),
        "state": rng.choice(["idle", "busy", "off"], r),
        "level": np.full(r, 3.5),  # a constant feature
        "small": rng.integers(0, 200, r).astype(np.uint8),
    })
    df = pd.DataFrame(table).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    kwargs = dict(id_column="series id", time_column=None if times is None else "t",
                  attribute_columns=["région", "wired", "tier", "site", 7],
                  feature_columns=["bytes", "load", "count", "ratio", "state", "level", "small"])
    return df, kwargs


def expected_table(df: pd.DataFrame, kwargs: dict) -> pd.DataFrame:
    """The input as to_dataframe gives it back: used columns only, sorted by id (then time), RangeIndex."""
    used = {kwargs["id_column"], kwargs.get("time_column"), *kwargs["attribute_columns"], *kwargs["feature_columns"]}
    df = df[[c for c in df.columns if c in used]]
    codes = pd.factorize(df[kwargs["id_column"]], sort=True)[0]
    if kwargs.get("time_column") is None:
        order = np.argsort(codes, kind="stable")
    else:
        order = np.lexsort((df[kwargs["time_column"]].to_numpy(), codes))
    return df.iloc[order].reset_index(drop=True)


def assert_same_table(actual: pd.DataFrame, expected: pd.DataFrame, span: float | None = None) -> None:
    """Same columns, order, dtypes and labels; numbers within the float32 precision of their fitted range."""
    assert list(actual.columns) == list(expected.columns)
    assert actual.dtypes.to_dict() == expected.dtypes.to_dict()
    assert isinstance(actual.index, pd.RangeIndex) and len(actual) == len(expected)
    for name in expected.columns:
        a, e = actual[name], expected[name]
        numeric = pd.api.types.is_numeric_dtype(e.dtype) and not pd.api.types.is_bool_dtype(e.dtype)
        if numeric and not isinstance(e.dtype, pd.CategoricalDtype):
            a_num, e_num = a.to_numpy(np.float64, na_value=np.nan), e.to_numpy(np.float64, na_value=np.nan)
            width = float(np.nanmax(e_num) - np.nanmin(e_num)) if span is None else span
            np.testing.assert_allclose(a_num, e_num, rtol=0, atol=2 * 2**-23 * width + 1e-300, err_msg=str(name))
            if pd.api.types.is_integer_dtype(e.dtype):  # integers stay integers, inside the input's range
                assert a.min() >= e.min() and a.max() <= e.max(), name
        else:
            pd.testing.assert_series_equal(a, e, check_names=False)


def round_trip(df: pd.DataFrame, kwargs: dict, tmp_path=None) -> pd.DataFrame:
    dataset, schema = from_dataframe(df, **kwargs)
    if tmp_path is not None:  # decode with the schema as saved and loaded
        schema.save(tmp_path / "schema.json")
        schema = TableSchema.load(tmp_path / "schema.json")
    return to_dataframe(dataset, schema)


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("seed", range(16))
def test_random_long_tables_round_trip_exactly(seed, tmp_path):
    df, kwargs = random_long_table(seed)
    before = df.copy()
    assert_same_table(round_trip(df, kwargs, tmp_path if seed % 2 else None), expected_table(df, kwargs))
    pd.testing.assert_frame_equal(df, before)  # the input is never modified


def test_thousands_of_steps_and_one_step_series():
    df, kwargs = random_long_table(3, max_length=3000)
    dataset, schema = from_dataframe(df, sample_len=7, **kwargs)
    longest = int(df.groupby("series id", observed=True).size().max())
    assert dataset.max_length == -(-longest // 7) * 7 and schema.max_length == longest
    assert dataset.lengths.min() == 1
    assert_same_table(to_dataframe(dataset, schema), expected_table(df, kwargs))


@pytest.mark.parametrize("names", ["int", "text", "dates", "dates_tz"])
def test_wide_tables_with_any_step_names_round_trip(names, tmp_path):
    rng = np.random.default_rng(1)
    n, s = 9, 12
    values = rng.normal(0, 1e6, (n, s))
    values[np.arange(s)[None, :] >= rng.integers(1, s + 1, n)[:, None]] = np.nan  # variable length
    steps = {"int": list(range(s)), "text": [f"day {j}" for j in range(s)],
             "dates": list(pd.date_range("2020-01-01", periods=s, freq="D")),
             "dates_tz": list(pd.date_range("2020-01-01", periods=s, freq="h", tz="US/Eastern"))}[names]
    df = pd.DataFrame(values, columns=steps)
    df.insert(0, "id", [f"{i:02d}" for i in rng.permutation(n)])
    df.insert(1, "kind", pd.Categorical(rng.choice(["a", "b"], n)))
    kwargs = dict(id_column="id", attribute_columns=["kind"], feature_columns=steps, style="wide")
    dataset, schema = from_dataframe(df, **kwargs)
    schema.save(tmp_path / "schema.json")
    back = to_dataframe(dataset, TableSchema.load(tmp_path / "schema.json"))
    assert list(back.columns) == list(df.columns)
    expected = df.sort_values("id").reset_index(drop=True)
    assert_same_table(back, expected, span=float(np.nanmax(values) - np.nanmin(values)))


@pytest.mark.parametrize(
    "values, dtype",
    [
        ([0, 2**63 - 1, 5, 7], "int64"),  # float64(2**63 - 1) overflows int64
        ([-(2**63), 0, 5, 7], "int64"),
        ([0, 2**64 - 1, 5, 7], "uint64"),
        ([2**53 + 1, 2**53 + 3, 2**53 + 5, 2**53 + 7], "int64"),  # beyond float64, narrow range: exact
        ([2**62 + 1, 2**62 + 9, 2**62 + 5, 2**62 + 1], "Int64"),
        ([-128, 127, 0, 5], "int8"),
        ([0, 2**40, 12345, 2**40 - 1], "int64"),
    ],
)
def test_huge_integers_stay_integers_inside_their_range(values, dtype):
    # numpy builds the uint64 column: pandas 3.1.1's pd.array(..., dtype="uint64") turns 2**64 - 1 into 0
    column = pd.array(values, dtype=dtype) if dtype[0].isupper() else np.array(values, dtype=dtype)
    df = pd.DataFrame({"id": [1, 1, 2, 2], "k": column})
    assert [int(v) for v in df["k"]] == values  # the input is the one the test means
    kwargs = dict(id_column="id", attribute_columns=[], feature_columns=["k"])
    back = round_trip(df, kwargs)["k"]
    assert back.dtype == df["k"].dtype
    low, high = int(min(values)), int(max(values))
    assert all(low <= int(v) <= high for v in back)
    span = high - low
    if span <= 2**24:  # float32 holds every offset: exact
        assert [int(v) for v in back] == values
    else:
        assert all(abs(int(a) - int(e)) <= span * 2**-22 for a, e in zip(back, values))
    # generated extremes decode to the exact bounds, never past them
    dataset, schema = from_dataframe(df, **kwargs)
    features = np.array([[[0.0], [1.0]], [[-3.0], [7.0]]], np.float32)
    out = to_dataframe((features, dataset.attributes, np.ones((2, 2), np.float32)), schema)["k"]
    assert [int(v) for v in out] == [low, high, low, high]


def test_wide_integer_range_is_announced(caplog):
    df = pd.DataFrame({"id": [1, 1, 2, 2], "k": [0, 2**40, 5, 7]})
    with caplog.at_level(logging.WARNING, logger="dg_tf.tabular.columns"):
        from_dataframe(df, id_column="id", attribute_columns=[], feature_columns=["k"])
    assert "more than float32 holds exactly" in caplog.text and "column 'k'" in caplog.text


def test_float_range_beyond_float64_does_not_overflow():
    df = pd.DataFrame({"id": [1, 1, 2, 2], "x": [-1.7e308, 1.7e308, 0.0, 1e300]})
    back = round_trip(df, dict(id_column="id", attribute_columns=[], feature_columns=["x"]))
    assert np.isfinite(back["x"]).all() and back["x"].iloc[0] == -1.7e308 and back["x"].iloc[1] == 1.7e308


def test_policies_on_random_tables():
    df, kwargs = random_long_table(5)
    df = df.astype({"load": "float64"})
    holes = df.index[df.groupby("series id", observed=True).cumcount() == 1][:2]
    df.loc[holes, "load"] = np.nan
    with pytest.raises(DataFormatError, match=r"missing values .*id .*column 'load'"):
        from_dataframe(df, **kwargs)
    dropped, _ = from_dataframe(df, missing="drop", **kwargs)
    assert dropped.num_samples == df["series id"].nunique() - len(holes)
    filled, schema = from_dataframe(df, missing="interpolate", **kwargs)
    out = to_dataframe(filled, schema)
    assert out["load"].notna().all() and out["load"].between(df["load"].min(), df["load"].max()).all()
    # split series are joined back by id and time: the input again
    complete, kwargs = random_long_table(1)
    dataset, schema = from_dataframe(complete, max_length=4, long_series="split", **kwargs)
    assert dataset.max_length == 4
    assert_same_table(to_dataframe(dataset, schema), expected_table(complete, kwargs))


@pytest.mark.parametrize("sample_len", [1, 3, 7, 50])
def test_length_is_rounded_up_to_a_multiple_of_sample_len(sample_len):
    df, kwargs = random_long_table(2)
    dataset, schema = from_dataframe(df, sample_len=sample_len, **kwargs)
    longest = int(df.groupby("series id", observed=True).size().max())
    assert dataset.max_length % sample_len == 0 and longest <= dataset.max_length < longest + sample_len
    assert schema.padded_length == dataset.max_length


def test_generated_arrays_come_back_in_the_input_dtypes_labels_and_ranges():
    df, kwargs = random_long_table(4)
    dataset, schema = from_dataframe(df, **kwargs)
    rng = np.random.default_rng(0)
    n, length = 300, dataset.max_length
    lengths = rng.integers(0, length + 1, n)
    flags = (np.arange(length)[None, :] < lengths[:, None]).astype(np.float32)
    out = to_dataframe((rng.random((n, length, dataset.features.shape[2]), dtype=np.float32),
                        rng.random((n, dataset.attributes.shape[1]), dtype=np.float32), flags), schema)
    original = expected_table(df, kwargs)
    for name in original.columns:
        if name in (kwargs["id_column"], kwargs.get("time_column")):
            continue
        assert out[name].dtype == original[name].dtype, name
        if isinstance(original[name].dtype, pd.CategoricalDtype) or original[name].dtype in (object, bool, "str"):
            assert set(out[name]) <= set(original[name].dtype.categories if isinstance(
                original[name].dtype, pd.CategoricalDtype) else original[name]), name
        elif pd.api.types.is_numeric_dtype(original[name].dtype) and not pd.api.types.is_bool_dtype(original[name]):
            assert original[name].min() <= out[name].min() and out[name].max() <= original[name].max(), name
    assert len(out) == lengths.sum() and out[kwargs["id_column"]].nunique() == (lengths > 0).sum()


def test_generated_ids_never_wrap_around_a_small_id_dtype():
    df = pd.DataFrame({"id": np.array([1, 1, 2, 2], dtype=np.uint8), "v": [1.0, 2.0, 3.0, 4.0]})
    dataset, schema = from_dataframe(df, id_column="id", attribute_columns=[], feature_columns=["v"])
    n = 300
    out = to_dataframe((np.zeros((n, 2, 1), np.float32), np.zeros((n, 0), np.float32), np.ones((n, 2), np.float32)),
                       schema)
    assert out["id"].nunique() == n


# ---------------------------------------------------------------------------- malformed tables


def small_table() -> pd.DataFrame:
    """Series "007" (3 steps, rows 0-2) and "7" (2 steps, rows 3-4): ids that are equal as numbers."""
    return two_series_table(ids=("007", "7"))


KWARGS = dict(id_column="id", time_column="t", attribute_columns=["group"], feature_columns=["value", "label"])


def _set(column, row, value, dtype=object):
    def mutate(df):
        df[column] = df[column].astype(dtype)
        df.loc[row, column] = value
        return df
    return mutate


def _replace(column, values, dtype=None):
    def mutate(df):
        df[column] = pd.Series(values, dtype=dtype)
        return df
    return mutate


MALFORMED = {
    # name: (mutation, extra kwargs, column, index, pattern)
    "mixed types": (_replace("value", [1, "a", 2.5, 4, 5], object), {}, "value", 1, "mixed types"),
    "number and bool": (_set("value", 3, True), {}, "value", 3, "mixed types"),
    "numbers as text with a word": (_replace("value", ["1", "2.5", "oops", "4", "5"]), {}, "value", 2,
                                    "mixed types in a text column.*'oops'"),
    "lists": (_replace("label", [[1], [2], [3], [4], [5]], object), {}, "label", 0, "unsupported values of type list"),
    "bytes": (_replace("label", [b"p", b"q", b"p", b"q", b"q"], object), {}, "label", 0, "unsupported values"),
    "attribute varies": (_set("group", 4, "z"), {}, "group", 4, "attribute varies within series id '7'"),
    "NaN attribute": (_set("group", 1, np.nan), {}, "group", 1, "missing values .*id '007' column 'group' row 1"),
    "None feature": (_set("value", 2, None), {}, "value", 2, "missing values .*id '007' column 'value' row 2"),
    "pd.NA feature": (_set("value", 4, pd.NA, "Float64"), {}, "value", 4, "missing values .*id '7'"),
    "NaN label": (_set("label", 0, np.nan), {}, "label", 0, "missing values"),
    "duplicate (id, time)": (_set("t", 2, 1, np.int64), {}, "t", 2, r"duplicate \(id, time\) pair"),
    "irregular time": (_set("t", 4, 3, np.int64), {}, "t", 4, "irregular time spacing"),
    "infinite": (_set("value", 3, np.inf, np.float64), {}, "value", 3, "infinite value inf"),
    "id NaN": (_set("id", 3, None), {}, "id", 3, "missing value in the id/time column"),
    "time NaN": (_set("t", 1, np.nan, np.float64), {}, "t", 1, "missing value in the id/time column"),
    "time NaT": (_replace("t", pd.to_datetime(["2020-01-01", None, "2020-01-03", "2020-01-01", "2020-01-02"])), {},
                 "t", 1, "missing value in the id/time column"),
    "object datetimes": (_replace("t", list(pd.date_range("2020", periods=3)) + list(pd.date_range("2020", periods=2)),
                                  object), {}, "t", 0, "pandas.to_datetime"),
    "bool time": (_replace("t", [True, False, True, False, True]), {}, "t", None, "time column holds bool"),
    "text forced continuous": (lambda df: df, dict(continuous_columns=["label"]), "label", 0,
                               "listed in continuous_columns but holds non-numeric"),
    "period categories": (_replace("label", pd.Categorical([pd.Period("2020-01")] * 5)), {}, "label", None,
                          "categories: unsupported dtype"),
    "interval categories": (_replace("label", pd.Categorical([pd.Interval(0, 1)] * 5)), {}, "label", None,
                            "categories: unsupported dtype interval"),
    "decimal categories": (_replace("label", pd.Categorical([Decimal("1.5")] * 5)), {}, "label", None,
                           "cannot be stored in the table schema"),
    "empty table": (lambda df: df.iloc[:0], {}, None, None, "the table is empty"),
    "one row": (lambda df: df.iloc[:1], {}, "id", None, "the table has 1 series"),
    "one series": (lambda df: df.iloc[:3], {}, "id", None, "the table has 1 series"),
    "column named twice": (lambda df: df.set_axis(["id", "t", "group", "value", "value"], axis=1),
                           dict(feature_columns=["value"]), "value", None, "two columns of this name"),
    "column listed twice": (lambda df: df, dict(feature_columns=["value", "value"]), "value", None, "listed twice"),
    "absent column": (lambda df: df, dict(attribute_columns=["nope"]), "nope", None, "does not have"),
    "tuple column name": (lambda df: df, dict(feature_columns=[("a", "b")]), ("a", "b"), None, "strings or integers"),
    "too long": (lambda df: df, dict(max_length=2), "id", 0, "series id '007' has 3 steps, more than max_length=2"),
    "all dropped": (_set("value", 0, np.nan, np.float64), dict(missing="drop"), "id", None,
                    "1 series left after dropping 1"),
    "nothing to interpolate from": (_replace("value", [np.nan] * 5, np.float64), dict(missing="interpolate"),
                                    "value", 0, "no valid value to interpolate from"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_tables_get_one_clear_error(case):
    mutate, extra, column, index, pattern = MALFORMED[case]
    df = mutate(small_table())
    before = df.copy()
    with pytest.raises(DataFormatError, match=pattern) as info:
        from_dataframe(df, **{**KWARGS, **extra, "source": "hosts.csv"})
    error = info.value
    assert error.file == "hosts.csv" and str(error).startswith("hosts.csv: ")
    if column is not None:
        assert error.array == f"column {column!r}"
    assert error.index == index
    pd.testing.assert_frame_equal(df, before)


def test_mixed_text_can_be_declared_categorical():
    df = small_table()
    df["label"] = ["1", "2", "n/a?", "2", "1"]
    back = round_trip(df, {**KWARGS, "discrete_columns": ["label"]})
    assert list(back["label"]) == list(df["label"])
    for labels, row, value in ((["A", "B", "1", "A", "B"], 2, "number '1' among words"),  # a number among labels
                               (["True", "False", "yes", "True", "False"], 2, "word 'yes' among booleans")):
        df["label"] = labels
        with pytest.raises(DataFormatError, match=f"mixed types in a text column.*{value}") as info:
            from_dataframe(df, **KWARGS)
        assert (info.value.array, info.value.index) == ("column 'label'", row)
        back = round_trip(df, {**KWARGS, "discrete_columns": ["label"]})  # declared labels: accepted as they are
        assert list(back["label"]) == labels
    for labels in (["3", "1", "2", "1", "2"], ["True", "False", "True", "True", "False"], ["A", "B", "C", "A", "B"]):
        df["label"] = labels  # one kind of text only: accepted without declaring it
        assert list(round_trip(df, KWARGS)["label"]) == labels


def test_a_string_instead_of_a_list_of_columns_is_refused():
    with pytest.raises(ConfigError, match=r"attribute_columns='group' must be a list of column names, e.g. \['gr"):
        from_dataframe(small_table(), **{**KWARGS, "attribute_columns": "group"})


def test_free_text_is_binary_coded_by_default_with_a_warning(caplog):
    df = pd.DataFrame({"id": np.repeat([1, 2], 600), "note": [f"entry {i}" for i in range(1200)]})
    kwargs = dict(id_column="id", attribute_columns=[], feature_columns=["note"])
    dataset, schema = from_dataframe(df, **kwargs)  # 1200 levels: 11 bits, not 1200 one-hot columns
    assert [o.dim for o in dataset.feature_outputs] == [2] * 11
    assert "column 'note': every one of its 1200 values is different (an id or free text?)" in caplog.text
    assert list(to_dataframe(dataset, schema)["note"]) == list(df["note"])
    dataset, _ = from_dataframe(df, max_onehot_levels=None, **kwargs)
    assert [o.dim for o in dataset.feature_outputs] == [1200]


def test_bools_forced_continuous_come_back_as_bools():
    df = small_table()
    df["on"] = [True, False, True, True, False]
    back = round_trip(df, {**KWARGS, "feature_columns": ["value", "on"], "continuous_columns": ["on"]})
    assert back["on"].dtype == bool and list(back["on"]) == [True, False, True, True, False]


@pytest.mark.parametrize("dtype, values", [
    (object, [["a", "b", "c"], ["b", None, None], ["a", "a", None]]),
    ("str", [["a", "b", "c"], ["b", None, None], ["a", "a", None]]),
    ("category", [["a", "b", "c"], ["b", None, None], ["a", "a", None]]),
    ("boolean", [[True, False, True], [True, None, None], [False, False, None]]),
    ("Int64", [[1, 2, 3], [3, None, None], [4, 5, None]]),
])
def test_wide_ragged_steps_of_every_dtype(dtype, values):
    df = pd.DataFrame({"id": [3, 1, 2]})
    for j in range(3):
        df[f"s{j}"] = pd.Series([row[j] for row in values], dtype=dtype)
    dataset, schema = from_dataframe(df, id_column="id", attribute_columns=[], feature_columns=["s0", "s1", "s2"],
                                     style="wide")
    assert list(dataset.lengths) == [1, 2, 3]  # ids 1, 2, 3
    back = to_dataframe(dataset, schema)
    expected = df.sort_values("id").reset_index(drop=True)
    assert back.dtypes.to_dict() == expected.dtypes.to_dict()
    def cells(frame):
        return [[None if pd.isna(v) else v for v in row] for row in frame.astype(object).to_numpy().tolist()]
    assert cells(back) == cells(expected)


def test_non_finite_generated_arrays_are_refused():
    dataset, schema = from_dataframe(small_table(), **KWARGS)
    features = dataset.features.copy()
    features[1, 0, 0] = np.nan
    with pytest.raises(DataFormatError, match=r"data_feature at index \(1, 0, 0\): value nan is not finite"):
        to_dataframe((features, dataset.attributes, dataset.gen_flags), schema)


# ---------------------------------------------------------------------------- the prepare command

FLAGS = ["--id-column", "id", "--time-column", "t", "--attribute-columns", "group", "--feature-columns",
         "value,label"]


def _prepare(tmp_path, text: str, capsys, extra=()):
    csv = tmp_path / "in.csv"
    csv.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = run_main(prepare_main, ["--csv", str(csv), "--out", str(out), *FLAGS, *extra])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    return code, out, err


def test_prepare_keeps_zero_padded_ids_and_dst_times(tmp_path, capsys):
    text = ("id,t,group,value,label\n"
            "007,2021-03-28T01:00:00+01:00,x,1.5,p\n007,2021-03-28T03:00:00+02:00,x,2.5,q\n"
            "7,2021-03-28T01:00:00+01:00,y,3.5,q\n7,2021-03-28T03:00:00+02:00,y,4.5,p\n")
    code, out, err = _prepare(tmp_path, text, capsys)
    assert code == 0 and not err
    schema = TableSchema.load(out / "table_schema.json")
    back = to_dataframe(load_dataset(out), schema)
    assert list(back["id"]) == ["007", "007", "7", "7"]
    assert (back["t"].diff().dropna().iloc[[0, 2]] == pd.Timedelta(hours=1)).all()
    assert list(back["value"].round(6)) == [1.5, 2.5, 3.5, 4.5]
    written = tmp_path / "back.csv"
    back.to_csv(written, index=False)
    pd.testing.assert_frame_equal(read_table(written, schema=schema), back)


def test_prepare_reads_durations_and_zero_padded_steps(tmp_path, capsys):
    for times in (["0 days 00:00:30", "0 days 00:01:00"], ["001", "002"]):
        rows = [f"{i},{t},{g},{v},p" for i, g in (("a", "x"), ("b", "y")) for t, v in zip(times, (1.0, 2.0))]
        code, out, err = _prepare(tmp_path, "id,t,group,value,label\n" + "\n".join(rows) + "\n", capsys)
        assert code == 0 and not err
        back = to_dataframe(load_dataset(out), TableSchema.load(out / "table_schema.json"))
        assert back["t"].iloc[1] - back["t"].iloc[0] == (pd.Timedelta(seconds=30) if ":" in times[0] else 1)


CSV_MALFORMED = {
    "mixed types": ("1", "a"),
    "attribute varies": ("x", "z"),
    "missing value": ("2.5", ""),
    "duplicate time": (",1,", ",0,"),
    "infinite": ("2.5", "inf"),
    "bad date": ("2021-01-02", "someday"),
}


@pytest.mark.parametrize("case", [*sorted(CSV_MALFORMED), "one row", "empty", "column twice", "long rows"])
def test_prepare_refuses_malformed_csv_in_one_line_and_writes_nothing(tmp_path, capsys, case):
    rows = ["a,2021-01-01,x,1,p", "a,2021-01-02,x,2.5,q", "b,2021-01-01,y,3,p", "b,2021-01-02,y,4,q"]
    header = "id,t,group,value,label"
    if case in CSV_MALFORMED:
        old, new = CSV_MALFORMED[case]
        rows[1] = rows[1].replace(old, new, 1)
        if case == "duplicate time":
            rows[1] = rows[1].replace("2021-01-02", "2021-01-01")
    elif case == "one row":
        rows = rows[:1]
    elif case == "empty":
        rows = []
    elif case == "column twice":
        header = "id,t,group,value,value"
    elif case == "long rows":
        rows = [row + ",extra" for row in rows]
    code, out, err = _prepare(tmp_path, "\n".join([header, *rows]) + "\n", capsys)
    assert code == 2 and len(err) == 1 and "in.csv" in err[0], err
    assert not out.exists()


def test_prepare_again_without_a_test_split_removes_the_stale_one(tmp_path, capsys):
    rows = [f"{i},{t},{g},{t + 0.5},p" for i, g in (("a", "x"), ("b", "y"), ("c", "y"), ("d", "x")) for t in range(3)]
    text = "id,t,group,value,label\n" + "\n".join(rows) + "\n"
    code, out, _ = _prepare(tmp_path, text, capsys, ["--test-fraction", "0.25"])
    assert code == 0 and (out / "data_test.npz").exists()
    code, out, _ = _prepare(tmp_path, text, capsys)
    assert code == 0 and not (out / "data_test.npz").exists() and load_dataset(out).num_samples == 4
