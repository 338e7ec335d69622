"""Fig. 13: train on synthetic, test on real: accuracy of each predictor, per synthetic set.

Paper §5.2, Fig. 12/13 (GCUT end event type; Appendix D Fig. 24 for WWT
forecasting). The real data is A (``--split``, what the generators were
trained on) and A' (the held-out split; without one, two seeded random halves
of the real data, which flatters the generators). Each predictor is trained on
each synthetic set B and tested on A', and, as the reference ("real"), trained
on A and tested on A'.

Tasks (``--task``, repeatable):

- ``classification`` (default when the data has a discrete attribute): predict
  the discrete attribute output ``--attribute`` (default: the one with the
  fewest categories) from the series, with the paper's five classifiers
  (:data:`dg_tf.evaluation.utility.CLASSIFIERS`); metric: accuracy;
- ``forecasting`` (fixed-length data; Appendix D): predict the last
  ``--horizon`` steps of the continuous features from the steps before, with the
  paper's four regressors (:data:`dg_tf.evaluation.utility.REGRESSORS`);
  metric: R².

Prints one table per task (rows: predictors; columns: real, then each
synthetic set). With ``--out``: ``fig13_<task>.csv`` and ``fig13_<task>.png``
(grouped bars, one group per predictor).

    python -m evaluation.fig13_tstr --real data/GCUT --synthetic DG=runs/g/synthetic.npz --out figs
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dg_tf.cli import run_main
from dg_tf.evaluation.figures import REAL_COLOR
from evaluation.common import (
    Task,
    add_task_arguments,
    build_parser,
    file_stem,
    load_inputs,
    output_dir,
    print_table,
    real_train_test,
    save_figure,
    save_table,
    tasks_from_args,
)

logger = logging.getLogger("evaluation.fig13")

PROG = "evaluation.fig13_tstr"
REAL = "real (A)"


def plot_grouped_bars(table: pd.DataFrame, metric: str, title: str) -> Figure:
    """Grouped bar chart: one group per row of ``table``, one bar per column (Fig. 13).

    Args:
        table: predictors x data sets, the scores; the first column is the real reference (black).
        metric: y-axis label.
        title: axes title.
    """
    groups, bars = table.shape
    figure = Figure(figsize=(max(6.0, 1.1 * groups * (bars + 1) / 2), 4.0), dpi=90)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    width = 0.8 / bars
    positions = np.arange(groups)
    colors = [REAL_COLOR] + [f"C{i}" for i in range(1, bars)]
    for j, (column, color) in enumerate(zip(table.columns, colors)):
        values = table[column].to_numpy(dtype=np.float64)
        axes.bar(positions + (j - (bars - 1) / 2) * width, values, width=width, color=color, label=column)
    axes.set_xticks(positions, [str(i).replace("_", " ") for i in table.index])
    axes.set_ylabel(metric)
    if metric == "accuracy":
        axes.set_ylim(0, 1)
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.set_title(title)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def _scores(task: Task, train_real, test_real, synthetic: dict) -> pd.DataFrame:
    logger.info("%s: trained on real A", task.name)
    columns = {REAL: task.score(train_real, test_real)}
    for name, data in synthetic.items():
        logger.info("%s: trained on %s", task.name, name)
        columns[name] = task.score(data, test_real)
    table = pd.DataFrame(columns)
    table.index.name = "predictor"
    return table


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__)
    add_task_arguments(parser)
    args = parser.parse_args(argv)

    inputs = load_inputs(args, same_length=True)
    tasks = tasks_from_args(args, inputs.real, inputs.names)
    train_real, test_real = real_train_test(inputs.real, inputs.holdout, args.seed)
    out = output_dir(args.out)
    for task in tasks:
        table = _scores(task, train_real, test_real, inputs.synthetic)
        title = f"Fig. 13: {task.name}, {task.metric} on held-out real data (A') of predictors trained on " \
                f"real data (A) or on each synthetic set (B); higher is better"
        print_table(title, table)
        if out is not None:
            stem = f"fig13_{file_stem(task.name)}"
            save_table(out, f"{stem}.csv", table)
            save_figure(out, f"{stem}.png", plot_grouped_bars(table, task.metric, task.name))


if __name__ == "__main__":
    raise SystemExit(run_main(main))
