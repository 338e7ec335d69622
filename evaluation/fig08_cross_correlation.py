"""Fig. 8: CDF of the per-series Pearson correlation between two features.

Paper §5.2, Fig. 8 (GCUT: CPU rate vs assigned memory): for each series, the
Pearson correlation of two continuous feature columns over its active steps
(:func:`dg_tf.evaluation.distributions.cross_feature_correlation`); the
distributions of these correlations are compared, real vs each synthetic set
(and the held-out real split, the floor), by W1. A series on which either
feature is constant has no correlation; it is counted as ``undefined`` and
left out.

``--features A B``: the two continuous feature columns (default the first two).
With ``--out``: ``fig08_cross_correlation.csv`` and ``fig08_cdf.png`` (one
panel per synthetic set: real in black, synthetic in orange).

    python -m evaluation.fig08_cross_correlation --real data/GCUT --synthetic DG=runs/g/synthetic.npz --out figs
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import fail, run_main
from dg_tf.evaluation.distributions import compare_distributions, cross_feature_correlation
from dg_tf.evaluation.figures import plot_cdfs
from evaluation.common import (
    build_parser,
    continuous_feature,
    feature_columns,
    load_inputs,
    output_dir,
    print_table,
    save_figure,
    save_table,
)

logger = logging.getLogger("evaluation.fig08")

PROG = "evaluation.fig08_cross_correlation"


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__)
    parser.add_argument("--features", type=int, nargs=2, default=None, metavar=("A", "B"),
                        help="two continuous feature columns [the first two]")
    args = parser.parse_args(argv)

    inputs = load_inputs(args)
    real, names = inputs.real, inputs.names
    if args.features is None:
        available = sorted(feature_columns(real, names))
        if len(available) < 2:
            fail(f"Fig. 8 needs two continuous feature columns; the data has {available}")
        args.features = available[:2]
    a, b = args.features
    if a == b:
        fail(f"--features {a} {b}: give two different columns")
    name_a, name_b = (continuous_feature(real, names, c, "--features") for c in (a, b))

    real_name = f"real {args.split}"
    correlations = {
        name: cross_feature_correlation(data.features, data.lengths, a, b)
        for name, data in {real_name: real, **inputs.compared()}.items()
    }
    rows = {}
    for name, r in correlations.items():
        w1 = "-" if name == real_name else compare_distributions(correlations[real_name], r).wasserstein1
        defined = r[np.isfinite(r)]
        rows[name] = [r.size, r.size - defined.size, np.median(defined) if defined.size else np.nan, w1]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["series", "undefined", "median r", "W1 to real"])
    table.index.name = "data"

    print_table(f"Fig. 8: per-series Pearson correlation of {name_a} and {name_b} (W1: lower is better)", table)
    out = output_dir(args.out)
    if out is not None:
        save_table(out, "fig08_cross_correlation.csv", table)
        panels = [(name, correlations[real_name], correlations[name]) for name in inputs.synthetic]
        save_figure(out, "fig08_cdf.png", plot_cdfs(panels, f"Pearson correlation of {name_a} and {name_b}"))


if __name__ == "__main__":
    raise SystemExit(run_main(main))
