"""dg_tf against gretel-synthetics' DGAN, side by side: ``python -m benchmarks.bench``.

For each case (:mod:`benchmarks.cases`) and each of ``--reps`` repetitions it
runs dg_tf (:mod:`benchmarks.dg_runner`) and the peer
(:mod:`benchmarks.peer_runner`, in its own venv, :mod:`benchmarks.peer_env`)
one after the other, each in a fresh process on the same ``case.npz``,
alternating which goes first. It prints a Markdown table of the medians:
training and generation samples/s, peak resident memory, dg_tf/peer ratios,
and dg_tf's model FLOP/s (:mod:`benchmarks.flops`) as a fraction of the
machine's dense-matmul FLOP/s measured in the same process. ``--out`` writes
every number (each repetition too) as JSON.

Run from the repository root, in dg_tf's environment. ``--tiny`` is the CI
smoke size (tiny data and networks; its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

from benchmarks.cases import CASES, TINY_BATCH, Case
from benchmarks.common import Job, thread_environment, write_case, write_json
from benchmarks.flops import Shape, generation_flops, training_flops
from benchmarks.peer_env import DEFAULT_VENV, ensure_peer_venv

__all__ = ["main", "run_case", "machine_description", "format_table"]

logger = logging.getLogger("benchmarks.bench")

REPO = Path(__file__).resolve().parent.parent
DG = "dg_tf"
PEER = "gretel"
RUNNERS = {DG: "benchmarks.dg_runner", PEER: "benchmarks.peer_runner"}
METRICS = ("train_samples_per_s", "generate_samples_per_s", "peak_rss_mib", "train_peak_rss_mib", "baseline_rss_mib")
#: A 1-minute load average above this at the start means something else is running: the numbers
#: are then not comparable (PyTorch's OpenMP threads suffer far more from a busy core than TensorFlow's).
QUIET_LOAD = 0.5


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated subset of {', '.join(CASES)} (default: all)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per case and side; medians reported")
    parser.add_argument("--steps", type=int, default=20,
                        help="timed training steps per run (after one warm-up epoch); rounded up to whole epochs")
    parser.add_argument("--steps-per-epoch", type=int, default=10,
                        help="synthetic cases get steps-per-epoch x batch series (FCC MBA has 600)")
    parser.add_argument("--gen-n", type=int, default=None, help="series generated in the timed call "
                        "(default: per case, 10000; 2000 for cluster_trace)")
    parser.add_argument("--gen-batch", type=int, default=1000, help="series per generator forward pass, both sides")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="intra- and inter-op threads of both frameworks (default: all cores)")
    parser.add_argument("--skip-peer", action="store_true", help="run dg_tf only (no peer venv needed)")
    parser.add_argument("--peer-venv", type=Path, default=DEFAULT_VENV,
                        help="the peer's venv, built there if missing (default: %(default)s)")
    parser.add_argument("--peer-stock-critic", action="store_true",
                        help="leave gretel's hard-coded 5x200 critics (default: the paper's 4x200 on both sides)")
    parser.add_argument("--tiny", action="store_true", help="CI smoke size: tiny data, networks and steps")
    parser.add_argument("--out", type=Path, help="write all numbers as JSON here")
    parser.add_argument("--workdir", type=Path, help="keep case files and run results here (default: a temp dir)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown or not names:
        parser.error(f"--cases: unknown {unknown or 'empty'}; choose from {', '.join(CASES)}")
    args.cases = names
    for name in ("reps", "steps", "steps_per_epoch", "gen_batch", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.gen_n is not None and args.gen_n < 1:
        parser.error("--gen-n must be >= 1")
    return args


def machine_description() -> dict[str, Any]:
    """CPU model, cores, memory, OS and the load average (the load is part of the result)."""
    cpu = platform.processor() or platform.machine()
    memory_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "system": platform.platform(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _run_side(python: str, side: str, job: Job, workdir: Path, tag: str) -> dict[str, Any]:
    job_file = workdir / f"{tag}-{side}-job.json"
    result_file = workdir / f"{tag}-{side}-result.json"
    job_file.write_text(job.to_json())
    env = {**os.environ, **thread_environment(job.threads)}
    env.pop("PYTHONPATH", None)  # the peer venv must not see dg_tf's packages
    done = subprocess.run([python, "-m", RUNNERS[side], str(job_file), str(result_file)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{side} run {tag} failed (exit {done.returncode}):\n{tail}")
    return json.loads(result_file.read_text())


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def run_case(case: Case, args: argparse.Namespace, pythons: dict[str, str], workdir: Path) -> dict[str, Any]:
    """All repetitions of one case; returns its medians, ratios, FLOP figures and every run."""
    data = case.build(tiny=args.tiny, steps_per_epoch=args.steps_per_epoch)
    case_file = workdir / f"{case.name}.npz"
    write_case(case_file, data.features, data.attributes, data.gen_flags,
               data.feature_outputs, data.attribute_outputs)
    batch = TINY_BATCH if args.tiny else case.batch_size
    num_series, length = data.features.shape[:2]
    steps_per_epoch = num_series // batch
    gen_n = args.gen_n or (2 * TINY_BATCH if args.tiny else case.gen_n)
    gen_batch = TINY_BATCH if args.tiny else args.gen_batch
    job = Job(
        case_file=str(case_file),
        architecture="tiny" if args.tiny else "paper",
        sample_len=case.sample_len,
        batch_size=batch,
        epochs=1 + math.ceil(args.steps / steps_per_epoch),
        gen_n=gen_n,
        gen_batch=gen_batch,
        threads=args.threads,
        matmul_size=256 if args.tiny else 2048,
        peer_stock_critic=args.peer_stock_critic,
    )
    shape = Shape.of(length, case.sample_len, data.feature_outputs, data.attribute_outputs)
    train_flops = training_flops(shape, job.arch)
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in pythons}
    for rep in range(args.reps):
        order = list(pythons) if rep % 2 == 0 else list(reversed(pythons))
        for side in order:
            logger.info("%s: repetition %d/%d, %s", case.name, rep + 1, args.reps, side)
            result = _run_side(pythons[side], side, job, workdir, f"{case.name}-{rep}")
            if side == DG:
                result["model_flops_per_s"] = train_flops * result["train_samples_per_s"]
                result["fraction_of_matmul_peak"] = result["model_flops_per_s"] / result["matmul_flops_per_s"]
            runs[side].append(result)
    summary: dict[str, Any] = {
        "title": case.title,
        "num_series": int(num_series),
        "max_length": int(length),
        "mean_length": float(data.gen_flags.sum(axis=1).mean()),
        "job": json.loads(job.to_json()),
        "runs": runs,
        "flops_per_training_sample": train_flops,
        "flops_per_generated_sample": generation_flops(shape, job.arch),
    }
    for side, side_runs in runs.items():
        summary[side] = {key: _median(side_runs, key) for key in METRICS}
    summary[DG]["model_flops_per_s"] = _median(runs[DG], "model_flops_per_s")
    summary[DG]["matmul_flops_per_s"] = _median(runs[DG], "matmul_flops_per_s")
    summary[DG]["fraction_of_matmul_peak"] = _median(runs[DG], "fraction_of_matmul_peak")
    if PEER in runs:
        summary["ratio"] = {key: summary[DG][key] / summary[PEER][key] for key in METRICS
                            if summary[DG][key] is not None and summary[PEER][key] is not None}
    return summary


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def format_table(cases: dict[str, dict[str, Any]]) -> str:
    """Markdown table of the medians (one row per case)."""
    head = ("| case | train samples/s dg_tf | gretel | ratio | generate samples/s dg_tf | gretel | ratio "
            "| peak RSS MiB dg_tf | gretel | ratio | dg_tf model GFLOP/s | % of matmul peak |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, c in cases.items():
        dg, peer, ratio = c[DG], c.get(PEER, {}), c.get("ratio", {})
        cells = [name]
        for key, digits in (("train_samples_per_s", 0), ("generate_samples_per_s", 0), ("peak_rss_mib", 0)):
            cells += [_fmt(dg[key], digits), _fmt(peer.get(key), digits), _fmt(ratio.get(key), 2)]
        cells += [_fmt(dg["model_flops_per_s"] / 1e9, 2), _fmt(100 * dg["fraction_of_matmul_peak"], 1)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    pythons = {DG: sys.executable}
    if not args.skip_peer:
        pythons[PEER] = str(ensure_peer_venv(args.peer_venv))
    report: dict[str, Any] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_description(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "cases": {},
        "warnings": [],
    }
    load = report["machine"]["load_average"][0]
    if load > QUIET_LOAD:
        report["warnings"].append(
            f"the machine is busy (1-minute load average {load} > {QUIET_LOAD} before the run): "
            "these numbers are not comparable; rerun on a quiet machine"
        )
        logger.warning(report["warnings"][-1])
    with tempfile.TemporaryDirectory(prefix="dg_tf_bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for name in args.cases:
            report["cases"][name] = run_case(CASES[name], args, pythons, workdir)
    report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(format_table(report["cases"]))
    m = report["machine"]
    print(f"\n{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; threads {args.threads}; "
          f"load average {m['load_average']} at start, {m['load_average_end']} at end; {report['date']}")
    for warning in report["warnings"]:
        print(f"WARNING: {warning}")
    if args.out:
        write_json(args.out, report)
    return report


if __name__ == "__main__":
    main()
