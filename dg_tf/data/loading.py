"""Read and write datasets in the original DoppelGANger on-disk format.

A dataset folder holds (the original's layout)::

    data_feature_output.pkl     pickled list of Output: the feature columns
    data_attribute_output.pkl   pickled list of Output: the attribute columns
    data_{split}.npz            data_feature   float32 [N, L, K]
                                data_attribute float32 [N, A]
                                data_gen_flag  float32 [N, L]
                                (+ any further arrays, kept as ``extras``)

The pickles of the original code are Python-2 protocol-0 pickles that name a
top-level module ``output``. Unpickling can run arbitrary code, so
:func:`load_outputs` uses a restricted unpickler that accepts exactly the
globals such a file needs (``output.Output``, ``output.OutputType``,
``output.Normalization``, ``copy_reg._reconstructor``, ``__builtin__.object``;
the same classes under ``gan.output`` or ``dg_tf.data.specs`` for pickles of
protocols 2 to 5) and refuses every other one before it is called. It never
touches ``sys.modules`` (the original's ``sys.modules["output"] = gan.output``
hack).

Files are read within the bounds of :mod:`dg_tf.limits`, and only if they are
regular files (:func:`dg_tf.fileio.open_regular`): a pickle's size, and an
``.npz``'s total uncompressed size, read from its zip directory and ``.npy``
headers before any array is.

:func:`save_outputs` writes protocol-0 text in exactly the original style, so
the original TF1 / Python-2 code (and plain ``pickle.load`` with the original
``output`` module importable) reads the files dg_tf writes.

Every write is atomic (:func:`dg_tf.fileio.atomic_write`) and every dataset is
validated (:mod:`dg_tf.data.validation`) before anything is written.

This module is longer than 400 lines because the restricted unpickler, the npz
reader and the writers share the bounded-read helpers and the one list of what
may be unpickled; keeping them together keeps that list next to every reader
that relies on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import io
import logging
import math
import os
import pickle
import re
import zipfile
from typing import IO, Any, Callable, Iterator

import numpy as np

from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Normalization, Output, OutputType
from dg_tf.data.validation import validate_dataset, validate_outputs
from dg_tf.errors import DataFormatError
from dg_tf.fileio import atomic_write, open_regular, read_bytes
from dg_tf.limits import NPZ_BYTES, PICKLE_BYTES, available_memory, brief, format_bytes, label

__all__ = [
    "FEATURE_OUTPUT_FILE",
    "ATTRIBUTE_OUTPUT_FILE",
    "load_outputs",
    "save_outputs",
    "load_npz",
    "save_npz",
    "load_dataset",
    "save_dataset",
    "NpyMember",
    "open_npz",
    "load_extras",
    "check_extra_names",
]

logger = logging.getLogger(__name__)

FEATURE_OUTPUT_FILE = "data_feature_output.pkl"
ATTRIBUTE_OUTPUT_FILE = "data_attribute_output.pkl"

_FEATURE_KEY = "data_feature"
_ATTRIBUTE_KEY = "data_attribute"
_GEN_FLAG_KEY = "data_gen_flag"
_MAIN_KEYS = (_FEATURE_KEY, _ATTRIBUTE_KEY, _GEN_FLAG_KEY)
# Names np.savez takes as its own arguments: an extra array may not use them.
_RESERVED_EXTRA_KEYS = frozenset(_MAIN_KEYS) | {"file", "allow_pickle"}
#: What an extra array may be called when it is written: a plain identifier (no path, no dots).
_EXTRA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_ALLOWED_TEXT = (
    "only output.Output, output.OutputType, output.Normalization, "
    "copy_reg._reconstructor and __builtin__.object may be loaded"
)
#: Modules whose Output / OutputType / Normalization a spec pickle may name.
_SPEC_MODULES = ("output", "gan.output", "dg_tf.data.specs")
# The state dict of an original ``output.Output`` (Python 2 dict order, which
# the original pickles use and save_outputs reproduces).
_STATE_KEYS = ("dim", "type_", "is_gen_flag", "normalization")


# ============================================================================ pickles


def load_outputs(file: str | os.PathLike[str]) -> list[Output]:
    """Read a list of output specs from an original-format pickle, safely.

    Args:
        file: ``data_feature_output.pkl`` or ``data_attribute_output.pkl``
            (any pickle protocol, 0 to 5; Python-2 ``S'...'`` strings are
            decoded as latin-1), a regular file of at most
            ``DG_TF_MAX_PICKLE_BYTES`` bytes.

    Returns:
        The specs, as :class:`dg_tf.data.specs.Output` objects.

    Raises:
        DataFormatError: the file is missing, not a regular file, too large,
            is not a pickle, names any global other than the allowed ones
            (refused before it is called), or does not hold a list of valid
            ``Output``; the index is the list position of the first bad element.
    """
    file = os.fspath(file)
    data = read_bytes(file, PICKLE_BYTES)
    unpickler = _RestrictedUnpickler(io.BytesIO(data), file)
    try:
        raw = unpickler.load()
    except DataFormatError:
        raise
    except Exception as err:  # a broken or hostile pickle: report, never crash
        raise DataFormatError(file, "pickle", None,
                              f"cannot be unpickled: {type(err).__name__}: {label(str(err), 200)}") from None
    outputs = _to_outputs(raw, file, unpickler.output_class)
    validate_outputs(outputs, file, "pickle", allow_gen_flag=True)
    return outputs


def save_outputs(file: str | os.PathLike[str], outputs: list[Output]) -> None:
    """Write output specs as a pickle the original Python-2 code can read.

    The bytes are protocol-0 text in the style of the original files
    (``(lp0\\nccopy_reg\\n_reconstructor\\n...``), naming module ``output``;
    the FCC MBA specs are reproduced byte for byte. The write is atomic.

    Args:
        file: destination, e.g. ``<folder>/data_feature_output.pkl``.
        outputs: the specs.

    Raises:
        DataFormatError: ``outputs`` is not a list of valid ``Output``
            (nothing is written).
    """
    file = os.fspath(file)
    validate_outputs(outputs, file, "outputs", allow_gen_flag=True)
    data = _dump_protocol0(outputs)
    with atomic_write(file, "wb") as handle:
        handle.write(data)


class _Ref:
    """Inert stand-in for ``__builtin__.object`` named in a pickle.

    The unpickler never hands real classes to the pickle: a BUILD opcode could
    otherwise set attributes on them (e.g. replace ``Output.problem``).
    """

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


class _PickledOutput:
    """Blank object a pickled ``output.Output`` is rebuilt into (state checked later).

    Each load makes its own subclass (:attr:`_RestrictedUnpickler.output_class`)
    for the pickle to name: protocols 2 to 5 create objects with
    ``cls.__new__(cls)``, which needs a class, and a BUILD that sets attributes
    on that class changes only this one load's throwaway subclass.
    """

    def __repr__(self) -> str:
        return f"output.Output(state={brief(vars(self))})"


class _PickledEnum:
    """``OutputType(value)`` / ``Normalization(value)`` as read, converted later."""

    def __init__(self, enum_cls: type[enum.Enum], value: Any):
        self.enum_cls = enum_cls
        self.value = value

    def __repr__(self) -> str:
        return f"output.{self.enum_cls.__name__}({brief(self.value, 40)})"


class _EnumFactory:
    """Stand-in for ``output.OutputType`` / ``output.Normalization``: records the call."""

    def __init__(self, enum_cls: type[enum.Enum]):
        self.enum_cls = enum_cls

    def __call__(self, *args: Any) -> _PickledEnum:
        if len(args) != 1:
            raise TypeError(f"{self.enum_cls.__name__} takes one value, got {len(args)}")
        return _PickledEnum(self.enum_cls, args[0])


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals of an original spec pickle.

    ``find_class`` is called when a pickle names a global, before anything is
    called with it, so a refused name never runs. The allowed names resolve to
    fresh inert stand-ins of this one load (see :class:`_Ref`); the result is
    turned into real :class:`Output` objects afterwards by :func:`_to_outputs`.
    """

    def __init__(self, stream: io.BytesIO, file: str):
        super().__init__(stream, encoding="latin1")
        self._file = file
        #: The class a pickled ``output.Output`` is created as (fresh for this load).
        self.output_class = type("Output", (_PickledOutput,), {"__module__": "output"})
        self._object = _Ref("__builtin__.object")
        self._globals: dict[tuple[str, str], Any] = {}
        for module in _SPEC_MODULES:
            self._globals[(module, "Output")] = self.output_class
            self._globals[(module, "OutputType")] = _EnumFactory(OutputType)
            self._globals[(module, "Normalization")] = _EnumFactory(Normalization)
        for module in ("copy_reg", "copyreg"):
            self._globals[(module, "_reconstructor")] = self._reconstructor
        for module in ("__builtin__", "builtins"):
            self._globals[(module, "object")] = self._object

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._globals[(module, name)]
        except (KeyError, TypeError):
            raise DataFormatError(self._file, "pickle", None,
                                  f"refuses global {brief(f'{module}.{name}')}: {_ALLOWED_TEXT}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise DataFormatError(self._file, "pickle", None, f"refuses persistent id {brief(pid, 60)}: {_ALLOWED_TEXT}")

    def _reconstructor(self, cls: Any, base: Any, state: Any) -> _PickledOutput:
        """Safe ``copy_reg._reconstructor``: only ``(output.Output, object, None)``."""
        if cls is not self.output_class or base is not self._object or state is not None:
            raise DataFormatError(
                self._file,
                "pickle",
                None,
                f"copy_reg._reconstructor may only rebuild output.Output from object with state None, "
                f"got ({brief(cls, 40)}, {brief(base, 40)}, {brief(state, 40)})",
            )
        return self.output_class()


def _to_outputs(raw: Any, file: str, output_class: type) -> list[Output]:
    """Turn the unpickled stand-ins into :class:`Output` objects, coercing nothing."""
    if not isinstance(raw, list):
        raise DataFormatError(file, "pickle", None, f"must hold a list of output.Output, got {type(raw).__name__}")
    outputs = []
    for i, item in enumerate(raw):
        if type(item) is not output_class:
            if item is output_class:
                what = "class output.Output"
            elif isinstance(item, (_Ref, _PickledEnum)):
                what = repr(item)
            else:
                what = f"{type(item).__name__} {brief(item, 60)}"
            raise DataFormatError(file, "pickle", i, f"must be an output.Output, got {what}")
        state = vars(item)
        if set(state) != set(_STATE_KEYS):
            raise DataFormatError(
                file,
                "pickle",
                i,
                f"output.Output state must have exactly the keys {list(_STATE_KEYS)}, got {brief(sorted(map(str, state)), 200)}",
            )
        out = object.__new__(Output)
        out.dim = state["dim"]
        out.type_ = _to_enum(state["type_"], OutputType, "type_", file, i)
        norm = state["normalization"]
        out.normalization = None if norm is None else _to_enum(norm, Normalization, "normalization", file, i)
        out.is_gen_flag = state["is_gen_flag"]
        problem = Output.problem(out)
        if problem is not None:
            raise DataFormatError(file, "pickle", i, f"invalid output spec: {problem}")
        outputs.append(out)
    return outputs


def _to_enum(value: Any, enum_cls: type[enum.Enum], field: str, file: str, index: int) -> Any:
    if not isinstance(value, _PickledEnum) or value.enum_cls is not enum_cls:
        raise DataFormatError(file, "pickle", index,
                              f"{field} must be an output.{enum_cls.__name__}, got {brief(value, 60)}")
    try:
        return enum_cls(value.value)
    except (ValueError, TypeError):
        allowed = ", ".join(m.value for m in enum_cls)
        raise DataFormatError(
            file, "pickle", index, f"{field}={brief(value.value, 40)} is not an {enum_cls.__name__} (one of {allowed})"
        ) from None


class _Protocol0Writer:
    """Minimal protocol-0 pickler for a list of Output, in Python 2's exact style.

    Mirrors what Python 2's ``pickle.dump(outputs, f)`` emitted for the
    original ``output`` module: every string, global, tuple and reduced
    object is memoized (``p<n>``) and re-used (``g<n>``).
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._memo: dict[Any, int] = {}

    def _put(self, key: Any) -> None:
        self._memo[key] = len(self._memo)
        self._parts.append(f"p{self._memo[key]}\n")

    def _get_or(self, key: Any, emit: Callable[[], None]) -> None:
        if key in self._memo:
            self._parts.append(f"g{self._memo[key]}\n")
        else:
            emit()
            self._put(key)

    def _global(self, module: str, name: str) -> None:
        self._get_or(("global", module, name), lambda: self._parts.append(f"c{module}\n{name}\n"))

    def _string(self, text: str) -> None:
        # Only fixed ASCII identifiers are written (keys and enum values).
        self._get_or(("str", text), lambda: self._parts.append(f"S{text!r}\n"))

    def _enum(self, member: enum.Enum) -> None:
        def emit() -> None:
            self._global("output", type(member).__name__)
            self._parts.append("(")
            self._string(member.value)
            self._parts.append("t")
            self._put(("tuple", id(member)))
            self._parts.append("R")

        self._get_or(("enum", type(member).__name__, member.value), emit)

    def _output(self, out: Output) -> None:
        self._global("copy_reg", "_reconstructor")
        self._parts.append("(")
        self._global("output", "Output")
        self._global("__builtin__", "object")
        self._parts.append("Nt")
        self._put(("tuple", len(self._memo)))  # a new args tuple per object, as in Python 2
        self._parts.append("R")
        self._put(("object", len(self._memo)))
        self._parts.append("(d")
        self._put(("dict", len(self._memo)))
        for key in _STATE_KEYS:
            self._string(key)
            if key == "dim":
                self._parts.append(f"I{int(out.dim)}\n")
            elif key == "type_":
                self._enum(out.type_)
            elif key == "is_gen_flag":
                self._parts.append("I01\n" if out.is_gen_flag else "I00\n")
            elif out.normalization is None:
                self._parts.append("N")
            else:
                self._enum(out.normalization)
            self._parts.append("s")
        self._parts.append("b")

    def dump(self, outputs: list[Output]) -> bytes:
        self._parts.append("(l")
        self._put(("list",))
        for out in outputs:
            self._output(out)
            self._parts.append("a")
        self._parts.append(".")
        return "".join(self._parts).encode("ascii")


def _dump_protocol0(outputs: list[Output]) -> bytes:
    return _Protocol0Writer().dump(outputs)


# ============================================================================ arrays


@dataclasses.dataclass(frozen=True)
class NpyMember:
    """One array of an ``.npz`` as its zip entry and ``.npy`` header declare it (nothing read yet).

    Attributes:
        key: the array's name (the member name without ``.npy``).
        info: the zip entry.
        shape, fortran_order, dtype: from the ``.npy`` header.
        data_offset: bytes of the member before the array data.
    """

    key: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    data_offset: int

    @property
    def nbytes(self) -> int:
        """Bytes of the array data the header declares (a Python int: no overflow)."""
        return math.prod(self.shape) * self.dtype.itemsize

    def open(self, archive: zipfile.ZipFile) -> IO[bytes]:
        """The member's stream, positioned at the start of the array data."""
        stream = archive.open(self.info)
        stream.read(self.data_offset)
        return stream


#: Bytes read from a zip member at a time.
_READ_CHUNK = 16 << 20
_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _npy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file: str) -> NpyMember:
    """Read and check one member's ``.npy`` header."""
    if not info.filename.endswith(".npy"):
        raise DataFormatError(file, label(info.filename), None,
                              "zip member is not an .npy array: an .npz holds only NAME.npy members")
    key = info.filename[: -len(".npy")]
    try:
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            if version not in _NPY_HEADER_READERS:
                raise ValueError(f".npy format version {version} is not supported")
            shape, fortran_order, dtype = _NPY_HEADER_READERS[version](stream)
            offset = stream.tell()
    except Exception as err:  # a corrupt, encrypted or hostile member: report, never crash
        raise DataFormatError(file, label(key), None,
                              f"unreadable .npy header: {type(err).__name__}: {label(str(err), 160)}") from None
    member = NpyMember(key, info, tuple(shape), bool(fortran_order), dtype, offset)
    if dtype.hasobject:
        raise DataFormatError(file, label(key), None,
                              f"holds Python objects (dtype {dtype}); arrays are read without pickle")
    if any(d < 0 for d in shape):
        raise DataFormatError(file, label(key), None, f"declares a negative dimension, shape {brief(shape)}")
    if member.nbytes > info.file_size - offset:
        raise DataFormatError(
            file, label(key), None,
            f"array data is truncated: shape {brief(shape)} of {dtype} needs {brief(member.nbytes)} bytes, "
            f"the member holds {info.file_size - offset}",
        )
    return member


@contextlib.contextmanager
def open_npz(file: str | os.PathLike[str]) -> Iterator[tuple[zipfile.ZipFile, dict[str, NpyMember]]]:
    """Open an ``.npz`` and check what it declares before any array is read.

    Every member must be ``NAME.npy`` with a readable header of a plain
    (non-object) dtype whose shape fits the member's uncompressed size in the
    zip's central directory (a member never inflates beyond that size). So
    the headers bound what reading an array costs; :func:`load_npz` reads
    arrays only if their total is within ``DG_TF_MAX_NPZ_BYTES``
    (:data:`~dg_tf.limits.NPZ_BYTES`) and the available memory, while
    :mod:`dg_tf.data.attribute_files` streams its attribute array in chunks.

    Yields:
        ``(archive, members)``: the open zip and its arrays by name, in file order.

    Raises:
        DataFormatError: missing or not a regular file, not a zip, or a
            member breaks the rules above (the array is the member).
    """
    where = os.fspath(file)
    with open_regular(where) as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except Exception as err:  # not a zip / a corrupt directory
            raise DataFormatError(where, "file", None,
                                  f"is not a readable .npz file: {type(err).__name__}: {label(str(err), 160)}") from None
        with archive:
            members: dict[str, NpyMember] = {}
            for info in archive.infolist():
                member = _npy_member(archive, info, where)
                if member.key in members:
                    raise DataFormatError(where, label(member.key), None, "the zip holds this array twice")
                members[member.key] = member
            yield archive, members


def _read_arrays(file: str, archive: zipfile.ZipFile, members: list[NpyMember]) -> dict[str, np.ndarray]:
    """The arrays of ``members`` (checked by :func:`open_npz`), if within ``DG_TF_MAX_NPZ_BYTES`` and memory."""
    needed, available = sum(m.nbytes for m in members), available_memory()
    excess = NPZ_BYTES.excess(needed)
    if excess is not None:
        raise DataFormatError(file, "file", None, excess)
    if needed > available:
        raise DataFormatError(file, "file", None,
                              f"its arrays need {format_bytes(needed)} of memory and {format_bytes(available)} is "
                              "available (set DG_TF_MEMORY_BYTES to override the measured amount)")
    arrays = {}
    for member in members:
        try:
            buffer = np.empty(member.nbytes, dtype=np.uint8)
            view, done = memoryview(buffer), 0
            with member.open(archive) as stream:
                while done < member.nbytes:  # in chunks: never a second copy of the whole array
                    count = stream.readinto(view[done:done + _READ_CHUNK])
                    if not count:
                        raise EOFError(f"the member ends after {done} of {member.nbytes} bytes")
                    done += count
            order = "F" if member.fortran_order else "C"
            arrays[member.key] = buffer.view(member.dtype).reshape(member.shape, order=order)
        except Exception as err:  # corrupt compressed data, a CRC mismatch, a short member
            raise DataFormatError(file, label(member.key), None,
                                  f"array data cannot be read: {type(err).__name__}: {label(str(err), 160)}") from None
    return arrays


def load_npz(
    file: str | os.PathLike[str],
    feature_outputs: list[Output],
    attribute_outputs: list[Output],
    *,
    validate: bool = True,
) -> Dataset:
    """Read one split (``data_{split}.npz``) of a dataset.

    Args:
        file: the ``.npz`` file, checked by :func:`open_npz` before reading
            (no pickle, sizes bounded).
        feature_outputs: specs of the feature columns.
        attribute_outputs: specs of the attribute columns.
        validate: run :func:`~dg_tf.data.validation.validate_dataset`.

    Returns:
        The :class:`Dataset`: ``features: float32 [N, L, K]``,
        ``attributes: float32 [N, A]``, ``gen_flags: float32 [N, L]``; every
        other array of the file goes unchanged into ``extras``.

    Raises:
        DataFormatError: the file is missing, unreadable, not a regular file,
            too large (:func:`open_npz`), lacks one of ``data_feature``,
            ``data_attribute``, ``data_gen_flag``, holds a non-numeric main
            array, or (with ``validate``) breaks a format rule.
    """
    file = os.fspath(file)
    with open_npz(file) as (archive, members):
        for key in _MAIN_KEYS:
            if key not in members:
                raise DataFormatError(file, key, None,
                                      f"missing key '{key}' (file has {brief(sorted(members), 200)})")
            if members[key].dtype.kind not in "biuf":
                raise DataFormatError(file, key, None, f"must hold numbers, got dtype {members[key].dtype}")
        arrays = _read_arrays(file, archive, list(members.values()))
    dataset = Dataset(
        features=arrays.pop(_FEATURE_KEY).astype(np.float32),
        attributes=arrays.pop(_ATTRIBUTE_KEY).astype(np.float32),
        gen_flags=arrays.pop(_GEN_FLAG_KEY).astype(np.float32),
        feature_outputs=list(feature_outputs),
        attribute_outputs=list(attribute_outputs),
        extras=arrays,
    )
    if validate:
        validate_dataset(dataset, source=file)
    return dataset


def check_extra_names(names: list[str], source: str) -> None:
    """Check the names of extra arrays to be written: identifiers, not the main keys or np.savez's own.

    Raises:
        DataFormatError: the first bad name (the array is the name).
    """
    for name in names:
        if not isinstance(name, str) or not _EXTRA_NAME.fullmatch(name) or name in _RESERVED_EXTRA_KEYS:
            raise DataFormatError(
                source, label(name), None,
                f"extra array name is reserved or not an identifier: it must be letters, digits and _ "
                f"(not a path), other than {', '.join(sorted(_RESERVED_EXTRA_KEYS))}",
            )


def load_extras(file: str | os.PathLike[str], names: list[str]) -> dict[str, np.ndarray]:
    """The named extra arrays of an ``.npz`` (e.g. ``data_feature_min``), and nothing else.

    Raises:
        DataFormatError: a bad name (:func:`check_extra_names`), a name the
            file does not hold (the array is the name), or the file is
            unreadable (:func:`open_npz`).
    """
    file = os.fspath(file)
    check_extra_names(names, file)
    with open_npz(file) as (archive, members):
        for name in names:
            if name not in members:
                extras = sorted(k for k in members if k not in _MAIN_KEYS)
                raise DataFormatError(file, name, None, f"no such array in the file (its extras: {brief(extras, 200)})")
        return _read_arrays(file, archive, [members[name] for name in names])


def save_npz(file: str | os.PathLike[str], dataset: Dataset) -> None:
    """Validate ``dataset`` and write it as an uncompressed ``.npz``, atomically.

    Keys: ``data_feature`` ``[N, L, K]``, ``data_attribute`` ``[N, A]``,
    ``data_gen_flag`` ``[N, L]`` (as stored in ``dataset``), plus ``extras``.

    Args:
        file: destination ``.npz`` path (written as given; no suffix added).
        dataset: the data.

    Raises:
        DataFormatError: the dataset breaks a format rule, or an extra array
            has a reserved name or is not a plain numeric/string array
            (nothing is written).
    """
    file = os.fspath(file)
    validate_dataset(dataset, source=file)
    _check_extras(dataset, file)
    _write_npz(file, dataset)


def _check_extras(dataset: Dataset, file: str) -> None:
    check_extra_names(list(dataset.extras), file)
    for key, value in dataset.extras.items():
        if np.asarray(value).dtype.hasobject:
            raise DataFormatError(file, key, None, "extra array holds Python objects; only plain arrays are saved")


def _write_npz(file: str, dataset: Dataset) -> None:
    arrays = {
        _FEATURE_KEY: np.asarray(dataset.features),
        _ATTRIBUTE_KEY: np.asarray(dataset.attributes),
        _GEN_FLAG_KEY: np.asarray(dataset.gen_flags),
    }
    arrays.update({k: np.asarray(v) for k, v in dataset.extras.items()})
    with atomic_write(file, "wb") as handle:
        np.savez(handle, **arrays)  # uncompressed; extras were checked to hold no objects


# ============================================================================ folders


def load_dataset(path: str | os.PathLike[str], split: str = "train") -> Dataset:
    """Read and validate one split of a dataset folder in the original format.

    Args:
        path: folder holding ``data_feature_output.pkl``,
            ``data_attribute_output.pkl`` and ``data_{split}.npz``.
        split: ``"train"`` or ``"test"`` (any name ``data_{split}.npz`` exists for).

    Returns:
        The validated :class:`Dataset` (``features: float32 [N, L, K]``,
        ``attributes: float32 [N, A]``, ``gen_flags: float32 [N, L]``).

    Raises:
        DataFormatError: a file is missing ("missing file") or breaks the format.
    """
    path = os.fspath(path)
    feature_outputs = load_outputs(os.path.join(path, FEATURE_OUTPUT_FILE))
    attribute_outputs = load_outputs(os.path.join(path, ATTRIBUTE_OUTPUT_FILE))
    dataset = load_npz(os.path.join(path, f"data_{split}.npz"), feature_outputs, attribute_outputs)
    logger.info(
        "loaded %s split %r: %d samples, length %d, %d feature and %d attribute columns",
        path,
        split,
        dataset.num_samples,
        dataset.max_length,
        dataset.features.shape[2],
        dataset.attributes.shape[1],
    )
    return dataset


def save_dataset(path: str | os.PathLike[str], dataset: Dataset, split: str = "train") -> None:
    """Validate ``dataset`` and write it as a dataset folder in the original format.

    Writes ``data_feature_output.pkl``, ``data_attribute_output.pkl`` (readable
    by the original Python-2 code) and ``data_{split}.npz``, each atomically,
    creating ``path`` if needed. If the data is invalid nothing at all is
    written, not even the folder.

    Args:
        path: destination folder.
        dataset: the data.
        split: name of the split file, ``data_{split}.npz``.

    Raises:
        DataFormatError: the dataset breaks a format rule (nothing written).
    """
    path = os.fspath(path)
    npz_file = os.path.join(path, f"data_{split}.npz")
    validate_dataset(dataset, source=npz_file)
    _check_extras(dataset, npz_file)
    os.makedirs(path, exist_ok=True)
    save_outputs(os.path.join(path, FEATURE_OUTPUT_FILE), dataset.feature_outputs)
    save_outputs(os.path.join(path, ATTRIBUTE_OUTPUT_FILE), dataset.attribute_outputs)
    _write_npz(npz_file, dataset)
