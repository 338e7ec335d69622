"""One timed gretel-synthetics DGAN run: ``python -m benchmarks.peer_runner JOB.json RESULT.json``.

Runs in the peer's virtual environment (:mod:`benchmarks.peer_env`: PyTorch
CPU, gretel-synthetics), in its own process, on the same ``case.npz`` as the
dg_tf run, through gretel's public API: ``DGAN(DGANConfig(...)).train_numpy``
then ``generate_numpy``. The configuration follows the paper's architecture as
far as DGAN allows; ``benchmarks/README.md`` lists what differs:

- critics: gretel hard-codes 5 hidden layers x 200; this runner gives it the
  job's critic size (4 x 200 for the paper) unless ``peer_stock_critic``;
- continuous values: ``normalization=ZERO_ONE``, ``apply_feature_scaling``
  and ``apply_example_scaling`` (gretel's auto-normalization) on;
- variable length: gretel pads a list of unequal series with zeros and has no
  generation flag, so it always generates full-length series;
- generation batch: gretel generates in batches of ``config.batch_size``; it is
  set to the job's ``gen_batch`` after training so both sides generate in the
  same batch size;
- training length: gretel has no way to stop training early, so the progress
  callback raises at the end of the first epoch whose timed window is long
  enough (:class:`benchmarks.common.StepClock`); the model is complete then.

Its natural generation mode is the full rollout: one measurement gives both
the ``generate_*`` and the ``generate_full_*`` figures.
"""

from __future__ import annotations

import logging
import sys
from importlib import metadata
import warnings

import numpy as np

from benchmarks.common import (
    Architecture,
    Job,
    StepClock,
    generation_figures,
    peak_rss_mib,
    read_case,
    rss_mib,
    run_job,
    run_measurements,
    to_codes,
)

#: Reported with every result.
PACKAGES = ("torch", "gretel-synthetics", "numpy", "pandas", "category-encoders")


def setup(threads: int, seed: int, critic: Architecture | None) -> None:
    """Threads, seed and quiet logs for a gretel run; ``critic``: give gretel's critics its size (else 5 x 200)."""
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    torch.manual_seed(seed)
    np.random.seed(seed)
    warnings.filterwarnings("ignore")  # amp/cuda deprecation chatter on CPU
    logging.getLogger("gretel_synthetics").setLevel(logging.WARNING)
    if critic is None:
        return
    from gretel_synthetics.timeseries_dgan import dgan as dgan_module
    from gretel_synthetics.timeseries_dgan.torch_modules import Discriminator

    class SizedDiscriminator(Discriminator):
        """gretel's Discriminator with the job's size instead of its hard-coded 5 x 200."""

        def __init__(self, input_dim: int, num_layers: int = 5, num_units: int = 200):
            super().__init__(input_dim, num_layers=critic.critic_layers, num_units=critic.critic_units)

    dgan_module.Discriminator = SizedDiscriminator


def arch_config(arch: Architecture, **fields):
    """gretel's ``DGANConfig`` with ``arch``'s sizes, the auxiliary critic, [0, 1] scaling with per-example
    (auto-)normalization, on the CPU, and ``fields`` (max_sequence_len, sample_len, batch_size, epochs)."""
    from gretel_synthetics.timeseries_dgan.config import DGANConfig, Normalization

    return DGANConfig(
        attribute_noise_dim=arch.attribute_noise_dim,
        feature_noise_dim=arch.feature_noise_dim,
        attribute_num_layers=arch.attribute_layers,
        attribute_num_units=arch.attribute_units,
        feature_num_layers=arch.lstm_layers,
        feature_num_units=arch.lstm_units,
        use_attribute_discriminator=True,
        normalization=Normalization.ZERO_ONE,
        apply_feature_scaling=True,
        apply_example_scaling=True,
        cuda=False,
        **fields,
    )


def run(job: Job) -> dict:
    """Train and generate as ``job`` says; returns the measurements."""
    setup(job.threads, job.seed, None if job.peer_stock_critic else job.arch)
    from gretel_synthetics.timeseries_dgan import dgan as dgan_module
    from gretel_synthetics.timeseries_dgan.config import OutputType

    arch = job.arch
    case = read_case(job.case_file)
    features, feature_types = to_codes(case["features"], case["feature_outputs"])
    attributes, attribute_types = to_codes(case["attributes"], case["attribute_outputs"])
    lengths = case["gen_flags"].sum(axis=1).astype(int)
    series = [f[:n] for f, n in zip(features, lengths)]
    kinds = {"continuous": OutputType.CONTINUOUS, "discrete": OutputType.DISCRETE}
    config = arch_config(arch, max_sequence_len=case["features"].shape[1], sample_len=job.sample_len,
                         batch_size=job.batch_size, epochs=job.epochs)
    baseline = rss_mib()  # framework loaded, data read, no model yet
    model = dgan_module.DGAN(config)
    clock = StepClock()
    try:
        model.train_numpy(
            series,
            feature_types=[kinds[t] for t in feature_types],
            attributes=attributes,
            attribute_types=[kinds[t] for t in attribute_types],
            progress_callback=lambda info: _tick(clock, info, job),
        )
    except _WindowReached:
        pass
    training = clock.figures(job.batch_size)
    train_peak = peak_rss_mib()

    model.config.batch_size = job.gen_batch
    model.generate_numpy(job.gen_n)  # warm-up: the timed call itself, as on dg_tf's side

    def generate() -> float:
        """One timed call; the mean generated length (steps)."""
        gen_attributes, gen_features = model.generate_numpy(job.gen_n)
        assert len(gen_features) == job.gen_n and np.asarray(gen_attributes).shape[0] == job.gen_n
        return float(np.mean([len(f) for f in gen_features]))

    natural = generation_figures(generate, job.gen_n, job.min_window_s, job.gen_calls)
    full = {key.replace("generate_", "generate_full_", 1): value for key, value in natural.items()}
    return {
        **run_measurements("gretel", training, {**natural, **full}, baseline, train_peak),
        "critic_hidden_layers": 5 if job.peer_stock_critic else arch.critic_layers,
        "versions": {name: metadata.version(name) for name in PACKAGES},
    }


class _WindowReached(Exception):
    """Raised from gretel's progress callback to end training (it has no other way to stop)."""


def _tick(clock: StepClock, info, job: Job) -> None:
    """gretel's progress callback: a tick per step; at an epoch's last step, stop once the window is long enough."""
    clock.tick(info.epoch)
    if info.batch == info.total_batches - 1 and clock.window_reached(job.min_train_steps, job.min_window_s):
        raise _WindowReached


if __name__ == "__main__":
    run_job(sys.argv[1:], run, Job, "benchmarks.peer_runner")
