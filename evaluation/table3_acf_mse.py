"""Table 3: mean square error between the real and synthetic autocorrelation curves (ACF-MSE).

Paper §5.2, Table 3 (the quantitative form of Fig. 1): the MSE between DG's
autocorrelation curve of the real series and that of the generated series,
over lags 1 .. MAX_LAG-1 (default L - 2), one row per synthetic set, plus the
held-out real split (the floor). It is given per feature as well as
averaged: a mostly constant real feature (MBA ping loss)
has a curve of about 1 under DG's definition, and small synthetic noise on it
dominates the mean. So there is one column per continuous feature column
(``--feature``, repeatable; default all) and their mean. Variable-length
series count only their active steps (:mod:`dg_tf.evaluation.autocorrelation`).

With ``--out``: ``table3.csv``.

    python -m evaluation.table3_acf_mse --real dg_tf/datasets/fcc_mba --synthetic DG=runs/a/synthetic.npz
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import run_main
from dg_tf.evaluation.autocorrelation import acf_mse_per_feature
from evaluation.common import (
    build_parser,
    load_inputs,
    output_dir,
    print_table,
    save_table,
    selected_features,
    shared_max_lag,
)

logger = logging.getLogger("evaluation.table3")

PROG = "evaluation.table3_acf_mse"
MEAN = "mean"


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__)
    parser.add_argument("--feature", type=int, action="append", default=None,
                        help="continuous feature column (repeatable) [all continuous columns]")
    parser.add_argument("--max-lag", type=int, default=None, help="lags 1..MAX_LAG-1 [shortest L - 1]")
    args = parser.parse_args(argv)

    inputs = load_inputs(args)
    real = inputs.real
    features = selected_features(real, inputs.names, args.feature)
    columns = list(features)
    compared = inputs.compared()
    max_lag = shared_max_lag(args.max_lag, [real, *compared.values()])

    rows = {}
    for name, data in compared.items():
        logger.info("ACF-MSE: %s", name)
        per_feature = acf_mse_per_feature(real.features[:, :, columns], data.features[:, :, columns], max_lag,
                                          real_lengths=real.lengths, synthetic_lengths=data.lengths)
        mean = float(np.nanmean(per_feature)) if np.isfinite(per_feature).any() else np.nan
        rows[name] = [*per_feature, mean]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[*features.values(), MEAN])
    table.index.name = "data"

    print_table(f"Table 3: MSE of the autocorrelation (lags 1..{max_lag - 1}) against real {args.split} data "
                "(lower is better)", table)
    out = output_dir(args.out)
    if out is not None:
        save_table(out, "table3.csv", table)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
