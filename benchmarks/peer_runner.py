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
  same batch size.
"""

from __future__ import annotations

import logging
import sys
from importlib import metadata
import warnings

import numpy as np

from benchmarks.common import (
    Job,
    StepClock,
    median_seconds,
    peak_rss_mib,
    read_case,
    rss_mib,
    run_measurements,
    to_codes,
    write_json,
)

#: Reported with every result.
PACKAGES = ("torch", "gretel-synthetics", "numpy", "pandas", "category-encoders")


def run(job: Job) -> dict:
    """Train and generate as ``job`` says; returns the measurements."""
    import torch

    torch.set_num_threads(job.threads)
    torch.set_num_interop_threads(job.threads)
    torch.manual_seed(job.seed)
    warnings.filterwarnings("ignore")  # amp/cuda deprecation chatter on CPU
    logging.getLogger("gretel_synthetics").setLevel(logging.WARNING)
    from gretel_synthetics.timeseries_dgan import dgan as dgan_module
    from gretel_synthetics.timeseries_dgan.config import DGANConfig, Normalization, OutputType
    from gretel_synthetics.timeseries_dgan.torch_modules import Discriminator

    arch = job.arch
    if not job.peer_stock_critic:
        class SizedDiscriminator(Discriminator):
            """gretel's Discriminator with the job's size instead of its hard-coded 5 x 200."""

            def __init__(self, input_dim: int, num_layers: int = 5, num_units: int = 200):
                super().__init__(input_dim, num_layers=arch.critic_layers, num_units=arch.critic_units)

        dgan_module.Discriminator = SizedDiscriminator

    case = read_case(job.case_file)
    features, feature_types = to_codes(case["features"], case["feature_outputs"])
    attributes, attribute_types = to_codes(case["attributes"], case["attribute_outputs"])
    lengths = case["gen_flags"].sum(axis=1).astype(int)
    series = [f[:n] for f, n in zip(features, lengths)]
    kinds = {"continuous": OutputType.CONTINUOUS, "discrete": OutputType.DISCRETE}
    length = case["features"].shape[1]
    config = DGANConfig(
        max_sequence_len=length,
        sample_len=job.sample_len,
        attribute_noise_dim=arch.noise_dim,
        feature_noise_dim=arch.noise_dim,
        attribute_num_layers=arch.attribute_layers,
        attribute_num_units=arch.attribute_units,
        feature_num_layers=arch.lstm_layers,
        feature_num_units=arch.lstm_units,
        use_attribute_discriminator=True,
        normalization=Normalization.ZERO_ONE,
        apply_feature_scaling=True,
        apply_example_scaling=True,
        batch_size=job.batch_size,
        epochs=job.epochs,
        cuda=False,
    )
    baseline = rss_mib()  # framework loaded, data read, no model yet
    model = dgan_module.DGAN(config)
    clock = StepClock()
    model.train_numpy(
        series,
        feature_types=[kinds[t] for t in feature_types],
        attributes=attributes,
        attribute_types=[kinds[t] for t in attribute_types],
        progress_callback=lambda info: clock.tick(info.epoch),
    )
    train_sps, timed_steps = clock.samples_per_second(job.batch_size)
    train_peak = peak_rss_mib()

    model.config.batch_size = job.gen_batch
    model.generate_numpy(job.gen_batch)  # warm-up

    def generate() -> None:
        gen_attributes, gen_features = model.generate_numpy(job.gen_n)
        assert len(gen_features) == job.gen_n and np.asarray(gen_attributes).shape[0] == job.gen_n

    gen_seconds = median_seconds(generate, job.gen_calls)
    return {
        **run_measurements("gretel", train_sps, timed_steps, job.gen_n, gen_seconds, baseline, train_peak),
        "critic_hidden_layers": 5 if job.peer_stock_critic else arch.critic_layers,
        "versions": {name: metadata.version(name) for name in PACKAGES},
    }


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m benchmarks.peer_runner JOB.json RESULT.json")
    write_json(argv[1], run(Job.from_file(argv[0])))


if __name__ == "__main__":
    main(sys.argv[1:])
