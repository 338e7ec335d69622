"""The command line end to end: train -> generate -> read the npz; errors are one line."""

import json
import logging
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from dg_tf import ConfigError, DGConfig, DGError, load_npz, save_dataset
from dg_tf.generate import main as generate_main
from dg_tf.train import main as train_main

from conftest import TF_START_UP, TINY, make_toy_dataset

TINY_FLAGS = [
    f"--{name.replace('_', '-')}={value}" for name, value in TINY.items() if name != "epochs"
]


def _run(module, *args):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture
def data_dir(tmp_path):
    dataset = make_toy_dataset()
    save_dataset(tmp_path / "data", dataset)
    return tmp_path / "data"


def test_train_then_generate_end_to_end(tmp_path, data_dir):
    run = tmp_path / "run"
    result = _run("dg_tf.train", "--data", data_dir, "--out", run, "--epochs", 1, *TINY_FLAGS)
    assert result.returncode == 0, result.stderr
    assert "synthetic data:" in result.stderr
    assert not TF_START_UP.search(result.stderr), result.stderr  # TensorFlow's C++ start-up lines: only --verbose
    config = DGConfig.from_file(run / "config.json")
    assert config.epochs == 1 and config.batch_size == TINY["batch_size"]
    dataset = make_toy_dataset()
    synthetic = load_npz(run / "synthetic.npz", dataset.feature_outputs, dataset.attribute_outputs)
    assert synthetic.features.shape == dataset.features.shape

    out = tmp_path / "gen.npz"
    result = _run("dg_tf.generate", "--run", run, "--num", 25, "--out", out, "--seed", 3)
    assert result.returncode == 0, result.stderr
    assert not TF_START_UP.search(result.stderr), result.stderr
    generated = load_npz(out, dataset.feature_outputs, dataset.attribute_outputs)  # validates
    assert generated.features.shape == (25, 8, 4)
    assert set(np.unique(generated.attributes[:, :3])) <= {0.0, 1.0}
    np.testing.assert_array_equal(generated.gen_flags.sum(1), generated.lengths)
    with np.load(out) as raw:
        assert sorted(raw.files) == ["data_attribute", "data_feature", "data_gen_flag"]


def test_conditional_generate_and_resume(tmp_path, data_dir):
    run = tmp_path / "run"
    train_main(["--data", str(data_dir), "--out", str(run), "--epochs", "1", "--num-generate", "0",
                "--checkpoint-every", "1", *TINY_FLAGS])
    assert not (run / "synthetic.npz").exists()
    train_main(["--data", str(data_dir), "--out", str(run), "--epochs", "2", "--resume", "--num-generate", "0"])
    assert DGConfig.from_file(run / "config.json").epochs == 2
    assert (run / "checkpoints" / "ckpt-2.index").exists()

    dataset = make_toy_dataset()
    given = tmp_path / "given.npz"
    np.savez(given, data_attribute=dataset.attributes[:7])
    out = tmp_path / "cond.npz"
    generate_main(["--run", str(run), "--attributes", str(given), "--out", str(out)])
    generated = load_npz(out, dataset.feature_outputs, dataset.attribute_outputs)
    np.testing.assert_array_equal(generated.attributes, dataset.attributes[:7])


def test_errors_are_one_line_and_write_nothing(tmp_path, data_dir):
    result = _run("dg_tf.train", "--data", tmp_path / "missing", "--out", tmp_path / "run")
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "missing" in error_lines[0] and "data_feature_output.pkl" in error_lines[0]
    assert not (tmp_path / "run").exists()

    result = _run("dg_tf.train", "--data", data_dir, "--out", tmp_path / "run", "--sample-len", 3)
    assert result.returncode == 2 and "sample_len=3 must divide max_length=8" in result.stderr

    result = _run("dg_tf.generate", "--run", tmp_path / "nothing", "--num", 3, "--out", tmp_path / "x.npz")
    assert result.returncode == 2 and "missing config.json" in result.stderr
    assert not (tmp_path / "x.npz").exists()


def test_resume_changes_runtime_settings_but_not_structure(tmp_path, data_dir, caplog):
    run = tmp_path / "run"
    train_main(["--data", str(data_dir), "--out", str(run), "--epochs", "1", "--num-generate", "0", *TINY_FLAGS])
    before = (run / "config.json").read_text()
    with pytest.raises(ConfigError, match=r"--resume cannot change feature_lstm_units \(8 -> 9\)"):
        train_main(["--data", str(data_dir), "--out", str(run), "--resume", "--feature-lstm-units", "9"])
    with pytest.raises(ConfigError, match="not --config"):
        train_main(["--data", str(data_dir), "--out", str(run), "--resume", "--config", str(run / "config.json")])
    assert (run / "config.json").read_text() == before

    caplog.set_level(logging.INFO, logger="dg_tf.config")
    train_main(["--data", str(data_dir), "--out", str(run), "--resume", "--epochs", "2", "--num-generate", "0",
                "--generator-lr", "0.0004", "--batch-size", "12"])
    assert "resume: generator_lr changed from 0.001 to 0.0004" in caplog.text
    assert "resume: batch_size changed from 16 to 12" in caplog.text
    config = DGConfig.from_file(run / "config.json")
    assert (config.epochs, config.generator_lr, config.batch_size, config.feature_lstm_units) == (2, 0.0004, 12, 8)
    reader = tf.train.load_checkpoint(str(run / "checkpoints" / "ckpt-2"))
    assert reader.get_tensor("generator_optimizer/_learning_rate/.ATTRIBUTES/VARIABLE_VALUE") == pytest.approx(4e-4)
    assert reader.get_tensor("critic_optimizer/_learning_rate/.ATTRIBUTES/VARIABLE_VALUE") == pytest.approx(1e-3)

    edited = json.loads((run / "config.json").read_text())  # a structure change by hand: still one clear error
    (run / "config.json").write_text(json.dumps({**edited, "critic_hidden_units": 17}))
    with pytest.raises(DGError, match=r"ckpt-2: the checkpoint does not match the model built from the run's config"):
        train_main(["--data", str(data_dir), "--out", str(run), "--resume", "--epochs", "3", "--num-generate", "0",
                    "--generator-lr", "0.0002"])
    assert DGConfig.from_file(run / "config.json").generator_lr == 0.0004  # a failed resume changes nothing
    assert sorted(p.name for p in (run / "checkpoints").glob("*.index")) == ["ckpt-1.index", "ckpt-2.index"]


def test_dataset_recommended_config_is_used_unless_config_given(tmp_path, data_dir):
    (data_dir / "dg_config.json").write_text('{"sample_len": 4, "feature_lstm_units": 6}')
    flags = [f for f in TINY_FLAGS if not f.startswith("--sample-len")]
    train_main(["--data", str(data_dir), "--out", str(tmp_path / "a"), "--epochs", "1", "--num-generate", "0", *flags])
    assert DGConfig.from_file(tmp_path / "a" / "config.json").sample_len == 4
    explicit = tmp_path / "mine.json"
    explicit.write_text('{"feature_lstm_units": 6}')
    train_main(["--data", str(data_dir), "--out", str(tmp_path / "b"), "--epochs", "1", "--num-generate", "0",
                "--config", str(explicit), *flags])
    assert DGConfig.from_file(tmp_path / "b" / "config.json").sample_len is None


#: Runs a command's help or flag error in-process and prints whether TensorFlow, Keras or pandas got imported.
HELP_PROBE = """
import runpy, sys
sys.argv = [sys.argv[1], *sys.argv[2:]]
try:
    runpy.run_module(sys.argv[0], run_name="__main__")
except SystemExit as done:
    print("exit", done.code)
print(any(name in sys.modules for name in ("tensorflow", "keras", "pandas")))
"""


@pytest.mark.parametrize("command, args, code", [
    ("dg_tf.train", ["--help"], 0),
    ("dg_tf.generate", ["--help"], 0),
    ("dg_tf.prepare", ["--help"], 0),
    ("dg_tf.evaluate", ["--help"], 0),
    ("dg_tf.retrain_attributes", ["--help"], 0),
    ("dg_tf.export", ["--help"], 0),
    ("dg_tf.export", ["--run", "r"], 2),  # argparse: --out is required
    ("dg_tf.train", ["--epochs", "many"], 2),  # argparse's error
    ("dg_tf.train", ["--resume"], 2),  # ours: --resume needs --out
    ("dg_tf.generate", ["--run", "r", "--out", "x.npz", "--shard-size", "0"], 2),
    ("dg_tf.prepare", ["--csv", "t.csv", "--out", "d", "--sample-len", "0"], 2),
])
def test_help_and_flag_errors_do_not_load_tensorflow(command, args, code):
    done = subprocess.run([sys.executable, "-c", HELP_PROBE, command, *args], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split()[-3:] == ["exit", str(code), "False"], done.stdout[-2000:] + done.stderr[-2000:]


def test_table_flags_default_to_from_dataframes_defaults():
    import argparse
    import inspect

    from dg_tf.cli.table_flags import TABLE_OPTIONS, add_table_flags
    from dg_tf.tabular import from_dataframe

    parser = argparse.ArgumentParser()
    add_table_flags(parser)
    args = parser.parse_args([])
    for name in TABLE_OPTIONS:
        default = inspect.signature(from_dataframe).parameters[name].default
        assert getattr(args, name) == (None if default is inspect.Parameter.empty else default), name
    assert (args.style, args.missing, args.long_series) == ("long", "error", "error")


def test_resume_changes_runtime_settings_and_generate_takes_its_own(tmp_path, data_dir, caplog):
    run = tmp_path / "run"
    train_main(["--data", str(data_dir), "--out", str(run), "--epochs", "1", "--num-generate", "0", *TINY_FLAGS])
    caplog.set_level(logging.INFO, logger="dg_tf.config")
    train_main(["--data", str(data_dir), "--out", str(run), "--resume", "--epochs", "2", "--num-generate", "0",
                "--steps-per-execution", "1", "--jit-compile", "off", "--lstm-batch-splits", "2"])
    assert "resume: steps_per_execution changed from None to 1" in caplog.text
    assert "resume: jit_compile changed from 'auto' to 'off'" in caplog.text
    config = DGConfig.from_file(run / "config.json")
    assert (config.epochs, config.steps_per_execution, config.lstm_batch_splits) == (2, 1, 2)
    out = tmp_path / "gen.npz"
    generate_main(["--run", str(run), "--num", "5", "--out", str(out), "--generate-batch-size", "2"])
    assert load_npz(out, *_specs()).num_samples == 5


def _specs():
    dataset = make_toy_dataset()
    return dataset.feature_outputs, dataset.attribute_outputs
