"""Several fidelity reports side by side: ``python -m benchmarks.fidelity_compare REPORT.json ...``.

Each ``fidelity*.json`` written by :mod:`benchmarks.fidelity` holds one or more
systems (dg_tf variants under their ``--tag``, gretel); this prints one
Markdown table per case with a column per system of every report (median
over seeds, and the spread), the floor, and the best column per measure. It
is how candidate changes were compared (the variants of one dataset must come
from runs with the same split, epochs and seeds; the script checks that).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from benchmarks.fidelity import MEASURES, _cell

__all__ = ["main", "merge"]

#: What the runs of one case must share to be compared.
SHARED = ("train_series", "held_out_series", "max_length", "sample_len", "epochs", "batch_size")


def merge(reports: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """case -> {"floor", the shared settings, "systems": name -> summary} over all ``reports``.

    Raises:
        ValueError: two reports ran a case with different settings.
    """
    cases: dict[str, dict[str, Any]] = {}
    for report in reports:
        for name, case in report["cases"].items():
            merged = cases.setdefault(name, {key: case[key] for key in (*SHARED, "floor")} | {"systems": {}})
            differ = [key for key in SHARED if merged[key] != case[key]]
            if differ:
                raise ValueError(f"{name}: reports differ in {', '.join(differ)}")
            for system, entry in case["systems"].items():
                merged["systems"][system] = entry["summary"]
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
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fidelity_compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="fidelity*.json files")
    args = parser.parse_args(argv)
    table = format_comparison(merge([json.loads(path.read_text()) for path in args.reports]))
    print(table)
    return table


if __name__ == "__main__":
    main()
