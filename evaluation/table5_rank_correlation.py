"""Table 5: rank correlation of predictive algorithms, trained and tested on synthetic vs real data.

Paper §5.2 "Algorithm comparison", Fig. 12 and Table 5 (GCUT: classifiers of
the end event type; WWT: forecasting regressors; scores in Appendix D, Fig.
25/26). The real data is A (``--split``) and A' (the held-out split; without
one, two seeded random halves of the real data). Each synthetic set gives B
and B': either two files, ``--synthetic NAME=B.npz,B2.npz``, or one file split
into two seeded random halves. The predictors are ranked by their score
trained on A and tested on A' (the ground truth) and by their score trained
on B and tested on B'; the table is Spearman's rank correlation of the two
rankings (higher is better; ``n/a`` when all predictors tie, so no ranking
exists). Tasks (``--task``, as in :mod:`evaluation.fig13_tstr`):
``classification`` of ``--attribute``, ``forecasting`` of the last ``--horizon`` steps.

Prints the table (rows: tasks; columns: synthetic sets), then per task the
scores behind it. With ``--out``: ``table5.csv``, ``table5_scores_<task>.csv``
and ``table5.json`` (every score and correlation).

    python -m evaluation.table5_rank_correlation --real data/WWT --task forecasting --horizon 50 \\
        --synthetic DG=runs/w/synthetic.npz
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

import pandas as pd

from dg_tf.cli import fail, run_main
from dg_tf.data.dataset import Dataset
from dg_tf.evaluation.report import split_in_two
from dg_tf.evaluation.utility import RankingResult, ranking_correlation
from dg_tf.seeding import derive_seed
from evaluation.common import (
    add_task_arguments,
    build_parser,
    file_stem,
    load_real,
    load_synthetic,
    named_path,
    output_dir,
    print_table,
    real_train_test,
    save_json,
    save_table,
    tasks_from_args,
)

logger = logging.getLogger("evaluation.table5")

PROG = "evaluation.table5_rank_correlation"
REAL = "A -> A'"


def named_pair(text: str) -> tuple[str, tuple[Path, ...]]:
    """``NAME=B.npz[,B2.npz]`` -> ``(NAME, (B, [B2]))``."""
    name, path = named_path(text)
    files = tuple(Path(p) for p in str(path).split(","))
    if len(files) > 2 or not all(str(f) for f in files):
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=FILE or NAME=FILE_B,FILE_B_PRIME")
    return name, files


def _b_and_b_prime(name: str, files: tuple[Path, ...], real: Dataset, seed: int) -> tuple[Dataset, Dataset]:
    """B and B' of one synthetic set: two files, or one split into two seeded halves."""
    sets = [load_synthetic(f, real, same_length=True) for f in files]
    if len(sets) == 2:
        return sets[0], sets[1]
    logger.info("%s: B and B' are two random halves of %s", name, files[0])
    return split_in_two(sets[0], derive_seed(seed, "synthetic split"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__, synthetic=False)
    parser.add_argument("--synthetic", type=named_pair, action="append", required=True,
                        metavar="NAME=FILE[,FILE2]", help="synthetic set: one .npz (split in two) or B,B' (repeatable)")
    add_task_arguments(parser)
    args = parser.parse_args(argv)

    real, holdout, names = load_real(args)
    synthetic: dict[str, tuple[Dataset, Dataset]] = {}
    for name, files in args.synthetic:
        if name in synthetic:
            fail(f"--synthetic {name}=...: the name {name!r} is used twice")
        synthetic[name] = _b_and_b_prime(name, files, real, args.seed)
    tasks = tasks_from_args(args, real, names)
    train_real, test_real = real_train_test(real, holdout, args.seed)

    correlations = pd.DataFrame(index=pd.Index([t.name for t in tasks], name="task"), columns=list(synthetic),
                                dtype=float)
    record: dict[str, dict] = {}
    scores_of: dict[str, pd.DataFrame] = {}
    for task in tasks:
        logger.info("%s: trained on A, tested on A'", task.name)
        scores = {REAL: task.score(train_real, test_real)}
        record[task.name] = {}
        for name, (b, b_prime) in synthetic.items():
            logger.info("%s: trained on B, tested on B' of %s", task.name, name)
            scores[f"{name}: B -> B'"] = task.score(b, b_prime)
            result = RankingResult(task.metric, scores[REAL], scores[f"{name}: B -> B'"],
                                   ranking_correlation(scores[REAL], scores[f"{name}: B -> B'"]))
            correlations.loc[task.name, name] = result.spearman
            record[task.name][name] = result.to_dict()
        scores_of[task.name] = pd.DataFrame(scores).rename_axis("predictor")

    print_table("Table 5: Spearman rank correlation of the predictors' scores, synthetic (B -> B') vs real "
                "(A -> A'); higher is better", correlations, digits=3)
    for task in tasks:
        print_table(f"{task.name}: {task.metric} of each predictor", scores_of[task.name])
    out = output_dir(args.out)
    if out is not None:
        save_table(out, "table5.csv", correlations)
        for task in tasks:
            save_table(out, f"table5_scores_{file_stem(task.name)}.csv", scores_of[task.name])
        save_json(out, "table5.json", record)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
