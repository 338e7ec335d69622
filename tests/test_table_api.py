"""The table API in one call each: fit_dataframe, generate_dataframe, conditions (full and partial), starts."""

import numpy as np
import pandas as pd
import pytest

from dg_tf import DataFormatError, DGConfig, DGError, DoppelGANger, Output, OutputType, Normalization
from dg_tf.conditioning import complete_attributes

from conftest import TINY

REGIONS = ["east", "north", "south"]


def make_table(n: int = 48, seed: int = 0) -> pd.DataFrame:
    """Daily series of 4..8 steps starting on one of 6 days; region, size and weight attributes; one feature."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        length = int(rng.integers(4, 9))
        frames.append(pd.DataFrame({
            "host": f"h{i:03d}",
            "day": pd.date_range(pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 6))),
                                 periods=length, freq="D"),
            "region": REGIONS[i % 3],
            "size": ["small", "large"][(i // 3) % 2],
            "weight": float(rng.uniform(10, 20)),
            "load": rng.uniform(0, 100, length),
        }))
    return pd.concat(frames, ignore_index=True)


COLUMNS = dict(id_column="host", time_column="day", attribute_columns=["region", "size", "weight"],
               feature_columns=["load"])


@pytest.fixture(scope="module")
def table_model():
    df = make_table()
    return DoppelGANger.fit_dataframe(df, **COLUMNS, config=DGConfig(**TINY)), df


def test_fit_dataframe_keeps_the_schema_through_save_and_load(tmp_path, table_model):
    model, df = table_model
    out = model.generate_dataframe(30, seed=3)
    assert list(out.columns) == list(df.columns) and (out.dtypes == df.dtypes).all()
    assert out["host"].nunique() == 30 and set(out["region"]) <= set(REGIONS)
    assert out["weight"].between(df["weight"].min(), df["weight"].max()).all()
    model.save(tmp_path / "model")
    again = DoppelGANger.load(tmp_path / "model").generate_dataframe(30, seed=3)
    pd.testing.assert_frame_equal(out, again)
    assert model.history.epoch == [0, 1]


def test_generated_series_start_on_the_grid_at_the_learned_starts(table_model):
    model, df = table_model
    out = model.generate_dataframe(200, seed=4)
    starts = out.groupby("host")["day"].min()
    real = set(df.groupby("host")["day"].min())
    assert set(starts) <= real and len(set(starts)) > 1  # one-hot start: only days some series started on
    assert (out.groupby("host")["day"].diff().dropna() == pd.Timedelta(days=1)).all()


def test_conditions_are_honoured_row_by_row_and_the_rest_is_drawn(table_model):
    model, _ = table_model
    conditions = pd.DataFrame({"region": ["south", None, "east", "north"] * 10,
                               "weight": [12.5, np.nan, np.nan, 19.0] * 10})
    out = model.generate_dataframe(conditions=conditions, seed=5)
    per_series = out.groupby("host", sort=False)[["region", "weight"]].first()
    assert len(per_series) == 40
    given = conditions["region"].notna().to_numpy()
    np.testing.assert_array_equal(per_series["region"].to_numpy()[given], conditions["region"][given])
    has_weight = conditions["weight"].notna().to_numpy()
    np.testing.assert_allclose(per_series["weight"].to_numpy()[has_weight], conditions["weight"][has_weight],
                               rtol=1e-6)
    assert per_series["weight"][~has_weight].nunique() > 1  # drawn, not a constant
    pd.testing.assert_frame_equal(out, model.generate_dataframe(conditions=conditions, seed=5))


@pytest.mark.parametrize("conditions, match", [
    (pd.DataFrame({"region": ["east", "west"]}), r"column 'region' at index 1: 'west' is not one of the column's "
                                                 r"labels \('east', 'north', 'south'\)"),
    (pd.DataFrame({"colour": ["red"]}), r"column 'colour': is not a column of the table"),
    (pd.DataFrame({"load": [3.0]}), r"column 'load': is the id, time or a feature column"),
    (pd.DataFrame({"weight": [15.0, 15.0, 99.0]}), r"column 'weight' at index 2: 99.0 is outside the range"),
    (pd.DataFrame({"weight": [15.0, "heavy"]}), r"column 'weight' at index 1: 'heavy' is not a number"),
])
def test_bad_conditions_name_the_row_and_column(table_model, conditions, match):
    model, _ = table_model
    with pytest.raises(DataFormatError, match=match):
        model.generate_dataframe(conditions=conditions, seed=1)


def test_conditions_given_as_csv_text_match_labels(table_model):
    model, _ = table_model
    csv_like = pd.DataFrame({"size": ["large", "small"], "weight": ["11", "18.5"]})  # text, as read from a CSV
    out = model.generate_dataframe(conditions=csv_like, seed=2)
    first = out.groupby("host", sort=False)[["size", "weight"]].first()
    assert list(first["size"]) == ["large", "small"]
    np.testing.assert_allclose(first["weight"], [11.0, 18.5], rtol=1e-6)


def test_n_must_agree_with_the_conditions_and_arrays_need_a_schema(table_model, tiny_config, toy_dataset):
    model, _ = table_model
    with pytest.raises(DGError, match="differs from the 2 rows"):
        model.generate_dataframe(3, conditions=pd.DataFrame({"region": ["east", "east"]}))
    with pytest.raises(DGError, match="n \\(the number of series\\) is required"):
        model.generate_dataframe()
    plain = DoppelGANger(tiny_config.replace(epochs=1), toy_dataset.feature_outputs, toy_dataset.attribute_outputs)
    plain.fit(toy_dataset)
    with pytest.raises(DGError, match="not fit on a table"):
        plain.generate_dataframe(3)


# ---------------------------------------------------------------- the rejection sampler against a known joint

A = Output(OutputType.DISCRETE, 3)
B = Output(OutputType.DISCRETE, 4)
C = Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)
#: P(a, b): a known joint the fake attribute generator samples.
JOINT = np.array([[0.20, 0.05, 0.05, 0.00],
                  [0.02, 0.02, 0.30, 0.06],
                  [0.10, 0.00, 0.00, 0.20]])


def _fake_draw(seed: int):
    rng = np.random.default_rng(seed)

    def draw(b):
        cell = rng.choice(JOINT.size, size=b, p=JOINT.ravel())
        a, bb = np.divmod(cell, 4)
        c = (a + rng.uniform(0, 1, b)) / 3  # c in [a/3, (a+1)/3): c tells a
        return np.concatenate([np.eye(3)[a], np.eye(4)[bb], c[:, None]], axis=1).astype(np.float32)
    return draw


def test_partial_conditions_sample_the_conditional_distribution():
    n = 6000
    a = np.repeat([0, 1, 2], n // 3)
    given_values = np.concatenate([np.eye(3)[a], np.zeros((n, 5))], axis=1).astype(np.float32)
    given = np.zeros((n, 3), bool)
    given[:, 0] = True
    out = complete_attributes(_fake_draw(0), [A, B, C], given_values, given, batch_size=4096)
    np.testing.assert_array_equal(out[:, :3], given_values[:, :3])
    b = out[:, 3:7].argmax(1)
    assert set(np.unique(out[:, 3:7].sum(1))) == {1.0}
    for label in range(3):
        expected = JOINT[label] / JOINT[label].sum()
        observed = np.bincount(b[a == label], minlength=4) / (n // 3)
        assert 0.5 * np.abs(observed - expected).sum() < 0.03, (label, observed, expected)
        assert (out[a == label, 7] * 3 // 1 == label).all()  # the continuous attribute drawn with its label


def test_a_given_continuous_value_picks_draws_near_it():
    n = 300
    values = np.zeros((n, 8), np.float32)
    values[:, 7] = 0.95  # only c given: c near 0.95 means a == 2
    given = np.zeros((n, 3), bool)
    given[:, 2] = True
    out = complete_attributes(_fake_draw(1), [A, B, C], values, given, batch_size=4096)
    assert (out[:, 7] == np.float32(0.95)).all()
    assert (out[:, :3].argmax(1) == 2).mean() > 0.95
    assert set(out[:, 3:7].argmax(1)) <= {0, 3}  # b given a == 2 is 0 or 3 only


def test_a_combination_never_drawn_is_refused_naming_the_row():
    values = np.zeros((3, 8), np.float32)
    values[:, 0] = 1  # a = 0 ...
    values[2, 6] = 1  # ... and b = 3 in row 2: probability 0
    given = np.zeros((3, 3), bool)
    given[:, 0] = True
    given[2, 1] = True
    with pytest.raises(DGError, match=r"conditions row 2 \(.*\): the model drew 0 of the 1 series"):
        complete_attributes(_fake_draw(2), [A, B, C], values, given, batch_size=1000, max_draws=20000)
