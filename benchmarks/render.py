"""The benchmark's tables from its JSON: ``python -m benchmarks.render RESULTS.json [--readme FILE]``.

Reads a file written by ``python -m benchmarks.bench --out RESULTS.json`` and
prints what the benchmark printed: a line on where and how it was measured
(date, commit, machine, versions, load, command), a throughput table, a table
of memory, model FLOP/s and cold start, and summary lines. Generation is
reported twice and the two are never mixed: full rollouts on both sides
(dg_tf with ``generate_early_exit=False``), and each side's natural mode
(dg_tf's row groups stop once all their series have ended; gretel always
rolls out every step), each with the mean generated length.

``--readme FILE`` instead rewrites the part of FILE between the lines
``<!-- bench:begin -->`` and ``<!-- bench:end -->`` with it, so the README's
figures come from the JSON, never typed by hand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from benchmarks.common import replace_marked_section

__all__ = ["BEGIN", "END", "format_report", "main", "summary_lines"]

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
DG, PEER = "dg_tf", "gretel"


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"**{value:.2f}**"


def _table(head: Sequence[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]


def throughput_table(cases: dict[str, dict[str, Any]]) -> list[str]:
    """Training and generation samples/s (medians), ratios dg_tf / gretel, and mean generated lengths (steps)."""
    head = ["case", "train dg_tf", "gretel", "ratio", "generate, full rollouts dg_tf", "gretel", "ratio",
            "generate, natural mode dg_tf", "gretel", "ratio", "mean generated length dg_tf", "gretel"]
    rows = []
    for name, c in cases.items():
        dg, peer, ratio = c[DG], c.get(PEER, {}), c.get("ratio", {})
        row = [name]
        for key in ("train_samples_per_s", "generate_full_samples_per_s", "generate_samples_per_s"):
            row += [_fmt(dg[key]), _fmt(peer.get(key)), _ratio(ratio.get(key))]
        row += [_fmt(dg["generate_mean_length"], 1), _fmt(peer.get("generate_mean_length"), 1)]
        rows.append(row)
    return _table(head, rows)


def resources_table(cases: dict[str, dict[str, Any]]) -> list[str]:
    """Peak memory (MiB), dg_tf's model FLOP/s, and its cold start (s) beside the steady state."""
    head = ["case", "peak RSS MiB dg_tf", "gretel", "ratio", "dg_tf model GFLOP/s", "% of matmul peak",
            "cold start: CLI s", "Python API s", "of which dg_tf s", "steady state: one batch s"]
    rows = []
    for name, c in cases.items():
        dg, peer, ratio, cold = c[DG], c.get(PEER, {}), c.get("ratio", {}), c["cold_start"]
        rows.append([name, _fmt(dg["peak_rss_mib"]), _fmt(peer.get("peak_rss_mib")),
                     _fmt(ratio.get("peak_rss_mib"), 2), _fmt(dg["model_flops_per_s"] / 1e9, 2),
                     _fmt(100 * dg["fraction_of_matmul_peak"], 1), _fmt(cold["cli_s"], 2), _fmt(cold["api_s"], 2),
                     _fmt(cold["dg_tf_share_s"], 2), _fmt(cold["steady_batch_s"], 3)])
    return _table(head, rows)


def _span(values: dict[str, float], digits: int = 2, unit: str = "x") -> str:
    """'a{unit} (case) to b{unit} (case)' over the cases, or the one value."""
    low, high = min(values, key=values.get), max(values, key=values.get)
    if values[low] == values[high]:
        where = low if len(values) == 1 else ("both cases" if len(values) == 2 else f"all {len(values)} cases")
        return f"{values[low]:.{digits}f}{unit} ({where})"
    return f"{values[low]:.{digits}f}{unit} ({low}) to {values[high]:.{digits}f}{unit} ({high})"


def summary_lines(cases: dict[str, dict[str, Any]]) -> list[str]:
    """One line per comparison: training, generation with full rollouts, generation in each side's natural
    mode (never mixed), and the cold start; ratio lines only where a peer ran."""
    lines = []
    ratios = {name: c["ratio"] for name, c in cases.items() if "ratio" in c}
    if ratios:
        for key, label in (("train_samples_per_s", "Training"),
                           ("generate_full_samples_per_s", "Generation, full rollouts on both sides"),
                           ("generate_samples_per_s", "Generation, each side's natural mode (dg_tf stops a row "
                                                      "group once all its series have ended; gretel rolls out "
                                                      "every step)")):
            lines.append(f"- **{label}:** dg_tf / gretel samples/s "
                         f"{_span({name: r[key] for name, r in ratios.items()})}.")
    cold = {name: c["cold_start"] for name, c in cases.items()}
    lines.append(
        "- **Cold start** (dg_tf, a fresh process to its first generated batch): command line "
        f"{_span({n: c['cli_s'] for n, c in cold.items()}, unit=' s')}; Python API "
        f"{_span({n: c['api_s'] for n, c in cold.items()}, unit=' s')}, of which dg_tf's own share beyond "
        f"importing TensorFlow {_span({n: c['dg_tf_share_s'] for n, c in cold.items()}, unit=' s')}; one batch "
        f"in a warm process {_span({n: c['steady_batch_s'] for n, c in cold.items()}, 3, ' s')}."
    )
    return lines


def _versions(cases: dict[str, dict[str, Any]]) -> str:
    """Each side's package versions, as its runs reported them."""
    sides: dict[str, dict[str, str]] = {}
    for case in cases.values():
        for side, side_runs in case["runs"].items():
            for run in side_runs:
                sides.setdefault(side, {}).update(run.get("versions", {}))
    return "; ".join(f"{side}: " + ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
                     for side, versions in sides.items())


def _windows(cases: dict[str, dict[str, Any]]) -> str:
    """The shortest and longest timed windows, seconds, of training and generation over every run."""
    parts = []
    for label, keys in (("training", ("train_window_s",)),
                        ("generation", ("generate_window_s", "generate_full_window_s"))):
        values = [run[key] for case in cases.values() for side_runs in case["runs"].values()
                  for run in side_runs for key in keys if run.get(key) is not None]
        if values:
            parts.append(f"{label} {min(values):.1f} to {max(values):.1f} s")
    return "; ".join(parts)


def format_report(report: dict[str, Any]) -> str:
    """Everything :mod:`benchmarks.bench` prints, as Markdown, from its report (the JSON it writes)."""
    m, settings, cases = report["machine"], report["settings"], report["cases"]
    header = (
        f"Measured {report['date']} at commit `{report.get('commit')}` on {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, {m['system']}, Python {m['python']}; {_versions(cases)}; "
        f"threads {settings['threads']}. Load average {m['load_average']} at the start, "
        f"{m.get('load_average_end')} at the end. Command: `{report.get('command')}`"
        + (f" ({report['wall_s'] / 60:.0f} min wall)" if report.get("wall_s") else "") + ". "
        f"Medians of {settings['reps']} repetition{'s' if settings['reps'] != 1 else ''}; timed windows of at least {settings['min_window']} s "
        f"({_windows(cases)})."
    )
    lines = [header, "", *throughput_table(cases), "", *resources_table(cases), "", *summary_lines(cases)]
    lines += [f"\n**WARNING:** {warning}" for warning in report.get("warnings", [])]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="the JSON of python -m benchmarks.bench --out")
    parser.add_argument("--readme", type=Path, help="rewrite this file's bench section instead of printing")
    args = parser.parse_args(argv)
    body = format_report(json.loads(args.results.read_text()))
    if args.readme is None:
        print(body)
        return body
    try:
        args.readme.write_text(replace_marked_section(args.readme.read_text(), body, BEGIN, END, str(args.readme)))
    except ValueError as err:
        parser.error(str(err))
    return body


if __name__ == "__main__":
    main()
