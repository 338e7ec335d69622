"""Shared plumbing of the evaluation scripts: flags, loading, choices, Markdown tables, output files.

Every script reads

- ``--real DIR``: a dataset folder in the original format
  (``data_feature_output.pkl``, ``data_attribute_output.pkl``,
  ``data_{split}.npz``), split ``--split`` (default ``train``, the data the
  generators were trained on);
- the folder's held-out split ``--holdout-split`` (default ``test``) when the
  file exists: the real-vs-real *floor* (two real samples are
  never at distance 0) and A' of the paper's Fig. 12;
- ``--synthetic NAME=FILE`` (repeatable): generated ``.npz`` files in the same
  layout, e.g. ``RUN/synthetic.npz`` of ``python -m dg_tf.train``;
- ``--names FILE.json`` (default ``DIR/conversion.json``, written by
  ``data/converters``): human names of features, attributes and categories.

and prints its table as Markdown on stdout; with ``--out DIR`` it also writes
the table (CSV), the numbers (JSON) and its figures (PNG), every file atomically.
Progress goes to the log (stderr). The metrics themselves live in
:mod:`dg_tf.evaluation`; nothing here computes one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dg_tf.cli import fail
from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import load_dataset, load_npz
from dg_tf.data.specs import continuous_columns
from dg_tf.evaluation.distributions import attribute_labels
from dg_tf.evaluation.names import CONVERSION_FILE, ColumnNames, dataset_names, default_label_attribute
from dg_tf.evaluation.report import split_in_two
from dg_tf.evaluation.utility import CLASSIFIERS, REGRESSORS, classification_accuracies, forecasting_r2
from dg_tf.fileio import atomic_write
from dg_tf.seeding import derive_seed

__all__ = [
    "NAMES_FILE",
    "Inputs",
    "Task",
    "build_parser",
    "named_path",
    "load_real",
    "load_synthetic",
    "load_inputs",
    "discrete_attribute",
    "continuous_feature",
    "feature_columns",
    "selected_features",
    "shared_max_lag",
    "real_train_test",
    "add_task_arguments",
    "tasks_from_args",
    "format_value",
    "markdown_table",
    "print_table",
    "output_dir",
    "save_table",
    "save_json",
    "save_figure",
    "file_stem",
]

logger = logging.getLogger("evaluation")

#: Names record of a dataset folder, as written by ``data/converters`` (``levels``, ``feature_names``).
NAMES_FILE = CONVERSION_FILE


# --------------------------------------------------------------------------- #
# Flags and loading
# --------------------------------------------------------------------------- #


def named_path(text: str) -> tuple[str, Path]:
    """``NAME=FILE`` -> ``(NAME, FILE)``; a bare FILE is named after it.

    A bare ``runs/a/synthetic.npz`` is named ``a`` (its run folder); any other
    bare file by its stem.

    Raises:
        argparse.ArgumentTypeError: an empty name or file.
    """
    name, sep, file = text.partition("=")
    if not sep:
        path = Path(text)
        name, file = (path.parent.name if path.stem == "synthetic" and path.parent.name else path.stem), text
    if not name or not file:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=FILE")
    return name, Path(file)


def build_parser(
    prog: str, doc: str, *, synthetic: bool = True, real_required: bool = True, names: bool = True
) -> argparse.ArgumentParser:
    """A parser with the flags every script shares (``--real``, ``--synthetic``, ``--out``, ...).

    Args:
        prog: the module, e.g. ``"evaluation.table2_w1_by_category"``.
        doc: the script's docstring; its first line is the description.
        synthetic: add the usual repeatable ``--synthetic NAME=FILE``.
        real_required: ``--real`` must be given.
        names: add ``--names``.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m {prog}", description=doc.strip().splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--real", type=Path, required=real_required, default=None, metavar="DIR",
                        help="real dataset folder (data_feature_output.pkl, data_attribute_output.pkl, data_*.npz)")
    parser.add_argument("--split", default="train", help="split of --real the generators were trained on")
    parser.add_argument("--holdout-split", default="test",
                        help="held-out split of --real, used when its file exists ('none': never)")
    if synthetic:
        parser.add_argument("--synthetic", type=named_path, action="append", required=True, metavar="NAME=FILE",
                            help="synthetic .npz in the dataset's layout (repeatable; one column each)")
    if names:
        parser.add_argument("--names", type=Path, default=None, metavar="FILE",
                            help=f"JSON with 'feature_names' and 'levels' (category names) [--real/{NAMES_FILE}]")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="folder for CSV, JSON and PNG files (none: print only)")
    return parser


@dataclasses.dataclass(frozen=True)
class Inputs:
    """Everything a script compares.

    Attributes:
        real: the real training data [N, L, K].
        holdout: the held-out real data, or ``None``.
        holdout_name: column / row name of the held-out comparison (the floor).
        synthetic: name -> synthetic data, in command-line order.
        names: human names of the columns.
    """

    real: Dataset
    holdout: Dataset | None
    holdout_name: str
    synthetic: dict[str, Dataset]
    names: ColumnNames

    def compared(self, floor: bool = True) -> dict[str, Dataset]:
        """Synthetic sets, then (if ``floor`` and present) the held-out real set."""
        others = dict(self.synthetic)
        if floor and self.holdout is not None:
            others[self.holdout_name] = self.holdout
        return others


def load_real(args: argparse.Namespace) -> tuple[Dataset, Dataset | None, ColumnNames]:
    """The real split, the held-out split (``None`` if absent or 'none') and the column names."""
    real = load_dataset(args.real, args.split)
    holdout = None
    holdout_file = Path(args.real) / f"data_{args.holdout_split}.npz"
    if args.holdout_split not in ("none", args.split) and holdout_file.is_file():
        holdout = load_dataset(args.real, args.holdout_split)
        if holdout.max_length != real.max_length:
            fail(f"{holdout_file}: length {holdout.max_length} differs from the {args.split} split's {real.max_length}")
    else:
        logger.info("no held-out split (%s): no real-vs-real floor", holdout_file)
    if args.names is not None and not args.names.is_file():
        fail(f"--names {args.names}: no such file")
    return real, holdout, dataset_names(args.real, real, args.names)


def load_synthetic(file: Path, real: Dataset, *, same_length: bool = False) -> Dataset:
    """A synthetic ``.npz`` read with the real data's specs (validated).

    Args:
        file: the ``.npz`` (``data_feature``, ``data_attribute``, ``data_gen_flag``).
        real: the real data whose specs it must follow.
        same_length: require the real data's max length L (for metrics that
            compare series step by step).

    Raises:
        DataFormatError: the file is missing or breaks the format or the specs.
        ConfigError: ``same_length`` and the lengths differ.
    """
    synthetic = load_npz(file, real.feature_outputs, real.attribute_outputs)
    if same_length and synthetic.max_length != real.max_length:
        fail(f"{file}: length {synthetic.max_length} differs from the real data's {real.max_length}")
    logger.info("loaded %s: %d series of length %d", file, synthetic.num_samples, synthetic.max_length)
    return synthetic


def load_inputs(args: argparse.Namespace, *, same_length: bool = False) -> Inputs:
    """Load ``--real`` (and its held-out split) and every ``--synthetic NAME=FILE``.

    Raises:
        ConfigError: two synthetic sets share a name, or (``same_length``) a length differs.
        DataFormatError: a file is missing or malformed.
    """
    real, holdout, names = load_real(args)
    holdout_name = f"real {args.holdout_split} (floor)"
    synthetic: dict[str, Dataset] = {}
    for name, file in args.synthetic:
        if name in synthetic or name in (holdout_name, f"real {args.split}"):
            fail(f"--synthetic {name}={file}: the name {name!r} is used twice or is reserved")
        synthetic[name] = load_synthetic(file, real, same_length=same_length)
    return Inputs(real, holdout, holdout_name, synthetic, names)


# --------------------------------------------------------------------------- #
# Choices of attribute and feature
# --------------------------------------------------------------------------- #


def discrete_attribute(dataset: Dataset, index: int | None, flag: str = "--attribute") -> int:
    """A discrete attribute output: ``index`` checked, or by default the one with the fewest categories (> 1).

    The default picks the coarsest grouping, e.g. the connection technology of
    FCC MBA (5 categories; ISP has 15, state 53) or GCUT's end event type.

    Raises:
        ConfigError: ``index`` is not a discrete attribute output, or there is none.
    """
    outputs = dataset.attribute_outputs
    if index is None:
        default = default_label_attribute(outputs)
        if default is None:
            fail("the data has no discrete attribute with 2 or more categories")
        return default
    if not 0 <= index < len(outputs) or not outputs[index].is_discrete:
        fail(f"{flag} {index}: not a discrete attribute output (discrete outputs: "
             f"{[i for i, o in enumerate(outputs) if o.is_discrete]})")
    return index


def feature_columns(dataset: Dataset, names: ColumnNames) -> dict[int, str]:
    """Continuous feature column index -> name (columns count one-hot blocks too)."""
    return dict(continuous_columns(dataset.feature_outputs, names.features))


def continuous_feature(dataset: Dataset, names: ColumnNames, column: int, flag: str = "--feature") -> str:
    """The name of continuous feature column ``column``.

    Raises:
        ConfigError: ``column`` is not a continuous feature column.
    """
    columns = feature_columns(dataset, names)
    if column not in columns:
        fail(f"{flag} {column}: not a continuous feature column (continuous columns: {sorted(columns)})")
    return columns[column]


def selected_features(dataset: Dataset, names: ColumnNames, columns: Sequence[int] | None) -> dict[int, str]:
    """Column -> name of the continuous feature columns ``columns`` (default: all of them).

    Raises:
        ConfigError: a column is not continuous, or the data has no continuous feature.
    """
    available = feature_columns(dataset, names)
    if not available:
        fail("the data has no continuous feature column")
    if columns is None:
        return available
    return {c: continuous_feature(dataset, names, c) for c in dict.fromkeys(columns)}


def shared_max_lag(max_lag: int | None, datasets: Sequence[Dataset]) -> int:
    """``max_lag`` checked against every set's length L (default: the smallest L - 1).

    Raises:
        ConfigError: ``max_lag`` is outside [2, min L - 1].
    """
    shortest = min(d.max_length for d in datasets)
    if shortest < 3:
        fail(f"autocorrelation needs series of length >= 3 (shortest: {shortest})")
    if max_lag is None:
        return shortest - 1
    if not 2 <= max_lag <= shortest - 1:
        fail(f"--max-lag {max_lag} must lie in [2, {shortest - 1}] (the shortest length is {shortest})")
    return max_lag


# --------------------------------------------------------------------------- #
# Downstream tasks of Fig. 12/13 and Table 5
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class Task:
    """A family of predictors trained on one set and scored on another (paper §5.2, Appendix D).

    Attributes:
        name: row name, e.g. ``"classification: attribute 1"``.
        metric: ``"accuracy"`` or ``"R2"``.
        score: ``(train, test) -> {predictor: score}``.
    """

    name: str
    metric: str
    score: Callable[[Dataset, Dataset], dict[str, float]]


def _names(family: Mapping[str, Any], flag: str) -> Callable[[str], list[str]]:
    """argparse type of a comma-separated subset of ``family``'s names."""

    def parse(text: str) -> list[str]:
        chosen = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in family]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: choose from {', '.join(family)}")
        return list(dict.fromkeys(chosen))

    return parse


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    """``--task``, ``--attribute``, ``--horizon``, ``--classifiers``, ``--regressors``, ``--seed``."""
    parser.add_argument("--task", action="append", choices=("classification", "forecasting"), default=None,
                        help="downstream task (repeatable) [classification if the data has a discrete attribute, "
                             "else forecasting]")
    parser.add_argument("--attribute", type=int, default=None,
                        help="classification: discrete attribute output to predict [the one with fewest categories]")
    parser.add_argument("--horizon", type=int, default=None,
                        help="forecasting: steps to predict at the end of each series (paper, WWT: 50 of 550)")
    parser.add_argument("--classifiers", type=_names(CLASSIFIERS, "--classifiers"), default=list(CLASSIFIERS),
                        metavar="NAME,...", help="classification: the classifiers (paper: all five)")
    parser.add_argument("--regressors", type=_names(REGRESSORS, "--regressors"), default=list(REGRESSORS),
                        metavar="NAME,...", help="forecasting: the regressors (paper: all four; mlp_5x200 is slow "
                                                 "and kernel_ridge_rbf needs O(N^2) memory)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the predictors and of any random split")


def _classification(names: ColumnNames, attribute: int, classifiers: Sequence[str], seed: int) -> Task:
    chosen = {name: CLASSIFIERS[name] for name in classifiers}

    def score(train: Dataset, test: Dataset) -> dict[str, float]:
        labels = [attribute_labels(d.attributes, d.attribute_outputs, attribute) for d in (train, test)]
        if np.unique(labels[0]).size < 2:
            logger.warning("the training set has a single category of %s: no classifier can be trained (n/a)",
                           names.attributes[attribute])
            return {name: float("nan") for name in chosen}
        return classification_accuracies(train.features, train.lengths, labels[0],
                                         test.features, test.lengths, labels[1], chosen, seed)

    return Task(f"classification: {names.attributes[attribute]}", "accuracy", score)


def _forecasting(
    dataset: Dataset, names: ColumnNames, horizon: int | None, regressors: Sequence[str], seed: int
) -> Task:
    columns = sorted(feature_columns(dataset, names))
    chosen = {name: REGRESSORS[name] for name in regressors}
    if horizon is None:
        fail("forecasting needs --horizon (steps to predict at the end of each series)")
    if not columns:
        fail("forecasting needs a continuous feature")
    if not 1 <= horizon < dataset.max_length:
        fail(f"--horizon {horizon} must lie in [1, {dataset.max_length - 1}]")
    short = int((dataset.lengths < dataset.max_length).sum())
    if short:
        fail(f"forecasting needs fixed-length series; {short} of {dataset.num_samples} real series are shorter "
             f"than {dataset.max_length}")

    def score(train: Dataset, test: Dataset) -> dict[str, float]:
        for data in (train, test):
            short = int((data.lengths < data.max_length).sum())
            if short:
                logger.warning("%d of %d series end early; their zero padding is forecast as values",
                               short, data.num_samples)
        return forecasting_r2(train.features[:, :, columns], test.features[:, :, columns], horizon, chosen, seed)

    return Task(f"forecasting: last {horizon} steps", "R2", score)


def tasks_from_args(args: argparse.Namespace, dataset: Dataset, names: ColumnNames) -> list[Task]:
    """The tasks named by ``--task`` (default: classification if possible, else forecasting)."""
    kinds = args.task
    if kinds is None:
        has_discrete = any(o.is_discrete and o.dim > 1 for o in dataset.attribute_outputs)
        kinds = ["classification"] if has_discrete or args.attribute is not None else ["forecasting"]
    tasks = []
    for kind in dict.fromkeys(kinds):
        if kind == "classification":
            attribute = discrete_attribute(dataset, args.attribute)
            tasks.append(_classification(names, attribute, args.classifiers, args.seed))
        else:
            tasks.append(_forecasting(dataset, names, args.horizon, args.regressors, args.seed))
    return tasks


def real_train_test(real: Dataset, holdout: Dataset | None, seed: int) -> tuple[Dataset, Dataset]:
    """A and A' of Fig. 12: the real training data and the held-out split.

    Without a held-out split, two seeded random halves of the real data (the
    generator saw both, so scores on them are optimistic; a warning says so).
    """
    if holdout is not None:
        return real, holdout
    logger.warning("no held-out split: A and A' are two random halves of the real data; the generators saw A', "
                   "so the scores are optimistic")
    return split_in_two(real, derive_seed(seed, "utility split"))


# --------------------------------------------------------------------------- #
# Tables
# --------------------------------------------------------------------------- #


def format_value(value: Any, digits: int = 4) -> str:
    """A table cell: ``digits`` significant digits, ints as is, None/NaN as ``n/a``."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return "n/a"
    return f"{value:.{digits}g}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    """``frame`` as a Markdown table: the index (named by ``frame.index.name``) is the first column."""
    header = [frame.index.name or "", *frame.columns]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    for label, row in zip(frame.index, frame.itertuples(index=False)):
        lines.append("| " + " | ".join([_cell(label), *(_cell(format_value(v, digits)) for v in row)]) + " |")
    return "\n".join(lines)


def print_table(title: str, frame: pd.DataFrame, digits: int = 4) -> None:
    """Print ``title`` and ``frame`` as Markdown on stdout (the scripts' result)."""
    print(f"{title}\n\n{markdown_table(frame, digits)}\n", flush=True)


# --------------------------------------------------------------------------- #
# Output files
# --------------------------------------------------------------------------- #


def output_dir(out: Path | None) -> Path | None:
    """``out`` created if needed (``None`` stays ``None``: nothing is written)."""
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    return out


def file_stem(text: str) -> str:
    """``text`` as a file-name part: runs of other characters than [A-Za-z0-9-] become ``_``."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", text).strip("_") or "x"


def save_table(out: Path, name: str, frame: pd.DataFrame) -> Path:
    """Write ``frame`` (with its index) as ``out/name`` CSV, atomically."""
    path = out / name
    with atomic_write(path, "w") as handle:
        frame.to_csv(handle)
    logger.info("wrote %s", path)
    return path


def _plain(value: Any) -> Any:
    """JSON-ready: NumPy scalars and arrays as Python values, NaN/inf as None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def save_json(out: Path, name: str, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as ``out/name`` JSON (NaN as null), atomically."""
    path = out / name
    with atomic_write(path, "w") as handle:
        json.dump(_plain(data), handle, indent=2, allow_nan=False)
        handle.write("\n")
    logger.info("wrote %s", path)
    return path


def save_figure(out: Path, name: str, figure: Figure) -> Path:
    """Write ``figure`` as ``out/name`` PNG, atomically."""
    path = out / name
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png")
    logger.info("wrote %s", path)
    return path


