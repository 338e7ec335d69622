"""``python -m dg_tf.generate --shard-size K``: bounded-memory shards, determinism, crash safety and resume."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from conftest import REPO, TINY, make_toy_dataset
from dg_tf import ConfigError, DoppelGANger, TableSchema, load_npz, read_table, save_dataset
from dg_tf.cli import run_main
from dg_tf.generate import main as generate_main
from dg_tf.seeding import derive_seed
from dg_tf.data.attribute_files import iter_attribute_chunks
from dg_tf.run import RunFolder
from dg_tf.sharded_generation import MANIFEST_FILE, ShardPlan, generate_shards
from dg_tf.train import main as train_main
from test_table_cli import TABLE_TINY_FLAGS, _hand_made_table, _table_flags

TINY_FLAGS = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items() if k != "epochs"]
TOY = make_toy_dataset()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny model trained one epoch on the toy dataset."""
    root = tmp_path_factory.mktemp("sharded")
    save_dataset(root / "data", TOY)
    train_main(["--data", str(root / "data"), "--out", str(root / "run"), "--epochs", "1", "--num-generate", "0",
                *TINY_FLAGS])
    return root / "run"


@pytest.fixture(scope="module")
def model(run):
    return DoppelGANger.load(run)


def _shards(model, run, out, num, shard_size, seed=7, **kwargs):
    """The library call behind the CLI (the model is loaded once per module)."""
    plan = ShardPlan(RunFolder(run).fingerprint(), seed, num, shard_size, "npz")
    return generate_shards(model, out, plan, **kwargs)


def _generate(run, out, num, shard_size, *extra):
    return run_main(generate_main, ["--run", str(run), "--num", str(num), "--out", str(out),
                                    "--shard-size", str(shard_size), *map(str, extra)])


def _load(path):
    return load_npz(path, TOY.feature_outputs, TOY.attribute_outputs)  # validates every array


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def _snapshot(folder):
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.glob("part-*")}


class _Spy:
    """Wraps DoppelGANger.generate: records each n, optionally raises on one call."""

    def __init__(self, monkeypatch, fail_on_call=None):
        self.calls, self.fail_on_call = [], fail_on_call
        original = DoppelGANger.generate

        def generate(model, n, *args, **kwargs):
            self.calls.append(n)
            if len(self.calls) == self.fail_on_call:
                raise RuntimeError("simulated crash")
            return original(model, n, *args, **kwargs)

        monkeypatch.setattr(DoppelGANger, "generate", generate)


def test_shards_sizes_manifest_content_and_progress(run, tmp_path, caplog, monkeypatch):
    spy = _Spy(monkeypatch)
    out = tmp_path / "shards"
    with caplog.at_level(logging.INFO):
        assert _generate(run, out, 23, 10, "--seed", 5) == 0
    assert _listing(out) == [MANIFEST_FILE, "part-00000.npz", "part-00001.npz", "part-00002.npz"]
    shards = [_load(out / f"part-{i:05d}.npz") for i in range(3)]
    assert [s.num_samples for s in shards] == [10, 10, 3]
    assert spy.calls == [10, 10, 3]  # generate never sees more than one shard: memory bounded by K
    features = np.concatenate([s.features for s in shards])
    assert features.shape == (23, 8, 4)
    assert set(np.unique(np.concatenate([s.attributes[:, :3] for s in shards]))) <= {0.0, 1.0}
    # shard i is generate(rows_i, seed=derive_seed(seed, "shard", i)); not one generate(23, seed) call
    model = DoppelGANger.load(run)
    np.testing.assert_array_equal(shards[2].features, model.generate(3, seed=derive_seed(5, "shard", 2)).features)
    assert not np.array_equal(features, model.generate(23, seed=5).features)

    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["complete"] is True
    assert (manifest["num"], manifest["shard_size"], manifest["seed"], manifest["num_shards"]) == (23, 10, 5, 3)
    assert manifest["file_format"] == "npz" and manifest["attributes_sha256"] is None
    assert manifest["rows_per_shard"] == [10, 10, 3]
    assert manifest["shard_seeds"] == [derive_seed(5, "shard", i) for i in range(3)]
    assert [e["file"] for e in manifest["shards"]] == ["part-00000.npz", "part-00001.npz", "part-00002.npz"]
    assert [e["bytes"] for e in manifest["shards"]] == [(out / e["file"]).stat().st_size for e in manifest["shards"]]
    assert len({e["sha256"] for e in manifest["shards"]}) == 3

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("shard ")]
    assert [line.split(" | ")[:2] for line in lines] == [
        ["shard 1/3", "10/23 series"], ["shard 2/3", "20/23 series"], ["shard 3/3", "23/23 series"]]
    assert all("series/s" in line and "ETA 0:" in line for line in lines)


def test_same_settings_give_identical_shards(model, run, tmp_path):
    for name in ("a", "b"):
        _shards(model, run, tmp_path / name, 12, 5)
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert a.keys() == b.keys() == {"part-00000.npz", "part-00001.npz", "part-00002.npz"}
    assert all(a[name][1] == b[name][1] for name in a)
    _shards(model, run, tmp_path / "c", 12, 5, seed=99)
    assert (tmp_path / "c" / "part-00000.npz").read_bytes() != a["part-00000.npz"][1]


def test_crash_leaves_complete_shards_and_rerun_resumes(model, run, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    _shards(model, run, reference, 45, 10)
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        spy = _Spy(patch, fail_on_call=4)  # dies while generating shard 3
        with pytest.raises(RuntimeError, match="simulated crash"):
            _shards(model, run, out, 45, 10)
    assert spy.calls == [10, 10, 10, 10]
    assert _listing(out) == [MANIFEST_FILE, "part-00000.npz", "part-00001.npz", "part-00002.npz"]  # no temp file
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["complete"] is False and [e["index"] for e in manifest["shards"]] == [0, 1, 2]
    kept = _snapshot(out)
    stale = out / ".part-00003.npz.0123456789ab.tmp"  # what a kill -9 inside atomic_write leaves
    stale.write_bytes(b"half a shard")

    spy = _Spy(monkeypatch)
    assert _shards(model, run, out, 45, 10)["complete"] is True
    assert spy.calls == [10, 5]  # only shards 3 and 4
    assert not stale.exists()
    after = _snapshot(out)
    assert all(after[name] == kept[name] for name in kept)  # untouched: same mtime and bytes
    assert {n: v[1] for n, v in after.items()} == {n: v[1] for n, v in _snapshot(reference).items()}
    assert json.loads((out / MANIFEST_FILE).read_text())["complete"] is True

    # a shard changed after the fact is noticed (size) and generated again
    damaged = out / "part-00001.npz"
    damaged.write_bytes(damaged.read_bytes() + b"\0")
    _shards(model, run, out, 45, 10)
    assert spy.calls == [10, 5, 10]
    assert damaged.read_bytes() == (reference / "part-00001.npz").read_bytes()
    # same size, other bytes: only verify (SHA-256) sees it
    damaged.write_bytes(bytes(reversed(damaged.read_bytes())))
    _shards(model, run, out, 45, 10)
    assert spy.calls == [10, 5, 10]
    _shards(model, run, out, 45, 10, verify=True)
    assert spy.calls == [10, 5, 10, 10]
    assert damaged.read_bytes() == (reference / "part-00001.npz").read_bytes()


def test_other_settings_are_refused_in_one_line_unless_overwrite(model, run, tmp_path, capsys):
    out = tmp_path / "out"
    _shards(model, run, out, 12, 5, seed=1)
    before = _snapshot(out)
    assert _generate(run, out, 12, 5, "--seed", 2) == 2  # the command line: exit 2, one line
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "seed 1 there, 2 now" in error[0] and "--overwrite" in error[0]
    with pytest.raises(ConfigError, match="shard_size 5 there, 4 now"):
        _shards(model, run, out, 12, 4, seed=1)
    with pytest.raises(ConfigError, match="num 12 there, 13 now"):
        _shards(model, run, out, 13, 5, seed=1)
    retrained = tmp_path / "retrained"
    shutil.copytree(run, retrained)
    with open(retrained / "config.json", "a") as handle:
        handle.write("\n")  # any change to the run's files is another model
    with pytest.raises(ConfigError, match="run_fingerprint differs"):
        _shards(model, retrained, out, 12, 5, seed=1)
    assert _snapshot(out) == before

    _shards(model, run, out, 8, 4, seed=2, overwrite=True)
    assert _listing(out) == [MANIFEST_FILE, "part-00000.npz", "part-00001.npz"]  # old part-00002 removed
    assert json.loads((out / MANIFEST_FILE).read_text())["seed"] == 2

    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "part-00000.npz").write_bytes(b"?")
    with pytest.raises(ConfigError, match="no manifest.json"):
        _shards(model, run, stray, 8, 4)
    # flag mistakes fail before the model is loaded
    assert _generate(tmp_path / "no-run", out, 12, 0) == 2 and "--shard-size 0" in capsys.readouterr().err
    assert run_main(generate_main, ["--run", str(tmp_path / "no-run"), "--num", "3", "--out", str(tmp_path / "x"),
                                    "--overwrite"]) == 2
    assert "--shard-size" in capsys.readouterr().err


def test_attributes_condition_the_shards_row_by_row(run, tmp_path, capsys):
    given = tmp_path / "given.npz"
    np.savez_compressed(given, data_attribute=TOY.attributes[:13])
    out = tmp_path / "out"
    assert run_main(generate_main, ["--run", str(run), "--attributes", str(given), "--out", str(out),
                                    "--shard-size", "5"]) == 0
    shards = [_load(out / f"part-{i:05d}.npz") for i in range(3)]
    assert [s.num_samples for s in shards] == [5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([s.attributes for s in shards]), TOY.attributes[:13])
    assert json.loads((out / MANIFEST_FILE).read_text())["attributes_sha256"] is not None

    bad = TOY.attributes[:13].copy()
    bad[11, :3] = [1, 1, 0]  # not one-hot
    np.savez(tmp_path / "bad.npz", data_attribute=bad)
    assert run_main(generate_main, ["--run", str(run), "--attributes", str(tmp_path / "bad.npz"),
                                    "--out", str(tmp_path / "bad"), "--shard-size", "5"]) == 2
    error = capsys.readouterr().err
    assert "bad.npz" in error and "at index (11" in error
    assert not (tmp_path / "bad").exists()  # checked whole before any shard


def test_attribute_chunks_stream_any_npz_layout(tmp_path):
    values = np.arange(21, dtype=np.float64).reshape(7, 3)
    np.savez_compressed(tmp_path / "c.npz", data_attribute=values)
    np.savez(tmp_path / "f.npz", data_attribute=np.asfortranarray(values))
    for name in ("c.npz", "f.npz"):
        chunks = list(iter_attribute_chunks(tmp_path / name, 3))
        assert [c.shape for c in chunks] == [(3, 3), (3, 3), (1, 3)] and chunks[0].dtype == np.float32
        np.testing.assert_array_equal(np.concatenate(chunks), values)


def test_csv_shards_of_a_table_run(tmp_path):
    csv = tmp_path / "hosts.csv"
    _hand_made_table().to_csv(csv, index=False)
    run = tmp_path / "run"
    train_main(["--data", str(csv), "--out", str(run), "--epochs", "1", "--num-generate", "0",
                *TABLE_TINY_FLAGS, *_table_flags()])
    out = tmp_path / "out"
    assert _generate(run, out, 9, 4, "--format", "csv") == 0
    assert _listing(out) == [MANIFEST_FILE, "part-00000.csv", "part-00001.csv", "part-00002.csv"]
    schema = TableSchema.load(run / "table_schema.json")
    tables = [read_table(out / f"part-{i:05d}.csv", schema=schema) for i in range(3)]
    assert [t["host"].nunique() for t in tables] == [4, 4, 1]
    hosts = [host for t in tables for host in t["host"].unique()]
    assert hosts == [f"synthetic-{i}" for i in range(9)]  # unique over all shards
    assert all(list(t.columns) == ["host", "day", "site", "wired", "requests", "latency_ms"] for t in tables)
    assert set(np.concatenate([t["site"] for t in tables])) <= {"paris", "lyon", "nice"}


#: ``python -m dg_tf.generate`` whose os.replace of the file named argv[1] (the last step of its atomic
#: write: the shard is whole in its temporary file) signals by creating argv[2], then waits to be killed.
KILLABLE = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    hold, ready, replace = sys.argv[1], Path(sys.argv[2]), os.replace
    def held_replace(source, target, *args, **kwargs):
        if os.path.basename(os.fspath(target)) == hold:
            ready.touch()
            time.sleep(600)
        return replace(source, target, *args, **kwargs)
    os.replace = held_replace
    from dg_tf.cli import run_main
    from dg_tf.cli.generate import main
    sys.exit(run_main(main, sys.argv[3:]))
""")


def test_kill_9_while_writing_a_shard_then_rerun_gives_the_uninterrupted_files(model, run, tmp_path):
    """SIGKILL of a generating process after its first shard, while its second is in its temporary file:
    the first shard and the manifest naming only it remain, and re-running the same command keeps
    that shard, drops the temporary file and writes files bitwise those of an uninterrupted run."""
    out, ready = tmp_path / "out", tmp_path / "ready"
    flags = ["--run", str(run), "--num", "12", "--out", str(out), "--shard-size", "4"]
    process = subprocess.Popen([sys.executable, "-c", KILLABLE, "part-00001.npz", str(ready), *flags], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), process.communicate(timeout=60)[0][-3000:] if process.poll() is not None else "timeout"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    names = _listing(out)  # the temporary file of shard 1, whole, never moved onto part-00001.npz
    assert len(names) == 3 and re.fullmatch(r"\.part-00001\.npz\.[0-9a-f]{12}\.tmp", names[0]), names
    assert names[1:] == [MANIFEST_FILE, "part-00000.npz"]
    assert _load(out / names[0]).num_samples == 4
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["complete"] is False and [e["file"] for e in manifest["shards"]] == ["part-00000.npz"]
    kept = _snapshot(out)

    assert _generate(run, out, 12, 4) == 0  # the same command again
    assert _listing(out) == [MANIFEST_FILE, "part-00000.npz", "part-00001.npz", "part-00002.npz"]
    assert _snapshot(out)["part-00000.npz"] == kept["part-00000.npz"]  # kept: same mtime and bytes
    reference = tmp_path / "reference"
    _shards(model, run, reference, 12, 4, seed=model.config.seed)  # uninterrupted, the command's default seed
    assert {n: v[1] for n, v in _snapshot(out).items()} == {n: v[1] for n, v in _snapshot(reference).items()}
    assert json.loads((out / MANIFEST_FILE).read_text()) == json.loads((reference / MANIFEST_FILE).read_text())


@pytest.mark.slow
def test_kill_9_leaves_only_complete_shards_and_rerun_completes(run, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "dg_tf.generate", "--run", str(run), "--num", "60000", "--out", str(out),
               "--shard-size", "300"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list(out.glob("part-*"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert not manifest["complete"] and len(manifest["shards"]) >= 2
    visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert all(p.name.endswith(".tmp") for p in out.iterdir() if p.name.startswith("."))
    for path in visible:
        if path.name != MANIFEST_FILE:
            assert _load(path).num_samples == 300  # every visible shard is complete
    kept = {e["file"]: (out / e["file"]).stat().st_mtime_ns for e in manifest["shards"]}
    assert subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    assert {name: (out / name).stat().st_mtime_ns for name in kept} == kept
    assert _listing(out) == [MANIFEST_FILE, *(f"part-{i:05d}.npz" for i in range(200))]
    model = DoppelGANger.load(run)
    np.testing.assert_array_equal(_load(out / "part-00199.npz").features,
                                  model.generate(300, seed=derive_seed(model.config.seed, "shard", 199)).features)


def test_overwrite_deletes_only_what_our_manifest_claims(model, run, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mine = {"part-00000.npz": b"the user's own", "part-00007.csv": b"also the user's", "notes.txt": b"x"}
    for name, content in mine.items():
        (out / name).write_bytes(content)
    for overwrite in (False, True):  # a shard-named file of the user's that we would write: never replaced
        with pytest.raises(ConfigError, match="holds part-00000.npz, which this generation would write, and no "
                                              "manifest.json; dg_tf deletes and replaces only files its own"):
            _shards(model, run, out, 8, 4, overwrite=overwrite)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == mine

    (out / "part-00000.npz").unlink()
    del mine["part-00000.npz"]
    _shards(model, run, out, 8, 4)  # the user's other files are left alone
    assert _listing(out) == sorted([*mine, MANIFEST_FILE, "part-00000.npz", "part-00001.npz"])
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    manifest["shards"].append({"index": 9, "file": "../victim.npz"})  # a hostile entry: not a shard name
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    (tmp_path / "victim.npz").write_bytes(b"keep me")
    (out / "part-00002.npz").write_bytes(b"a later file of the user's, beyond the old plan")
    _shards(model, run, out, 4, 4, seed=3, overwrite=True)
    assert (tmp_path / "victim.npz").read_bytes() == b"keep me"
    assert (out / "part-00002.npz").read_bytes().startswith(b"a later file")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in mine} == mine
    assert json.loads((out / MANIFEST_FILE).read_text())["seed"] == 3

    (out / MANIFEST_FILE).write_text('{"format": "someone else\'s"}')
    for overwrite in (False, True):
        with pytest.raises(ConfigError, match="is not a dg_tf-shards-1 manifest; dg_tf deletes and replaces only"):
            _shards(model, run, out, 4, 4, seed=3, overwrite=overwrite)
    assert (out / "part-00000.npz").exists() and (out / MANIFEST_FILE).exists()
