"""Shared plumbing of the raw-dataset converters (paper appendix A).

What every converter needs and nothing dataset-specific:

* :func:`iter_csv`: a streaming CSV reader (pandas chunks) that checks every
  cell it is asked for and turns a malformed cell into a
  :class:`RawDataError` naming the file, the line and the column;
* :func:`encode_levels` / :func:`one_hot`: categorical metadata as one-hot
  blocks with the levels sorted (the order the released WWT data uses,
  original issue #27);
* :func:`min_max`: global min-max scaling of a continuous feature, returning
  the ``data_feature_min`` / ``data_feature_max`` the bundled FCC MBA triple
  carries;
* :func:`split_indices`: the seeded uniform sample of train / test series
  (appendix A: "from which we sample ...");
* :func:`write_output`: validates every split, then writes the triple with
  :func:`dg_tf.data.loading.save_dataset` (atomic per file) plus a
  ``conversion.json`` provenance record;
* :func:`run_cli`: the shared ``--out/--num-train/--num-test/--seed`` flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import inspect
import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import run_main
from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import save_dataset
from dg_tf.data.specs import Normalization, Output, OutputType
from dg_tf.data.validation import validate_dataset
from dg_tf.errors import ConfigError, DataFormatError
from dg_tf.fileio import atomic_write

__all__ = [
    "INT",
    "FLOAT",
    "OPTIONAL_FLOAT",
    "TEXT",
    "OPTIONAL_TEXT",
    "RawDataError",
    "ConversionSummary",
    "read_header",
    "require_columns",
    "check_field_count",
    "iter_csv",
    "encode_levels",
    "one_hot",
    "encode_attributes",
    "fixed_length_splits",
    "min_max",
    "split_indices",
    "write_output",
    "log_counts",
    "default_of",
    "run_cli",
]

logger = logging.getLogger(__name__)

#: Column kinds understood by :func:`iter_csv`.
INT = "int"  # required integer
FLOAT = "float"  # required finite number
OPTIONAL_FLOAT = "float?"  # finite number, or an empty cell (read as NaN)
TEXT = "text"  # required non-empty string
OPTIONAL_TEXT = "text?"  # string, or an empty cell (read as NaN)

_PANDAS_DTYPE = {INT: "int64", FLOAT: "float64", OPTIONAL_FLOAT: "float64", TEXT: str, OPTIONAL_TEXT: str}
_SUMMARY_FILE = "conversion.json"


class RawDataError(DataFormatError):
    """A malformed raw input file: names the file, the line and the column.

    ``index`` is the 1-based line number in the file (a header is line 1),
    ``array`` the column, or ``None`` for both when the rule concerns the
    whole file (e.g. a wrong header).
    """

    def __init__(self, file: str | os.PathLike[str], column: str | None, line: int | None, rule: str):
        super().__init__(os.fspath(file), column or "file", line, rule)
        where = self.file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        self.args = (f"{where}: {rule}",)


@dataclasses.dataclass(frozen=True)
class ConversionSummary:
    """What a conversion kept, dropped and wrote.

    Attributes:
        dataset: ``"wwt"``, ``"gcut"`` or ``"fcc_mba"``.
        total: series (pages, tasks, units) seen in the raw input.
        kept: series that passed every filter.
        dropped: filter name -> number of series it removed (each series is
            counted once, under the first filter it fails, in paper order).
        num_train: series written to ``data_train.npz``.
        num_test: series written to ``data_test.npz`` (0: no test file).
        levels: attribute name -> category names in one-hot column order.
        feature_names: the feature columns, in order.
        feature_min: per feature, the value mapped to the low end of its range.
        feature_max: per feature, the value mapped to the high end.
        transform: how a raw value becomes the stored one, in words.
    """

    dataset: str
    total: int
    kept: int
    dropped: dict[str, int]
    num_train: int
    num_test: int
    levels: dict[str, list[str]]
    feature_names: list[str]
    feature_min: list[float]
    feature_max: list[float]
    transform: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ============================================================================ reading


def _open_text(file: str):
    return gzip.open(file, "rt", encoding="utf-8", newline="") if file.endswith(".gz") else open(
        file, encoding="utf-8", newline=""
    )


def read_header(file: str | os.PathLike[str]) -> list[str]:
    """The column names of a CSV file with a header row.

    Raises:
        RawDataError: the file is missing, unreadable or empty.
    """
    file = os.fspath(file)
    try:
        return [str(c) for c in pd.read_csv(file, nrows=0).columns]
    except FileNotFoundError:
        raise RawDataError(file, None, None, "missing file") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError) as err:
        raise RawDataError(file, None, 1, f"cannot read the header: {err}") from None


def require_columns(file: str | os.PathLike[str], header: Sequence[str], needed: Sequence[str]) -> None:
    """Check that ``header`` holds every column of ``needed``.

    Raises:
        RawDataError: naming the missing columns and the header found.
    """
    missing = [c for c in needed if c not in header]
    if missing:
        raise RawDataError(
            file, None, 1, f"header lacks column(s) {missing}; expected {list(needed)}, found {list(header)}"
        )


def check_field_count(file: str | os.PathLike[str], expected: int) -> bool:
    """Check the first line of a headerless CSV (optionally gzipped) has ``expected`` fields.

    Returns:
        ``False`` if the file is empty (nothing to read), else ``True``.

    Raises:
        RawDataError: the file is missing or its first line has another field count.
    """
    file = os.fspath(file)
    try:
        with _open_text(file) as handle:
            first = handle.readline()
    except FileNotFoundError:
        raise RawDataError(file, None, None, "missing file") from None
    except (OSError, UnicodeDecodeError, EOFError) as err:
        raise RawDataError(file, None, 1, f"cannot be read: {err}") from None
    if not first.strip():
        return False
    fields = first.rstrip("\r\n").count(",") + 1
    if fields != expected:
        raise RawDataError(
            file, None, 1, f"has {fields} comma-separated fields, expected {expected} (the documented schema)"
        )
    return True


def iter_csv(
    file: str | os.PathLike[str],
    columns: Mapping[str, str],
    *,
    names: Sequence[str] | None = None,
    chunk_rows: int = 500_000,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Stream the ``columns`` of a CSV file in chunks, every cell checked.

    Memory: one chunk of ``chunk_rows`` rows of the requested columns.

    Args:
        file: CSV file; ``.gz`` files are decompressed on the fly.
        columns: column name -> kind (:data:`INT`, :data:`FLOAT`,
            :data:`OPTIONAL_FLOAT`, :data:`TEXT`, :data:`OPTIONAL_TEXT`).
            Only these are read.
        names: all column names of a headerless file (its documented schema);
            ``None`` if the file starts with a header row.
        chunk_rows: rows per chunk.

    Yields:
        ``(first_line, chunk)``: the 1-based line number of the chunk's first
        row and a DataFrame of the requested columns (ints as int64, numbers
        as float64 with NaN for empty optional cells, text as strings).

    Raises:
        RawDataError: an empty required cell, a cell that is not a finite
            number (INT: not an integer), or a row the CSV parser rejects,
            with the file, line and column of the first offending cell.
    """
    file = os.fspath(file)
    header_lines = 0 if names is not None else 1
    kwargs: dict[str, Any] = dict(usecols=list(columns), keep_default_na=False, chunksize=chunk_rows)
    if names is not None:
        kwargs.update(header=None, names=list(names))
    line = header_lines + 1
    dtypes = {c: _PANDAS_DTYPE[k] for c, k in columns.items()}
    try:
        with pd.read_csv(file, dtype=dtypes, na_values=[""], **kwargs) as reader:
            for chunk in reader:
                _check_chunk(file, chunk, columns, line)
                yield line, chunk
                line += len(chunk)
    except FileNotFoundError:
        raise RawDataError(file, None, None, "missing file") from None
    except DataFormatError:
        raise
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as err:
        # A cell the fast typed parser refused: find it with a plain text pass.
        located = _locate_bad_cell(file, columns, kwargs, header_lines)
        if located is not None:
            raise located from None
        raise RawDataError(file, None, None, f"cannot be parsed as CSV: {type(err).__name__}: {err}") from None


def _check_chunk(file: str, chunk: pd.DataFrame, columns: Mapping[str, str], first_line: int) -> None:
    """Checks the typed parser does not make: empty required cells, non-finite numbers."""
    worst: tuple[int, int, str] | None = None  # (row, column position, message)
    for position, (name, kind) in enumerate(columns.items()):
        values = chunk[name]
        if kind == TEXT:
            bad = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
            why = "empty value: a value is required"
        elif kind in (INT, OPTIONAL_TEXT):
            continue  # int64 parsing already refused empty and non-integer cells; text? takes anything
        else:
            numbers = values.to_numpy(dtype=np.float64)
            bad = np.isinf(numbers) if kind == OPTIONAL_FLOAT else ~np.isfinite(numbers)
            why = "value must be a finite number" if kind == OPTIONAL_FLOAT else "empty value: a number is required"
        if bad.any():
            row = int(np.argmax(bad))
            shown = f" (got {values.iloc[row]!r})" if not pd.isna(values.iloc[row]) else ""
            if worst is None or (row, position) < worst[:2]:
                worst = (row, position, why + shown)
    if worst is not None:
        row, position, why = worst
        raise RawDataError(file, list(columns)[position], first_line + row, why)


def _locate_bad_cell(
    file: str, columns: Mapping[str, str], kwargs: Mapping[str, Any], header_lines: int
) -> RawDataError | None:
    """Re-read ``file`` as text to find the first cell the typed parser refused."""
    line = header_lines + 1
    try:
        with pd.read_csv(file, dtype=str, **kwargs) as reader:
            for chunk in reader:
                worst: tuple[int, int, str] | None = None
                for position, (name, kind) in enumerate(columns.items()):
                    text = chunk[name].fillna("").astype(str).str.strip()
                    empty = (text == "").to_numpy()
                    if kind == OPTIONAL_TEXT:
                        continue
                    if kind == TEXT:
                        bad, why = empty, "empty value: a value is required"
                    elif kind == INT:
                        bad = ~text.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
                        why = "value must be an integer"
                    else:
                        numbers = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(dtype=np.float64)
                        not_number = ~empty & ~np.isfinite(numbers)
                        if kind == FLOAT:
                            bad, why = empty | not_number, "value must be a finite number"
                        else:
                            bad, why = not_number, "value must be a finite number or empty"
                    if bad.any():
                        row = int(np.argmax(bad))
                        if worst is None or (row, position) < worst[:2]:
                            worst = (row, position, f"{why} (got {text.iloc[row]!r})")
                if worst is not None:
                    row, position, why = worst
                    return RawDataError(file, list(columns)[position], line + row, why)
                line += len(chunk)
    except pd.errors.ParserError as err:
        return RawDataError(file, None, None, f"malformed CSV: {err}")
    except (ValueError, UnicodeDecodeError, OSError, EOFError) as err:
        return RawDataError(file, None, None, f"cannot be read: {type(err).__name__}: {err}")
    return None


# ============================================================================ encoding


def encode_levels(values: Sequence[str] | np.ndarray) -> tuple[list[str], np.ndarray]:
    """Sorted category names and each value's position among them.

    Returns:
        ``(levels, codes)``: the sorted distinct values and int64 [N] codes.
    """
    levels, codes = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    return [str(v) for v in levels], codes.astype(np.int64).reshape(-1)


def one_hot(codes: np.ndarray, dim: int) -> np.ndarray:
    """float32 [N, dim] one-hot rows of int codes [N] in ``[0, dim)``."""
    return np.eye(dim, dtype=np.float32)[np.asarray(codes, dtype=np.int64)]


def min_max(values: np.ndarray, normalization: Normalization) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each column of ``values`` by its global min/max into ``normalization``'s range.

    ``x -> (x - min) / (max - min)`` for ``ZERO_ONE``, then ``2x - 1`` for
    ``MINUSONE_ONE``; a constant column maps to the low end. Computed in
    float64.

    Args:
        values: [M, K] the values of every active step of every kept series.
        normalization: target range.

    Returns:
        ``(scaled float64 [M, K], min float64 [K], max float64 [K])``.
    """
    values = np.asarray(values, dtype=np.float64)
    low = values.min(axis=0)
    high = values.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = (values - low) / span
    if normalization == Normalization.MINUSONE_ONE:
        scaled = 2.0 * scaled - 1.0
    return scaled, low, high


def encode_attributes(columns: Mapping[str, Sequence[str] | np.ndarray]) -> tuple[dict[str, list[str]], np.ndarray]:
    """One-hot blocks of categorical metadata, levels sorted (see :func:`encode_levels`).

    Args:
        columns: attribute name -> [N] category of each series, in output order.

    Returns:
        ``(levels, attributes)``: name -> category names, and float32 [N, sum of levels].
    """
    levels: dict[str, list[str]] = {}
    blocks = []
    for name, values in columns.items():
        levels[name], codes = encode_levels(values)
        blocks.append(one_hot(codes, len(levels[name])))
    return levels, np.concatenate(blocks, axis=1)


def fixed_length_splits(
    features: np.ndarray,
    attributes: np.ndarray,
    normalization: Normalization,
    levels: Mapping[str, list[str]],
    extras: Mapping[str, np.ndarray],
    indices: Mapping[str, np.ndarray],
) -> dict[str, Dataset]:
    """Datasets of full-length series (every generation flag 1), one per split.

    Args:
        features: float32 [N, L, K], each column scaled into ``normalization``'s range.
        attributes: float32 [N, A] one-hot blocks of ``levels``.
        normalization: range of the continuous features.
        levels: attribute name -> category names (one discrete output each).
        extras: arrays stored unchanged in every split (e.g. ``data_feature_min``).
        indices: split name -> int [n] rows of that split.
    """
    feature_outputs = [Output(OutputType.CONTINUOUS, 1, normalization) for _ in range(features.shape[2])]
    attribute_outputs = [Output(OutputType.DISCRETE, len(v)) for v in levels.values()]
    return {
        name: Dataset(
            features=features[idx],
            attributes=attributes[idx],
            gen_flags=np.ones((len(idx), features.shape[1]), dtype=np.float32),
            feature_outputs=feature_outputs,
            attribute_outputs=attribute_outputs,
            extras=dict(extras),
        )
        for name, idx in indices.items()
    }


def split_indices(
    n: int, num_train: int | None, num_test: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Uniformly sample disjoint train / test series (appendix A), seeded.

    ``None`` means "every series the other split leaves"; both ``None``: all
    series go to train. Each split keeps the source order.

    Returns:
        ``(train int64 [num_train], test int64 [num_test])`` indices into ``range(n)``.

    Raises:
        ConfigError: a count is negative, or the counts exceed ``n``.
    """
    for name, value in (("num_train", num_train), ("num_test", num_test)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0):
            raise ConfigError(f"{name}={value!r} must be a non-negative integer or None")
    if num_train is None:
        num_test = 0 if num_test is None else num_test
        num_train = n - num_test
    elif num_test is None:
        num_test = n - num_train
    if num_train < 0 or num_test < 0 or num_train + num_test > n:
        raise ConfigError(
            f"num_train + num_test must be at most the {n} series that passed the filters "
            f"(got num_train={num_train}, num_test={num_test}); pass smaller counts (--num-train/--num-test)"
        )
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[:num_train]), np.sort(order[num_train : num_train + num_test])


# ============================================================================ writing


def write_output(
    out: str | os.PathLike[str],
    splits: Mapping[str, Dataset],
    summary: ConversionSummary,
    *,
    overwrite: bool = False,
) -> None:
    """Validate every split, then write the triple and ``conversion.json``.

    Nothing is written (not even the folder) unless every split is valid.
    ``data_feature_output.pkl`` / ``data_attribute_output.pkl`` and each
    ``data_{split}.npz`` go through :func:`dg_tf.data.loading.save_dataset`
    (atomic per file); a split with no series is not written.

    Args:
        out: destination folder.
        splits: split name (``"train"``, ``"test"``) -> data.
        summary: recorded as ``conversion.json``.
        overwrite: replace the files of an existing non-empty folder (a stale
            ``data_test.npz`` is removed when no test split is written).

    Raises:
        ConfigError: ``out`` exists, is not empty and ``overwrite`` is False.
        DataFormatError: a split breaks the format (a converter bug).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"output folder {out} exists and is not empty; pass overwrite=True (--overwrite)")
    written = {name: data for name, data in splits.items() if data.num_samples > 0}
    for name, data in written.items():
        validate_dataset(data, source=str(out / f"data_{name}.npz"))
    for name, data in written.items():
        save_dataset(out, data, split=name)
    for stale in ("train", "test"):
        if stale not in written and (out / f"data_{stale}.npz").exists():
            (out / f"data_{stale}.npz").unlink()
    with atomic_write(out / _SUMMARY_FILE, "w") as handle:
        json.dump(summary.to_dict(), handle, indent=2)
        handle.write("\n")
    logger.info(
        "%s: wrote %s (%d train, %d test series) to %s",
        summary.dataset,
        ", ".join(f"data_{n}.npz" for n in written),
        summary.num_train,
        summary.num_test,
        out,
    )


def log_counts(dataset: str, total: int, kept: int, dropped: Mapping[str, int]) -> None:
    """Log how many series each filter removed."""
    reasons = ", ".join(f"{reason}: {count}" for reason, count in dropped.items()) or "none"
    logger.info("%s: %d series in the raw input, %d kept; dropped by filter (%s)", dataset, total, kept, reasons)


# ============================================================================ command line


def _count(text: str) -> int | None:
    return None if text.lower() in ("all", "rest", "none") else int(text)


def default_of(function: Callable[..., Any], name: str) -> Any:
    """The default of ``function``'s keyword ``name`` (so CLI defaults never drift from ``convert``)."""
    return inspect.signature(function).parameters[name].default


def run_cli(
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    convert: Callable[..., ConversionSummary],
    argv: Sequence[str] | None,
) -> int:
    """Parse the shared and the converter's own flags, then call ``convert(**flags)``.

    Shared flags: ``--out DIR`` (required), ``--num-train N|rest``,
    ``--num-test N|rest``, ``--seed``, ``--overwrite``; their defaults are
    ``convert``'s (the paper's). Errors are printed as one line with exit
    status 2 (:func:`dg_tf.cli.run_main`).

    Returns:
        The process exit status.
    """
    parser = argparse.ArgumentParser(description=description)
    add_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="output folder for the DG triple")
    for split in ("train", "test"):
        default = default_of(convert, f"num_{split}")
        parser.add_argument(f"--num-{split}", type=_count, default=default,
                            help=f"series sampled into data_{split}.npz, or 'rest' [{default or 'rest'}]")
    parser.add_argument("--seed", type=int, default=default_of(convert, "seed"),
                        help="seed of the uniform train/test sample [%(default)s]")
    parser.add_argument("--overwrite", action="store_true", help="replace the files of a non-empty --out folder")

    def main(args: Sequence[str] | None) -> None:
        convert(**vars(parser.parse_args(args)))

    return run_main(main, argv)
