"""Fig. 15: success rate of a membership inference attack against DG vs the training-set size.

Paper §6.2, Fig. 15 (WWT): the attacker scores real series with the trained
critic, sorts the scores and guesses that the top N_train series were training
samples; the success rate is the fraction of those guesses that are right
(:func:`dg_tf.evaluation.privacy.membership_inference_attack`, the original
maintainers' attack). Random guessing gives 50% when members and non-members are equally many;
the paper found 51% with 50,000 training series and 99.5% with 200.

Each ``--run RUN_DIR[:DATA_DIR]`` is a finished ``python -m dg_tf.train`` run
and the dataset folder it was trained on (default ``--real``): the members are
that folder's ``--split`` (``data_train.npz``, the run's whole training set),
the non-members its held-out split (``data_test.npz``), which the run must not
have seen. To draw the curve, make one folder per training-set size (e.g.
subsets of WWT's training split, all with the same test split), train one run
(or several) on each, and pass them all. By default the larger of the two sets
is subsampled (seeded) to the size of the smaller, so chance is 50%;
``--no-balance`` scores every series (chance N_train / (N_train + N_holdout)).

Prints one row per run, sorted by training-set size. With ``--out``:
``fig15_membership.csv``, ``fig15_membership.json`` and
``fig15_membership.png`` (success rate vs training-set size, runs as dots,
the median per size as a line, and the chance line).

    python -m evaluation.fig15_membership_inference --run runs/w200:data/WWT_200 --run runs/w2000:data/WWT_2000 \\
        --out figs
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dg_tf.cli import fail, run_main
from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import load_dataset
from dg_tf.evaluation.figures import REAL_COLOR
from dg_tf.evaluation.privacy import membership_inference_attack
from dg_tf.model import DoppelGANger
from dg_tf.seeding import derive_seed
from evaluation.common import build_parser, output_dir, print_table, save_figure, save_json, save_table

logger = logging.getLogger("evaluation.fig15")

PROG = "evaluation.fig15_membership_inference"
SIZE = "training series"
SUCCESS = "success rate (%)"
CHANCE = "chance (%)"


def run_spec(text: str) -> tuple[Path, Path | None]:
    """``RUN_DIR[:DATA_DIR]`` -> ``(RUN_DIR, DATA_DIR or None)``."""
    run, _, data = text.partition(":")
    if not run:
        raise argparse.ArgumentTypeError(f"{text!r}: expected RUN_DIR or RUN_DIR:DATA_DIR")
    return Path(run), Path(data) if data else None


def _sample(dataset: Dataset, size: int, seed: int) -> Dataset:
    """``size`` series of ``dataset`` drawn without replacement (all of them, in order, if it has ``size``)."""
    if size == dataset.num_samples:
        return dataset
    rows = np.sort(np.random.default_rng(seed).choice(dataset.num_samples, size, replace=False))
    return dataclasses.replace(dataset, features=dataset.features[rows], attributes=dataset.attributes[rows],
                               gen_flags=dataset.gen_flags[rows], extras={})


def plot_success_vs_size(table: pd.DataFrame) -> Figure:
    """Fig. 15: success rate (%) against training-set size, with the chance line.

    Args:
        table: one row per run with the columns ``SIZE``, ``SUCCESS`` and ``CHANCE``.
    """
    figure = Figure(figsize=(6.0, 4.0), dpi=90)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    medians = table.groupby(SIZE)[[SUCCESS, CHANCE]].median()
    axes.plot(table[SIZE], table[SUCCESS], "o", color=REAL_COLOR, alpha=0.5, label="run")
    axes.plot(medians.index, medians[SUCCESS], "-", color=REAL_COLOR, label="median per size")
    axes.plot(medians.index, medians[CHANCE], "--", color="grey", label="chance (random guess)")
    if medians.index.max() >= 10 * medians.index.min():
        axes.set_xscale("log")
    axes.set_ylim(0, 100)
    axes.set_xlabel("training-set size (series)")
    axes.set_ylabel("attack success rate (%)")
    axes.set_title("membership inference with the trained critic")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__, synthetic=False, real_required=False, names=False)
    parser.add_argument("--run", type=run_spec, action="append", required=True, metavar="RUN_DIR[:DATA_DIR]",
                        help="trained run folder and the dataset folder of its training split [DATA_DIR: --real] "
                             "(repeatable)")
    parser.add_argument("--auxiliary", action="store_true", help="score with the auxiliary (attribute-only) critic")
    parser.add_argument("--no-balance", action="store_true",
                        help="score every series instead of equally many members and non-members")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subsampling")
    args = parser.parse_args(argv)
    if args.holdout_split in ("none", args.split):
        fail(f"--holdout-split {args.holdout_split}: membership inference needs a held-out split")

    rows, record = {}, {}
    for index, (run, data_dir) in enumerate(args.run):
        data_dir = data_dir if data_dir is not None else args.real
        if data_dir is None:
            fail(f"--run {run}: give RUN_DIR:DATA_DIR or --real DIR (the data the run was trained on)")
        if str(run) in rows:
            fail(f"--run {run}: given twice")
        train = load_dataset(data_dir, args.split)
        holdout = load_dataset(data_dir, args.holdout_split)
        size = train.num_samples
        if not args.no_balance:
            scored = min(train.num_samples, holdout.num_samples)
            train = _sample(train, scored, derive_seed(args.seed, "members", index))
            holdout = _sample(holdout, scored, derive_seed(args.seed, "non-members", index))
        model = DoppelGANger.load(run)
        logger.info("%s: scoring %d training and %d held-out series", run, train.num_samples, holdout.num_samples)
        score_fn = functools.partial(model.critic_scores, auxiliary=args.auxiliary, source=str(data_dir))
        result = membership_inference_attack(score_fn, train, holdout)
        rows[str(run)] = [size, f"{result.num_train} / {result.num_holdout}", 100 * result.success_rate,
                          100 * result.chance_level, result.auc]
        record[str(run)] = {"data": str(data_dir), "training_series": size, **result.to_dict()}
    table = pd.DataFrame.from_dict(rows, orient="index",
                                   columns=[SIZE, "scored (train / held-out)", SUCCESS, CHANCE, "AUC"])
    table.index.name = "run"
    table = table.sort_values(SIZE, kind="stable")

    critic = "auxiliary critic" if args.auxiliary else "critic"
    print_table(f"Fig. 15: membership inference with the trained {critic} vs training-set size "
                "(lower is better; chance is the random-guess rate)", table)
    out = output_dir(args.out)
    if out is not None:
        save_table(out, "fig15_membership.csv", table)
        save_json(out, "fig15_membership.json", record)
        save_figure(out, "fig15_membership.png", plot_success_vs_size(table))


if __name__ == "__main__":
    raise SystemExit(run_main(main))
