"""TensorFlow's C++ start-up lines, kept off a command's stderr unless ``--verbose``.

On import TensorFlow's C++ code prints lines such as ``WARNING: All log
messages before absl::InitializeLog() is called are written to STDERR``,
``I0000 ... port.cc:153] oneDNN custom operations are on ...`` and
``... cpu_feature_guard.cc ...``; on first looking for devices a machine
without a GPU adds ``E0000 ... failed call to cuInit``. They are written before
TensorFlow's logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` does not hold them
back. A command therefore imports TensorFlow, and lists its devices, with file
descriptor 2 pointed at a temporary file; afterwards the captured text goes to
stderr without those lines (:func:`drop_start_up_lines`), so a Python warning
or an error printed meanwhile still shows. Later TensorFlow INFO and WARNING
lines are held back by ``TF_CPP_MIN_LOG_LEVEL=2``, set only when the user has
not set it.

:func:`quiet_tensorflow_start` arms this for one command (``run_main`` does);
:func:`show_tensorflow_log` (the ``--verbose`` flag) disarms it. The library
itself (``import dg_tf``) changes nothing: a program that imports it keeps its
own settings.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
from types import ModuleType
from typing import Iterator

__all__ = ["drop_start_up_lines", "quiet_tensorflow_start", "show_tensorflow_log"]

#: TensorFlow's (absl's) C++ log line: severity and date (``I0000``), time (before absl is initialized, the
#: seconds are counted from 1970: ``00:00:1796306977.699``), thread id, ``file:line]``.
TF_LOG_LINE = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\]\s]+:\d+\] ")
#: absl's notice before its logging is initialized.
ABSL_PRE_INIT = "WARNING: All log messages before absl::InitializeLog() is called"
#: A line that starts something else: a Python warning (``file.py:12: UserWarning: ...``), a traceback, a log line.
_OTHER_RECORD = re.compile(r"\S.*:\d+: \w*(Warning|Error)\b|Traceback |WARNING:|ERROR:|\d\d:\d\d:\d\d ")
#: TF_CPP_MIN_LOG_LEVEL of a quiet command: TensorFlow's C++ INFO and WARNING lines held back.
QUIET_LOG_LEVEL = "2"


def drop_start_up_lines(text: str) -> str:
    """``text`` without TensorFlow's C++ log records and absl's pre-initialization notice.

    A record's continuation lines (e.g. ``To enable the following
    instructions: AVX2 ...`` after ``cpu_feature_guard.cc``) go with it; any
    other line is kept.
    """
    kept, in_record = [], False
    for line in text.splitlines(keepends=True):
        if TF_LOG_LINE.match(line) or line.startswith(ABSL_PRE_INIT):
            in_record = True
        elif in_record and line.strip() and not _OTHER_RECORD.match(line):
            pass  # continuation of a dropped record
        else:
            in_record = False
            kept.append(line)
    return "".join(kept)


@contextlib.contextmanager
def _stderr_filtered() -> Iterator[None]:
    """Point file descriptor 2 at a temporary file; on exit write what it got, less the start-up lines, to stderr."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = drop_start_up_lines(capture.read().decode("utf-8", errors="replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


class _FilteredLoader(importlib.abc.Loader):
    """Runs TensorFlow's own loader, then lists its devices, inside :func:`_stderr_filtered`."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader  # TensorFlow sees its own loader, as without this class
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        with _stderr_filtered():
            self.loader.exec_module(module)
            module.config.list_physical_devices()  # device discovery: the cuInit line; does not start the runtime


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once (then leaves ``sys.meta_path``) and gives it a :class:`_FilteredLoader`.

    ``level``: the TF_CPP_MIN_LOG_LEVEL set when it was armed (``None``: the user's own was kept).
    """

    def __init__(self, level: str | None) -> None:
        self.level = level

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name != "tensorflow":
            return None
        _disarm(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteredLoader(spec.loader)
        return spec


#: The finders armed by :func:`quiet_tensorflow_start` (one per running command).
_armed: list[_QuietImport] = []


def _disarm(finder: _QuietImport) -> None:
    """Remove ``finder`` from ``sys.meta_path`` (if still there)."""
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)


def _restore(finder: _QuietImport) -> None:
    """Disarm ``finder`` and take back the TF_CPP_MIN_LOG_LEVEL it set."""
    _disarm(finder)
    if finder in _armed:
        _armed.remove(finder)
    if finder.level is not None and os.environ.get("TF_CPP_MIN_LOG_LEVEL") == finder.level:
        del os.environ["TF_CPP_MIN_LOG_LEVEL"]


@contextlib.contextmanager
def quiet_tensorflow_start() -> Iterator[None]:
    """Within this block, the first ``import tensorflow`` drops TensorFlow's C++ start-up lines from stderr.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless the user set it; restores the
    environment and ``sys.meta_path`` on exit. Nothing happens when TensorFlow
    is already imported (e.g. a test calling ``run_main`` in-process).
    """
    if "tensorflow" in sys.modules:
        yield
        return
    finder = _QuietImport(None if "TF_CPP_MIN_LOG_LEVEL" in os.environ else QUIET_LOG_LEVEL)
    if finder.level is not None:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = finder.level
    sys.meta_path.insert(0, finder)
    _armed.append(finder)
    try:
        yield
    finally:
        _restore(finder)


def show_tensorflow_log() -> None:
    """``--verbose``: undo :func:`quiet_tensorflow_start`, so TensorFlow prints its start-up lines and log as usual."""
    for finder in list(_armed):
        _restore(finder)
