"""Crash-safe file writing.

Every file dg_tf writes (datasets, specs, configs, generated samples) goes
through :func:`atomic_write`, so a reader sees either the old complete file or
the new complete file, never a half-written one, and a failed write leaves the
old file exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
from typing import IO, Any, Iterator

__all__ = ["atomic_write"]


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
