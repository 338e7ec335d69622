"""``python -m experiments.fcc_mba.dp``: fidelity of differentially private DG vs epsilon (Fig. 16) on MBA.

    python -m experiments.fcc_mba.dp --out DIR [--noise none,2,4,8,16,32] [--epochs 400]
        [--sample-len 8] [--l2-clip 1.0] [--delta 1e-5] [--seed 0] [--quick] [--dg-overrides JSON]

Paper §6.2, Fig. 16 (there on WWT): DP-SGD on the critics destroys the
autocorrelation as epsilon shrinks. Here DG (the original MBA configuration:
no auxiliary critic, no auto-normalization) is trained on the 600 MBA
training series once per noise multiplier sigma (``--noise``; ``none`` is
the non-private reference) with the same epochs, per-example clipping norm
``--l2-clip`` and ``--delta``. For each run: the epsilon that dg_tf's
accountant wrote to ``RUN/privacy.json`` (:mod:`dg_tf.privacy_accounting`;
RDP, Poisson sampling q = 100/600), the ACF-MSE per feature (Fig. 16's
curves as a number) and the Table 2 metric (W1 of total bandwidth per
technology), on as many generated series as training series.

The default grid, sigma in {2, 4, 8, 16, 32} at 400 epochs (2400 critic
steps, as many as the non-private 400-epoch reference), spends epsilon 29,
11, 4.9, 2.2 and 1.0. (At 100 epochs even the non-private model is far from
converged on MBA, so the comparison says little.) ``--quick`` trains 1 epoch
per run.

Writes ``config.json``, ``results.json``, ``results.md``, ``dp_fidelity.csv``,
``fig16_acf.png`` (the ACF of each run against the real one),
``dp_acf_mse.png`` and ``dp_w1.png`` (the byte counter's ACF-MSE and the W1
over all series vs epsilon, the non-private run as a line), and the runs
under ``runs/``.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import fail, run_main
from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import load_dataset
from dg_tf.data.specs import continuous_columns
from dg_tf.evaluation import ColumnNames, autocorrelation_per_feature, dataset_names
from dg_tf.seeding import derive_seed
from evaluation.common import markdown_table, save_figure, save_table
from experiments.common import (
    dg_overrides,
    experiment_parser,
    resolve_epochs,
    json_object,
    start_experiment,
    train_dg,
    write_results,
)
from experiments.fcc_mba import metrics
from experiments.fcc_mba.configs import MAIN_SAMPLE_LEN, MBA_DATA, paper_config
from experiments.fcc_mba.figures import plot_autocorrelations, plot_curve

logger = logging.getLogger("experiments.fcc_mba.dp")

PROG = "experiments.fcc_mba.dp"
DEFAULT_NOISE = (None, 2.0, 4.0, 8.0, 16.0, 32.0)
DEFAULT_EPOCHS = 400
EPSILON = "epsilon"


def noise_list(text: str) -> list[float | None]:
    """argparse type: comma-separated noise multipliers >= 0, ``none`` for no DP (``"none,1,2"``)."""
    values: list[float | None] = []
    for item in (v.strip() for v in text.split(",") if v.strip()):
        try:
            value = None if item.lower() == "none" else float(item)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{item!r}: expected a number or none") from err
        if value is not None and not value >= 0:
            raise argparse.ArgumentTypeError(f"{item!r}: a noise multiplier must be >= 0")
        values.append(value)
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r}: expected at least one noise multiplier")
    return list(dict.fromkeys(values))


def build_parser() -> argparse.ArgumentParser:
    parser = experiment_parser(PROG, __doc__)
    parser.add_argument("--data", type=Path, default=MBA_DATA, help="FCC MBA dataset folder")
    parser.add_argument("--noise", type=noise_list, default=list(DEFAULT_NOISE),
                        help="noise multipliers sigma of DP-SGD (none: no DP)")
    parser.add_argument("--epochs", type=int, default=None, help=f"epochs per run [{DEFAULT_EPOCHS}; 1 with --quick]")
    parser.add_argument("--sample-len", type=int, default=MAIN_SAMPLE_LEN, help="sample_len of DG")
    parser.add_argument("--l2-clip", type=float, default=1.0, help="per-example clipping norm C")
    parser.add_argument("--delta", type=float, default=1e-5, help="delta of the reported epsilon")
    parser.add_argument("--seed", type=int, default=0, help="seed of the models and of generation")
    parser.add_argument("--quick", action="store_true", help="1 epoch per run (pipeline check)")
    parser.add_argument("--dg-overrides", type=json_object, default={}, metavar="JSON",
                        help="DGConfig fields applied to every run (not epochs, sample_len or dp_*)")
    return parser


def _label(noise: float | None) -> str:
    return "no DP" if noise is None else f"sigma={noise:g}"


def _write_figures(
    out: Path, real: Dataset, table: pd.DataFrame, curves: dict[str, np.ndarray], names: ColumnNames,
    epochs: int, delta: float,
) -> None:
    """Fig. 16 (the ACF of every run against the real one) and the byte counter's ACF-MSE and W1 vs epsilon."""
    columns = continuous_columns(real.feature_outputs, names.features)
    real_curves = autocorrelation_per_feature(real.features[:, :, [c for c, _ in columns]], real.lengths)
    save_figure(out, "fig16_acf.png", plot_autocorrelations(
        real_curves, curves, [n for _, n in columns], f"DG autocorrelation under DP ({epochs} epochs; Fig. 16)"))
    finite = np.isfinite(table[EPSILON].to_numpy())
    private, reference = table[finite], table[~finite]
    for file, column in (("dp_acf_mse.png", f"ACF-MSE {names.features[metrics.BYTES]}"),
                         ("dp_w1.png", f"W1 {metrics.ALL}")):
        save_figure(out, file, plot_curve(
            private[EPSILON].tolist(), {column: private[column].tolist()}, f"epsilon (delta {delta:g})",
            column, f"MBA: {column} vs privacy ({epochs} epochs)", log_x=True,
            reference=float(reference[column].iloc[0]) if len(reference) else None, reference_label="no DP"))


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    began = time.perf_counter()
    epochs = resolve_epochs(args, DEFAULT_EPOCHS)
    reserved = sorted(k for k in args.dg_overrides if k in ("epochs", "sample_len") or k.startswith("dp_"))
    if reserved:
        fail(f"--dg-overrides: {reserved} are set by this command's own flags")
    real = load_dataset(args.data)
    names = dataset_names(args.data, real)
    base = dg_overrides(paper_config(args.sample_len, epochs, args.seed), args.dg_overrides)
    base = base.replace(dp_l2_clip=args.l2_clip, dp_delta=args.delta)
    configs = {_label(noise): base.replace(dp_noise_multiplier=noise) for noise in args.noise}
    out = start_experiment(args.out, PROG, {
        "data": str(args.data), "training_series": real.num_samples, "epochs": epochs, "seed": args.seed,
        "noise_multipliers": args.noise, "dg_configs": {n: c.to_dict() for n, c in configs.items()},
    })

    results, rows, curves = {}, {}, {}
    columns = continuous_columns(real.feature_outputs, names.features)
    indices = [c for c, _ in columns]
    for label, config in configs.items():
        run_dir = out / "runs" / label.replace("=", "_").replace(" ", "_")
        model, seconds = train_dg(real, config, run_dir, str(args.data))
        privacy = model.privacy
        epsilon = math.inf if privacy is None else privacy.epsilon
        synthetic = model.generate(real.num_samples, seed=derive_seed(args.seed, "generate", label))
        fidelity = metrics.fidelity(real, synthetic, names)
        results[label] = {"privacy": None if privacy is None else privacy.to_dict(), "train_seconds": seconds,
                          **fidelity}
        rows[label] = {EPSILON: epsilon, **{f"W1 {k}": v for k, v in fidelity["table2_w1"].items()},
                       **{f"ACF-MSE {k}": v for k, v in fidelity["acf_mse"].items()}, "train seconds": seconds}
        curves[f"{label} (eps={epsilon:.3g})"] = autocorrelation_per_feature(synthetic.features[:, :, indices],
                                                                            synthetic.lengths)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "run"
    save_table(out, "dp_fidelity.csv", table)
    _write_figures(out, real, table, curves, names, epochs, args.delta)
    wall = time.perf_counter() - began
    write_results(out, {"epochs": epochs, "wall_seconds": wall, "runs": results},
                  "FCC MBA: fidelity of DP training vs epsilon (Fig. 16)", [
        ("Epsilon, Table 2 W1 and ACF-MSE per noise multiplier (lower is better)",
         f"DG, original MBA configuration, sample_len {args.sample_len}, {epochs} epochs each, clip "
         f"{args.l2_clip:g}, delta {args.delta:g}; W1 in the sum of the [0, 1]-scaled byte counter; "
         f"command wall time {wall:.0f} s.\n\n{markdown_table(table, 3)}"),
        ("Figures", "\n\n".join(f"![{name}]({file})" for name, file in (
            ("Fig. 16", "fig16_acf.png"), ("ACF-MSE vs epsilon", "dp_acf_mse.png"), ("W1 vs epsilon", "dp_w1.png")))),
    ])
    logger.info("done in %.0f s; tables in %s", wall, out / "results.md")


if __name__ == "__main__":
    raise SystemExit(run_main(main))
