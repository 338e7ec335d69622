"""Read and write datasets in the original DoppelGANger on-disk format.

A dataset folder holds (ORIGINAL_DG_SPEC.md section 1)::

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
``output.Normalization``, ``copy_reg._reconstructor``, ``__builtin__.object``)
and refuses every other one before it is called. It never touches
``sys.modules`` (the original's ``sys.modules["output"] = gan.output`` hack).

:func:`save_outputs` writes protocol-0 text in exactly the original style, so
the original TF1 / Python-2 code (and plain ``pickle.load`` with the original
``output`` module importable) reads the files dg_tf writes.

Every write is atomic (:func:`dg_tf.fileio.atomic_write`) and every dataset is
validated (:mod:`dg_tf.data.validation`) before anything is written.
"""

from __future__ import annotations

import enum
import io
import logging
import os
import pickle
from typing import Any, Callable

import numpy as np

from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Normalization, Output, OutputType
from dg_tf.data.validation import validate_dataset, validate_outputs
from dg_tf.errors import DataFormatError
from dg_tf.fileio import atomic_write

__all__ = [
    "FEATURE_OUTPUT_FILE",
    "ATTRIBUTE_OUTPUT_FILE",
    "load_outputs",
    "save_outputs",
    "load_npz",
    "save_npz",
    "load_dataset",
    "save_dataset",
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

_ALLOWED_TEXT = (
    "only output.Output, output.OutputType, output.Normalization, "
    "copy_reg._reconstructor and __builtin__.object may be loaded"
)
# The state dict of an original ``output.Output`` (Python 2 dict order, which
# the original pickles use and save_outputs reproduces).
_STATE_KEYS = ("dim", "type_", "is_gen_flag", "normalization")


# ============================================================================ pickles


def load_outputs(file: str | os.PathLike[str]) -> list[Output]:
    """Read a list of output specs from an original-format pickle, safely.

    Args:
        file: ``data_feature_output.pkl`` or ``data_attribute_output.pkl``
            (any pickle protocol; Python-2 ``S'...'`` strings are decoded as
            latin-1).

    Returns:
        The specs, as :class:`dg_tf.data.specs.Output` objects.

    Raises:
        DataFormatError: the file is missing, is not a pickle, names any
            global other than the five allowed ones (refused before it is
            called), or does not hold a list of valid ``Output``; the index
            is the list position of the first bad element.
    """
    file = os.fspath(file)
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise DataFormatError(file, "file", None, "missing file") from None
    except OSError as err:
        raise DataFormatError(file, "file", None, f"cannot be read: {err}") from None
    unpickler = _RestrictedUnpickler(io.BytesIO(data), file)
    try:
        raw = unpickler.load()
    except DataFormatError:
        raise
    except Exception as err:  # a broken or hostile pickle: report, never crash
        raise DataFormatError(file, "pickle", None, f"cannot be unpickled: {type(err).__name__}: {err}") from None
    outputs = _to_outputs(raw, file)
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
    """Inert stand-in for a class named in a pickle (``output.Output``, ``object``).

    The unpickler never hands real classes to the pickle: a BUILD opcode could
    otherwise set attributes on them (e.g. replace ``Output.problem``).
    """

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


class _PickledOutput:
    """Blank object a pickled ``output.Output`` is rebuilt into (state checked later)."""

    def __repr__(self) -> str:
        return f"output.Output(state={vars(self)!r})"


class _PickledEnum:
    """``OutputType(value)`` / ``Normalization(value)`` as read, converted later."""

    def __init__(self, enum_cls: type[enum.Enum], value: Any):
        self.enum_cls = enum_cls
        self.value = value

    def __repr__(self) -> str:
        return f"output.{self.enum_cls.__name__}({self.value!r})"


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
        self._output = _Ref("output.Output")
        self._object = _Ref("__builtin__.object")
        self._globals: dict[tuple[str, str], Any] = {}
        for module in ("output", "gan.output"):
            self._globals[(module, "Output")] = self._output
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
            raise DataFormatError(self._file, "pickle", None, f"refuses global '{module}.{name}': {_ALLOWED_TEXT}")

    def persistent_load(self, pid: Any) -> Any:
        raise DataFormatError(self._file, "pickle", None, f"refuses persistent id {pid!r:.60}: {_ALLOWED_TEXT}")

    def _reconstructor(self, cls: Any, base: Any, state: Any) -> _PickledOutput:
        """Safe ``copy_reg._reconstructor``: only ``(output.Output, object, None)``."""
        if cls is not self._output or base is not self._object or state is not None:
            raise DataFormatError(
                self._file,
                "pickle",
                None,
                f"copy_reg._reconstructor may only rebuild output.Output from object with state None, "
                f"got ({cls!r:.40}, {base!r:.40}, {state!r:.40})",
            )
        return _PickledOutput()


def _to_outputs(raw: Any, file: str) -> list[Output]:
    """Turn the unpickled stand-ins into :class:`Output` objects, coercing nothing."""
    if not isinstance(raw, list):
        raise DataFormatError(file, "pickle", None, f"must hold a list of output.Output, got {type(raw).__name__}")
    outputs = []
    for i, item in enumerate(raw):
        if type(item) is not _PickledOutput:
            if isinstance(item, _Ref):
                what = f"class {item.name}"
            elif isinstance(item, _PickledEnum):
                what = repr(item)
            else:
                what = f"{type(item).__name__} {item!r:.60}"
            raise DataFormatError(file, "pickle", i, f"must be an output.Output, got {what}")
        state = vars(item)
        if set(state) != set(_STATE_KEYS):
            raise DataFormatError(
                file,
                "pickle",
                i,
                f"output.Output state must have exactly the keys {list(_STATE_KEYS)}, got {sorted(map(repr, state))}",
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
        got = f"{value!r:.60}"
        raise DataFormatError(file, "pickle", index, f"{field} must be an output.{enum_cls.__name__}, got {got}")
    try:
        return enum_cls(value.value)
    except (ValueError, TypeError):
        allowed = ", ".join(m.value for m in enum_cls)
        raise DataFormatError(
            file, "pickle", index, f"{field}={value.value!r:.40} is not an {enum_cls.__name__} (one of {allowed})"
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


def load_npz(
    file: str | os.PathLike[str],
    feature_outputs: list[Output],
    attribute_outputs: list[Output],
    *,
    validate: bool = True,
) -> Dataset:
    """Read one split (``data_{split}.npz``) of a dataset.

    Args:
        file: the ``.npz`` file (read with ``allow_pickle=False``).
        feature_outputs: specs of the feature columns.
        attribute_outputs: specs of the attribute columns.
        validate: run :func:`~dg_tf.data.validation.validate_dataset`.

    Returns:
        The :class:`Dataset`: ``features: float32 [N, L, K]``,
        ``attributes: float32 [N, A]``, ``gen_flags: float32 [N, L]``; every
        other array of the file goes unchanged into ``extras``.

    Raises:
        DataFormatError: the file is missing or unreadable, lacks one of
            ``data_feature``, ``data_attribute``, ``data_gen_flag``, holds a
            non-numeric main array, or (with ``validate``) breaks a format rule.
    """
    file = os.fspath(file)
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(file, allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError as err:  # object arrays need pickle: refused
                    raise DataFormatError(file, key, None, f"cannot be read without pickle: {err}") from None
    except FileNotFoundError:
        raise DataFormatError(file, "file", None, "missing file") from None
    except DataFormatError:
        raise
    except Exception as err:  # not a zip / not an npz / corrupt member
        raise DataFormatError(file, "file", None, f"is not a readable .npz file: {type(err).__name__}: {err}") from None
    for key in _MAIN_KEYS:
        if key not in arrays:
            raise DataFormatError(file, key, None, f"missing key '{key}' (file has {sorted(arrays)})")
        if arrays[key].dtype.kind not in "biuf":
            raise DataFormatError(file, key, None, f"must hold numbers, got dtype {arrays[key].dtype}")
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
    for key, value in dataset.extras.items():
        if not isinstance(key, str) or key in _RESERVED_EXTRA_KEYS:
            raise DataFormatError(file, str(key), None, f"extra array name {key!r} is reserved or not a string")
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
