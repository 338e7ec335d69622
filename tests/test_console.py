"""Command-line hygiene: dg-tf, --version, --help without heavy imports, TensorFlow's start-up lines, bundled data."""

import fnmatch
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import dg_tf
from dg_tf.cli import console
from dg_tf.cli.console import COMMANDS
from dg_tf.cli.quiet import drop_start_up_lines

from conftest import REPO, TF_START_UP

#: Modules no ``--help``, ``--version`` or flag error may load.
HEAVY = ("tensorflow", "keras", "pandas")
#: The lines TensorFlow 2.21 printed on this project's CPU machine (import, then device discovery).
CAPTURED = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796306977.699032   10379 port.cc:153] oneDNN custom operations are on. You may see slightly different.
I0000 00:00:1796306977.699732   10379 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
I0000 00:00:1796306977.756607   10379 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU
To enable the following instructions: AVX2 AVX512F, in other operations, rebuild TensorFlow with the appropriate flags.
E0000 00:00:1796306982.781569   10379 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error
"""


def _python(*args, env=None, cwd=REPO):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


#: Runs each (module, argv) in-process as ``python -m`` would, prints each exit status, then the heavy modules loaded.
PROBE = """
import contextlib, io, json, runpy, sys
runs = json.loads(sys.argv[1])
for module, argv in runs:
    sys.argv = [module, *argv]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        print(json.dumps([module, argv, done.code, out.getvalue()]))
print(json.dumps(sorted(name for name in %r if name in sys.modules)))
""" % (HEAVY,)


def _probe(runs):
    import json

    done = _python("-c", PROBE, json.dumps(runs))
    assert done.returncode == 0, done.stderr[-3000:]
    *results, heavy = [json.loads(line) for line in done.stdout.splitlines()]
    return results, heavy


def test_version_help_and_dispatch_load_nothing_heavy():
    commands = ["dg_tf.train", "dg_tf.generate", "dg_tf.prepare", "dg_tf.evaluate", "dg_tf.retrain_attributes",
                "dg_tf.export"]
    runs = [[module, ["--version"]] for module in commands]
    runs += [["dg_tf", ["--version"]], ["dg_tf", ["--help"]], ["dg_tf", ["train", "--help"]],
             ["dg_tf", ["retrain-attributes", "--help"]], ["dg_tf", ["export", "--help"]],
             ["dg_tf", ["generate", "--version"]],
             ["dg_tf", ["train", "--epochs", "many"]], ["dg_tf", ["fly"]], ["dg_tf", []]]
    results, heavy = _probe(runs)
    assert heavy == []
    by_run = {(module, tuple(argv)): (code, out) for module, argv, code, out in results}
    version = f"dg_tf {dg_tf.__version__}\n"
    for module in commands:
        assert by_run[module, ("--version",)] == (0, version)
    assert by_run["dg_tf", ("--version",)] == (0, version)
    assert by_run["dg_tf", ("generate", "--version")] == (0, version)
    code, listing = by_run["dg_tf", ("--help",)]
    assert code == 0 and all(f"  {name} " in listing for name in COMMANDS)
    code, train_help = by_run["dg_tf", ("train", "--help")]
    assert code == 0 and "--epochs" in train_help and "--data" in train_help and "--verbose" in train_help
    code, retrain_help = by_run["dg_tf", ("retrain-attributes", "--help")]
    assert code == 0 and "--attributes" in retrain_help
    code, export_help = by_run["dg_tf", ("export", "--help")]
    assert code == 0 and "--run" in export_help and "--out" in export_help
    assert by_run["dg_tf", ("train", "--epochs", "many")][0] == 2
    assert by_run["dg_tf", ("fly",)][0] == 2
    assert by_run["dg_tf", ()][0] == 2


def test_console_errors_are_clear(monkeypatch, capsys):
    done = _python("-m", "dg_tf", "fly")
    assert done.returncode == 2 and "invalid choice: 'fly'" in done.stderr and "retrain-attributes" in done.stderr
    monkeypatch.setitem(COMMANDS, "export", ("dg_tf.cli.no_such_module", "a command this installation lacks"))
    with pytest.raises(SystemExit) as exited:
        console.main(["export", "--run", "r", "--out", "o"])
    assert exited.value.code == 2 and "not available in this installation" in capsys.readouterr().err


def test_a_command_names_itself_as_it_was_invoked(monkeypatch, capsys):
    from dg_tf import cli

    monkeypatch.setattr(cli, "_invoked_as", "python -m")
    with pytest.raises(SystemExit) as exited:
        console.main(["retrain-attributes", "--help"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("usage: dg-tf retrain-attributes ")
    monkeypatch.setattr(cli, "_invoked_as", "python -m")
    with pytest.raises(SystemExit):
        __import__("dg_tf.cli.generate", fromlist=["main"]).main(["--help"])
    assert capsys.readouterr().out.startswith("usage: python -m dg_tf.generate ")


def test_console_script_is_declared():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"dg-tf": "dg_tf.cli.console:main"}
    assert {"train", "generate", "prepare", "evaluate", "export", "retrain-attributes"} == set(COMMANDS)


def test_drop_start_up_lines_keeps_everything_else():
    other = ("/x/site-packages/keras/src/a.py:3: UserWarning: something\n  warnings.warn(\n"
             "12:00:01 INFO loaded data\nerror: a one-line error\n")
    assert drop_start_up_lines(CAPTURED) == ""
    assert drop_start_up_lines(CAPTURED + other) == other
    # a plain line right after a record is its continuation; a Python warning, a log line, a traceback is not
    later = "12:00:02 INFO next\nTraceback (most recent call last):\n"
    assert drop_start_up_lines(other + CAPTURED + later) == other + later


#: A stand-in ``tensorflow`` package that prints like the real one: C++-style lines on fd 2 on import and on
#: (the first) device discovery, one Python warning, and the TF_CPP_MIN_LOG_LEVEL it saw.
FAKE_TENSORFLOW = textwrap.dedent('''
    import os, types, warnings
    LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
    os.write(2, b"I0000 00:00:1796306977.699032   10379 port.cc:153] oneDNN custom operations are on.\\n")
    warnings.warn("a Python warning during import")

    found = []

    def list_physical_devices(kind=None):  # looks for devices once, as TensorFlow does
        if not found:
            os.write(2, b"E0000 00:00:1796306982.781569   10379 cuda_platform.cc:52] failed call to cuInit\\n")
            found.append("CPU")
        return []

    config = types.SimpleNamespace(list_physical_devices=list_physical_devices)
''')

#: A command run through run_main: its flags (with --verbose), then ``import tensorflow``.
FAKE_COMMAND = textwrap.dedent('''
    import argparse, sys
    from dg_tf.cli import add_common_flags, run_main

    def main(argv):
        parser = argparse.ArgumentParser(prog="fake")
        add_common_flags(parser)
        parser.parse_args(argv)
        import tensorflow
        tensorflow.config.list_physical_devices("GPU")
        print("level", tensorflow.LEVEL, file=sys.stderr)
        print("command output", file=sys.stderr)

    sys.exit(run_main(main, sys.argv[1:]))
''')


@pytest.mark.parametrize("verbose, user_level, shown_level", [
    (False, None, "2"), (True, None, "None"), (False, "0", "0"), (True, "1", "1"),
])
def test_start_up_lines_dropped_unless_verbose(tmp_path, verbose, user_level, shown_level):
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE_TENSORFLOW)
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = f"{tmp_path}:{REPO}"
    if user_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = user_level
    done = _python("-c", FAKE_COMMAND, *(["--verbose"] if verbose else []), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "a Python warning during import" in done.stderr and "command output" in done.stderr
    assert f"level {shown_level}\n" in done.stderr
    printed = [line for line in done.stderr.splitlines() if TF_START_UP.search(line)]
    assert len(printed) == (3 if verbose else 0), done.stderr


def test_bundled_dataset_ships_inside_the_package():
    folder = dg_tf.bundled_dataset("fcc_mba")
    assert folder.parent.parent == Path(dg_tf.__file__).resolve().parent
    data = dg_tf.load_dataset(folder)
    assert data.features.shape == (600, 56, 2)
    assert {"dg_config.json", "conversion.json", "data_test.npz"} <= {path.name for path in folder.iterdir()}
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = [path.relative_to(folder.parent).as_posix() for path in folder.iterdir() if path.is_file()]
    assert [name for name in shipped
            if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns["dg_tf.datasets"])] == []
    with pytest.raises(dg_tf.ConfigError, match="fcc_mba"):
        dg_tf.bundled_dataset("FCC_MBA")
