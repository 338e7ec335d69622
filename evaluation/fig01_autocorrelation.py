"""Fig. 1: DG's autocorrelation curve of the real series against that of each synthetic set.

Paper §1 / §5.2, Fig. 1 (WWT daily page views; Fig. 16 for DP variants): the
mean over series of the per-series Pearson correlation between a series and
its copy shifted by j steps, for lags j = 1 .. MAX_LAG-1 (default L - 2),
exactly as DG computed it (:func:`dg_tf.evaluation.autocorrelation.autocorrelation`;
variable-length series count their active steps only). One curve per
continuous feature column (``--feature``, repeatable; default all).

Prints the curves at ``--lags`` evenly spaced lags (rows: feature and data set,
including the held-out real split); Table 3 is their MSE. With ``--out``:
``fig01_acf.csv`` (every lag, every curve) and ``fig01_acf_<NAME>.png`` per
synthetic set (real in black, synthetic in orange, one panel per feature).

    python -m evaluation.fig01_autocorrelation --real dg_tf/datasets/fcc_mba --synthetic DG=runs/a/synthetic.npz --out figs
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import run_main
from dg_tf.evaluation.autocorrelation import autocorrelation_per_feature
from dg_tf.evaluation.figures import plot_autocorrelation
from evaluation.common import (
    build_parser,
    file_stem,
    load_inputs,
    output_dir,
    print_table,
    save_figure,
    save_table,
    selected_features,
    shared_max_lag,
)

logger = logging.getLogger("evaluation.fig01")

PROG = "evaluation.fig01_autocorrelation"


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__)
    parser.add_argument("--feature", type=int, action="append", default=None,
                        help="continuous feature column (repeatable) [all continuous columns]")
    parser.add_argument("--max-lag", type=int, default=None, help="lags 1..MAX_LAG-1 [shortest L - 1]")
    parser.add_argument("--lags", type=int, default=10, help="number of lags printed (evenly spaced)")
    args = parser.parse_args(argv)

    inputs = load_inputs(args)
    features = selected_features(inputs.real, inputs.names, args.feature)
    columns = list(features)
    curves_of = {f"real {args.split}": inputs.real, **inputs.compared()}
    max_lag = shared_max_lag(args.max_lag, list(curves_of.values()))
    if args.lags < 1:
        parser.error("--lags must be >= 1")

    curves = {}
    for name, data in curves_of.items():
        logger.info("autocorrelation: %s", name)
        curves[name] = autocorrelation_per_feature(data.features[:, :, columns], data.lengths, max_lag)
    lags = np.arange(1, max_lag)
    every = pd.DataFrame(
        {f"{feature}, {name}": curve[k] for k, feature in enumerate(features.values())
         for name, curve in curves.items()},
        index=pd.Index(lags, name="lag"),
    )
    shown = np.unique(np.linspace(1, max_lag - 1, min(args.lags, max_lag - 1)).round().astype(int))
    table = every.loc[shown].T.rename(columns=lambda lag: f"lag {lag}")
    table.index.name = "feature, data"

    print_table(f"Fig. 1: autocorrelation at {len(shown)} of lags 1..{max_lag - 1}", table, digits=3)
    out = output_dir(args.out)
    if out is not None:
        save_table(out, "fig01_acf.csv", every)
        real_curves = curves[f"real {args.split}"]
        for name in inputs.synthetic:
            figure = plot_autocorrelation(real_curves, curves[name], [f"{f}: {name}" for f in features.values()])
            save_figure(out, f"fig01_acf_{file_stem(name)}.png", figure)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
