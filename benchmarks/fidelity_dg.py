"""dg_tf's side of the fidelity harness: ``python -m benchmarks.fidelity_dg JOB.json``.

Trains dg_tf as a user would and writes the synthetic series
(:class:`~benchmarks.fidelity_cases.Series`, the data's own units) to the
job's ``out_file``:

- a table (long CSV): ``dg_tf.from_dataframe`` with the case's columns (every
  attribute discrete) and ``sample_len``, ``DoppelGANger.fit``,
  ``generate(num_generate)``, ``dg_tf.to_dataframe`` back to a table;
- the triple: the :func:`benchmarks.common.write_case` file as a
  ``dg_tf.Dataset``; labels are the attribute blocks' argmax.

The configuration is the job's architecture (:func:`benchmarks.dg_runner.arch_config`)
with the job's epochs, batch and sample_len, dg_tf's defaults otherwise, and
the job's ``dg_overrides`` (candidate experiments) on top.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from benchmarks.common import ARCHITECTURES, run_job
from benchmarks.dg_runner import arch_config, case_dataset
from benchmarks.fidelity_cases import CASES, FidelityJob, Series, label_text, table_series


def dataset_series(dataset, names: tuple[tuple[str, ...], tuple[str, ...]]) -> Series:
    """A ``dg_tf.Dataset`` (discrete attributes one-hot) -> :class:`Series`, labels the argmax of each block."""
    labels, start = [], 0
    for output in dataset.attribute_outputs:
        labels.append(label_text(np.argmax(dataset.attributes[:, start:start + output.dim], axis=1)))
        start += output.dim
    return Series(dataset.features.astype(np.float64), dataset.lengths.astype(np.int64),
                  np.stack(labels, axis=1), *names)


def run(job: FidelityJob) -> dict:
    """Train, generate and write the synthetic series; returns the training and generation seconds."""
    import dg_tf
    from dg_tf.runtime import configure_cpu_threads

    configure_cpu_threads(job.threads)
    case = CASES[job.case]
    config = arch_config(ARCHITECTURES[job.architecture], sample_len=job.sample_len, batch_size=job.batch_size,
                         epochs=job.epochs, seed=job.seed).replace(**job.dg_overrides)
    if case.source == "table":
        frame = pd.read_csv(job.train_file)
        dataset, schema = dg_tf.from_dataframe(
            frame, id_column=case.id_column, time_column=case.time_column,
            attribute_columns=list(case.attribute_columns), feature_columns=list(case.feature_columns),
            discrete_columns=list(case.attribute_columns), sample_len=job.sample_len, source=job.train_file,
        )
    else:
        dataset = case_dataset(job.train_file)
    if dataset.max_length != job.max_length:
        raise ValueError(f"{job.train_file}: L={dataset.max_length}, the job says {job.max_length}")
    model = dg_tf.DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    began = time.perf_counter()
    model.fit(dataset, source=job.train_file)
    trained = time.perf_counter()
    synthetic = model.generate(job.num_generate, seed=job.seed)
    generated = time.perf_counter()
    if case.source == "table":
        series = table_series(dg_tf.to_dataframe(synthetic, schema), case, job.max_length)
    else:
        series = dataset_series(synthetic, (case.feature_columns, case.attribute_columns))
    series.save(job.out_file)
    return {"train_seconds": trained - began, "generate_seconds": generated - trained,
            "config": config.to_dict()}


if __name__ == "__main__":
    run_job(sys.argv[1:], run, FidelityJob, "benchmarks.fidelity_dg")
