"""The peer's side of the fidelity harness: ``python -m benchmarks.fidelity_peer JOB.json RESULT.json``.

Runs in the peer's venv (:mod:`benchmarks.peer_env`) and trains gretel-synthetics'
DGAN as its users would, then writes the synthetic series
(:class:`~benchmarks.fidelity_cases.Series`, the data's own units) to the job's
``out_file``:

- a table (long CSV): ``DGAN.train_dataframe(df, df_style=LONG,
  example_id_column, attribute_columns, feature_columns, discrete_columns)``,
  then ``generate_dataframe(num_generate)``. gretel adds its own generation
  flag (a boolean feature, True until the last step) when some series are
  shorter than ``max_sequence_len`` and cuts each generated series at its
  first False;
- the triple: ``train_numpy`` on the series cut to their lengths, then
  ``generate_numpy`` (gretel then generates full-length series).

Configuration: the job's architecture with the critics resized to it
(:func:`benchmarks.peer_runner.setup`), the job's epochs, batch and
sample_len, ``max_sequence_len`` the job's padded length.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from benchmarks.common import ARCHITECTURES, read_case, run_job, to_codes
from benchmarks.fidelity_cases import CASES, FidelityJob, Series, label_text, table_series
from benchmarks.peer_runner import arch_config, setup


def run(job: FidelityJob) -> dict:
    """Train, generate and write the synthetic series; returns the training and generation seconds."""
    arch = ARCHITECTURES[job.architecture]
    setup(job.threads, job.seed, arch)
    from gretel_synthetics.timeseries_dgan.config import DfStyle, OutputType
    from gretel_synthetics.timeseries_dgan.dgan import DGAN

    case = CASES[job.case]
    model = DGAN(arch_config(arch, max_sequence_len=job.max_length, sample_len=job.sample_len,
                             batch_size=job.batch_size, epochs=job.epochs))
    began = time.perf_counter()
    if case.source == "table":
        model.train_dataframe(
            pd.read_csv(job.train_file), attribute_columns=list(case.attribute_columns),
            feature_columns=list(case.feature_columns), example_id_column=case.id_column,
            discrete_columns=list(case.attribute_columns), df_style=DfStyle.LONG,
        )
        trained = time.perf_counter()
        series = table_series(model.generate_dataframe(job.num_generate), case, job.max_length)
    else:
        data = read_case(job.train_file)
        features, feature_types = to_codes(data["features"], data["feature_outputs"])
        attributes, attribute_types = to_codes(data["attributes"], data["attribute_outputs"])
        lengths = data["gen_flags"].sum(axis=1).astype(int)
        kinds = {"continuous": OutputType.CONTINUOUS, "discrete": OutputType.DISCRETE}
        model.train_numpy([f[:n] for f, n in zip(features, lengths)], feature_types=[kinds[t] for t in feature_types],
                          attributes=attributes, attribute_types=[kinds[t] for t in attribute_types])
        trained = time.perf_counter()
        gen_attributes, gen_features = model.generate_numpy(job.num_generate)
        padded = np.zeros((job.num_generate, job.max_length, features.shape[2]))
        for row, values in enumerate(gen_features):
            padded[row, :len(values)] = values
        series = Series(padded, np.array([len(v) for v in gen_features], dtype=np.int64),
                        label_text(np.asarray(gen_attributes)), case.feature_columns, case.attribute_columns)
    generated = time.perf_counter()
    series.save(job.out_file)
    return {"train_seconds": trained - began, "generate_seconds": generated - trained}


if __name__ == "__main__":
    run_job(sys.argv[1:], run, FidelityJob, "benchmarks.fidelity_peer")
