"""``python -m experiments.fcc_mba.quick``: the README's FCC MBA table (the default job vs the real data).

    python -m experiments.fcc_mba.quick --out DIR [--epochs 400] [--sample-len 8] [--seed 0]
        [--dg-overrides JSON]

Trains DG with dg_tf's default configuration (auxiliary critic and
auto-normalization on; the job ``python -m dg_tf.train`` runs on the bundled
data) on the 600 real MBA training series, generates 600 series and compares
them with the real ones: total variation of each attribute's marginal (ISP,
technology, state), W1 of the per-sample total of the byte counter (next to
i.i.d. uniform noise in [0, 1] as a scale) and the ACF-MSE of the byte
counter. The paper's full experiment (Table 2 with baselines, the
sample_len sweep) is :mod:`experiments.fcc_mba.run`.

Writes ``config.json``, ``results.json`` and ``results.md`` to ``--out`` and
the model to ``--out/run``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import fail, run_main
from dg_tf.data.loading import load_dataset
from dg_tf.evaluation import dataset_names, wasserstein1
from evaluation.common import markdown_table
from experiments.common import (
    dg_overrides,
    experiment_parser,
    json_object,
    start_experiment,
    train_dg,
    write_results,
)
from experiments.fcc_mba import metrics
from experiments.fcc_mba.configs import MAIN_SAMPLE_LEN, MBA_DATA, default_config

logger = logging.getLogger("experiments.fcc_mba.quick")

PROG = "experiments.fcc_mba.quick"
EPOCHS = 400


def main(argv: Sequence[str] | None = None) -> None:
    parser = experiment_parser(PROG, __doc__)
    parser.add_argument("--data", type=Path, default=MBA_DATA, help="FCC MBA dataset folder")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="training epochs")
    parser.add_argument("--sample-len", type=int, default=MAIN_SAMPLE_LEN, help="sample_len S")
    parser.add_argument("--seed", type=int, default=0, help="seed of the model, generation and the noise scale")
    parser.add_argument("--dg-overrides", type=json_object, default={}, metavar="JSON",
                        help="further DGConfig fields (not epochs or sample_len)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        fail(f"--epochs {args.epochs} must be >= 1")
    if "epochs" in args.dg_overrides or "sample_len" in args.dg_overrides:
        fail("--dg-overrides: set epochs with --epochs and sample_len with --sample-len")
    began = time.perf_counter()
    real = load_dataset(args.data)
    names = dataset_names(args.data, real)
    config = dg_overrides(default_config(args.sample_len, args.epochs, args.seed), args.dg_overrides)
    out = start_experiment(args.out, PROG, {"data": str(args.data), "dg_config": config.to_dict()})
    model, seconds = train_dg(real, config, out / "run", str(args.data))
    synthetic = model.generate(real.num_samples, seed=args.seed)  # as the README's numbers were made
    result = metrics.fidelity(real, synthetic, names)
    noise = np.random.default_rng(args.seed).uniform(
        size=real.features[:, :, metrics.BYTES].shape).sum(axis=1)
    noise_w1 = wasserstein1(metrics.total_bandwidth(real), noise)
    bytes_name = names.features[metrics.BYTES]
    rows = {f"total variation, {name} marginal": tv for name, tv in result["attribute_total_variation"].items()}
    rows[f"W1 of per-sample total {bytes_name} (uniform noise: {noise_w1:.1f})"] = result["table2_w1"][metrics.ALL]
    rows[f"ACF-MSE of {bytes_name}"] = result["acf_mse"][bytes_name]
    table = pd.DataFrame({"value": rows}).rename_axis("metric")
    wall = time.perf_counter() - began
    write_results(out, {"train_seconds": seconds, "wall_seconds": wall, "uniform_noise_w1": noise_w1, **result},
                  "FCC MBA: the default job vs the real data", [
        ("Default configuration vs the 600 real training series",
         f"{args.epochs} epochs, sample_len {args.sample_len}, seed {args.seed}; training {seconds:.0f} s.\n\n"
         f"{markdown_table(table, 3)}"),
    ])
    logger.info("%s", markdown_table(table, 3))


if __name__ == "__main__":
    raise SystemExit(run_main(main))
