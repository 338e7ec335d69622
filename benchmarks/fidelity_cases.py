"""The fidelity harness's datasets and the one representation both runners write.

This module runs in dg_tf's environment and in the peer's (NumPy < 1.24,
pandas 1.5, no dg_tf), so it imports only NumPy and pandas.

Datasets (:data:`CASES`): the bundled FCC MBA triple and the three real long
tables of the shared data folder (UCR/UEA archive: BasicMotions, fixed length
100, 6 features; PickupGestureWiimoteZ, variable length 29..361, 1 feature;
ACSF1, fixed length 1460, 1 feature), each with a class-like attribute; and two
cases run only when named (not in :data:`DEFAULT_CASES`) that give two of those
tables a second attribute derived from each series (:class:`DerivedLabel`), for
questions about several attributes, which only FCC MBA has otherwise. Each
case fixes what both systems get alike: ``sample_len`` (about 50 LSTM passes,
paper §4.4; MBA keeps its bundled 8), ``epochs`` (about 1,000 training steps,
2,000 for MBA as its default job) and the batch size (the training split
divided into equal batches of at most 100, so that both systems run the same
steps per epoch: dg_tf draws ``N // B`` batches, gretel's loader ``ceil(N / B)``).

:class:`Series` is what every side hands to the scorer: the series in the
data's own units, their lengths and their attribute labels as text. Real
data, the held-out split and both systems' synthetic data all go through it,
so they are scored alike.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["CASES", "DEFAULT_CASES", "DerivedLabel", "FidelityCase", "FidelityJob", "HOLDOUT_FRACTION", "Series",
           "label_text", "split_ids", "table_series"]

REPO = Path(__file__).resolve().parent.parent
#: Fraction of each dataset's series held out as the real-vs-real floor.
HOLDOUT_FRACTION = 0.25
#: Largest training batch (the paper's 100).
MAX_BATCH = 100


@dataclasses.dataclass(frozen=True)
class DerivedLabel:
    """A discrete attribute computed from each series of a table: the third of a per-series statistic it falls in.

    Attributes:
        column: the new attribute column.
        statistic: ``"length"``, the series' number of steps; ``"spread"``, the
            standard deviation of each of the first ``features`` feature
            columns over the series' steps, mean over those columns.
        levels: the labels of the low, middle and high third (``pandas.qcut``:
            equal numbers of series, as far as ties allow).
        features: how many leading feature columns ``"spread"`` reads.
    """

    column: str
    statistic: Literal["length", "spread"]
    levels: tuple[str, str, str]
    features: int = 1

    def add_to(self, frame: pd.DataFrame, id_column: str, feature_columns: tuple[str, ...]) -> pd.DataFrame:
        """``frame`` (long: one row per step) with :attr:`column` added, the same label on every row of a series."""
        groups = frame.groupby(id_column, sort=True)
        if self.statistic == "length":
            values = groups.size()
        else:
            values = groups[list(feature_columns[: self.features])].std().mean(axis=1)
        thirds = pd.qcut(values, 3, labels=list(self.levels))
        return frame.assign(**{self.column: frame[id_column].map(thirds).astype(str)})


@dataclasses.dataclass(frozen=True)
class FidelityCase:
    """One dataset of the harness.

    Attributes:
        name: key in :data:`CASES`.
        title: one line for the report.
        source: ``"triple"`` (a DG dataset folder, relative to the repository)
            or ``"table"`` (a long CSV in the shared data folder).
        path: the folder or file name.
        sample_len: S for both systems.
        epochs: training epochs for both systems.
        label_attribute: the attribute whose label TSTR predicts.
        id_column / time_column / attribute_columns / feature_columns: the
            table's columns (tables only); every attribute is discrete.
        derived: an attribute added to the table before it is split (tables
            only; its column is one of ``attribute_columns``).
    """

    name: str
    title: str
    source: str
    path: str
    sample_len: int
    epochs: int
    label_attribute: str
    id_column: str = "series_id"
    time_column: str = "step"
    attribute_columns: tuple[str, ...] = ("class",)
    feature_columns: tuple[str, ...] = ("dim_0",)
    derived: DerivedLabel | None = None


CASES = {
    case.name: case
    for case in (
        FidelityCase("fcc_mba", "FCC MBA (bundled): 600 x 56 steps, 2 features, ISP/technology/state",
                     "triple", "dg_tf/datasets/fcc_mba", sample_len=8, epochs=400, label_attribute="technology",
                     attribute_columns=("isp", "technology", "state"), feature_columns=("bytes", "ping_loss")),
        FidelityCase("basic_motions", "BasicMotions: 80 x 100 steps, 6 features, 4 classes",
                     "table", "BasicMotions.csv", sample_len=2, epochs=1000, label_attribute="class",
                     feature_columns=tuple(f"dim_{i}" for i in range(6))),
        FidelityCase("pickup_gesture", "PickupGestureWiimoteZ: 100 series of 29..361 steps, 1 feature, 10 classes",
                     "table", "PickupGestureWiimoteZ.csv", sample_len=7, epochs=1000, label_attribute="class"),
        FidelityCase("acsf1", "ACSF1: 200 x 1460 steps, 1 feature, 10 classes",
                     "table", "ACSF1.csv", sample_len=20, epochs=500, label_attribute="class"),
        FidelityCase("basic_motions_intensity", "BasicMotions with a second attribute: the third of its "
                     "accelerometer spread", "table", "BasicMotions.csv", sample_len=2, epochs=1000,
                     label_attribute="class", attribute_columns=("class", "intensity"),
                     feature_columns=tuple(f"dim_{i}" for i in range(6)),
                     derived=DerivedLabel("intensity", "spread", ("low", "mid", "high"), features=3)),
        FidelityCase("pickup_gesture_duration", "PickupGestureWiimoteZ with a second attribute: the third of "
                     "its length", "table", "PickupGestureWiimoteZ.csv", sample_len=7, epochs=1000,
                     label_attribute="class", attribute_columns=("class", "duration"),
                     derived=DerivedLabel("duration", "length", ("short", "medium", "long"))),
    )
}
#: The cases a run without ``--cases`` measures: the four real datasets as they are.
DEFAULT_CASES = ("fcc_mba", "basic_motions", "pickup_gesture", "acsf1")


def split_ids(ids: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique ``ids`` split into (train, held-out), :data:`HOLDOUT_FRACTION` held out, seeded."""
    unique = np.unique(ids)
    order = np.random.default_rng(seed).permutation(unique.size)
    held = int(round(HOLDOUT_FRACTION * unique.size))
    return np.sort(unique[order[held:]]), np.sort(unique[order[:held]])


def batch_size(num_series: int) -> int:
    """The training batch: ``num_series`` split into the fewest equal batches of at most :data:`MAX_BATCH`."""
    return num_series // math.ceil(num_series / MAX_BATCH)


def label_text(values: Any) -> np.ndarray:
    """Attribute labels as text, integral numbers without a decimal point (9, 9.0 and "9" are all "9")."""
    out = []
    for value in np.asarray(values, dtype=object).ravel():
        try:
            number = float(value)
        except (TypeError, ValueError):
            out.append(str(value))
            continue
        out.append(str(int(number)) if number.is_integer() else str(value))
    return np.array(out, dtype=str).reshape(np.shape(values))


@dataclasses.dataclass
class Series:
    """Series with labels, as every side writes them.

    Attributes:
        features: float64 [N, L, K] in the data's own units, 0 after each end.
        lengths: int64 [N] active steps, each in [1, L].
        labels: str [N, A] attribute labels.
        feature_names / attribute_names: the K and A column names.
    """

    features: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    feature_names: tuple[str, ...]
    attribute_names: tuple[str, ...]

    @property
    def num_series(self) -> int:
        return int(self.features.shape[0])

    def subset(self, rows: np.ndarray) -> "Series":
        return Series(self.features[rows], self.lengths[rows], self.labels[rows],
                      self.feature_names, self.attribute_names)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write an ``.npz`` atomically (temp file, then rename)."""
        path = Path(path)
        tmp = path.with_name(f".{path.stem}.tmp.npz")
        np.savez(tmp, features=self.features, lengths=self.lengths, labels=self.labels,
                 names=np.array(json.dumps([list(self.feature_names), list(self.attribute_names)])))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Series":
        with np.load(path, allow_pickle=False) as f:
            feature_names, attribute_names = json.loads(str(f["names"]))
            return cls(f["features"].astype(np.float64), f["lengths"].astype(np.int64), f["labels"].astype(str),
                       tuple(feature_names), tuple(attribute_names))


def table_series(frame: pd.DataFrame, case: FidelityCase, length: int) -> Series:
    """A long table (one row per step, rows of a series in step order) -> :class:`Series` padded to ``length``.

    Raises:
        ValueError: a series is longer than ``length`` or has no rows.
    """
    groups = frame.groupby(case.id_column, sort=True)
    sizes = groups.size()
    if int(sizes.max()) > length:
        raise ValueError(f"series {sizes.idxmax()!r} has {int(sizes.max())} steps, more than L={length}")
    features = np.zeros((len(sizes), length, len(case.feature_columns)))
    labels = []
    for row, (_, group) in enumerate(groups):
        features[row, :len(group)] = group[list(case.feature_columns)].to_numpy(dtype=np.float64)
        labels.append(label_text(group[list(case.attribute_columns)].iloc[0].to_numpy()))
    return Series(features, sizes.to_numpy(dtype=np.int64), np.array(labels, dtype=str).reshape(len(sizes), -1),
                  case.feature_columns, case.attribute_columns)


@dataclasses.dataclass(frozen=True)
class FidelityJob:
    """One training and generation run of one system, as the driver hands it to a runner.

    Attributes:
        case: a key of :data:`CASES`.
        train_file: the training data: a long CSV (tables) or a DG folder (the triple).
        out_file: where the runner writes the synthetic :class:`Series`.
        seed: seeds weights, noise and batches.
        epochs / batch_size / sample_len / max_length: what both systems train with
            (``max_length`` is L, the padded length).
        num_generate: series to generate (the training set's size).
        threads: framework threads.
        architecture: a key of :data:`benchmarks.common.ARCHITECTURES`: the network sizes both systems get.
        dg_overrides: dg_tf only: further ``DGConfig`` fields (candidate experiments).
        code_version: what the system's code was (the run cache's key: a run of changed code is not reused).
    """

    case: str
    train_file: str
    out_file: str
    seed: int
    epochs: int
    batch_size: int
    sample_len: int
    max_length: int
    num_generate: int
    threads: int
    architecture: str
    dg_overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    code_version: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "FidelityJob":
        return cls(**json.loads(Path(path).read_text()))
