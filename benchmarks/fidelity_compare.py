"""Several fidelity reports side by side: ``python -m benchmarks.fidelity_compare REPORT.json[=SUFFIX] ... [--readme FILE]``.

Each ``fidelity*.json`` written by :mod:`benchmarks.fidelity` holds one or more
systems (dg_tf variants under their ``--tag``, gretel); this prints one
Markdown table per case with a column per system of every report (median
over seeds, and the spread), the floor, and the best column per measure. A
system of a later report replaces the one of the same name of an earlier
report, unless ``=SUFFIX`` after the report's path renames its systems
(``fidelity-gretel-noise20.json=", noise 20"`` shows the peer at both widths), and
``--rename OLD=NEW`` gives a system another name in every report. It
is how candidate changes were compared (the variants of one dataset must come
from runs with the same split, epochs and seeds; the script checks that).

``--readme FILE`` instead rewrites the part of FILE between the lines
``<!-- fidelity:begin -->`` and ``<!-- fidelity:end -->`` with a compact table
(a row per dataset and system, a column per measure, medians) and the
reports' machine, date and commit: the README's figures come from the
harness's output, never typed by hand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from benchmarks.common import replace_marked_section
from benchmarks.fidelity import MEASURES, _cell, resampled_labels_note

__all__ = ["main", "merge"]

#: What the runs of one case must share to be compared.
SHARED = ("train_series", "held_out_series", "max_length", "sample_len", "epochs", "batch_size")


def merge(reports: Sequence[dict[str, Any]], suffixes: Sequence[str] | None = None,
          renames: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """case -> {"floor", the shared settings, "systems": name -> summary} over all ``reports``
    (and "resampled_labels", the exact label model's ``attribute_tv``, where a report has it).

    ``suffixes[i]`` (default none) is appended to the name of every system of ``reports[i]``, after
    ``renames`` (old name -> new name, every report) has renamed it.

    Raises:
        ValueError: two reports ran a case with different settings.
    """
    cases: dict[str, dict[str, Any]] = {}
    for report, suffix in zip(reports, suffixes or [""] * len(reports)):
        for name, case in report["cases"].items():
            merged = cases.setdefault(name, {key: case[key] for key in (*SHARED, "floor")} | {"systems": {}})
            differ = [key for key in SHARED if merged[key] != case[key]]
            if differ:
                raise ValueError(f"{name}: reports differ in {', '.join(differ)}")
            if "resampled_labels" in case:
                merged.setdefault("resampled_labels", case["resampled_labels"])
            for system, entry in case["systems"].items():
                merged["systems"][(renames or {}).get(system, system) + suffix] = entry["summary"]
    return cases


def format_comparison(cases: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, case in cases.items():
        systems = list(case["systems"])
        lines += [f"### {name} ({case['epochs']} epochs, sample_len {case['sample_len']})", "",
                  "| measure | floor | " + " | ".join(systems) + " | best |", "|" + "---|" * (len(systems) + 3)]
        for measure, higher in MEASURES.items():
            medians = {s: (case["systems"][s][measure] or {}).get("median") for s in systems}
            known = {s: v for s, v in medians.items() if v is not None}
            best = ((max if higher else min)(known, key=known.get) if len(set(known.values())) > 1 else "tie"
                    ) if known else ""
            floor = case["floor"][measure]
            lines.append(f"| {measure} | {'—' if floor is None else f'{floor:.3g}'} | "
                         + " | ".join(_cell(case["systems"][s][measure]) for s in systems) + f" | {best} |")
        lines += resampled_labels_note(case) + [""]
    return "\n".join(lines)


BEGIN, END = "<!-- fidelity:begin -->", "<!-- fidelity:end -->"


def format_summary(cases: dict[str, dict[str, Any]], reports: Sequence[dict[str, Any]]) -> str:
    """A row per dataset and system (the floors first), a column per measure: medians over seeds."""
    head = "| dataset | data | " + " | ".join(MEASURES) + " |"
    lines = [head, "|" + "---|" * (len(MEASURES) + 2)]
    for name, case in cases.items():
        rows = [("held-out real (floor)", case["floor"])]
        if "resampled_labels" in case:
            rows.append(("exact label model (floor)", dict.fromkeys(MEASURES) | case["resampled_labels"]))
        rows += [(system, {m: (v or {}).get("median") for m, v in summary.items()})
                 for system, summary in case["systems"].items()]
        for label, values in rows:
            cells = ["—" if values[m] is None else f"{values[m]:.3g}" for m in MEASURES]
            lines.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
    sources = sorted({(r["date"], r["commit"], r["machine"]["cpu"], r["machine"]["cores"]) for r in reports})
    lines += [""] + [f"Measured {date} at commit `{commit}` on {cpu} ({cores} cores)." for date, commit, cpu, cores
                     in sources]
    return "\n".join(lines)


def replace_section(text: str, body: str, source: str) -> str:
    """``text`` with the lines between :data:`BEGIN` and :data:`END` replaced by ``body``
    (:func:`benchmarks.common.replace_marked_section`).

    Raises:
        ValueError: the markers are missing or out of order (naming ``source``).
    """
    return replace_marked_section(text, body, BEGIN, END, source)


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fidelity_compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", help="fidelity*.json files, each optionally =SUFFIX for its systems' names")
    parser.add_argument("--readme", type=Path, help="rewrite this file's fidelity section instead of printing")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                        help="show system OLD of every report as NEW (e.g. gretel-paper=gretel: the peer at the "
                             "paper's sizes, run under a --tag, beside earlier reports that call it gretel)")
    args = parser.parse_args(argv)
    paths, suffixes = zip(*(report.partition("=")[::2] for report in args.reports))
    renames = dict(rename.partition("=")[::2] for rename in args.rename)
    if not all(renames) or not all(renames.values()):
        parser.error(f"--rename needs OLD=NEW, got {args.rename}")
    reports = [json.loads(Path(path).read_text()) for path in paths]
    cases = merge(reports, suffixes, renames)
    if args.readme is None:
        table = format_comparison(cases)
        print(table)
        return table
    body = format_summary(cases, reports)
    try:
        args.readme.write_text(replace_section(args.readme.read_text(), body, str(args.readme)))
    except ValueError as err:
        parser.error(str(err))
    return body


if __name__ == "__main__":
    main()
