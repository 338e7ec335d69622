"""Write an :class:`~dg_tf.evaluation.report.Evaluation` as files a person reads.

``REPORT_DIR/metrics.json`` holds every number; PNG figures show real (black)
against synthetic (orange); ``report.md`` is a one-page summary that embeds
the figures next to the key numbers and their real-vs-real floor. Every file
is written atomically, so an interrupted run never leaves a half-written one.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import continuous_columns
from dg_tf.evaluation import figures
from dg_tf.evaluation.autocorrelation import autocorrelation_per_feature
from dg_tf.evaluation.distributions import DiscreteMarginal, attribute_labels, attribute_marginals, length_distribution, per_sample_statistic
from dg_tf.evaluation.names import ColumnNames
from dg_tf.evaluation.report import Evaluation, EvaluationConfig
from dg_tf.fileio import atomic_write

__all__ = ["METRICS_FILE", "REPORT_FILE", "write_report"]

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.md"
#: Attributes with more categories than this get no per-category CDF figure.
MAX_CDF_LEVELS = 12


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "x"


def _save(figure: Figure, path: Path) -> str:
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png")
    return path.name


def _format(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(value)
    return f"{float(value):.{digits}g}"


def _figures(
    out: Path, real: Dataset, synthetic: Dataset, evaluation: Evaluation, names: ColumnNames, config: EvaluationConfig
) -> dict[str, list[str]]:
    """Draw every figure; returns section name -> PNG file names."""
    drawn: dict[str, list[str]] = {}
    columns = continuous_columns(real.feature_outputs, names.features)
    if columns:
        indices = [c for c, _ in columns]
        curves = [
            autocorrelation_per_feature(d.features[:, :, indices], d.lengths, config.max_lag) for d in (real, synthetic)
        ]
        drawn["Autocorrelation"] = [_save(figures.plot_autocorrelation(*curves, [n for _, n in columns]),
                                          out / "acf.png")]
        panels = [
            (name, *(per_sample_statistic(d.features, d.lengths, c, config.statistic) for d in (real, synthetic)))
            for c, name in columns
        ]
        drawn["Per-sample statistic"] = [_save(figures.plot_cdfs(panels, f"per-sample {config.statistic}"),
                                               out / "statistic_cdf.png")]
        for a, output in enumerate(real.attribute_outputs):
            if not output.is_discrete or output.dim > MAX_CDF_LEVELS:
                continue
            labels = [attribute_labels(d.attributes, d.attribute_outputs, a) for d in (real, synthetic)]
            for c, name in columns:
                values = [per_sample_statistic(d.features, d.lengths, c, config.statistic) for d in (real, synthetic)]
                panels = [
                    (f"{name} | {names.attributes[a]} = {names.level(a, level)}",
                     values[0][labels[0] == level], values[1][labels[1] == level])
                    for level in range(output.dim) if (labels[0] == level).any()
                ]
                file = out / f"statistic_cdf_{_slug(name)}_by_{_slug(names.attributes[a])}.png"
                drawn["Per-sample statistic"].append(_save(figures.plot_cdfs(panels, f"per-sample {config.statistic}"),
                                                           file))
    marginals = [
        m for m in attribute_marginals(real.attributes, synthetic.attributes, real.attribute_outputs)
        if isinstance(m, DiscreteMarginal)
    ]
    if marginals:
        drawn["Attributes"] = [_save(
            figures.plot_attribute_histograms(marginals, [names.attributes[m.output_index] for m in marginals]),
            out / "attributes.png")]
    if (real.lengths < real.max_length).any() or (synthetic.lengths < synthetic.max_length).any():
        lengths = length_distribution(real.lengths, synthetic.lengths, real.max_length)
        drawn["Lengths"] = [_save(figures.plot_lengths(lengths), out / "lengths.png")]
    if columns:
        rows = min(config.grid_rows, synthetic.num_samples)
        column, name = columns[0]
        drawn["Nearest neighbours"] = [_save(figures.plot_neighbours(
            synthetic.features[:rows], synthetic.lengths[:rows], real.features, real.lengths,
            evaluation.neighbour_indices[:rows], evaluation.neighbour_distances[:rows], column, name,
        ), out / "neighbours.png")]
    return drawn


def _summary_rows(metrics: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(metric, synthetic value, floor value) of the headline numbers."""
    fidelity, floor = metrics["fidelity"], metrics.get("floor") or {}
    rows: list[tuple[str, Any, Any]] = []
    if "acf_mse" in fidelity:
        rows.append(("ACF-MSE, mean over features (Table 3)", fidelity["acf_mse"]["mean"],
                     floor.get("acf_mse", {}).get("mean")))
        for name, value in fidelity["acf_mse"]["per_feature"].items():
            rows.append((f"ACF-MSE, {name}", value, floor.get("acf_mse", {}).get("per_feature", {}).get(name)))
    for name, stats in fidelity["statistics"].items():
        other = floor.get("statistics", {}).get(name, {})
        rows.append((f"W1 of per-sample {stats['statistic']}, {name} (Table 2)", stats["wasserstein1"],
                     other.get("wasserstein1")))
        rows.append((f"W1 of (max+min)/2, {name} (Fig. 6)", stats["midpoint_wasserstein1"],
                     other.get("midpoint_wasserstein1")))
    for name, marginal in fidelity["attributes"].items():
        other = floor.get("attributes", {}).get(name, {})
        if marginal["type"] == "discrete":
            rows.append((f"total variation, {name} (Fig. 10)", marginal["total_variation"],
                         other.get("total_variation")))
    rows.append(("W1 of series length, steps (Fig. 9)", fidelity["lengths"]["wasserstein1"],
                 floor.get("lengths", {}).get("wasserstein1")))
    for pair, value in fidelity["cross_feature_correlation"].items():
        rows.append((f"W1 of per-sample correlation {pair} (Fig. 8)", value,
                     floor.get("cross_feature_correlation", {}).get(pair)))
    return rows


def _by_attribute_table(metrics: dict[str, Any]) -> list[str]:
    """Table 2 layout: W1 of the per-sample statistic per value of each small discrete attribute."""
    lines: list[str] = []
    floor = metrics.get("floor") or {}
    for feature, stats in metrics["fidelity"]["statistics"].items():
        for attribute, per_label in stats["wasserstein1_by_attribute"].items():
            if len(per_label) > MAX_CDF_LEVELS:
                continue
            floor_labels = floor.get("statistics", {}).get(feature, {}).get("wasserstein1_by_attribute", {})
            floor_labels = floor_labels.get(attribute, {})
            lines += ["", f"W1 of per-sample {stats['statistic']} of {feature}, by {attribute} (Table 2):", "",
                      f"| {attribute} | synthetic vs real | floor |", "|---|---|---|"]
            lines += [f"| {label} | {_format(value)} | {_format(floor_labels.get(label))} |"
                      for label, value in per_label.items()]
    return lines


def _markdown(metrics: dict[str, Any], drawn: dict[str, list[str]], title: str) -> str:
    data = metrics["data"]
    lines = [f"# {title}", ""]
    described = [("real (training)", data["real"]), ("synthetic", data["synthetic"]), ("held-out real", data["holdout"])]
    lines += ["| set | series | length (min / median / max) |", "|---|---|---|"]
    for label, d in described:
        if d is not None:
            lines.append(f"| {label} | {d['num_samples']} | {d['length_min']} / {_format(d['length_median'])}"
                         f" / {d['length_max']} |")
    check = metrics.get("holdout_check")
    if check and check["mismatched_attributes"]:
        lines += ["", f"**Caution:** the held-out set is not distributed like the training set "
                      f"(chi-square p < 0.01 for {', '.join(check['mismatched_attributes'])}). The floor and the "
                      "memorization threshold assume it is, so the floor is too high and synthetic data may "
                      "look closer to the training set than new real data would be."]
    lines += ["", "## Fidelity", "",
              "Lower is better. The floor compares held-out real data with the training data: "
              "a synthetic number near its floor is as close as new real data gets.", "",
              "| metric | synthetic vs real | floor (held-out vs real) |", "|---|---|---|"]
    lines += [f"| {name} | {_format(value)} | {_format(floor)} |" for name, value, floor in _summary_rows(metrics)]
    lines += _by_attribute_table(metrics)
    utility = metrics.get("utility")
    if utility and "skipped" not in utility:
        tstr, ranking = utility["train_on_synthetic_test_on_real"], utility["algorithm_ranking"]
        lines += ["", "## Utility (Fig. 13, Table 5)", "",
                  f"Predicting `{utility['label_attribute']}` from the series. {utility['protocol']}.", "",
                  "| classifier | trained on real, accuracy on real | trained on synthetic, accuracy on real |",
                  "|---|---|---|"]
        lines += [f"| {name} | {_format(tstr['train_real'][name])} | {_format(tstr['train_synthetic'][name])} |"
                  for name in tstr["train_real"]]
        lines += ["", f"Spearman correlation of the classifier rankings, real vs synthetic: "
                      f"{_format(ranking['spearman'])}"]
    elif utility:
        lines += ["", "## Utility", "", f"Skipped: {utility['skipped']}."]
    scores = metrics.get("scores")
    if scores and "skipped" not in scores:
        lines += ["", "## TimeGAN scores", "",
                  f"- discriminative score |accuracy - 0.5| (0 is best): {_format(scores['discriminative'])}",
                  f"- predictive score, next-step MAE on real of a model trained on synthetic: "
                  f"{_format(scores['predictive'])}"]
    privacy = metrics["privacy"]
    lines += ["", "## Privacy (Figs. 15, 21-23)", ""]
    memorization = privacy["memorization"]
    if "skipped" in memorization:
        lines.append(f"- memorization check skipped: {memorization['skipped']}.")
    else:
        lines.append(
            f"- memorization: {100 * memorization['fraction_closer']:.1f}% of synthetic series are closer to the "
            f"training set than the {memorization['percentile']:g}th percentile of held-out series "
            f"(expected {100 * memorization['expected_fraction']:.1f}%, p = {_format(memorization['p_value'], 3)}); "
            f"{100 * memorization['copy_fraction']:.1f}% exact copies; "
            f"**{'FLAGGED' if memorization['flagged'] else 'not flagged'}**.")
    inference = privacy.get("membership_inference")
    if inference and "skipped" not in inference:
        lines.append(f"- membership inference with the critic: success {100 * inference['success_rate']:.1f}% "
                     f"(chance {100 * inference['chance_level']:.1f}%).")
    elif inference:
        lines.append(f"- membership inference skipped: {inference['skipped']}.")
    for section, files in drawn.items():
        lines += ["", f"## {section}", ""] + [f"![{file}]({file})" for file in files]
    lines += ["", f"All numbers: `{METRICS_FILE}`.", ""]
    return "\n".join(lines)


def write_report(
    out: str | Path,
    real: Dataset,
    synthetic: Dataset,
    evaluation: Evaluation,
    *,
    names: ColumnNames | None = None,
    config: EvaluationConfig = EvaluationConfig(),
    title: str = "Synthetic data evaluation",
) -> Path:
    """Write ``metrics.json``, the figures and ``report.md`` into folder ``out``.

    Args:
        out: report folder (created if needed).
        real: the real training data that was evaluated against.
        synthetic: the synthetic data.
        evaluation: what :func:`~dg_tf.evaluation.report.evaluate` returned for them.
        names: column names, as given to ``evaluate``.
        config: the settings given to ``evaluate``.
        title: heading of the page.

    Returns:
        The path of ``report.md``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = ColumnNames.default(real) if names is None else names
    with atomic_write(out / METRICS_FILE, "w") as handle:
        json.dump(evaluation.metrics, handle, indent=2, allow_nan=False)
    drawn = _figures(out, real, synthetic, evaluation, names, config)
    with atomic_write(out / REPORT_FILE, "w") as handle:
        handle.write(_markdown(evaluation.metrics, drawn, title))
    logger.info("wrote %s, %s and %d figures to %s", METRICS_FILE, REPORT_FILE,
                sum(len(f) for f in drawn.values()), out)
    return out / REPORT_FILE
