"""``python -m experiments.gcut.run``: DG on the Google Cluster Usage Traces with the paper's configuration.

    python -m experiments.gcut.run --data data/GCUT --out DIR [--epochs 400] [--sample-len 10]
        [--num-generate N] [--max-length L] [--seed 0] [--dg-overrides JSON]
        [--no-utility] [--scores] [--score-iterations N]

Reads the triple that ``python -m data.converters.gcut`` writes (variable
length up to 2500 five-minute records of 9 resource measurements in [0, 1];
one attribute, the end event type, 4 categories) and trains DG with the
original google configuration (the original's
``example_training/config.py``): sample_len 10 (grid 1, 5, 10), 400 epochs,
**no auxiliary critic and no auto-normalization**, the paper's defaults
otherwise (``--dg-overrides '{"use_aux_critic": true}'`` turns on the critic
that §5.2 credits for Fig. 10). Then :func:`dg_tf.evaluation.evaluate`
(report under ``report/``, with the nearest-neighbour figure of Fig. 22) and
the GCUT claims:

- Fig. 9 / Fig. 18: the task-duration (length) distribution;
- Fig. 10: the end-event-type histogram (the naive GAN misses a category);
- Fig. 8: per-task Pearson correlation of CPU rate and memory usage;
- Fig. 13: event-type prediction accuracy of the paper's five classifiers
  trained on synthetic, tested on real (paper: DG's MLP reaches 80% of the
  real-data accuracy);
- Table 5 (GCUT row): Spearman correlation of the classifiers' ranking
  (paper: DG 1.00).

``--max-length`` keeps the first N records of every task (quick runs, tests).
"""

from __future__ import annotations

import logging
from typing import Sequence

from dg_tf.cli import run_main
from dg_tf.config import DGConfig
from dg_tf.evaluation import ColumnNames
from dg_tf.evaluation.utility import CLASSIFIERS
from experiments.common import Claim, add_dataset_arguments, dataset_experiment, experiment_parser

logger = logging.getLogger("experiments.gcut.run")

PROG = "experiments.gcut.run"
PAPER_EPOCHS = 400
PAPER_SAMPLE_LEN = 10
#: Feature columns of Fig. 8 in the converter's order (Table 6): mean CPU rate and canonical memory usage.
CPU, MEMORY = 0, 3


def paper_config() -> DGConfig:
    """The original GCUT configuration: no auxiliary critic, no auto-normalization."""
    return DGConfig(use_aux_critic=False, self_norm=False, figure_every=0)


def claims(names: ColumnNames) -> list[Claim]:
    """The GCUT numbers of the paper next to ours."""
    event = names.attributes[0]
    pair = f"{names.features[CPU]} ~ {names.features[MEMORY]}"
    utility, tstr = "utility", "train_on_synthetic_test_on_real"
    rows = [
        Claim("Fig. 9/18", "W1 of the length distribution (steps)", "figure only",
              lambda r: r["fidelity"]["lengths"]["wasserstein1"], lambda r: r["floor"]["lengths"]["wasserstein1"]),
        Claim("Fig. 9/18", "total variation of the length histogram", "figure only",
              lambda r: r["fidelity"]["lengths"]["total_variation"],
              lambda r: r["floor"]["lengths"]["total_variation"]),
        Claim("Fig. 10", f"total variation of the {event} histogram", "figure only",
              lambda r: r["fidelity"]["attributes"][event]["total_variation"],
              lambda r: r["floor"]["attributes"][event]["total_variation"]),
        Claim("Fig. 8", f"W1 of the per-series Pearson r of {pair}", "figure only",
              lambda r: r["fidelity"]["cross_feature_correlation"][pair],
              lambda r: r["floor"]["cross_feature_correlation"][pair]),
    ]
    for classifier in CLASSIFIERS:
        rows.append(Claim("Fig. 13", f"accuracy of {classifier} trained on synthetic, tested on real",
                          "figure only", lambda r, k=classifier: r[utility][tstr]["train_synthetic"][k],
                          lambda r, k=classifier: r[utility][tstr]["train_real"][k]))
    rows += [
        Claim("Fig. 13", "MLP accuracy trained on synthetic / trained on real", "0.80",
              lambda r: r[utility][tstr]["train_synthetic"]["mlp"] / r[utility][tstr]["train_real"]["mlp"]),
        Claim("Table 5", "Spearman correlation of the classifiers' ranking (B->B' vs A->A')", "1.00",
              lambda r: r[utility]["algorithm_ranking"]["spearman"]),
        Claim("Fig. 15", "membership inference success rate (%; reference: chance)", "not reported for GCUT",
              lambda r: 100 * r["privacy"]["membership_inference"]["success_rate"],
              lambda r: 100 * r["privacy"]["membership_inference"]["chance_level"]),
    ]
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = experiment_parser(PROG, __doc__)
    add_dataset_arguments(parser, PAPER_EPOCHS, PAPER_SAMPLE_LEN)
    args = parser.parse_args(argv)
    dataset_experiment(PROG, "Google Cluster Usage Traces (GCUT)", args, paper_config(), claims)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
