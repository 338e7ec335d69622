"""Bounded reading (dg_tf.fileio, dg_tf.limits): sizes, depth, special files, staging folders, short errors."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from dg_tf import ConfigError, DataFormatError, DGConfig
from dg_tf.fileio import atomic_folder, read_bytes, read_json
from dg_tf import limits
from dg_tf.limits import JSON_BYTES, MEMORY_VARIABLE, Limit, available_memory, brief, format_bytes, label

README = Path(__file__).resolve().parent.parent / "README.md"


def _json_error(path: Path) -> DataFormatError:
    with pytest.raises(DataFormatError) as info:
        read_json(path)
    assert info.value.file == str(path) and "\n" not in str(info.value)
    return info.value


def test_read_json_refuses_what_python_json_would_crash_on_or_accept(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    path.write_bytes(b'{"a": "\xff"}')
    assert _json_error(path).rule == "is not UTF-8 text (byte 7 is 0xff)"
    path.write_text("[" * 100_000 + "]" * 100_000)  # json.loads: RecursionError
    began = time.perf_counter()
    err = _json_error(path)
    assert err.array == "json" and "100000 levels of JSON nesting is over the limit of 100" in err.rule
    assert time.perf_counter() - began < 2
    path.write_text('{"x": NaN}')
    assert "NaN is not a JSON number" in _json_error(path).rule
    path.write_text('{"x": 1e5000}')  # a float beyond float64 is inf: refused by the reader's users, kept here
    assert read_json(path) == {"x": float("inf")}
    path.write_text('{"x": 1' + "0" * 5000 + "}")
    assert "Exceeds the limit (4300 digits)" in _json_error(path).rule
    path.write_text('{"brackets in a string do not nest": "' + "[{" * 500 + '"}')
    assert read_json(path) == {"brackets in a string do not nest": "[{" * 500}
    path.write_text("[" * 100 + "]" * 100)
    assert read_json(path) == eval("[" * 100 + "]" * 100)  # exactly the limit is fine
    monkeypatch.setenv(JSON_BYTES.variable, "10")
    assert _json_error(path).rule == ("200 bytes of a JSON file is over the limit of 10 "
                                      "(raise DG_TF_MAX_JSON_BYTES to allow more)")


def test_read_bytes_bounds_files_that_misstate_their_size():
    # /proc files report size 0 but have content: reading stops at limit + 1 bytes
    limit = type(JSON_BYTES)("DG_TF_TEST_LIMIT", 10, "bytes of a test file")
    with pytest.raises(DataFormatError, match="more than 10 bytes of a test file"):
        read_bytes("/proc/self/status", limit)
    with pytest.raises(DataFormatError, match="is a character device"):
        read_bytes("/dev/zero", limit)


def test_config_file_errors_name_the_file(tmp_path):
    path = tmp_path / "dg_config.json"
    path.write_text("[" * 5000)
    with pytest.raises(ConfigError, match=r"dg_config.json: json: 5000 levels of JSON nesting"):
        DGConfig.from_file(path)
    path.write_text('{"batch_size": 1000000000000}')
    with pytest.raises(ConfigError, match=r"dg_config.json: batch_size=1000000000000 must be below 2\*\*31"):
        DGConfig.from_file(path)
    path.write_text('{"generator_lr": 1e999}')
    with pytest.raises(ConfigError, match="generator_lr=inf must be a finite number"):
        DGConfig.from_file(path)
    os.mkfifo(tmp_path / "fifo.json")
    with pytest.raises(ConfigError, match=r"fifo.json: file: is a FIFO"):
        DGConfig.from_file(tmp_path / "fifo.json")


def test_atomic_folder_writes_all_files_or_none_and_keeps_the_users(tmp_path):
    target = tmp_path / "prepared"
    with pytest.raises(RuntimeError):
        with atomic_folder(target) as staging:
            (staging / "a.npz").write_text("half")
            raise RuntimeError("failed part-way")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor the staging folder

    with atomic_folder(target) as staging:
        (staging / "a.npz").write_text("one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared"] and (target / "a.npz").read_text() == "one"

    (target / "mine.txt").write_text("the user's")
    with pytest.raises(RuntimeError):
        with atomic_folder(target) as staging:
            (staging / "a.npz").write_text("two")
            (staging / "b.json").write_text("{}")
            raise RuntimeError("failed part-way")
    assert sorted(p.name for p in target.iterdir()) == ["a.npz", "mine.txt"] and (target / "a.npz").read_text() == "one"
    with atomic_folder(target) as staging:
        (staging / "a.npz").write_text("two")
        (staging / "b.json").write_text("{}")
    assert {p.name: p.read_text() for p in target.iterdir()} == {"a.npz": "two", "b.json": "{}", "mine.txt": "the user's"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataFormatError, match="exists and is not a folder"):
        with atomic_folder(tmp_path / "file"):
            pass


def test_brief_and_label_stay_short_whatever_the_value():
    nested: list = []
    for _ in range(64):
        nested = [nested, nested]
    assert len(brief(nested)) <= 80 and brief(10**5000) == "<an integer of 16610 bits>"

    class Hostile:
        def __repr__(self):
            raise RuntimeError("no")

    assert brief(Hostile()).startswith("<Hostile instance at ")
    assert brief({"a": list(range(100))}) == "{'a': [0, 1, 2, 3, ...]}"
    assert label("data_feature") == "data_feature" and label("a\nb") == "a\\nb" and label("x" * 500) == "x" * 57 + "..."
    assert label(("a", 1)) == "('a', 1)"
    assert format_bytes(1536) == "1.5 KiB" and format_bytes(3 << 40) == "3.0 TiB"


def test_available_memory_is_measured_or_overridden(monkeypatch):
    monkeypatch.delenv(MEMORY_VARIABLE, raising=False)
    assert 1 << 20 < available_memory() < 1 << 50
    monkeypatch.setenv(MEMORY_VARIABLE, "12345")
    assert available_memory() == 12345
    monkeypatch.setenv(MEMORY_VARIABLE, "-1")
    with pytest.raises(ConfigError, match="DG_TF_MEMORY_BYTES='-1' must be a positive integer"):
        available_memory()


def test_readme_states_every_limit_and_its_default():
    text = README.read_text()
    bounds = [value for value in vars(limits).values() if isinstance(value, Limit)]
    assert len(bounds) == 6
    for limit in bounds:
        shown = format_bytes(limit.default) if limit.variable.endswith("BYTES") else str(limit.default)
        shown = shown.replace(".0 ", " ")
        assert re.search(rf"`{limit.variable}`[^\n]*{re.escape(shown)}", text), (limit.variable, shown)
    assert f"`{MEMORY_VARIABLE}`" in text
