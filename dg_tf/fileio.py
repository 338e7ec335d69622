"""Crash-safe file writing and bounded, non-blocking reading.

Every file dg_tf writes (datasets, specs, configs, generated samples) goes
through :func:`atomic_write`, so a reader sees either the old complete file or
the new complete file, never a half-written one, and a failed write leaves the
old file exactly as it was. A folder of several files is written with
:func:`atomic_folder` (staged beside it, then moved in).

Every file dg_tf reads that a user may have supplied goes through
:func:`open_regular` (or :func:`read_bytes` / :func:`read_json`): it must be a
regular file (a FIFO or a device such as ``/dev/zero`` is refused without
blocking) and no larger than its :mod:`~dg_tf.limits` bound.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import IO, Any, BinaryIO, Iterator

import numpy as np

from dg_tf.errors import DataFormatError
from dg_tf.limits import JSON_BYTES, JSON_DEPTH, Limit, label

__all__ = ["atomic_write", "atomic_folder", "file_sha256", "open_regular", "read_bytes", "read_json"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` only if the body succeeds.

    The data is written to a hidden temporary file in the same folder as
    ``path`` (named ``.<name>.<random>.tmp``, so ``os.replace`` stays on one
    file system). When the ``with`` body finishes without an exception the
    file is flushed, ``fsync``-ed and moved onto ``path`` with
    :func:`os.replace`, which is atomic. If anything raises, the temporary
    file is removed and ``path`` is left untouched (absent if it was absent).

    The new file gets the permission bits of the file it replaces, or the
    usual ``0o666 & ~umask`` if ``path`` did not exist.

    Args:
        path: file to create or replace; its folder must exist.
        mode: ``"wb"`` (binary, the default) or ``"w"`` (UTF-8 text).

    Yields:
        The open temporary file object.

    Raises:
        ValueError: ``mode`` is not ``"wb"`` or ``"w"``.
        OSError: the folder does not exist or is not writable, or the write
            itself fails.

    Example:
        >>> with atomic_write("out/config.json", "w") as f:  # doctest: +SKIP
        ...     f.write("{}")
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode={mode!r} must be 'wb' or 'w'")
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    while True:  # a random name; retry on the (unlikely) clash
        tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with contextlib.suppress(OSError):
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            fd = -1  # now owned (and closed) by ``handle``
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # Best effort: persist the rename itself (POSIX; ignored where unsupported).
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Stage the files of a folder and move them into ``path`` only if the body succeeds.

    The body writes plain files into the yielded staging folder, a hidden
    sibling of ``path`` (``.<name>.<random>.tmp``). On success, a ``path``
    that did not exist is created by renaming the staging folder (atomic);
    into an existing folder each staged file is moved with
    :func:`os.replace` (each atomic), and nothing else in it is touched. If
    the body raises, the staging folder is removed and ``path`` is left
    exactly as it was (absent if it was absent).

    Args:
        path: the folder to create or update; its parent is created if needed.

    Yields:
        The staging folder.

    Raises:
        DataFormatError: ``path`` exists and is not a folder.
        OSError: the parent cannot be created or written.
    """
    target = Path(os.path.abspath(os.fspath(path)))
    if target.exists() and not target.is_dir():
        raise DataFormatError(str(path), "folder", None, "exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{os.urandom(6).hex()}.tmp"
    staging.mkdir()
    try:
        yield staging
        try:
            staging.rename(target)  # fails if target exists (or appeared meanwhile)
        except OSError:
            if not target.is_dir():
                raise
            for file in sorted(staging.iterdir()):
                os.replace(file, target / file.name)
            staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


@contextlib.contextmanager
def open_regular(path: str | os.PathLike[str], limit: Limit | None = None) -> Iterator[BinaryIO]:
    """Open an existing regular file for binary reading, without ever blocking on it.

    The file is opened non-blocking and checked with ``fstat`` (no race with
    a file swapped in between): a FIFO, a device (``/dev/zero``, also through
    a symlink), a socket or a folder is refused before anything is read.

    Args:
        path: the file.
        limit: refuse a file whose size exceeds this bound.

    Yields:
        The open binary file.

    Raises:
        DataFormatError: array ``"file"``: the file is missing, unreadable,
            not a regular file, or larger than ``limit``.
    """
    where = os.fspath(path)
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise DataFormatError(where, "file", None, "missing file") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the path
        raise DataFormatError(where, "file", None, f"cannot be opened: {getattr(err, 'strerror', None) or err}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DataFormatError(where, "file", None, f"is {_kind(info.st_mode)}, not a regular file")
        excess = limit.excess(info.st_size) if limit is not None else None
        if excess is not None:
            raise DataFormatError(where, "file", None, excess)
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_bytes(path: str | os.PathLike[str], limit: Limit) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`).

    At most ``limit + 1`` bytes are read even if the file grows or misstates
    its size (files under ``/proc`` report 0).

    Raises:
        DataFormatError: as :func:`open_regular`, or more than ``limit`` bytes.
    """
    with open_regular(path, limit) as handle:
        data = handle.read(limit.value + 1)
    excess = limit.excess(len(data), exact=False)
    if excess is not None:
        raise DataFormatError(os.fspath(path), "file", None, excess)
    return data


#: A JSON string literal (escapes included): brackets inside one do not nest.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _json_depth(text: str) -> int:
    """How deeply ``[`` / ``{`` nest in JSON text (vectorised; strings skipped)."""
    codes = np.frombuffer(_JSON_STRING.sub('""', text).encode("utf-8"), dtype=np.uint8)
    step = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a UTF-8 JSON file, bounded in size and depth (:data:`~dg_tf.limits.JSON_BYTES`, ``JSON_DEPTH``).

    ``NaN`` and ``Infinity`` (which Python's ``json`` would accept) are refused.

    Raises:
        DataFormatError: array ``"file"`` as :func:`read_bytes`, or array
            ``"json"``: not UTF-8, nested too deeply, or not valid JSON (the
            message gives the line and column).
    """
    where = os.fspath(path)
    data = read_bytes(path, JSON_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataFormatError(where, "json", None, f"is not UTF-8 text (byte {err.start} is {data[err.start]:#04x})") from None
    excess = JSON_DEPTH.excess(_json_depth(text))
    if excess is not None:
        raise DataFormatError(where, "json", None, excess)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        raise DataFormatError(where, "json", None, f"is not valid JSON: {label(str(err), 200)}") from None


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
