"""Plumbing shared by the paper-reproduction experiments (Lin et al., IMC 2020, §5-§6).

Every experiment command (``python -m experiments.<dataset>.<name> --out DIR``)

- records what it ran in ``DIR/config.json`` (:func:`start_experiment`): its
  arguments, every model configuration, the seeds and the machine;
- trains DoppelGANger (:func:`train_dg`) and the paper's baselines
  (:func:`train_baseline`), timing each, with log lines instead of prints;
- writes its numbers as ``DIR/results.json`` and its tables as
  ``DIR/results.md`` (:func:`write_results`), figures as PNG, every file
  atomically (through :mod:`evaluation.common`'s writers).

:func:`dataset_experiment` is the whole flow of one DG run on a converted
paper dataset (WWT, GCUT): train, generate, :func:`dg_tf.evaluation.evaluate`
and its report, and a table of the paper's claims (:class:`Claim`) next to
ours.

The metrics themselves come from :mod:`dg_tf.evaluation`; nothing here
computes one.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import logging
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from dg_tf.cli import fail
from dg_tf.config import DGConfig
from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import load_dataset, save_npz
from dg_tf.errors import ConfigError
from dg_tf.evaluation import ColumnNames, EvaluationConfig, dataset_names, evaluate, write_report
from dg_tf.fileio import atomic_write
from dg_tf.model import DoppelGANger
from dg_tf.seeding import derive_seed
from dg_tf.training import ProgressBar
from evaluation.common import markdown_table, save_json
from experiments.baselines import BASELINES
from experiments.baselines.common import Baseline

__all__ = [
    "REPO",
    "CONFIG_FILE",
    "RESULTS_FILE",
    "TABLES_FILE",
    "json_object",
    "int_list",
    "machine",
    "start_experiment",
    "dg_overrides",
    "train_dg",
    "train_baseline",
    "subset",
    "write_results",
    "Claim",
    "claims_frame",
    "truncate",
    "add_dataset_arguments",
    "dataset_experiment",
]

logger = logging.getLogger("experiments")

REPO = Path(__file__).resolve().parent.parent
#: The record of what an experiment ran (arguments, model configs, seeds, machine).
CONFIG_FILE = "config.json"
#: Every number an experiment measured.
RESULTS_FILE = "results.json"
#: The experiment's tables as Markdown.
TABLES_FILE = "results.md"


def json_object(text: str) -> dict[str, Any]:
    """argparse type: a JSON object given inline (``'{"feature_lstm_units": 8}'``).

    Raises:
        argparse.ArgumentTypeError: not JSON, or not an object.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not JSON ({err})") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text!r} must be a JSON object")
    return value


def int_list(text: str) -> list[int]:
    """argparse type: comma-separated positive integers (``"1,4,8"``), duplicates dropped.

    Raises:
        argparse.ArgumentTypeError: a value is not a positive integer, or none is given.
    """
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers") from err
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected positive integers")
    return list(dict.fromkeys(values))


def _cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Where and when the experiment runs: date, CPU, core count, load, library versions."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15_min": load,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }


def start_experiment(out: Path, command: str, settings: Mapping[str, Any]) -> Path:
    """Create ``out`` and write ``out/config.json``: the command, its settings and the machine.

    Args:
        out: the experiment's output folder (created if needed).
        command: the module run, e.g. ``"experiments.fcc_mba.run"``.
        settings: every choice of the run (arguments, model configurations as
            dicts, seeds); must be JSON-ready.

    Returns:
        ``out``.
    """
    out.mkdir(parents=True, exist_ok=True)
    save_json(out, CONFIG_FILE, {"command": f"python -m {command}", "settings": dict(settings), "machine": machine()})
    return out


def dg_overrides(config: DGConfig, overrides: Mapping[str, Any] | None) -> DGConfig:
    """``config`` with the DGConfig fields in ``overrides`` replaced (e.g. tiny sizes for a smoke test).

    Raises:
        ConfigError: an unknown field or a bad value (the message names it).
    """
    if not overrides:
        return config
    try:
        return config.replace(**dict(overrides))
    except ConfigError as err:
        raise ConfigError(f"--dg-overrides: {err}") from err


def train_dg(dataset: Dataset, config: DGConfig, run_dir: Path, source: str) -> tuple[DoppelGANger, float]:
    """Train DoppelGANger on ``dataset``; the run folder gets config, weights, logs (and ``privacy.json``).

    Args:
        dataset: training data [N, L, K].
        config: the full configuration (seeded by ``config.seed``).
        run_dir: the run folder (``DoppelGANger.fit(run_dir=...)``).
        source: name of the data's origin, for errors and logs.

    Returns:
        ``(model, seconds of training)``.
    """
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    began = time.perf_counter()
    model.fit(dataset, run_dir=run_dir, callbacks=[ProgressBar()], source=source)
    seconds = time.perf_counter() - began
    logger.info("%s: trained in %.0f s", run_dir.name, seconds)
    return model, seconds


def train_baseline(
    name: str, dataset: Dataset, options: Mapping[str, Any], seed: int, source: str
) -> tuple[Baseline, float]:
    """Train the baseline ``name`` (``hmm``, ``ar``, ``rnn``, ``naive_gan``) with constructor ``options``.

    Returns:
        ``(model, seconds of training)``.

    Raises:
        ConfigError: an unknown baseline or constructor argument.
    """
    if name not in BASELINES:
        raise ConfigError(f"unknown baseline {name!r} (known: {', '.join(sorted(BASELINES))})")
    try:
        model = BASELINES[name](**{**options, "seed": seed})
    except TypeError as err:
        raise ConfigError(f"baseline {name}: {err}") from err
    began = time.perf_counter()
    model.fit(dataset, source=source)
    seconds = time.perf_counter() - began
    logger.info("%s: trained in %.0f s", name, seconds)
    return model, seconds


def subset(dataset: Dataset, rows: Sequence[int] | np.ndarray) -> Dataset:
    """The series ``rows`` of ``dataset`` (in that order), without its extras."""
    rows = np.asarray(rows, dtype=np.int64)
    return dataclasses.replace(dataset, features=dataset.features[rows], attributes=dataset.attributes[rows],
                               gen_flags=dataset.gen_flags[rows], extras={})


def write_results(out: Path, results: Mapping[str, Any], title: str, sections: Sequence[tuple[str, str]]) -> None:
    """Write ``out/results.json`` (``results``) and ``out/results.md`` (a title, then each section).

    Args:
        out: the experiment folder.
        results: every number (JSON-ready; NaN becomes null).
        title: the page heading.
        sections: ``(heading, Markdown body)`` pairs, e.g. a caption and a table.
    """
    save_json(out, RESULTS_FILE, results)
    text = [f"# {title}", ""]
    for heading, body in sections:
        text += [f"## {heading}", "", body.rstrip(), ""]
    path = out / TABLES_FILE
    with atomic_write(path, "w") as handle:
        handle.write("\n".join(text))
    logger.info("wrote %s", path)


# --------------------------------------------------------------------------- #
# One DG run on a converted paper dataset (WWT, GCUT)
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class Claim:
    """One number the paper reports, and where the experiment's own number is.

    Attributes:
        source: the paper's table or figure, e.g. ``"Table 3"``.
        description: what is measured.
        paper: the paper's number for DG (text; ``"figure only"`` if none is printed).
        ours: extracts our number from the results (``{"fidelity", "floor",
            "utility", "privacy", ...}``); a missing part gives ``None``.
        floor: extracts the real reference, if the metric has one: the
            held-out real data's number (the floor), or for train-on-synthetic
            scores the score of training on real data.
    """

    source: str
    description: str
    paper: str
    ours: Callable[[Mapping[str, Any]], Any]
    floor: Callable[[Mapping[str, Any]], Any] | None = None


def _extract(extractor: Callable[[Mapping[str, Any]], Any] | None, results: Mapping[str, Any]) -> Any:
    """``extractor(results)``, or ``None`` where the part it reads was skipped or is missing."""
    if extractor is None:
        return None
    try:
        return extractor(results)
    except (KeyError, TypeError, IndexError):
        return None


def claims_frame(claims: Sequence[Claim], results: Mapping[str, Any]) -> pd.DataFrame:
    """One row per claim: source, what, the paper's number, ours and the real reference."""
    rows = [[c.source, c.description, c.paper, _extract(c.ours, results), _extract(c.floor, results)]
            for c in claims]
    return pd.DataFrame(rows, columns=["paper", "claim", "paper's DG", "ours", "real reference"]).set_index("paper")


def truncate(dataset: Dataset, max_length: int) -> Dataset:
    """The first ``max_length`` steps of every series (a series running past them ends there).

    Raises:
        ConfigError: ``max_length`` is not in [1, L].
    """
    if not 1 <= max_length <= dataset.max_length:
        raise ConfigError(f"--max-length {max_length} must lie in [1, {dataset.max_length}]")
    return dataclasses.replace(dataset, features=dataset.features[:, :max_length],
                               gen_flags=dataset.gen_flags[:, :max_length], extras={})


def experiment_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """The parser of ``python -m prog`` (described by the first line of ``doc``) with its ``--out`` folder."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=doc.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    return parser


def resolve_epochs(args: argparse.Namespace, default: int) -> int:
    """``--epochs``, else 1 with ``--quick``, else ``default``; exits with a one-line error below 1."""
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else default)
    if epochs < 1:
        fail(f"--epochs {epochs} must be >= 1")
    return epochs


def add_dataset_arguments(parser: argparse.ArgumentParser, epochs: int, sample_len: int) -> None:
    """Flags of a paper-dataset experiment: data, budget, model overrides, evaluation switches."""
    parser.add_argument("--data", type=Path, required=True,
                        help="dataset folder written by the converter (data_train.npz, optional data_test.npz)")
    parser.add_argument("--epochs", type=int, default=epochs, help="training epochs (the paper's)")
    parser.add_argument("--sample-len", type=int, default=sample_len, help="sample_len S (the paper's)")
    parser.add_argument("--num-generate", type=int, default=None, help="series to generate [training size]")
    parser.add_argument("--max-length", type=int, default=None,
                        help="keep only the first N steps of every series (quick runs and tests)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the model, generation and evaluation")
    parser.add_argument("--dg-overrides", type=json_object, default={}, metavar="JSON",
                        help="further DGConfig fields (not epochs or sample_len)")
    parser.add_argument("--no-utility", action="store_true", help="skip train-on-synthetic / test-on-real")
    parser.add_argument("--scores", action="store_true",
                        help="also compute TimeGAN's discriminative and predictive scores (slow)")
    parser.add_argument("--score-iterations", type=int, default=None, help="training batches of each score's GRU")


def dataset_experiment(
    prog: str,
    title: str,
    args: argparse.Namespace,
    base: DGConfig,
    claims: Callable[[ColumnNames], Sequence[Claim]],
    extra: Callable[[Dataset, Dataset, Dataset | None, ColumnNames], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Train DG on a converted paper dataset, evaluate it against the paper's claims, write everything.

    Reads ``args.data`` (train split; the test split, when present, is the
    held-out set A' and the floor), optionally truncated to
    ``args.max_length`` steps; trains ``base`` with ``args.epochs``,
    ``args.sample_len``, ``args.seed`` and ``args.dg_overrides``; generates
    ``args.num_generate`` series (``synthetic.npz``); runs
    :func:`dg_tf.evaluation.evaluate` (membership inference with the trained
    critic when there is a held-out set) and writes its report under
    ``report/``; adds ``extra(real, synthetic, holdout, names)``; writes
    ``config.json``, ``results.json`` and ``results.md`` (the table of
    ``claims(names)``, built once the column names are known).

    Returns:
        The results (``fidelity``, ``floor``, ``utility``, ``privacy``, the
        extra keys, ``train_seconds``, ``wall_seconds``).

    Raises:
        ConfigError: a bad flag value.
        DataFormatError: the dataset folder is malformed.
    """
    began = time.perf_counter()
    if "epochs" in args.dg_overrides or "sample_len" in args.dg_overrides:
        raise ConfigError("--dg-overrides: set epochs with --epochs and sample_len with --sample-len")
    config = dg_overrides(base.replace(epochs=args.epochs, sample_len=args.sample_len, seed=args.seed),
                          args.dg_overrides)
    real = load_dataset(args.data)
    holdout = load_dataset(args.data, "test") if (args.data / "data_test.npz").is_file() else None
    if args.max_length is not None:
        real = truncate(real, args.max_length)
        holdout = truncate(holdout, args.max_length) if holdout is not None else None
    num = real.num_samples if args.num_generate is None else args.num_generate
    if num < 2:
        raise ConfigError(f"--num-generate {num} must be >= 2 (utility splits the synthetic set in two)")
    names = dataset_names(args.data, real)
    evaluation_config = EvaluationConfig(utility=not args.no_utility, scores=args.scores,
                                         score_iterations=args.score_iterations, seed=args.seed)
    out = start_experiment(args.out, prog, {
        "data": str(args.data), "training_series": real.num_samples, "max_length": real.max_length,
        "held_out_series": None if holdout is None else holdout.num_samples, "generated_series": num,
        "dg_config": config.to_dict(), "evaluation": dataclasses.asdict(evaluation_config),
    })
    model, seconds = train_dg(real, config, out / "run", str(args.data))
    synthetic = model.generate(num, seed=derive_seed(args.seed, "generate"))
    save_npz(out / "synthetic.npz", synthetic)
    score_fn = functools.partial(model.critic_scores, source=str(args.data)) if holdout is not None else None
    evaluation = evaluate(real, synthetic, holdout=holdout, score_fn=score_fn, names=names, config=evaluation_config)
    write_report(out / "report", real, synthetic, evaluation, names=names, config=evaluation_config,
                 title=f"{title}: DG vs real")
    results: dict[str, Any] = {**evaluation.metrics, **(extra(real, synthetic, holdout, names) if extra else {}),
                               "train_seconds": seconds}
    results["wall_seconds"] = time.perf_counter() - began
    caption = (f"DG trained {config.epochs} epochs (sample_len {config.sample_len}, auxiliary critic "
               f"{'on' if config.use_aux_critic else 'off'}, auto-normalization {'on' if config.self_norm else 'off'}) "
               f"on {real.num_samples} series of length {real.max_length}; {num} generated; "
               f"training {seconds:.0f} s, command {results['wall_seconds']:.0f} s.")
    table = claims_frame(claims(names), results)
    write_results(out, results, title, [
        ("The paper's claims and our numbers", f"{caption}\n\n{markdown_table(table, 4)}"),
        ("Every metric", "`report/report.md` (figures) and `results.json`."),
    ])
    return results
