"""Bounds on what dg_tf reads from files it did not write, and on the text of its errors.

A dataset folder, a run folder or a table may come from anyone. Every size
such a file declares is checked against a limit *before* anything that large
is read or allocated, so a hostile or broken file gets one clear
:class:`~dg_tf.errors.DGError` instead of exhausting memory or hanging:

- ``DG_TF_MAX_PICKLE_BYTES`` (16 MiB): bytes of a spec pickle (``.pkl``);
- ``DG_TF_MAX_NPZ_BYTES`` (8 GiB): bytes of the arrays read from an ``.npz``,
  from its ``.npy`` headers (and never more than the available memory);
- ``DG_TF_MAX_JSON_BYTES`` (64 MiB) and ``DG_TF_MAX_JSON_DEPTH`` (100): size
  and nesting of a JSON file (configs, ``model.json``, schemas, manifests);
- ``DG_TF_MAX_OUTPUT_DIM`` (100000): columns of one output spec (its ``dim``);
- ``DG_TF_MAX_SHARDS`` (100000): shards of one sharded generation;
- ``DG_TF_MEMORY_BYTES`` (unset: what the system reports available): the
  memory that loading and generation plan against.

Each limit is read from its environment variable when it is checked (a
positive integer), so a user with a legitimately larger file raises it
without code changes. This module is the one owner of these defaults.

Sizes and durations in messages are written by :func:`format_bytes` and
:func:`format_duration`. Error messages never show untrusted values whole:
:func:`brief` gives a bounded representation (a 675-byte pickle can hold
nested lists whose full ``repr`` is gigabytes, and ``str`` of a 5000-digit
integer raises).
"""

from __future__ import annotations

import dataclasses
import os
import reprlib
from typing import Any

from dg_tf.errors import ConfigError

__all__ = [
    "Limit",
    "PICKLE_BYTES",
    "NPZ_BYTES",
    "JSON_BYTES",
    "JSON_DEPTH",
    "OUTPUT_DIM",
    "SHARDS",
    "MEMORY_VARIABLE",
    "available_memory",
    "brief",
    "label",
    "format_bytes",
    "format_duration",
]


@dataclasses.dataclass(frozen=True)
class Limit:
    """One bound, overridable by an environment variable.

    Attributes:
        variable: the environment variable that overrides the default.
        default: the bound when the variable is not set.
        what: what is counted, in words (e.g. ``"bytes of a spec pickle"``).
    """

    variable: str
    default: int
    what: str

    @property
    def value(self) -> int:
        """The bound in force: the environment variable's value, else :attr:`default`.

        Raises:
            ConfigError: the variable is set but not a positive integer.
        """
        return _positive_env(self.variable, self.default)

    def excess(self, amount: int, *, exact: bool = True) -> str | None:
        """Why ``amount`` is too much, in words naming the variable, or ``None`` when it is within the bound.

        ``exact=False``: ``amount`` is only known to be at least that much
        (reading stopped at the bound).
        """
        bound = self.value
        if amount <= bound:
            return None
        if not exact:
            return f"more than {bound} {self.what}, the limit (raise {self.variable} to allow more)"
        return f"{_number(amount)} {self.what} is over the limit of {bound} (raise {self.variable} to allow more)"


PICKLE_BYTES = Limit("DG_TF_MAX_PICKLE_BYTES", 16 << 20, "bytes of a spec pickle")
NPZ_BYTES = Limit("DG_TF_MAX_NPZ_BYTES", 8 << 30, "bytes of arrays to read from an .npz file")
JSON_BYTES = Limit("DG_TF_MAX_JSON_BYTES", 64 << 20, "bytes of a JSON file")
JSON_DEPTH = Limit("DG_TF_MAX_JSON_DEPTH", 100, "levels of JSON nesting")
OUTPUT_DIM = Limit("DG_TF_MAX_OUTPUT_DIM", 100_000, "columns of one output spec")
SHARDS = Limit("DG_TF_MAX_SHARDS", 100_000, "shards of one generation")
#: Overrides the measured available memory (bytes) that generation and loading plan against.
MEMORY_VARIABLE = "DG_TF_MEMORY_BYTES"


def _positive_env(variable: str, default: int) -> int:
    text = os.environ.get(variable)
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"environment variable {variable}={brief(text)} must be a positive integer")
    return value


def available_memory() -> int:
    """Bytes of memory this process can still use: ``DG_TF_MEMORY_BYTES`` if set, else measured.

    Measured as the smaller of the kernel's ``MemAvailable`` and the room
    left under a cgroup (container) memory limit; where neither can be read,
    the free physical pages.
    """
    candidates = []
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as handle:
            limit = handle.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as handle:
            used = int(handle.read().strip())
        if limit != "max":
            candidates.append(max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            candidates.append(1 << 62)  # unknown: do not refuse
    return _positive_env(MEMORY_VARIABLE, min(candidates))


def format_bytes(amount: int | float) -> str:
    """``1.5 GiB``-style text of a byte count."""
    value = float(amount)
    if value < 1024:
        return f"{value:.0f} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} TiB"


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` of a number of seconds (progress lines, ETAs)."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class _BriefRepr(reprlib.Repr):
    """``reprlib`` with small bounds, and huge integers described instead of converted."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxarray = self.maxdict = 4
        self.maxset = self.maxfrozenset = self.maxdeque = 4
        self.maxstring = self.maxother = 40
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        return _number(x)

    def repr_instance(self, x: Any, level: int) -> str:
        if isinstance(x, (bytes, bytearray)) and len(x) > self.maxstring:
            return f"<{type(x).__name__} of length {len(x)}>"
        return super().repr_instance(x, level)


_BRIEF = _BriefRepr()


def _number(value: int) -> str:
    """An integer as text, or a description when it is too long to show (or to convert)."""
    if abs(value).bit_length() > 128:
        return f"<an integer of {abs(value).bit_length()} bits>"
    return str(value)


def brief(value: Any, width: int = 80) -> str:
    """A representation of ``value`` of at most ``width`` characters, whatever ``value`` is.

    Containers are shown to depth 3 and 4 items per level, strings to 40
    characters, integers beyond 128 bits by their size.
    """
    try:
        text = _BRIEF.repr(value)
    except Exception:  # a hostile object's own __repr__ failed: name its type only
        text = f"<{type(value).__name__}>"
    return text if len(text) <= width else text[: width - 3] + "..."


def label(name: Any, width: int = 60) -> str:
    """A name or message read from a file as error text: one line of at most ``width`` characters.

    A printable string is shown as it is (cut with ``...``), other
    characters escaped (``a\\nb``); anything else as :func:`brief`.
    """
    if not isinstance(name, str):
        return brief(name, width)
    text = name[: width + 1]
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= width else text[: width - 3] + "..."
