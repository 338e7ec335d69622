"""What the benchmark driver and both runners share (standard library and NumPy only).

This module also runs inside the peer's virtual environment (PyTorch,
gretel-synthetics, NumPy < 1.24), so it imports neither dg_tf nor TensorFlow.

Protocol: the driver (:mod:`benchmarks.bench`) writes each case's arrays once
to a ``case.npz`` (:func:`write_case`) and, for every run, a ``job.json``
(:class:`Job`). A runner — :mod:`benchmarks.dg_runner` in dg_tf's environment,
:mod:`benchmarks.peer_runner` in the peer's — is one fresh process: it reads
both, trains, generates, and writes ``result.json`` (:func:`write_json`), so
the peak memory it reports is its own.

Timing (both runners alike): a :class:`StepClock` stamps the wall clock after
every training step; training throughput counts the steps after the first
(warm-up) epoch, which holds tracing/compilation and allocator warm-up.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "Job",
    "StepClock",
    "peak_rss_mib",
    "read_case",
    "rss_mib",
    "thread_environment",
    "run_measurements",
    "to_codes",
    "write_case",
    "write_json",
]

MIB = 1024.0 * 1024.0


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Network sizes given to both implementations (paper appendix B).

    Attributes:
        noise_dim: width of the attribute noise and of the per-pass feature noise.
        attribute_layers / attribute_units: hidden Dense+ReLU+BatchNorm layers of
            the attribute (and min/max) generator MLPs.
        lstm_layers / lstm_units: the feature generator's LSTM.
        critic_layers / critic_units: hidden Dense+ReLU layers of the critic and
            of the auxiliary (attribute) critic.
    """

    noise_dim: int
    attribute_layers: int
    attribute_units: int
    lstm_layers: int
    lstm_units: int
    critic_layers: int
    critic_units: int


ARCHITECTURES = {
    # The paper's: attribute MLP 2x100, LSTM 1x100, critics 4x200, noise 5.
    "paper": Architecture(5, 2, 100, 1, 100, 4, 200),
    # CI smoke runs only: numbers from it mean nothing.
    "tiny": Architecture(5, 1, 8, 1, 8, 2, 16),
}


@dataclasses.dataclass(frozen=True)
class Job:
    """One run of one implementation on one case.

    Attributes:
        case_file: the ``case.npz`` written by :func:`write_case`.
        architecture: a key of :data:`ARCHITECTURES`.
        sample_len: S, records per LSTM pass.
        batch_size: training batch size.
        epochs: training epochs; the first is the untimed warm-up.
        gen_n: series generated in the timed generation call.
        gen_batch: series per generator forward pass (both implementations).
        threads: intra- and inter-op threads of the framework.
        matmul_size: n of the n x n float32 matmul timed for the machine's peak
            FLOP/s (dg_tf runner only).
        seed: seed of weights, noise and batches.
        peer_stock_critic: peer only: keep gretel's hard-coded 5x200 critics
            instead of the architecture's critic size.
    """

    case_file: str
    architecture: str
    sample_len: int
    batch_size: int
    epochs: int
    gen_n: int
    gen_batch: int
    threads: int
    matmul_size: int = 2048
    seed: int = 0
    peer_stock_critic: bool = False

    @property
    def arch(self) -> Architecture:
        return ARCHITECTURES[self.architecture]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "Job":
        return cls(**json.loads(Path(path).read_text()))


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as JSON atomically (temp file, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


# ------------------------------------------------------------------- case files
def write_case(
    path: str | os.PathLike[str],
    features: np.ndarray,
    attributes: np.ndarray,
    gen_flags: np.ndarray,
    feature_outputs: Sequence[dict[str, Any]],
    attribute_outputs: Sequence[dict[str, Any]],
) -> None:
    """Write one case's data for both runners, atomically.

    Args:
        features: float32 [N, L, K], zero after each series ends.
        attributes: float32 [N, A], one-hot for discrete outputs.
        gen_flags: float32 [N, L], 1 while a series is active.
        feature_outputs / attribute_outputs: the specs as ``dg_tf.Output.to_dict()``
            dicts (``type``, ``dim``, ``normalization``, ``is_gen_flag``).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez(
        tmp,
        data_feature=np.asarray(features, np.float32),
        data_attribute=np.asarray(attributes, np.float32),
        data_gen_flag=np.asarray(gen_flags, np.float32),
        feature_outputs=np.array(json.dumps(list(feature_outputs))),
        attribute_outputs=np.array(json.dumps(list(attribute_outputs))),
    )
    os.replace(tmp, path)


def read_case(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a file written by :func:`write_case`.

    Returns:
        dict with ``features`` [N, L, K], ``attributes`` [N, A], ``gen_flags``
        [N, L] (float32) and the spec dict lists ``feature_outputs``,
        ``attribute_outputs``.
    """
    with np.load(path, allow_pickle=False) as f:
        return {
            "features": f["data_feature"],
            "attributes": f["data_attribute"],
            "gen_flags": f["data_gen_flag"],
            "feature_outputs": json.loads(str(f["feature_outputs"])),
            "attribute_outputs": json.loads(str(f["attribute_outputs"])),
        }


def to_codes(values: np.ndarray, outputs: Sequence[dict[str, Any]]) -> tuple[np.ndarray, list[str]]:
    """DG's column layout -> one column per variable, as gretel's ``train_numpy`` takes it.

    A continuous output of width d gives d ``"continuous"`` columns; a
    discrete (one-hot) output gives one ``"discrete"`` column of category codes.

    Args:
        values: float [..., W], W the total width of ``outputs``.
        outputs: spec dicts (``type``, ``dim``).

    Returns:
        float64 [..., V] and the V column types.
    """
    columns, types, start = [], [], 0
    for out in outputs:
        block = values[..., start:start + out["dim"]]
        start += out["dim"]
        if out["type"] == "DISCRETE":
            columns.append(np.argmax(block, axis=-1)[..., None].astype(np.float64))
            types.append("discrete")
        else:
            columns.append(block.astype(np.float64))
            types += ["continuous"] * out["dim"]
    if start != values.shape[-1]:
        raise ValueError(f"outputs span {start} columns but the data has {values.shape[-1]}")
    return np.concatenate(columns, axis=-1), types


# ----------------------------------------------------------------- measurement
def thread_environment(threads: int) -> dict[str, str]:
    """Environment variables that cap OpenMP/BLAS pools of a runner process at ``threads``."""
    value = str(threads)
    return {name: value for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


def _proc_status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024 / MIB  # reported in kB
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (``VmHWM``; ``ru_maxrss`` elsewhere)."""
    peak = _proc_status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MIB


def rss_mib() -> float | None:
    """Resident memory of this process now, MiB (``VmRSS``; ``None`` where /proc is missing)."""
    return _proc_status_mib("VmRSS")


def run_measurements(
    implementation: str,
    train_samples_per_s: float,
    timed_train_steps: int,
    generated: int,
    generate_seconds: float,
    baseline_rss_mib: float | None,
    train_peak_rss_mib: float,
) -> dict[str, Any]:
    """The fields every runner reports (the driver reads these from both sides); peak memory is taken now."""
    return {
        "implementation": implementation,
        "train_samples_per_s": train_samples_per_s,
        "timed_train_steps": timed_train_steps,
        "generate_samples_per_s": generated / generate_seconds,
        "baseline_rss_mib": baseline_rss_mib,
        "train_peak_rss_mib": train_peak_rss_mib,
        "peak_rss_mib": peak_rss_mib(),
    }


class StepClock:
    """Wall-clock stamps of training steps, tagged by epoch."""

    def __init__(self) -> None:
        self.marks: list[tuple[int, float]] = []

    def tick(self, epoch: int) -> None:
        """A step of ``epoch`` (any numbering that increases) just finished."""
        self.marks.append((epoch, time.perf_counter()))

    def samples_per_second(self, batch_size: int, warmup_epochs: int = 1) -> tuple[float, int]:
        """Training samples per second after the first ``warmup_epochs`` epochs.

        Returns:
            (samples/s, number of timed steps).

        Raises:
            ValueError: no step after the warm-up.
        """
        if not self.marks:
            raise ValueError("no training step was recorded")
        first = self.marks[0][0]
        warm = [t for epoch, t in self.marks if epoch < first + warmup_epochs]
        timed = [t for epoch, t in self.marks if epoch >= first + warmup_epochs]
        if not warm or not timed:
            raise ValueError(
                f"need steps in and after the {warmup_epochs} warm-up epoch(s); "
                f"got {len(warm)} and {len(timed)}"
            )
        return len(timed) * batch_size / (timed[-1] - warm[-1]), len(timed)
