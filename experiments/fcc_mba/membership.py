"""``python -m experiments.fcc_mba.membership``: membership inference vs training-set size (Fig. 15) on MBA.

    python -m experiments.fcc_mba.membership --out DIR [--sizes 25,50,100,200,400] [--holdout 200]
        [--steps 2400] [--repeats 3] [--sample-len 8] [--seed 0] [--quick] [--dg-overrides JSON]

Paper §6.2, Fig. 15 (there on WWT): the attacker scores real series with the
trained critic and guesses that the highest-scored half were training
samples; the success rate falls towards chance (50%) as the training set
grows (51% at 50,000 series, 99.5% at 200). Here on the real MBA data.

**Split.** The bundled ``data_test.npz`` is not drawn like ``data_train.npz``
(a different attribute mix), so both members and non-members come from the
600 training series: a seeded permutation puts ``--holdout`` series (default
200) in a fixed non-member pool and the other 400 in the candidate pool;
each run trains DG (the original MBA configuration, no auxiliary critic, no
auto-normalization) on ``size`` series drawn at random from the candidates.
The attack then scores ``m = min(size, holdout)`` members and ``m``
non-members (each drawn at random when there are more), so chance is 50%
(:func:`dg_tf.evaluation.membership_inference_attack` with
``DoppelGANger.critic_scores``).

**Budget.** Every run takes the same number of optimizer steps ``--steps``
(default 2400, i.e. 400 epochs of the full 600 series at batch 100): a
training set of ``size`` series gets ``ceil(steps / max(1, size // 100))``
epochs, so a smaller set is seen more often, as it is when a data holder
trains to a fixed budget. Each size is trained ``--repeats`` times (default
3) on different members with different model seeds. ``--quick`` sets 6 steps.

Writes ``config.json``, ``results.json``, ``results.md``,
``fig15_membership.csv`` (one row per run) and ``fig15_membership.png``
(success vs size, median per size, chance line; drawn by
:func:`evaluation.fig15_membership_inference.plot_success_vs_size`), and the
runs under ``runs/``.
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import fail, run_main
from dg_tf.data.loading import load_dataset
from dg_tf.evaluation import membership_inference_attack
from dg_tf.seeding import derive_seed
from evaluation.common import markdown_table, save_figure, save_table
from evaluation.fig15_membership_inference import CHANCE, SIZE, SUCCESS, plot_success_vs_size
from experiments.common import (
    dg_overrides,
    experiment_parser,
    int_list,
    json_object,
    start_experiment,
    subset,
    train_dg,
    write_results,
)
from experiments.fcc_mba.configs import MAIN_SAMPLE_LEN, MBA_DATA, paper_config

logger = logging.getLogger("experiments.fcc_mba.membership")

PROG = "experiments.fcc_mba.membership"
DEFAULT_SIZES = (25, 50, 100, 200, 400)
DEFAULT_HOLDOUT = 200
DEFAULT_STEPS = 2400
QUICK_STEPS = 6
#: Paper Fig. 15 (WWT): success rate at a training-set size, as stated in §6.2.
PAPER_POINTS = {200: 99.5, 50000: 51.0}


def build_parser() -> argparse.ArgumentParser:
    parser = experiment_parser(PROG, __doc__)
    parser.add_argument("--data", type=Path, default=MBA_DATA, help="dataset folder (its train split is used)")
    parser.add_argument("--sizes", type=int_list, default=list(DEFAULT_SIZES), help="training-set sizes")
    parser.add_argument("--holdout", type=int, default=DEFAULT_HOLDOUT, help="series in the non-member pool")
    parser.add_argument("--steps", type=int, default=None,
                        help=f"optimizer steps per run [{DEFAULT_STEPS}; {QUICK_STEPS} with --quick]")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (different members and seeds)")
    parser.add_argument("--sample-len", type=int, default=MAIN_SAMPLE_LEN, help="sample_len of DG")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the draws and the models")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_STEPS} steps per run (pipeline check)")
    parser.add_argument("--dg-overrides", type=json_object, default={}, metavar="JSON",
                        help="DGConfig fields applied to every run (not epochs or sample_len)")
    return parser


def epochs_for(steps: int, size: int, batch_size: int) -> int:
    """Epochs of ``max(1, size // batch_size)`` steps each that reach at least ``steps`` steps."""
    return math.ceil(steps / max(1, size // batch_size))


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    began = time.perf_counter()
    steps = args.steps if args.steps is not None else (QUICK_STEPS if args.quick else DEFAULT_STEPS)
    if steps < 1 or args.repeats < 1:
        fail(f"--steps {steps} and --repeats {args.repeats} must be >= 1")
    if "epochs" in args.dg_overrides or "sample_len" in args.dg_overrides:
        fail("--dg-overrides: set epochs with --steps and sample_len with --sample-len")
    real = load_dataset(args.data)
    candidates_available = real.num_samples - args.holdout
    if args.holdout < 1 or max(args.sizes) > candidates_available:
        fail(f"--holdout {args.holdout} and --sizes up to {max(args.sizes)} need {args.holdout + max(args.sizes)} "
             f"series; {args.data} has {real.num_samples} training series")
    order = np.random.default_rng(derive_seed(args.seed, "membership split")).permutation(real.num_samples)
    pool, candidates = order[:args.holdout], order[args.holdout:]
    base = dg_overrides(paper_config(args.sample_len, 1, args.seed), args.dg_overrides)
    out = start_experiment(args.out, PROG, {
        "data": str(args.data), "split": {
            "source": "data_train.npz only (data_test.npz has a different attribute mix)",
            "non_member_pool": args.holdout, "candidate_members": int(candidates.size),
            "non_member_rows": np.sort(pool).tolist()},
        "sizes": args.sizes, "repeats": args.repeats, "steps_per_run": steps, "seed": args.seed,
        "dg_config": base.to_dict(),
    })

    rows, record = [], []
    for size in args.sizes:
        for repeat in range(args.repeats):
            rng = np.random.default_rng(derive_seed(args.seed, "membership draw", size, repeat))
            members = np.sort(rng.choice(candidates, size, replace=False))
            scored = min(size, args.holdout)
            scored_members = np.sort(rng.choice(members, scored, replace=False))
            scored_pool = np.sort(rng.choice(pool, scored, replace=False))
            config = base.replace(epochs=epochs_for(steps, size, base.batch_size),
                                  seed=derive_seed(args.seed, "membership model", size, repeat))
            train = subset(real, members)
            model, seconds = train_dg(train, config, out / "runs" / f"size{size}_run{repeat}", str(args.data))
            score = functools.partial(model.critic_scores, source=str(args.data))
            result = membership_inference_attack(score, subset(real, scored_members), subset(real, scored_pool))
            rows.append({SIZE: size, "run": repeat, "epochs": config.epochs,
                         "scored (members / non-members)": f"{result.num_train} / {result.num_holdout}",
                         SUCCESS: 100 * result.success_rate, CHANCE: 100 * result.chance_level,
                         "AUC": result.auc, "train seconds": seconds})
            record.append({"size": size, "run": repeat, "epochs": config.epochs, "seed": config.seed,
                           "members": members.tolist(), "train_seconds": seconds, **result.to_dict()})
    table = pd.DataFrame(rows)
    medians = table.groupby(SIZE)[[SUCCESS, "AUC"]].median()
    save_table(out, "fig15_membership.csv", table.set_index(SIZE))
    save_figure(out, "fig15_membership.png", plot_success_vs_size(table))
    wall = time.perf_counter() - began
    paper = pd.DataFrame({SUCCESS: PAPER_POINTS}).rename_axis(f"{SIZE} (WWT)")
    write_results(out, {"steps_per_run": steps, "wall_seconds": wall, "runs": record,
                        "median_success_rate_percent": medians[SUCCESS].to_dict(),
                        "paper_wwt_success_rate_percent": PAPER_POINTS},
                  "FCC MBA: membership inference vs training-set size (Fig. 15)", [
        ("Success rate of the critic-score attack (chance 50%; lower is more private)",
         f"DG, original MBA configuration, sample_len {args.sample_len}, {steps} optimizer steps per run; "
         f"members drawn from {candidates.size} training series, non-members from a disjoint pool of "
         f"{args.holdout} (both from data_train.npz); command wall time {wall:.0f} s.\n\n"
         f"{markdown_table(table.set_index(SIZE), 4)}"),
        ("Median per size", markdown_table(medians, 4)),
        ("Paper (WWT, §6.2)", markdown_table(paper, 4)),
        ("Figure", "![Fig. 15](fig15_membership.png)"),
    ])
    logger.info("done in %.0f s; tables in %s", wall, out / "results.md")


if __name__ == "__main__":
    raise SystemExit(run_main(main))
