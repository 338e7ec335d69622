"""``python -m experiments.wwt.run``: DG on Wikipedia Web Traffic with the paper's configuration.

    python -m experiments.wwt.run --data data/WWT --out DIR [--epochs 400] [--sample-len 10]
        [--num-generate N] [--horizon 50] [--utility-series 10000] [--max-length L] [--seed 0]
        [--dg-overrides JSON] [--no-utility] [--scores] [--score-iterations N]

Reads the triple that ``python -m data.converters.wwt`` writes (550 daily
page views in [-1, 1] after log1p, one feature; domain 9, access 3, agent 2
one-hot) and trains DG with the original web configuration
(the original's ``example_training/config.py``): sample_len 10,
auxiliary critic and auto-normalization on, 400 epochs, the paper's defaults
otherwise. Then :func:`dg_tf.evaluation.evaluate` (report under ``report/``)
and the WWT claims:

- Table 3: ACF-MSE of the daily page views (paper: DG 0.0009);
- Fig. 6/7: W1 of (max+min)/2 of the page views;
- Fig. 19: the Wikipedia-domain histogram (total variation);
- Appendix D, Fig. 24 and Table 5 (WWT row): forecasting the last
  ``--horizon`` days from the rest with the paper's four regressors, trained
  on synthetic and tested on real, and the Spearman correlation of their
  ranking (paper: DG 0.80). At most ``--utility-series`` seeded series of
  each set are used (kernel ridge regression needs O(N^2) memory);
- Fig. 15: membership inference with the trained critic (paper: 51% at
  50,000 training series), when the folder has a test split.

``--max-length`` keeps the first N days (quick runs, tests).
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from dg_tf.cli import fail, run_main
from dg_tf.config import DGConfig
from dg_tf.data.dataset import Dataset
from dg_tf.evaluation import ColumnNames, forecasting_ranking, tstr_forecasting
from dg_tf.evaluation.report import split_in_two
from dg_tf.evaluation.utility import REGRESSORS
from dg_tf.seeding import derive_seed
from evaluation.common import real_train_test
from experiments.common import Claim, add_dataset_arguments, dataset_experiment, experiment_parser

logger = logging.getLogger("experiments.wwt.run")

PROG = "experiments.wwt.run"
#: The original web configuration; epochs and sample_len come from the flags.
PAPER_EPOCHS = 400
PAPER_SAMPLE_LEN = 10
PAPER_HORIZON = 50


def paper_config() -> DGConfig:
    """The original WWT configuration: auxiliary critic and auto-normalization on (dg_tf's defaults)."""
    return DGConfig(use_aux_critic=True, self_norm=True, figure_every=0)


def _sample(series: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most ``limit`` rows of ``series``, drawn without replacement (all, in order, if fewer)."""
    if len(series) <= limit:
        return series
    return series[np.sort(np.random.default_rng(seed).choice(len(series), limit, replace=False))]


def forecasting(horizon: int, limit: int, seed: int):
    """The Appendix D forecasting study as an ``extra`` of :func:`~experiments.common.dataset_experiment`."""

    def study(real: Dataset, synthetic: Dataset, holdout: Dataset | None, names: ColumnNames) -> dict[str, Any]:
        if not 1 <= horizon < real.max_length:
            fail(f"--horizon {horizon} must lie in [1, {real.max_length - 1}]")
        train, test = real_train_test(real, holdout, seed)
        synthetic_train, synthetic_test = split_in_two(synthetic, derive_seed(seed, "synthetic split"))
        a, a_test, b, b_test = (_sample(d.features, limit, derive_seed(seed, "utility sample", i))
                                for i, d in enumerate((train, test, synthetic_train, synthetic_test)))
        logger.info("forecasting the last %d steps: A %d, A' %d, B %d, B' %d series",
                    horizon, len(a), len(a_test), len(b), len(b_test))
        return {"forecasting": {
            "horizon": horizon,
            "protocol": "A = real train, A' = held-out (or random halves of train), B / B' = synthetic halves",
            "train_on_synthetic_test_on_real": tstr_forecasting(a, b, a_test, horizon, seed=seed).to_dict(),
            "algorithm_ranking": forecasting_ranking(a, a_test, b, b_test, horizon, seed=seed).to_dict(),
        }}

    return study


def claims(names: ColumnNames) -> list[Claim]:
    """The WWT numbers of the paper next to ours."""
    views, domain = names.features[0], names.attributes[0]
    tstr = "train_on_synthetic_test_on_real"
    rows = [
        Claim("Table 3", f"ACF-MSE of {views}", "0.0009 (50,000 series; 0.0024 with 500)",
              lambda r: r["fidelity"]["acf_mse"]["mean"], lambda r: r["floor"]["acf_mse"]["mean"]),
        Claim("Fig. 6/7", f"W1 of (max+min)/2 of {views}", "figure only",
              lambda r: r["fidelity"]["statistics"][views]["midpoint_wasserstein1"],
              lambda r: r["floor"]["statistics"][views]["midpoint_wasserstein1"]),
        Claim("Fig. 19", f"total variation of the {domain} histogram", "figure only",
              lambda r: r["fidelity"]["attributes"][domain]["total_variation"],
              lambda r: r["floor"]["attributes"][domain]["total_variation"]),
        Claim("Table 5", "Spearman correlation of the forecasting regressors' ranking (B->B' vs A->A')", "0.80",
              lambda r: r["forecasting"]["algorithm_ranking"]["spearman"]),
    ]
    for regressor in REGRESSORS:
        rows.append(Claim("Fig. 24", f"R2 of {regressor} trained on synthetic, tested on real", "figure only",
                          lambda r, k=regressor: r["forecasting"][tstr]["train_synthetic"][k],
                          lambda r, k=regressor: r["forecasting"][tstr]["train_real"][k]))
    rows.append(Claim("Fig. 15", "membership inference success rate (%; reference: chance)", "51 (50,000 series)",
                      lambda r: 100 * r["privacy"]["membership_inference"]["success_rate"],
                      lambda r: 100 * r["privacy"]["membership_inference"]["chance_level"]))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = experiment_parser(PROG, __doc__)
    add_dataset_arguments(parser, PAPER_EPOCHS, PAPER_SAMPLE_LEN)
    parser.add_argument("--horizon", type=int, default=PAPER_HORIZON, help="days to forecast (Appendix D)")
    parser.add_argument("--utility-series", type=int, default=10000,
                        help="at most this many series per set in the forecasting study")
    args = parser.parse_args(argv)
    if args.utility_series < 2:
        fail(f"--utility-series {args.utility_series} must be >= 2")
    if args.max_length is not None and not 1 <= args.horizon < args.max_length:
        fail(f"--horizon {args.horizon} must lie in [1, --max-length - 1 = {args.max_length - 1}]")
    extra = None if args.no_utility else forecasting(args.horizon, args.utility_series, args.seed)
    dataset_experiment(PROG, "Wikipedia Web Traffic (WWT)", args, paper_config(), claims, extra)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
