"""Careless and hostile use of the command line: one clear line, nothing leaked, half-written or deleted."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from conftest import TINY, make_toy_dataset
from dg_tf import ConfigError, DataFormatError, DGConfig, DoppelGANger, TableSchema, save_dataset
from dg_tf.cli import run_main
from dg_tf.generate import main as generate_main
from dg_tf.prepare import main as prepare_main
from dg_tf.train import main as train_main
from test_table_cli import TABLE_TINY_FLAGS, _hand_made_table, _table_flags

TINY_FLAGS = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items() if k != "epochs"]
TOY = make_toy_dataset()
FEATURE_MIN = np.array([0.1, -0.9], np.float32)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """The toy dataset whose .npz also holds a real extra array and one with a hostile name."""
    folder = tmp_path_factory.mktemp("hostile") / "data"
    save_dataset(folder, TOY)
    np.savez(folder / "data_train.npz", data_feature=TOY.features, data_attribute=TOY.attributes,
             data_gen_flag=TOY.gen_flags, data_feature_min=FEATURE_MIN, **{"../../evil": np.arange(3.0)})
    return folder


@pytest.fixture(scope="module")
def run(data_dir):
    out = data_dir.parent / "run"
    train_main(["--data", str(data_dir), "--out", str(out), "--epochs", "1", "--num-generate", "5", *TINY_FLAGS])
    return out


def _keys(path):
    with np.load(path) as npz:
        return sorted(npz.files)


def _one_line_error(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_synthetic_npz_carries_only_generated_arrays_unless_extras_are_named(run, data_dir, tmp_path, capsys):
    assert _keys(run / "synthetic.npz") == ["data_attribute", "data_feature", "data_gen_flag"]
    copied = tmp_path / "copied"
    train_main(["--data", str(data_dir), "--out", str(copied), "--epochs", "1", "--num-generate", "5",
                "--copy-extras", "data_feature_min", *TINY_FLAGS])
    assert _keys(copied / "synthetic.npz") == ["data_attribute", "data_feature", "data_feature_min", "data_gen_flag"]
    with np.load(copied / "synthetic.npz") as npz:
        np.testing.assert_array_equal(npz["data_feature_min"], FEATURE_MIN)

    out = tmp_path / "g.npz"
    args = ["--run", str(run), "--num", "7", "--out", str(out), "--seed", "1"]
    assert run_main(generate_main, args) == 0
    assert _keys(out) == ["data_attribute", "data_feature", "data_gen_flag"]
    assert run_main(generate_main, [*args, "--copy-extras", "data_feature_min",
                                    "--extras-from", str(data_dir / "data_train.npz")]) == 0
    assert _keys(out) == ["data_attribute", "data_feature", "data_feature_min", "data_gen_flag"]
    out.unlink()
    for extra, message in ((["--copy-extras", "../../evil", "--extras-from", str(data_dir / "data_train.npz")],
                            "extra array name is reserved or not an identifier"),
                           (["--copy-extras", "data_feature_max", "--extras-from", str(data_dir / "data_train.npz")],
                            "data_feature_max: no such array in the file"),
                           (["--copy-extras", "data_feature_min"], "go together")):
        assert run_main(generate_main, [*args, *extra]) == 2
        assert message in _one_line_error(capsys)
        assert not out.exists()


def test_a_failed_train_removes_what_it_created_and_nothing_else(data_dir, tmp_path, capsys):
    fresh = tmp_path / "fresh"
    assert run_main(train_main, ["--data", str(data_dir), "--out", str(fresh), "--epochs", "1",
                                 "--copy-extras", "data_feature_max", *TINY_FLAGS]) == 2
    assert "no such array" in _one_line_error(capsys)
    assert not fresh.exists()

    csv = tmp_path / "hosts.csv"
    _hand_made_table().to_csv(csv, index=False)
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "notes.txt").write_text("the user's")
    assert run_main(train_main, ["--data", str(csv), "--out", str(existing), "--epochs", "1", "--copy-extras",
                                 "series_id", *_table_flags(), *TABLE_TINY_FLAGS]) == 2
    assert "describes the real series" in _one_line_error(capsys)
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]  # RUN/data/ was prepared, then removed
    assert (existing / "notes.txt").read_text() == "the user's"


def test_prepare_failing_part_way_leaves_the_folder_as_it_was(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "hosts.csv"
    _hand_made_table().to_csv(csv, index=False)
    args = ["--csv", str(csv), "--sample-len", "4", *_table_flags()]

    def disk_full(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(TableSchema, "save", disk_full)  # after the pickles and data_train.npz are written
    assert run_main(prepare_main, [*args, "--out", str(tmp_path / "new")]) == 2
    assert "No space left on device" in _one_line_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts.csv"]  # no folder, no staging folder left
    monkeypatch.undo()
    prepared = tmp_path / "prepared"
    assert run_main(prepare_main, [*args, "--out", str(prepared)]) == 0
    before = {p.name: p.read_bytes() for p in prepared.iterdir()}
    monkeypatch.setattr(TableSchema, "save", disk_full)
    assert run_main(prepare_main, [*args, "--out", str(prepared), "--test-fraction", "0.25"]) == 2
    assert {p.name: p.read_bytes() for p in prepared.iterdir()} == before


def test_generation_beyond_memory_is_refused_before_anything_is_written(run, tmp_path, monkeypatch, capsys, caplog):
    out = tmp_path / "out.npz"
    caplog.set_level(logging.INFO, logger="dg_tf.generate")
    assert run_main(generate_main, ["--run", str(run), "--num", "9", "--out", str(out)]) == 0
    assert "generating 9 series in memory: about" in caplog.text and "available" in caplog.text

    monkeypatch.setenv("DG_TF_MEMORY_BYTES", str(1 << 20))
    per_series = DoppelGANger.load(run).series_nbytes * 2
    assert per_series == 2 * 4 * (8 * (4 + 1) + 4)
    error = None
    for extra in ([], ["--shard-size", "1"]):
        assert run_main(generate_main, ["--run", str(run), "--num", "1000000000", "--out",
                                        str(tmp_path / "big"), *extra]) == 2
        error = _one_line_error(capsys)
        if not extra:
            assert "refusing to generate 1000000000 series at once" in error
            assert f"at most {(1 << 20) // per_series} series (python -m dg_tf.generate --shard-size K)" in error
    assert "shards of one generation is over the limit of 100000" in error and "at least 10000 series" in error
    assert not (tmp_path / "big").exists()
    caplog.clear()
    assert run_main(generate_main, ["--run", str(run), "--num", "30", "--out", str(tmp_path / "shards"),
                                    "--shard-size", "10"]) == 0
    assert "streaming 30 series in shards of 10: about" in caplog.text


def test_non_utf8_arguments_are_one_line_errors(data_dir, tmp_path, capsys):
    out = tmp_path / "run_\udcff"
    assert run_main(train_main, ["--data", str(data_dir), "--out", str(out), "--epochs", "1"]) == 2
    assert "is not valid UTF-8" in _one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("empty", ["features", "attributes and continuous features"])
def test_specs_without_columns_are_refused_before_tensorflow(tmp_path, empty):
    data = TOY
    if empty == "features":
        data = dataclasses.replace(data, features=data.features[..., :0], feature_outputs=[])
        message, field = "no feature columns", "feature_outputs"
    else:  # no attributes, and only a discrete feature: nothing for the attribute generator (oneDNN aborted)
        data = dataclasses.replace(data, attributes=data.attributes[:, :0], attribute_outputs=[],
                                   features=data.features[..., 2:], feature_outputs=data.feature_outputs[2:])
        message, field = "no attributes and no continuous feature", "attribute_outputs"
    save_dataset(tmp_path / "data", data)  # a valid dataset folder; the model is what cannot use it
    model = DoppelGANger(DGConfig(**TINY), data.feature_outputs, data.attribute_outputs)
    with pytest.raises(DataFormatError, match=message) as info:
        model.fit(data, run_dir=tmp_path / "run", source="data_train.npz")
    assert (info.value.file, info.value.array) == ("data_train.npz", field)
    assert not (tmp_path / "run").exists()


def test_a_batch_beyond_memory_is_refused_before_building(tmp_path):
    model = DoppelGANger(DGConfig(**{**TINY, "batch_size": 2**30}), TOY.feature_outputs, TOY.attribute_outputs)
    with pytest.raises(ConfigError, match=r"with batch_size=1073741824 .* would need about .* TiB"):
        model.fit(TOY, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
