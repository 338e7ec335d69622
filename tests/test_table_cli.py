"""Tables through the command line: prepare -> train -> generate -> a table in the input's shape."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import conftest
from conftest import SHARED_DATA, TINY, require_data
from dg_tf import DGConfig, TableSchema, load_dataset, read_table
from dg_tf.cli import run_main
from dg_tf.generate import main as generate_main
from dg_tf.prepare import main as prepare_main
from dg_tf.train import main as train_main

#: The tiny model, with sample_len left to the table's padding rule.
TABLE_TINY_FLAGS = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items() if k not in ("epochs", "sample_len")]


def _hand_made_table(seed: int = 0) -> pd.DataFrame:
    """Variable-length long table: string ids, daily dates, string + bool attributes, int + float features."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(24):
        length = int(rng.integers(3, 12))
        site, wired = ["paris", "lyon", "nice"][i % 3], bool(i % 2)
        start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 3)))
        for t in range(length):
            rows.append({
                "host": f"h{i:02d}", "day": start + pd.Timedelta(days=t), "site": site, "wired": wired,
                "requests": int(rng.integers(0, 500)), "latency_ms": float(rng.gamma(2.0, 10.0)),
            })
    return pd.DataFrame(rows)


def _table_flags():
    return ["--id-column", "host", "--time-column", "day", "--attribute-columns", "site,wired",
            "--feature-columns", "requests,latency_ms"]


def test_prepare_writes_triple_schema_and_padding(tmp_path):
    csv = tmp_path / "hosts.csv"
    table = _hand_made_table()
    table.to_csv(csv, index=False)
    out = tmp_path / "prepared"
    assert run_main(prepare_main, ["--csv", str(csv), "--out", str(out), "--sample-len", "4",
                                   "--test-fraction", "0.25", *_table_flags()]) == 0
    train, test = load_dataset(out), load_dataset(out, "test")
    assert (train.num_samples, test.num_samples) == (18, 6)
    assert train.max_length == 12  # longest series 11, padded up to a multiple of 4
    sizes = table.groupby("host").size()
    lengths = dict(zip(train.extras["series_id"], train.lengths))
    assert all(lengths[host] == sizes[host] for host in lengths)
    assert json.loads((out / "dg_config.json").read_text()) == {"sample_len": 4}
    schema = TableSchema.load(out / "table_schema.json")
    assert [s.name for s in schema.attributes] == ["site", "wired"]
    assert list(schema.attributes[0].levels) == ["lyon", "nice", "paris"]


def test_train_on_csv_then_generate_tables(tmp_path):
    csv = tmp_path / "hosts.csv"
    table = _hand_made_table()
    table.to_csv(csv, index=False)
    run = tmp_path / "run"
    train_main(["--data", str(csv), "--out", str(run), "--epochs", "1", *TABLE_TINY_FLAGS, *_table_flags()])
    schema = TableSchema.load(run / "table_schema.json")
    synthetic = read_table(run / "synthetic.csv", schema=schema)
    assert list(synthetic.columns) == ["host", "day", "site", "wired", "requests", "latency_ms"]
    original = read_table(csv, schema=schema)
    assert synthetic.dtypes.to_dict() == original.dtypes.to_dict()
    assert set(synthetic["site"]) <= {"paris", "lyon", "nice"} and synthetic["wired"].dtype == bool
    for column in ("requests", "latency_ms"):
        assert table[column].min() <= synthetic[column].min() and synthetic[column].max() <= table[column].max()
    assert (synthetic["requests"] == synthetic["requests"].round()).all()
    steps = synthetic.groupby("host")["day"].diff().dropna()
    assert (steps == pd.Timedelta(days=1)).all()
    assert DGConfig.from_file(run / "config.json").sample_len == 1  # round(11 / 50) -> 1

    out = tmp_path / "more.parquet"
    assert run_main(generate_main, ["--run", str(run), "--num", "7", "--out", str(out), "--seed", "1"]) == 0
    generated = pd.read_parquet(out)
    assert generated["host"].nunique() == 7 and list(generated.columns) == list(synthetic.columns)
    assert generated.dtypes.to_dict() == original.dtypes.to_dict()

    # one series per row of --conditions: given labels kept, empty cells drawn
    conditions = tmp_path / "conditions.csv"
    conditions.write_text("site,wired\nnice,\n,True\nlyon,False\n")
    out = tmp_path / "conditioned.csv"
    assert run_main(generate_main, ["--run", str(run), "--conditions", str(conditions), "--out", str(out)]) == 0
    per_series = read_table(out, schema=schema).groupby("host", sort=False)[["site", "wired"]].first()
    assert list(per_series["site"])[0::2] == ["nice", "lyon"] and list(per_series["wired"])[1:] == [True, False]
    bad = tmp_path / "bad_conditions.csv"
    bad.write_text("site\nnice\nrome\n")
    assert run_main(generate_main, ["--run", str(run), "--conditions", str(bad), "--out", str(tmp_path / "no.csv")]) == 2
    assert not (tmp_path / "no.csv").exists()


def test_bad_tables_fail_in_one_line_and_write_nothing(tmp_path, capsys):
    table = _hand_made_table()
    table.loc[5, "site"] = "lyon" if table.loc[5, "site"] != "lyon" else "nice"  # varies within host h00
    csv = tmp_path / "bad.csv"
    table.to_csv(csv, index=False)
    out = tmp_path / "prepared"
    assert run_main(prepare_main, ["--csv", str(csv), "--out", str(out), *_table_flags()]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "bad.csv" in error[0] and "site" in error[0]
    assert not out.exists()
    assert run_main(prepare_main, ["--csv", str(tmp_path / "notes.txt"), "--out", str(out), *_table_flags()]) == 2
    assert run_main(prepare_main, ["--csv", str(csv), "--out", str(out), "--feature-columns", "requests"]) == 2
    assert "--id-column" in capsys.readouterr().err


def test_generate_table_needs_a_table_run(tmp_path, capsys):
    from conftest import make_toy_dataset
    from dg_tf import save_dataset

    save_dataset(tmp_path / "data", make_toy_dataset())
    run = tmp_path / "run"
    train_main(["--data", str(tmp_path / "data"), "--out", str(run), "--epochs", "1", "--num-generate", "0",
                *TABLE_TINY_FLAGS, "--sample-len", "2"])
    code = run_main(generate_main, ["--run", str(run), "--num", "3", "--out", str(tmp_path / "x.csv")])
    assert code == 2 and "table_schema.json" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


SHARED_CASES = {
    # file: (attribute columns, feature columns)
    "BasicMotions.csv": ("class", "dim_0,dim_1,dim_2,dim_3,dim_4,dim_5"),
    "PickupGestureWiimoteZ.csv": ("class", "dim_0"),
    "ACSF1.csv": ("class", "dim_0"),
}


@pytest.mark.parametrize("name", sorted(SHARED_CASES))
def test_shared_long_csvs_prepare_train_generate(tmp_path, name):
    source = SHARED_DATA / name
    require_data(source)
    attributes, features = SHARED_CASES[name]
    prepared = tmp_path / "prepared"
    flags = ["--id-column", "series_id", "--time-column", "step", "--attribute-columns", attributes,
             "--discrete-columns", attributes, "--feature-columns", features]
    assert run_main(prepare_main, ["--csv", str(source), "--out", str(prepared), *flags]) == 0
    real = pd.read_csv(source)
    sizes = real.groupby("series_id").size()
    dataset = load_dataset(prepared)
    assert dataset.num_samples == real["series_id"].nunique()
    sample_len = json.loads((prepared / "dg_config.json").read_text())["sample_len"]
    assert dataset.max_length % sample_len == 0 and dataset.max_length - sizes.max() < sample_len
    np.testing.assert_array_equal(np.sort(dataset.lengths), np.sort(sizes.to_numpy()))

    run = tmp_path / "run"
    train_main(["--data", str(prepared), "--out", str(run), "--epochs", "1", "--num-generate", "0",
                *TABLE_TINY_FLAGS, "--batch-size", "32"])
    out = tmp_path / "synthetic.csv"
    assert run_main(generate_main, ["--run", str(run), "--num", "6", "--out", str(out)]) == 0
    synthetic = pd.read_csv(out)
    assert list(synthetic.columns) == list(real.columns)
    assert synthetic.dtypes.to_dict() == real.dtypes.to_dict()
    assert set(synthetic["class"]) <= set(real["class"])
    assert synthetic.groupby("series_id").size().max() <= sizes.max()
    for column in features.split(","):
        assert real[column].min() <= synthetic[column].min() and synthetic[column].max() <= real[column].max()


@pytest.mark.parametrize(("variables", "outcome"), [
    ({}, "skip"), ({"CI": "false"}, "skip"), ({"CI": "0", "DG_TF_CI": ""}, "skip"),
    ({"CI": "true"}, "fail"), ({"CI": "1"}, "fail"), ({"DG_TF_CI": "1"}, "fail"),
])
def test_missing_real_data_fails_in_ci_and_skips_elsewhere(monkeypatch, tmp_path, variables, outcome):
    """require_data: a missing folder fails the test when CI or DG_TF_CI is set, skips it otherwise;
    a present folder lets the test run either way."""
    for name in conftest.CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="real-data tests"):
        require_data(tmp_path / "missing")
    assert require_data(tmp_path) is None
