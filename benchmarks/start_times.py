"""Learned start times measured: do synthetic series start as the real ones do?

``python -m benchmarks.start_times --csv ../shared/data/PickupGestureWiimoteZ.csv --max-length 60``
reads a long table (``series_id``, ``step``, ``class``, features), keeps a
seeded 75% of the series for training and 25% as the hold-out, and cuts every
series into pieces of at most ``--max-length`` steps (``long_series="split"``,
as a user with long recordings would): the pieces start at steps 0,
max_length, 2 max_length, ..., so the start distribution is real and depends on
the class through the series' lengths. Per seed it fits
:meth:`dg_tf.DoppelGANger.fit_dataframe`, generates as many series as there are
training pieces with ``generate_dataframe`` and reports, in steps:

* W1 between the generated and the real training starts, the real-vs-real
  floor (training vs hold-out pieces), and what every series starting at the
  most common start (dg_tf before starts were learned) would give;
* the same within each class, averaged with the real class frequencies.

Prints a Markdown table and writes JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

import dg_tf
from dg_tf.tabular import SERIES_START
from benchmarks.common import git_commit, seed_table

ID, TIME, LABEL = "series_id", "step", "class"


def _starts(table: pd.DataFrame) -> pd.DataFrame:
    """One row per series: its first step and its class."""
    return table.groupby(ID, sort=False).agg(start=(TIME, "min"), label=(LABEL, "first"))


def _pieces(table: pd.DataFrame, max_length: int) -> pd.DataFrame:
    """The table's series cut as ``long_series="split"`` cuts them, as (start, class) rows."""
    dataset, schema = dg_tf.from_dataframe(table, **_columns(table), long_series="split", max_length=max_length,
                                           discrete_columns=[LABEL])
    label = schema.attributes[0]
    codes = dataset.attributes[:, :label.width].argmax(1)
    return pd.DataFrame({"start": dataset.extras[SERIES_START], "label": np.asarray(label.levels)[codes]})


def _columns(table: pd.DataFrame) -> dict:
    return dict(id_column=ID, time_column=TIME, attribute_columns=[LABEL],
                feature_columns=[c for c in table.columns if c not in (ID, TIME, LABEL)])


def _w1_within_class(real: pd.DataFrame, other: pd.DataFrame) -> float:
    total = 0.0
    for label, group in real.groupby("label"):
        mine = other["start"][other["label"] == label]
        if len(mine):
            total += len(group) / len(real) * wasserstein_distance(group["start"], mine)
    return total


def measure(table: pd.DataFrame, max_length: int, seed: int, epochs: int) -> dict:
    ids = table[ID].unique()
    rng = np.random.default_rng(seed)
    held_out = set(rng.choice(ids, size=len(ids) // 4, replace=False))
    train, test = table[~table[ID].isin(held_out)], table[table[ID].isin(held_out)]
    real, floor = _pieces(train, max_length), _pieces(test, max_length)
    config = dg_tf.DGConfig(epochs=epochs, seed=seed, figure_every=0)
    model = dg_tf.DoppelGANger.fit_dataframe(train, **_columns(train), long_series="split", max_length=max_length,
                                             discrete_columns=[LABEL], config=config)
    generated = _starts(model.generate_dataframe(len(real), seed=seed + 1000))
    return {
        "seed": seed,
        "training_pieces": len(real),
        "real_start_positions": sorted(int(v) for v in real["start"].unique()),
        "w1_steps": wasserstein_distance(real["start"], generated["start"]),
        "w1_one_start_steps": wasserstein_distance(real["start"], np.full(len(real), real["start"].mode().min())),
        "floor_w1_steps": wasserstein_distance(real["start"], floor["start"]),
        "w1_within_class_steps": _w1_within_class(real, generated),
        "floor_w1_within_class_steps": _w1_within_class(real, floor),
        "off_grid": int((generated["start"] % max_length != 0).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True, help="long table: series_id, step, class, features")
    parser.add_argument("--max-length", type=int, required=True, help="pieces of at most this many steps")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    table = dg_tf.read_table(args.csv)
    rows = [measure(table, args.max_length, seed, args.epochs) for seed in args.seeds]
    keys = ["w1_steps", "w1_one_start_steps", "floor_w1_steps", "w1_within_class_steps",
            "floor_w1_within_class_steps", "off_grid"]
    print(f"{args.csv.name}, pieces of at most {args.max_length} steps, {args.epochs} epochs")
    print(seed_table(rows, keys))
    if args.out is not None:
        args.out.write_text(json.dumps({"commit": git_commit(Path(__file__).resolve().parent.parent),
                                        "date": time.strftime("%Y-%m-%d"), "csv": args.csv.name,
                                        "max_length": args.max_length, "epochs": args.epochs, "rows": rows},
                                       indent=2) + "\n")


if __name__ == "__main__":
    main()
