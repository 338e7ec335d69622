"""``python -m experiments.fcc_mba.run``: the paper's FCC MBA results for DG and every baseline.

    python -m experiments.fcc_mba.run --out DIR [--epochs N] [--quick] [--data dg_tf/datasets/fcc_mba]
        [--sample-lens 1,4,8] [--baselines hmm,ar,rnn,naive_gan] [--no-default-config]
        [--num-generate N] [--seed S] [--dg-overrides JSON] [--baseline-overrides JSON]

Trains on the 600 real training series of ``--data`` (paper §5.1.1, appendix
A) and reproduces:

- **Table 2** (§5.2): W1 of the per-sample total bandwidth per connection
  technology (attribute output 1; every category by index, the names are not
  published) for DG (the original MBA configuration, sample_len 8), DG with
  dg_tf's default configuration (auxiliary critic and auto-normalization on;
  ``--no-default-config`` leaves it out) and each baseline (AR, RNN, HMM,
  naive GAN), next to the held-out split (``data_test.npz``, 139 series with a
  different attribute mix: a rough floor only);
- **Fig. 20**: the CDFs of total bandwidth per technology, every generator;
- **Fig. 23**: three DG series drawn uniformly at random and their three
  nearest real training series (Euclidean distance of the byte counter);
- the **ACF** (Fig. 1 / Table 3 style ACF-MSE per feature) and the
  **attribute marginals** (total variation per attribute; DG's histograms);
- the **sample_len sweep** {1, 4, 8} of the original configuration.

Each generator produces ``--num-generate`` series (default: as many as the
training split). DG trains ``--epochs`` epochs (default 1000; the paper used
17000); the baselines get about as many optimizer steps
(:func:`experiments.fcc_mba.configs.baseline_options`). ``--quick`` trains
every model for 1 epoch (HMM: 1 EM iteration) to check the pipeline.
``--dg-overrides '{"feature_lstm_units": 8}'`` changes DGConfig fields of
every DG model, ``--baseline-overrides '{"ar": {"hidden_units": 8}}'`` the
baselines' constructor arguments (used by the smoke tests).

Writes to ``--out``: ``config.json`` (every setting, seed and the machine),
``results.json`` and ``results.md`` (the tables), ``table2.csv``,
``sweep.csv``, ``acf.csv``, ``attributes.csv``, ``fig20_cdf.png``,
``fig23_neighbours.png``, ``acf.png``, ``attributes_dg.png``, the synthetic
sets under ``synthetic/`` and the DG models under ``runs/``.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import fail, run_main
from dg_tf.config import DGConfig
from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import load_dataset, save_npz
from dg_tf.data.specs import continuous_columns
from dg_tf.evaluation import ColumnNames, attribute_marginals, autocorrelation_per_feature, dataset_names
from dg_tf.evaluation.distributions import DiscreteMarginal
from dg_tf.evaluation.figures import plot_attribute_histograms, plot_neighbours
from dg_tf.evaluation.privacy import nearest_neighbours
from dg_tf.seeding import derive_seed
from evaluation.common import file_stem, markdown_table, save_figure, save_table
from experiments.baselines import BASELINES
from experiments.common import (
    dg_overrides,
    experiment_parser,
    resolve_epochs,
    int_list,
    json_object,
    start_experiment,
    train_baseline,
    train_dg,
    write_results,
)
from experiments.fcc_mba import metrics
from experiments.fcc_mba.configs import (
    DEFAULT_EPOCHS,
    MAIN_SAMPLE_LEN,
    MBA_DATA,
    PAPER_EPOCHS,
    SAMPLE_LENS,
    baseline_options,
    default_config,
    paper_config,
)
from experiments.fcc_mba.figures import plot_autocorrelations, plot_total_bandwidth_cdfs

logger = logging.getLogger("experiments.fcc_mba.run")

PROG = "experiments.fcc_mba.run"
#: Table column of each baseline, in the paper's order.
BASELINE_NAMES = {"ar": "AR", "rnn": "RNN", "hmm": "HMM", "naive_gan": "Naive GAN"}
#: Table column of DG in the original configuration at the main sample_len.
DG = "DG"
DG_DEFAULT = "DG (default config)"
FLOOR = "real test (floor, not i.i.d.)"
#: Synthetic series drawn for Fig. 23, and neighbours shown for each.
NEIGHBOUR_ROWS, NEIGHBOURS = 3, 3


def _baseline_list(text: str) -> list[str]:
    chosen = [] if text.strip() == "none" else [v.strip() for v in text.split(",") if v.strip()]
    unknown = sorted(set(chosen) - set(BASELINES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown baseline(s) {unknown}; choose from {sorted(BASELINES)} or none")
    return list(dict.fromkeys(chosen))


def build_parser() -> argparse.ArgumentParser:
    parser = experiment_parser(PROG, __doc__)
    parser.add_argument("--data", type=Path, default=MBA_DATA, help="FCC MBA dataset folder")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"DG epochs [{DEFAULT_EPOCHS}; 1 with --quick; the paper: {PAPER_EPOCHS}]")
    parser.add_argument("--quick", action="store_true", help="train every model 1 epoch (pipeline check)")
    parser.add_argument("--sample-lens", type=int_list, default=list(SAMPLE_LENS),
                        help="sample_len sweep of the original configuration")
    parser.add_argument("--main-sample-len", type=int, default=MAIN_SAMPLE_LEN,
                        help="sample_len of the DG column of Table 2 (added to the sweep if missing)")
    parser.add_argument("--no-default-config", action="store_true",
                        help="leave out the DG row with dg_tf's default configuration")
    parser.add_argument("--baselines", type=_baseline_list, default=list(BASELINE_NAMES),
                        help="comma-separated baselines, or none")
    parser.add_argument("--num-generate", type=int, default=None, help="series per generator [training size]")
    parser.add_argument("--seed", type=int, default=0, help="seed of every model and of generation")
    parser.add_argument("--dg-overrides", type=json_object, default={}, metavar="JSON",
                        help="DGConfig fields applied to every DG model")
    parser.add_argument("--baseline-overrides", type=json_object, default={}, metavar="JSON",
                        help="per baseline, constructor arguments: {\"ar\": {\"hidden_units\": 8}}")
    return parser


def _dg_configs(args: argparse.Namespace, epochs: int) -> dict[str, DGConfig]:
    """Table column -> DG configuration: the sweep (main sample_len first, as "DG") and the default-config row."""
    if "sample_len" in args.dg_overrides or "epochs" in args.dg_overrides:
        fail("--dg-overrides: set sample_len with --sample-lens / --main-sample-len and epochs with --epochs")
    configs = {}
    for s in [args.main_sample_len] + [s for s in args.sample_lens if s != args.main_sample_len]:
        configs[DG if s == args.main_sample_len else f"DG (S={s})"] = paper_config(s, epochs, args.seed)
    if not args.no_default_config:
        configs[DG_DEFAULT] = default_config(args.main_sample_len, epochs, args.seed)
    return {name: dg_overrides(config, args.dg_overrides) for name, config in configs.items()}


def _baseline_options(args: argparse.Namespace, epochs: int) -> dict[str, dict[str, Any]]:
    unknown = sorted(set(args.baseline_overrides) - set(BASELINES))
    if unknown:
        fail(f"--baseline-overrides: unknown baseline(s) {unknown}")
    defaults = baseline_options(epochs)
    options = {}
    for name in args.baselines:
        chosen = dict(defaults[name])
        if args.quick:
            chosen["epochs"] = 1
        chosen.update(args.baseline_overrides.get(name, {}))
        options[name] = chosen
    return options


def _figure_acf(real: Dataset, sets: dict[str, Dataset], names: ColumnNames):
    columns = continuous_columns(real.feature_outputs, names.features)
    indices = [c for c, _ in columns]
    curves = {name: autocorrelation_per_feature(d.features[:, :, indices], d.lengths) for name, d in sets.items()}
    real_curves = autocorrelation_per_feature(real.features[:, :, indices], real.lengths)
    return plot_autocorrelations(real_curves, curves, [n for _, n in columns], "DG autocorrelation (Fig. 1 style)")


def _figure_neighbours(real: Dataset, synthetic: Dataset, names: ColumnNames, seed: int):
    """Fig. 23: random synthetic series and their nearest real training series (byte counter)."""
    rows = np.sort(np.random.default_rng(derive_seed(seed, "fig23")).choice(
        synthetic.num_samples, min(NEIGHBOUR_ROWS, synthetic.num_samples), replace=False))
    column = [metrics.BYTES]
    k = min(NEIGHBOURS, real.num_samples)
    indices, distances = nearest_neighbours(synthetic.features[rows][:, :, column], real.features[:, :, column],
                                            synthetic.lengths[rows], real.lengths, k=k)
    figure = plot_neighbours(synthetic.features[rows], synthetic.lengths[rows], real.features, real.lengths,
                             indices, distances, metrics.BYTES, names.features[metrics.BYTES])
    record = {"synthetic_rows": rows.tolist(), "nearest_training_rows": indices.tolist(),
              "distances": distances.tolist()}
    return figure, record


def _sweep_frame(results: dict[str, dict[str, Any]], seconds: dict[str, float], sweep: dict[int, str]) -> pd.DataFrame:
    rows = {}
    for sample_len, name in sorted(sweep.items()):
        result = results[name]
        rows[sample_len] = {**{f"W1 {k}": v for k, v in result["table2_w1"].items()},
                            **{f"ACF-MSE {k}": v for k, v in result["acf_mse"].items()},
                            "train seconds": seconds[name]}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "sample_len"
    return frame


def _train_all(
    real: Dataset, configs: dict[str, DGConfig], options: dict[str, dict[str, Any]], num: int, out: Path,
    args: argparse.Namespace,
) -> tuple[dict[str, Dataset], dict[str, float]]:
    """Train every DG configuration and baseline, generate ``num`` series with each and save them.

    Returns:
        ``(table column -> synthetic data, table column -> training seconds)``.
    """
    synthetic: dict[str, Dataset] = {}
    seconds: dict[str, float] = {}
    for name, config in configs.items():
        model, seconds[name] = train_dg(real, config, out / "runs" / file_stem(name).lower(), str(args.data))
        synthetic[name] = model.generate(num, seed=derive_seed(args.seed, "generate", name))
    for key, chosen in options.items():
        name = BASELINE_NAMES[key]
        model, seconds[name] = train_baseline(key, real, chosen, args.seed, str(args.data))
        synthetic[name] = model.generate(num, seed=derive_seed(args.seed, "generate", name))
    (out / "synthetic").mkdir(exist_ok=True)
    for name, data in synthetic.items():
        save_npz(out / "synthetic" / f"{file_stem(name).lower()}.npz", data)
    return synthetic, seconds


def _write_figures(out: Path, real: Dataset, sets: dict[str, Dataset], names: ColumnNames, seed: int) -> dict:
    """Fig. 20, Fig. 23 (of the DG column), the ACF and DG's attribute histograms; returns Fig. 23's rows."""
    real_pair = (metrics.total_bandwidth(real), metrics.technology(real))
    generated = {n: (metrics.total_bandwidth(d), metrics.technology(d)) for n, d in sets.items()}
    levels = [names.level(metrics.TECHNOLOGY, c) for c in range(real.attribute_outputs[metrics.TECHNOLOGY].dim)]
    xlabel = f"total of {names.features[metrics.BYTES]} over {real.max_length} steps (scaled units)"
    save_figure(out, "fig20_cdf.png", plot_total_bandwidth_cdfs(real_pair, generated, levels, xlabel))
    neighbours_figure, neighbours = _figure_neighbours(real, sets[DG], names, seed)
    save_figure(out, "fig23_neighbours.png", neighbours_figure)
    save_figure(out, "acf.png", _figure_acf(real, sets, names))
    discrete = [m for m in attribute_marginals(real.attributes, sets[DG].attributes, real.attribute_outputs)
                if isinstance(m, DiscreteMarginal)]
    save_figure(out, "attributes_dg.png", plot_attribute_histograms(
        discrete, [f"{names.attributes[m.output_index]} ({DG})" for m in discrete]))
    return neighbours


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    began = time.perf_counter()
    epochs = resolve_epochs(args, DEFAULT_EPOCHS)
    real = load_dataset(args.data)
    names = dataset_names(args.data, real)
    holdout = load_dataset(args.data, "test") if (args.data / "data_test.npz").is_file() else None
    num = real.num_samples if args.num_generate is None else args.num_generate
    if num < 1:
        fail(f"--num-generate {num} must be >= 1")
    configs = _dg_configs(args, epochs)
    options = _baseline_options(args, epochs)
    out = start_experiment(args.out, PROG, {
        "data": str(args.data), "training_series": real.num_samples, "generated_series": num,
        "dg_epochs": epochs, "paper_epochs": PAPER_EPOCHS, "quick": args.quick, "seed": args.seed,
        "dg_configs": {name: c.to_dict() for name, c in configs.items()}, "baselines": options,
    })

    synthetic, seconds = _train_all(real, configs, options, num, out, args)

    sweep = {c.sample_len: name for name, c in configs.items() if name != DG_DEFAULT}
    table_sets = [DG] + [n for n in (DG_DEFAULT, *BASELINE_NAMES.values()) if n in synthetic]
    results = {name: metrics.fidelity(real, data, names) for name, data in synthetic.items()}
    compared = {name: results[name] for name in table_sets}
    if holdout is not None:
        compared[FLOOR] = metrics.fidelity(real, holdout, names)
    table2 = metrics.table2_frame(real, compared, names)
    sweep_table = _sweep_frame(results, seconds, sweep)
    acf = metrics.acf_frame(compared)
    attributes = metrics.attributes_frame(compared)
    trained = {**{n: c.epochs for n, c in configs.items()},
               **{BASELINE_NAMES[k]: o["epochs"] for k, o in options.items()}}
    timing = pd.DataFrame({"epochs (HMM: EM iterations)": trained, "train seconds": seconds})
    timing.index.name = "model"
    for file, frame in (("table2.csv", table2), ("sweep.csv", sweep_table), ("acf.csv", acf),
                        ("attributes.csv", attributes), ("timing.csv", timing)):
        save_table(out, file, frame)

    neighbours = _write_figures(out, real, {n: synthetic[n] for n in table_sets}, names, args.seed)

    wall = time.perf_counter() - began
    caption = (f"DG trained {epochs} epochs (paper: {PAPER_EPOCHS}); {real.num_samples} real training series, "
               f"{num} generated per model; seed {args.seed}; command wall time {wall:.0f} s.")
    write_results(out, {
        "epochs": epochs, "wall_seconds": wall, "train_seconds": seconds, "fidelity": results,
        "floor": compared.get(FLOOR), "fig23_neighbours": neighbours,
        "paper_table2": metrics.PAPER_TABLE2,
    }, "FCC MBA: Table 2, Fig. 20, Fig. 23, ACF, attribute marginals, sample_len sweep", [
        ("Table 2: W1 of total bandwidth per technology (lower is better)",
         f"{caption} Raw units: the sum of the [0, 1]-scaled byte counter over 56 steps.\n\n"
         f"{markdown_table(table2, 3)}"),
        ("Paper Table 2 (17000 epochs; DSL and cable rows; category indices unknown)",
         markdown_table(metrics.paper_table2_frame(), 3)),
        ("sample_len sweep (original configuration)", markdown_table(sweep_table, 3)),
        ("ACF-MSE per feature (DG's autocorrelation; lower is better)", markdown_table(acf, 3)),
        ("Total variation of the attribute marginals (lower is better)", markdown_table(attributes, 3)),
        ("Training time", markdown_table(timing, 4)),
        ("Figures", "![Fig. 20](fig20_cdf.png)\n\n![Fig. 23](fig23_neighbours.png)\n\n![ACF](acf.png)\n\n"
                    "![attributes](attributes_dg.png)"),
    ])
    logger.info("done in %.0f s; tables in %s", wall, out / "results.md")


if __name__ == "__main__":
    raise SystemExit(run_main(main))
