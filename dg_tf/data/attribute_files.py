"""The ``data_attribute`` array of an ``.npz``, read in chunks: conditions for generation and retraining.

``python -m dg_tf.generate --attributes FILE.npz`` and ``python -m
dg_tf.retrain_attributes --attributes FILE.npz`` take their attribute rows
[N, A] (in the training data's attribute layout: discrete one-hot, continuous
in range) from such a file. Its size comes from the array's header
(:func:`attribute_rows`) and its rows stream in chunks
(:func:`iter_attribute_chunks`), so a file of millions of rows is never in
memory at once; :func:`check_attribute_file` validates every row against the
model's attribute specs, errors indexed in the whole file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from dg_tf.data.loading import NpyMember, open_npz
from dg_tf.data.specs import Output
from dg_tf.data.validation import validate_attributes
from dg_tf.errors import DataFormatError
from dg_tf.limits import brief

__all__ = ["attribute_rows", "check_attribute_file", "iter_attribute_chunks"]

_ATTRIBUTE_KEY = "data_attribute"


@contextlib.contextmanager
def _attribute_member(path: Path) -> Iterator[tuple[IO[bytes], NpyMember]]:
    """The ``data_attribute`` array of an ``.npz``: its stream at the array data, and its header."""
    where = str(path)
    with open_npz(path) as (archive, members):
        member = members.get(_ATTRIBUTE_KEY)
        if member is None:
            raise DataFormatError(where, _ATTRIBUTE_KEY, None, "missing array")
        if len(member.shape) != 2 or member.dtype.kind not in "biuf":
            raise DataFormatError(where, _ATTRIBUTE_KEY, None,
                                  f"must be a numeric [N, A] array, got shape {brief(member.shape)} dtype {member.dtype}")
        with member.open(archive) as stream:
            yield stream, member


def attribute_rows(path: str | Path) -> tuple[int, int]:
    """``(N, A)``, the shape of an ``.npz``'s ``data_attribute`` array, read from its header only.

    Raises:
        DataFormatError: the file is missing, not an ``.npz``, lacks
            ``data_attribute`` or that array is not a numeric matrix.
    """
    with _attribute_member(Path(path)) as (_, member):
        return member.shape[0], member.shape[1]


def iter_attribute_chunks(path: str | Path, rows: int) -> Iterator[np.ndarray]:
    """The ``data_attribute`` array [N, A] of an ``.npz``, ``rows`` rows at a time, in order.

    Reads the (possibly compressed) zip member as a stream, so at most one
    chunk is in memory (a Fortran-ordered array is read whole).

    Args:
        path: the ``.npz``.
        rows: rows per chunk (the last chunk holds the rest).

    Yields:
        float32 [rows, A] chunks.

    Raises:
        DataFormatError: as :func:`attribute_rows`, or the array is truncated.
    """
    with _attribute_member(Path(path)) as (stream, member):
        shape, dtype = member.shape, member.dtype
        n, width = shape
        whole = None
        if member.fortran_order:
            whole = np.frombuffer(stream.read(), dtype=dtype).reshape(shape, order="F")
        for start in range(0, n, rows):
            count = min(rows, n - start)
            if whole is not None:
                chunk = whole[start:start + count]
            else:
                data = stream.read(count * width * dtype.itemsize)
                if len(data) != count * width * dtype.itemsize:
                    raise DataFormatError(str(path), "data_attribute", start, "array data is truncated")
                chunk = np.frombuffer(data, dtype=dtype).reshape(count, width)
            yield chunk.astype(np.float32)


def _check_chunk(chunk: np.ndarray, start: int, outputs: list[Output], path: Path) -> None:
    """:func:`validate_attributes` on rows ``start:start+len(chunk)``, errors indexed in the whole file."""
    try:
        validate_attributes(chunk, outputs, str(path))
    except DataFormatError as err:
        index = err.index
        if isinstance(index, tuple) and index:
            index = (index[0] + start, *index[1:])
        elif isinstance(index, (int, np.integer)):
            index = int(index) + start
        raise DataFormatError(str(path), err.array, index, err.rule) from None


def check_attribute_file(path: str | Path, outputs: list[Output], rows: int) -> None:
    """Validate every row of an ``.npz``'s ``data_attribute`` against ``outputs``, ``rows`` at a time.

    Raises:
        DataFormatError: the first bad row, indexed in the whole file.
    """
    for number, chunk in enumerate(iter_attribute_chunks(path, rows)):
        _check_chunk(chunk, number * rows, outputs, Path(path))
