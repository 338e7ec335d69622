"""dg_tf against gretel-synthetics' DGAN on real data, for fidelity: ``python -m benchmarks.fidelity``.

For each dataset (``--cases``, by default :data:`benchmarks.fidelity_cases.DEFAULT_CASES`:
the bundled FCC MBA triple and three real long tables) it

1. prepares the data once: a seeded split of the series into training data
   and a held-out quarter, written as the file a user would train on (a CSV
   for tables, a case file for the triple);
2. trains each system on it with the same architecture (dg_tf's defaults:
   the paper's with a feature noise of 20 per LSTM pass; ``--architecture``
   gives both other sizes), epochs,
   batch and sample_len, once per seed (:mod:`benchmarks.fidelity_dg`,
   :mod:`benchmarks.fidelity_peer` in the peer's venv), each generating as
   many series as the training set;
3. scores every synthetic set, and the held-out real data (the real-vs-real
   floor), against the training data with :mod:`dg_tf.evaluation`, all in one
   space (each feature min-max scaled by the real training data):

   - ``acf_mse``: ACF-MSE, mean over features (lags weighted by the real
     series that reach them, :func:`dg_tf.evaluation.acf_mse_per_feature`);
   - ``length_w1``: W1 of the lengths divided by the longest real length;
     ``short_fraction``: series shorter than the shortest real one;
     ``too_short_fraction``: shorter than that by more than one sample_len;
   - ``attribute_tv``: total variation of each attribute's label
     distribution, mean over attributes (beside the held-out floor, the
     floor of an exact label model generating as many series:
     :func:`resampled_labels_tv`);
   - ``statistic_w1`` / ``statistic_w1_by_label``: W1 of each series' mean
     of each feature, overall and per attribute label (mean over features,
     attributes and labels);
   - ``tstr``: train-synthetic-test-real accuracy (the paper's five
     classifiers, mean) predicting the case's label attribute of the held-out
     series (the floor row: trained on the real training series).

It writes ``fidelity.json`` (every run and score, the machine, date and
commit) and ``fidelity.md`` (median over seeds with the min-max spread, the
floor, and which system wins each measure) to ``--out``. Runs are
single-threaded and ``--jobs`` of them (default: one per core) run at once. Runs are cached in
``--out/runs`` by their job: a second call reruns only what changed (for
example dg_tf with other ``--dg-overrides`` under another ``--tag``), so the
peer trains once.

Run from the repository root, in dg_tf's environment; the tables are read from
``--data-dir`` (default ``../shared/data``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import hashlib
import json
import logging
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from benchmarks.bench import machine_description
from benchmarks.common import ARCHITECTURES, temporary_name, thread_environment, write_case, write_json
from benchmarks.fidelity_cases import (
    CASES, DEFAULT_CASES, FidelityCase, FidelityJob, Series, batch_size, split_ids, table_series,
)
from benchmarks.peer_env import DEFAULT_VENV, ensure_peer_venv

__all__ = ["main", "score", "resampled_labels_tv", "MEASURES"]

logger = logging.getLogger("benchmarks.fidelity")

REPO = Path(__file__).resolve().parent.parent
DG = "dg_tf"
PEER = "gretel"
SYSTEMS = (DG, PEER)
RUNNERS = {DG: "benchmarks.fidelity_dg", PEER: "benchmarks.fidelity_peer"}
#: the sizes both systems get unless ``--architecture`` says otherwise: dg_tf's defaults (the paper's with a
#: feature noise of 20; ``paper`` gives both the paper's 5).
DEFAULT_ARCHITECTURE = "noise20"
#: measure -> True where higher is better.
MEASURES = {
    "acf_mse": False,
    "length_w1": False,
    "short_fraction": False,
    "too_short_fraction": False,
    "attribute_tv": False,
    "statistic_w1": False,
    "statistic_w1_by_label": False,
    "tstr": True,
}
#: resamples behind :func:`resampled_labels_tv` (its mean moves by about 0.001 between seeds of the draw).
LABEL_RESAMPLES = 10_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fidelity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES),
                        help=f"comma-separated subset of {', '.join(CASES)} [{','.join(DEFAULT_CASES)}]")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="dg_tf, gretel or both (default)")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds per system (0 .. N-1)")
    parser.add_argument("--epochs", type=int, help="override every case's epochs (quick looks; not comparable)")
    parser.add_argument("--max-series", type=int, help="use at most this many series per case (smoke runs)")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data",
                        help="folder of the tables (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "fidelity", help="results and run cache")
    parser.add_argument("--dg-overrides", type=json.loads, default={}, metavar="JSON",
                        help="further DGConfig fields for dg_tf (candidate experiments; use with --tag)")
    parser.add_argument("--architecture", choices=list(ARCHITECTURES), default=DEFAULT_ARCHITECTURE,
                        help="network sizes given to both systems (benchmarks.common.ARCHITECTURES): noise20, dg_tf's "
                             "defaults, the paper's with a feature noise of 20 (default); paper, the paper's (noise 5); "
                             "tiny, smoke runs only")
    parser.add_argument("--tag", default="",
                        help="name of the variant in the cache and the report (the peer's too with --architecture)")
    parser.add_argument("--threads", type=int, default=1,
                        help="framework threads per run (default 1: PyTorch's spinning OpenMP threads slow down "
                             "badly beside other work, and single-threaded runs side by side use the cores best)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="runs at a time (default: one per core)")
    parser.add_argument("--peer-venv", type=Path, default=DEFAULT_VENV, help="the peer's venv (built if missing)")
    args = parser.parse_args(argv)
    args.cases = [n.strip() for n in args.cases.split(",") if n.strip()]
    args.systems = [n.strip() for n in args.systems.split(",") if n.strip()]
    for option, names, known in (("--cases", args.cases, CASES), ("--systems", args.systems, SYSTEMS)):
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            parser.error(f"{option}: unknown {unknown or 'empty'}; choose from {', '.join(known)}")
    for name in ("seeds", "epochs", "max_series", "threads", "jobs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if not isinstance(args.dg_overrides, dict):
        parser.error("--dg-overrides must be a JSON object")
    if (args.dg_overrides or args.architecture != DEFAULT_ARCHITECTURE) and not args.tag:
        parser.error("--dg-overrides and --architecture need a --tag naming the variant")
    return args


# --------------------------------------------------------------------------- data
def _padded(length: int, sample_len: int) -> int:
    return -(-length // sample_len) * sample_len


def prepare(case: FidelityCase, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Split ``case`` once and write its training file; returns the real train and held-out :class:`Series`."""
    folder.mkdir(parents=True, exist_ok=True)
    if case.source == "table":
        source = args.data_dir / case.path
        if not source.is_file():
            raise SystemExit(f"{source}: not found (the harness reads the shared tables; pass --data-dir)")
        frame = pd.read_csv(source).sort_values([case.id_column, case.time_column], kind="stable")
        if case.derived is not None:
            frame = case.derived.add_to(frame, case.id_column, case.feature_columns)
        ids = np.unique(frame[case.id_column])[: args.max_series]
        train_ids, held_ids = split_ids(ids)
        train_frame = frame[frame[case.id_column].isin(train_ids)]
        train_file = folder / "train.csv"
        tmp = temporary_name(train_file)
        train_frame.to_csv(tmp, index=False)
        os.replace(tmp, train_file)  # a runner of another harness call may be reading the old one
        length = _padded(int(train_frame.groupby(case.id_column).size().max()), case.sample_len)
        held_frame = frame[frame[case.id_column].isin(held_ids)]
        held_length = max(length, int(held_frame.groupby(case.id_column).size().max()))
        train = table_series(train_frame, case, length)
        held = table_series(held_frame, case, held_length)
    else:
        from benchmarks.fidelity_dg import dataset_series
        from dg_tf.data.loading import load_dataset

        data = load_dataset(REPO / case.path)
        rows = np.arange(data.num_samples)[: args.max_series]
        train_rows, held_rows = split_ids(rows)
        train_file = folder / "case.npz"
        write_case(train_file, data.features[train_rows], data.attributes[train_rows], data.gen_flags[train_rows],
                   [o.to_dict() for o in data.feature_outputs], [o.to_dict() for o in data.attribute_outputs])
        names = (case.feature_columns, case.attribute_columns)
        everything = dataset_series(data, names)
        train, held = everything.subset(train_rows), everything.subset(held_rows)
        length = data.max_length
    return {"train_file": str(train_file), "train": train, "held": held, "max_length": length}


# ------------------------------------------------------------------------ scoring
def _scaled(series: Series, low: np.ndarray, span: np.ndarray, length: int) -> Series:
    """``series`` with each feature min-max scaled by the real training data, padded to ``length`` steps."""
    features = np.zeros((series.num_series, length, series.features.shape[2]))
    steps = series.features.shape[1]
    active = np.arange(steps)[None, :] < series.lengths[:, None]
    features[:, :steps] = np.where(active[:, :, None], (series.features - low) / span, 0.0)
    return Series(features, series.lengths, series.labels, series.feature_names, series.attribute_names)


def _total_variation(real: np.ndarray, other: np.ndarray) -> float:
    labels = np.union1d(real, other)
    p = np.array([np.mean(real == label) for label in labels])
    q = np.array([np.mean(other == label) for label in labels])
    return float(0.5 * np.abs(p - q).sum())


def resampled_labels_tv(labels: np.ndarray, num_series: int, seed: int = 0) -> float:
    """``attribute_tv`` of an exact model of the labels: the floor of that measure at ``num_series`` series.

    A model that had learned the training labels' joint distribution exactly
    still draws its ``num_series`` label rows at random, so its label
    frequencies miss the real ones by the sampling error alone (about 0.09 for
    60 series of 4 equally common classes). This draws ``num_series`` rows of
    ``labels`` with replacement :data:`LABEL_RESAMPLES` times and scores each
    draw as :func:`score` scores a synthetic set. It returns their mean, not
    their median: a draw's TV takes only multiples of ``1 / num_series`` per
    attribute, so a median can jump a whole step between seeds of the draw.

    Args:
        labels: the real training series' labels, ``[series, attributes]``.
        num_series: how many series a system generates (the harness: as many as ``labels`` has).
        seed: seed of the resampling.

    Returns:
        The mean over the resamples of the mean over attributes of the total variation.
    """
    rows = np.random.default_rng(seed).integers(0, len(labels), size=(LABEL_RESAMPLES, num_series))
    per_attribute = []
    for column in labels.T:
        levels, codes = np.unique(column, return_inverse=True)
        real = np.bincount(codes, minlength=levels.size) / len(column)
        # [resamples, num_series]: each drawn label's code, in its resample's own block of levels.size slots
        slots = codes[rows] + levels.size * np.arange(LABEL_RESAMPLES)[:, None]
        counts = np.bincount(slots.ravel(), minlength=LABEL_RESAMPLES * levels.size).reshape(
            LABEL_RESAMPLES, levels.size)
        per_attribute.append(0.5 * np.abs(counts / num_series - real).sum(axis=1))
    return float(np.mean(per_attribute))


def score(real: Series, held: Series, other: Series, label_attribute: int, sample_len: int,
          floor: bool = False) -> dict[str, Any]:
    """Every measure of ``other`` (synthetic or held-out real) against the real training series ``real``.

    Args:
        real: the real training series (its features define the scaling).
        held: the held-out real series (TSTR's test set).
        other: the series to score.
        label_attribute: index of the attribute TSTR predicts.
        sample_len: S (for ``too_short_fraction``).
        floor: ``other`` is ``held``: TSTR's classifiers then train on ``real``
            (the accuracy real training data gives).

    Returns:
        JSON-ready dict: each of :data:`MEASURES` (NaN as ``None``) and a
        ``detail`` dict (per feature, per attribute, per classifier, lengths).
    """
    from dg_tf.evaluation import (acf_mse_per_feature, classification_accuracies, conditional_wasserstein1,
                                  per_sample_statistic, wasserstein1)

    active = np.arange(real.features.shape[1])[None, :] < real.lengths[:, None]
    values = real.features[active]  # [active steps, K]
    low, span = values.min(axis=0), np.ptp(values, axis=0)
    span = np.where(span > 0, span, 1.0)
    length = max(s.features.shape[1] for s in (real, held, other))
    real, held, other = (_scaled(s, low, span, length) for s in (real, held, other))
    longest, shortest = int(real.lengths.max()), int(real.lengths.min())
    acf = acf_mse_per_feature(real.features, other.features, real_lengths=real.lengths,
                              synthetic_lengths=other.lengths)
    tv = {name: _total_variation(real.labels[:, a], other.labels[:, a]) for a, name in enumerate(real.attribute_names)}
    overall, by_label = {}, {}
    for k, feature in enumerate(real.feature_names):
        real_mean = per_sample_statistic(real.features, real.lengths, k, "mean")
        other_mean = per_sample_statistic(other.features, other.lengths, k, "mean")
        overall[feature] = wasserstein1(real_mean, other_mean)
        by_label[feature] = {
            name: float(np.nanmean(list(conditional_wasserstein1(
                real_mean, real.labels[:, a], other_mean, other.labels[:, a]).values())))
            for a, name in enumerate(real.attribute_names)
        }
    learn = real if floor else other
    labels = learn.labels[:, label_attribute]
    if np.unique(labels).size >= 2:
        accuracies = classification_accuracies(learn.features, learn.lengths, labels, held.features, held.lengths,
                                               held.labels[:, label_attribute])
    else:
        accuracies = {}
    measures = {
        "acf_mse": float(np.nanmean(acf)) if np.isfinite(acf).any() else float("nan"),
        "length_w1": float(wasserstein1(real.lengths, other.lengths) / longest),
        "short_fraction": float(np.mean(other.lengths < shortest)),
        "too_short_fraction": float(np.mean(other.lengths < shortest - sample_len)),
        "attribute_tv": float(np.mean(list(tv.values()))),
        "statistic_w1": float(np.mean(list(overall.values()))),
        "statistic_w1_by_label": float(np.mean([v for f in by_label.values() for v in f.values()])),
        "tstr": float(np.mean(list(accuracies.values()))) if accuracies else float("nan"),
    }
    detail = {
        "acf_mse": dict(zip(real.feature_names, map(float, acf))),
        "attribute_tv": tv,
        "statistic_w1": overall,
        "statistic_w1_by_label": by_label,
        "tstr": accuracies,
        "lengths": {"min": int(other.lengths.min()), "mean": float(other.lengths.mean()),
                    "max": int(other.lengths.max()), "std": float(other.lengths.std()),
                    "real_min": shortest, "real_mean": float(real.lengths.mean()), "real_max": longest},
    }
    return {**{k: (None if math.isnan(v) else v) for k, v in measures.items()}, "detail": detail}


# ------------------------------------------------------------------------- runs
def _run(python: str, system: str, job: FidelityJob, folder: Path) -> dict[str, Any]:
    """One run, or its cached result when ``folder`` holds the same job's output."""
    job_file, result_file = folder / "job.json", folder / "result.json"
    if job_file.is_file() and result_file.is_file() and Path(job.out_file).is_file() \
            and job_file.read_text() == job.to_json():
        return json.loads(result_file.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    job_file.write_text(job.to_json())
    env = {**os.environ, **thread_environment(job.threads)}
    env.pop("PYTHONPATH", None)  # the peer venv must not see dg_tf's packages
    done = subprocess.run([python, "-m", RUNNERS[system], str(job_file), str(result_file)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-20:])
        raise RuntimeError(f"{system} run in {folder} failed (exit {done.returncode}):\n{tail}")
    return json.loads(result_file.read_text())


def code_version(system: str) -> str:
    """dg_tf: a hash of the ``dg_tf/`` tree as it is now (committed and not); the peer: its venv's package."""
    if system == PEER:
        return "gretel-synthetics (peer venv)"
    listed = subprocess.run(["git", "ls-files", "-s", "dg_tf"], cwd=REPO, capture_output=True, text=True).stdout
    changed = subprocess.run(["git", "diff", "HEAD", "--", "dg_tf"], cwd=REPO, capture_output=True, text=True).stdout
    return hashlib.sha1((listed + changed).encode()).hexdigest()[:12]


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, min and max over seeds of each measure (seeds where it is undefined left out)."""
    out = {}
    for measure in MEASURES:
        values = [r["score"][measure] for r in runs if r["score"][measure] is not None]
        out[measure] = ({"median": statistics.median(values), "min": min(values), "max": max(values)}
                        if values else None)
    return out


def run_case(case: FidelityCase, args: argparse.Namespace, pythons: dict[str, str]) -> dict[str, Any]:
    """Prepare, train every system and seed, and score one case."""
    folder = args.out / "runs" / case.name
    data = prepare(case, args, folder / "data")
    real, held = data["train"], data["held"]
    label = list(case.attribute_columns).index(case.label_attribute)
    result: dict[str, Any] = {
        "title": case.title,
        "train_series": real.num_series,
        "held_out_series": held.num_series,
        "max_length": data["max_length"],
        "sample_len": case.sample_len,
        "epochs": args.epochs or case.epochs,
        "batch_size": batch_size(real.num_series),
        "floor": score(real, held, held, label, case.sample_len, floor=True),
        "resampled_labels": {"attribute_tv": resampled_labels_tv(real.labels, real.num_series)},
        "systems": {},
    }
    planned = []
    for system in args.systems:
        varied = system == DG or args.architecture != DEFAULT_ARCHITECTURE  # the peer's change only with the sizes
        name = f"{system}-{args.tag}" if args.tag and varied else system
        for seed in range(args.seeds):
            run_folder = folder / name / f"seed{seed}"
            job = FidelityJob(
                case=case.name, train_file=data["train_file"], out_file=str(run_folder / "synthetic.npz"),
                seed=seed, epochs=result["epochs"], batch_size=result["batch_size"], sample_len=case.sample_len,
                max_length=data["max_length"], num_generate=real.num_series, threads=args.threads,
                architecture=args.architecture,
                dg_overrides=args.dg_overrides if system == DG else {}, code_version=code_version(system),
            )
            planned.append((name, system, seed, job, run_folder))

    def run_one(plan):
        name, system, seed, job, run_folder = plan
        logger.info("%s: %s, seed %d", case.name, name, seed)
        return _run(pythons[system], system, job, run_folder)

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:  # each run is its own process
        timings = list(pool.map(run_one, planned))
    for (name, _, seed, job, _), timing in zip(planned, timings):
        runs = result["systems"].setdefault(name, {"runs": []})["runs"]
        runs.append({"seed": seed, **timing,
                     "score": score(real, held, Series.load(job.out_file), label, case.sample_len)})
    for entry in result["systems"].values():
        entry["summary"] = _summary(entry["runs"])
    return result


# ----------------------------------------------------------------------- report
def _cell(summary: dict[str, Any] | None) -> str:
    """median [min, max] to 3 significant digits (ACF-MSEs near the floor are 0.00x)."""
    if summary is None:
        return "—"
    return f"{summary['median']:.3g} [{summary['min']:.3g}, {summary['max']:.3g}]"


def resampled_labels_note(case: dict[str, Any]) -> list[str]:
    """Lines under a case's table giving the exact label model's ``attribute_tv`` (none for older reports)."""
    if "resampled_labels" not in case:  # reports written before 2026-12-05 lack it
        return []
    return ["", f"attribute_tv of an exact label model generating {case['train_series']} series (the training "
                f"labels resampled, mean of {LABEL_RESAMPLES}): {case['resampled_labels']['attribute_tv']:.3g}."]


def format_report(report: dict[str, Any]) -> str:
    """Markdown: per case, one row per measure: the floor, each system's median [min, max], the better one."""
    lines = []
    for case_name, case in report["cases"].items():
        systems = list(case["systems"])
        lines += [f"### {case_name}: {case['title']}", "",
                  f"{case['train_series']} training / {case['held_out_series']} held-out series, L={case['max_length']},"
                  f" sample_len {case['sample_len']}, {case['epochs']} epochs of batch {case['batch_size']}, "
                  f"{len(case['systems'][systems[0]]['runs'])} seeds; median [min, max] over seeds.", ""]
        head = "| measure | floor (held-out real) | " + " | ".join(systems) + " | better |"
        lines += [head, "|" + "---|" * (len(systems) + 3)]
        for measure, higher in MEASURES.items():
            medians = {s: (case["systems"][s]["summary"][measure] or {}).get("median") for s in systems}
            known = {s: v for s, v in medians.items() if v is not None}
            best = ""
            if len(known) >= 2:
                pick = max if higher else min
                winner = pick(known, key=known.get)
                best = "tie" if len(set(known.values())) == 1 else winner
            floor = case["floor"][measure]
            lines.append(f"| {measure} | {'—' if floor is None else f'{floor:.3g}'} | "
                         + " | ".join(_cell(case["systems"][s]["summary"][measure]) for s in systems)
                         + f" | {best} |")
        lines += resampled_labels_note(case) + [""]
    return "\n".join(lines)


def _commit() -> str | None:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                           text=True)
    if done.returncode != 0:
        return None
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    pythons = {DG: sys.executable}
    if PEER in args.systems:
        pythons[PEER] = str(ensure_peer_venv(args.peer_venv))
    report: dict[str, Any] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": machine_description(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "cases": {},
    }
    for name in args.cases:
        report["cases"][name] = run_case(CASES[name], args, pythons)
    table = format_report(report)
    m = report["machine"]
    footer = (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; commit {report['commit']}; "
              f"{report['date']}")
    print(table + "\n" + footer)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.tag}" if args.tag else ""
    write_json(args.out / f"fidelity{suffix}.json", report)
    (args.out / f"fidelity{suffix}.md").write_text(table + "\n" + footer + "\n")
    return report


if __name__ == "__main__":
    main()
