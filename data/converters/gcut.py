"""Google Cluster Usage Traces 2011 (GCUT) part files -> DG triple (paper §5.1.1, appendix A, Table 6).

Raw input: the ``clusterdata-2011-2`` trace (gsutil bucket
``gs://clusterdata-2011-2``), a folder holding ``task_events/`` and
``task_usage/`` with headerless gzipped CSV part files
``part-00000-of-00500.csv.gz`` ... in the documented column order
(:data:`TASK_EVENTS_COLUMNS`, :data:`TASK_USAGE_COLUMNS`); times are in
microseconds, a task is identified by (job ID, task index).

Rules (paper line numbers refer to ``doppelganger_imc2020.txt``):

1. one sample per task; one step per ``task_usage`` record, each record being
   the task's resource usage aggregated over a (at most) 5-minute window
   ("logs aggregated statistics every 5 minutes", §5.1.1 l. 240), in start
   time order;
2. the 9 measurements of Table 6 (l. 606-620), in its order
   (:data:`MEASUREMENTS`): mean CPU rate, maximum CPU rate, sampled CPU usage,
   canonical memory usage, assigned memory usage, maximum memory usage,
   unmapped page cache, total page cache, local disk space usage;
3. metadata: the task's end event type (§5.1.1 l. 240, Table 6): its last
   ``task_events`` event whose type is in ``end_event_types``, by default
   EVICT (2), FAIL (3), FINISH (4), KILL (5);
4. filters, in the paper's order (appendix A l. 587-592); a task is counted
   under the first it fails:

   - "no end event": no event of an end type (l. 589);
   - "discontinuous records": sorted by start time, a record's start time
     differs from the previous record's end time (l. 590);
   - "empty measurement record": the task has no usage record, or a record
     with an empty cell in one of the 9 measurements (l. 591);
   - "mismatched end time": the end event's timestamp differs from the end
     time of the last record (l. 592);
   - "longer than max_length": more than ``max_length`` records (not in the
     paper, whose longest task has 2497 records, l. 594; the default 2500 is
     divisible by every sample_len of the original config, 1, 5 and 10);

5. variable length: ``data_gen_flag`` is 1 for the task's records, 0 after,
   and features are zero-padded to ``max_length``;
6. features: min-max scaled to ``[0, 1]`` per measurement with the global
   min/max over every record of every kept task (stored as
   ``data_feature_min`` / ``data_feature_max``; the original GCUT config runs
   without auto-normalization, so the stored range must be [0, 1]);
7. a uniform sample of 100,000 tasks: 50,000 train + 50,000 test
   (appendix A l. 587 "uniformly sampled a subset of 100,000 tasks";
   appendix B l. 629 "50,000" training samples).

Memory: part files are read one at a time in chunks of ``chunk_rows`` rows.
Pass 1 (task_events) keeps 8 bytes per task and about 24 bytes per end
event. Pass 2 (task_usage) keeps 88 bytes per usage record of the candidate
tasks that have an end event: for the full trace (about 1.2 billion records)
that is too much, so pass ``max_candidates`` (a uniform pre-sample of the
tasks, taken before the filters; the paper's filter counts, 197 = 0.17% etc.,
are of about 112k tasks, so the authors evidently filtered such a sample).
The output arrays are float32 ``[N, max_length, 9]`` per split: 4.5 GB for
50,000 tasks of length 2500.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from data.converters.common import (
    INT,
    OPTIONAL_FLOAT,
    ConversionSummary,
    RawDataError,
    check_field_count,
    default_of,
    iter_csv,
    log_counts,
    min_max,
    one_hot,
    run_cli,
    split_indices,
    write_output,
)
from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Normalization, Output, OutputType
from dg_tf.seeding import derive_seed
from dg_tf.transforms import flags_from_lengths

__all__ = [
    "convert",
    "main",
    "TASK_EVENTS_COLUMNS",
    "TASK_USAGE_COLUMNS",
    "MEASUREMENTS",
    "EVENT_TYPES",
]

logger = logging.getLogger(__name__)

#: task_events columns, in the documented order (Google cluster-data 2011 schema).
TASK_EVENTS_COLUMNS = (
    "timestamp",
    "missing info",
    "job ID",
    "task index",
    "machine ID",
    "event type",
    "user",
    "scheduling class",
    "priority",
    "CPU request",
    "memory request",
    "disk space request",
    "different machines restriction",
)
#: task_usage columns, in the documented order (Google cluster-data 2011 schema).
TASK_USAGE_COLUMNS = (
    "start time",
    "end time",
    "job ID",
    "task index",
    "machine ID",
    "mean CPU usage rate",
    "canonical memory usage",
    "assigned memory usage",
    "unmapped page cache",
    "total page cache",
    "max memory usage",
    "mean disk I/O time",
    "mean local disk space used",
    "max CPU rate",
    "max disk I/O time",
    "CPI",
    "MAI",
    "sample portion",
    "aggregation type",
    "sampled CPU usage",
)
#: The 9 measurements of the paper's Table 6, in its order (task_usage column names).
MEASUREMENTS = (
    "mean CPU usage rate",
    "max CPU rate",
    "sampled CPU usage",
    "canonical memory usage",
    "assigned memory usage",
    "max memory usage",
    "unmapped page cache",
    "total page cache",
    "mean local disk space used",
)
#: task_events event type codes (schema document).
EVENT_TYPES = {
    0: "SUBMIT",
    1: "SCHEDULE",
    2: "EVICT",
    3: "FAIL",
    4: "FINISH",
    5: "KILL",
    6: "LOST",
    7: "UPDATE_PENDING",
    8: "UPDATE_RUNNING",
}

_TASK_BITS = 24  # task index < 2**24 in the composite task key
_JOB_LIMIT = 2**39
_FILTERS = (
    "no end event",
    "discontinuous records",
    "empty measurement record",
    "mismatched end time",
    "longer than max_length",
)


def _part_files(folder: Path) -> list[str]:
    files = sorted({*folder.glob("part-*.csv.gz"), *folder.glob("part-*.csv")})
    if not files:
        raise RawDataError(folder, None, None, "holds no part-*.csv.gz files")
    return [os.fspath(f) for f in files]


def _task_keys(file: str, chunk: pd.DataFrame, line: int) -> np.ndarray:
    """int64 [n] key ``job_id * 2**24 + task_index`` of each row."""
    job = chunk["job ID"].to_numpy(dtype=np.int64)
    task = chunk["task index"].to_numpy(dtype=np.int64)
    for name, values, limit in (("job ID", job, _JOB_LIMIT), ("task index", task, 2**_TASK_BITS)):
        bad = (values < 0) | (values >= limit)
        if bad.any():
            row = int(np.argmax(bad))
            raise RawDataError(file, name, line + row, f"value {values[row]} is outside [0, {limit})")
    return (job << _TASK_BITS) | task


def _read_end_events(
    files: Sequence[str], end_event_types: Sequence[int], chunk_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pass 1: every task, and each task's last end event.

    Returns:
        ``(tasks, end_tasks, end_times, end_types)``: sorted unique task keys
        int64 [T]; sorted keys of the tasks with an end event int64 [E], the
        timestamp int64 [E] and type int64 [E] of their last end event (ties:
        the later row in file order).
    """
    columns = {"timestamp": INT, "job ID": INT, "task index": INT, "event type": INT}
    tasks, keys, times, types = [], [], [], []
    for file in files:
        if not check_field_count(file, len(TASK_EVENTS_COLUMNS)):
            continue
        for line, chunk in iter_csv(file, columns, names=TASK_EVENTS_COLUMNS, chunk_rows=chunk_rows):
            key = _task_keys(file, chunk, line)
            event = chunk["event type"].to_numpy(dtype=np.int64)
            bad = ~np.isin(event, list(EVENT_TYPES))
            if bad.any():
                row = int(np.argmax(bad))
                raise RawDataError(file, "event type", line + row, f"value {event[row]} is not an event type 0..8")
            tasks.append(np.unique(key))
            is_end = np.isin(event, list(end_event_types))
            keys.append(key[is_end])
            times.append(chunk["timestamp"].to_numpy(dtype=np.int64)[is_end])
            types.append(event[is_end])
    if not tasks:
        raise RawDataError(os.path.dirname(files[0]), None, None, "task_events part files hold no rows")
    key, time, kind = np.concatenate(keys), np.concatenate(times), np.concatenate(types)
    order = np.lexsort((np.arange(len(key)), time, key))  # by task, then time, then file order
    key, time, kind = key[order], time[order], kind[order]
    last = np.flatnonzero(np.append(key[1:] != key[:-1], True)) if len(key) else np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(tasks)), key[last], time[last], kind[last]


def _read_usage(
    files: Sequence[str], tasks: np.ndarray, chunk_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pass 2: the usage records of ``tasks`` (sorted keys), sorted by task then start time.

    Returns:
        ``(key int64 [M], start int64 [M], end int64 [M], values float64 [M, 9])``
        with NaN for empty measurement cells.
    """
    columns = {"start time": INT, "end time": INT, "job ID": INT, "task index": INT}
    columns.update({m: OPTIONAL_FLOAT for m in MEASUREMENTS})
    keys, starts, ends, values = [], [], [], []
    for file in files:
        if not check_field_count(file, len(TASK_USAGE_COLUMNS)):
            continue
        for line, chunk in iter_csv(file, columns, names=TASK_USAGE_COLUMNS, chunk_rows=chunk_rows):
            key = _task_keys(file, chunk, line)
            at = np.minimum(np.searchsorted(tasks, key), max(len(tasks) - 1, 0))
            wanted = tasks[at] == key if len(tasks) else np.zeros(len(key), dtype=bool)
            keys.append(key[wanted])
            starts.append(chunk["start time"].to_numpy(dtype=np.int64)[wanted])
            ends.append(chunk["end time"].to_numpy(dtype=np.int64)[wanted])
            values.append(chunk[list(MEASUREMENTS)].to_numpy(dtype=np.float64)[wanted])
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 9))
    key, start = np.concatenate(keys), np.concatenate(starts)
    order = np.lexsort((start, key))
    return key[order], start[order], np.concatenate(ends)[order], np.concatenate(values)[order]


def convert(
    input: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    num_train: int | None = 50_000,
    num_test: int | None = 50_000,
    seed: int = 0,
    max_length: int = 2500,
    end_event_types: Sequence[int] = (2, 3, 4, 5),
    max_candidates: int | None = None,
    overwrite: bool = False,
    chunk_rows: int = 1_000_000,
) -> ConversionSummary:
    """Convert the 2011 Google cluster trace into the DG triple in ``out``.

    Writes ``data_feature_output.pkl`` (9 CONTINUOUS ZERO_ONE features,
    :data:`MEASUREMENTS`), ``data_attribute_output.pkl`` (one DISCRETE end
    event type over ``end_event_types``, in code order, which for the default
    is also alphabetical: EVICT, FAIL, FINISH, KILL), ``data_train.npz`` /
    ``data_test.npz`` (``data_feature`` float32 [N, max_length, 9],
    ``data_attribute`` float32 [N, len(end_event_types)], ``data_gen_flag``
    float32 [N, max_length], ``data_feature_min`` / ``data_feature_max``
    float32 [9] in the trace's units) and ``conversion.json``. Kept tasks are
    ordered by (job ID, task index) before sampling. See the module docstring
    for the rules and the memory use.

    Args:
        input: trace folder holding ``task_events/`` and ``task_usage/``.
        out: output folder; must be empty or absent unless ``overwrite``.
        num_train: tasks sampled into ``data_train.npz`` (``None``: the rest).
        num_test: tasks sampled into ``data_test.npz`` (``None``: the rest).
        seed: seed of the uniform samples (candidates and splits).
        max_length: L; longer tasks are dropped.
        end_event_types: event type codes that end a task.
        max_candidates: if set, a uniform sample of this many tasks (of those
            in task_events) is filtered instead of every task.
        overwrite: replace the files of a non-empty ``out``.
        chunk_rows: CSV rows read at a time.

    Returns:
        The :class:`~data.converters.common.ConversionSummary`; ``total``
        counts the candidate tasks.

    Raises:
        RawDataError: (a DataFormatError) a part file with another column
            count, an empty or non-integer id / time / event type, a
            non-numeric measurement, or no task left; names the file, line
            and column. Nothing is written.
        ConfigError: the counts exceed the kept tasks, or ``out`` is not empty.
    """
    root = Path(input)
    end_event_types = sorted({int(t) for t in end_event_types})
    unknown = [t for t in end_event_types if t not in EVENT_TYPES]
    if unknown or not end_event_types:
        raise RawDataError(root, None, None, f"end_event_types={end_event_types} must be event type codes 0..8")
    event_files = _part_files(root / "task_events")
    usage_files = _part_files(root / "task_usage")

    tasks, end_tasks, end_times, end_types = _read_end_events(event_files, end_event_types, chunk_rows)
    logger.info("gcut: %d tasks in task_events, %d with an end event", len(tasks), len(end_tasks))
    if max_candidates is not None and max_candidates < len(tasks):
        rng = np.random.default_rng(derive_seed(seed, "gcut", "candidates"))
        tasks = np.sort(rng.choice(tasks, size=max_candidates, replace=False))
    has_end = np.isin(end_tasks, tasks)
    end_tasks, end_times, end_types = end_tasks[has_end], end_times[has_end], end_types[has_end]

    key, start, end, values = _read_usage(usage_files, end_tasks, chunk_rows)
    # Per task with an end event (sorted like end_tasks): its slice of the records.
    first = np.searchsorted(key, end_tasks, side="left")
    count = np.searchsorted(key, end_tasks, side="right") - first
    gap = np.flatnonzero((key[1:] == key[:-1]) & (start[1:] != end[:-1])) + 1  # record after a gap
    blank = np.flatnonzero(np.isnan(values).any(axis=1))
    last_end = np.full(len(end_tasks), -1, dtype=np.int64)  # -1: no record (counted as empty first)
    has_records = count > 0
    last_end[has_records] = end[first[has_records] + count[has_records] - 1]
    failed = {
        "discontinuous records": np.isin(end_tasks, key[gap]),
        "empty measurement record": (count == 0) | np.isin(end_tasks, key[blank]),
        "mismatched end time": last_end != end_times,
        "longer than max_length": count > max_length,
    }
    dropped = {_FILTERS[0]: int(len(tasks) - len(end_tasks))}
    alive = np.ones(len(end_tasks), dtype=bool)
    for name in _FILTERS[1:]:
        hit = alive & failed[name]
        dropped[name] = int(hit.sum())
        alive &= ~hit
    kept = int(alive.sum())
    log_counts("gcut", len(tasks), kept, dropped)
    if kept == 0:
        raise RawDataError(root, None, None, "no task passed the filters of the paper's appendix A")

    lengths = count[alive]
    task_of_record = np.repeat(np.arange(kept), lengths)  # [R] kept-task row of each kept record
    step = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # [R] position in its task
    record = np.repeat(first[alive], lengths) + step  # [R] index into key/start/end/values
    scaled, low, high = min_max(values[record], Normalization.ZERO_ONE)
    names = [EVENT_TYPES[t] for t in end_event_types]
    attributes = one_hot(np.searchsorted(end_event_types, end_types[alive]), len(end_event_types))
    feature_outputs = [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE) for _ in MEASUREMENTS]
    attribute_outputs = [Output(OutputType.DISCRETE, len(end_event_types))]
    extras = {"data_feature_min": low.astype(np.float32), "data_feature_max": high.astype(np.float32)}

    train, test = split_indices(kept, num_train, num_test, seed)
    splits = {}
    for split, idx in (("train", train), ("test", test)):
        row_of_task = np.full(kept, -1)
        row_of_task[idx] = np.arange(len(idx))
        rows = row_of_task[task_of_record]
        mine = rows >= 0
        features = np.zeros((len(idx), max_length, len(MEASUREMENTS)), dtype=np.float32)
        features[rows[mine], step[mine]] = scaled[mine]
        splits[split] = Dataset(
            features=features,
            attributes=attributes[idx],
            gen_flags=flags_from_lengths(lengths[idx], max_length),
            feature_outputs=feature_outputs,
            attribute_outputs=attribute_outputs,
            extras=dict(extras),
        )
    summary = ConversionSummary(
        dataset="gcut",
        total=int(len(tasks)),
        kept=kept,
        dropped=dropped,
        num_train=len(train),
        num_test=len(test),
        levels={"end event type": names},
        feature_names=list(MEASUREMENTS),
        feature_min=[float(v) for v in low],
        feature_max=[float(v) for v in high],
        transform="feature = (value - min) / (max - min) per measurement; min/max over every record of "
        "every kept task (data_feature_min / data_feature_max)",
    )
    write_output(out, splits, summary, overwrite=overwrite)
    return summary


def _add_arguments(parser) -> None:
    parser.add_argument("--input", type=Path, required=True,
                        help="trace folder holding task_events/ and task_usage/ part-*.csv.gz files")
    parser.add_argument("--max-length", type=int, default=default_of(convert, "max_length"),
                        help="L; longer tasks are dropped [%(default)s]")
    parser.add_argument("--end-event-types", type=int, nargs="+", default=default_of(convert, "end_event_types"),
                        help="event type codes that end a task [2 3 4 5 = EVICT FAIL FINISH KILL]")
    parser.add_argument("--max-candidates", type=int, default=default_of(convert, "max_candidates"),
                        help="filter a uniform sample of this many tasks instead of all (bounds memory)")


def main(argv: list[str] | None = None) -> int:
    """``python -m data.converters.gcut --input TRACE_DIR --out DIR``; returns the exit status."""
    return run_cli(
        "Convert the Google cluster-data 2011 trace (task_events + task_usage) into the DoppelGANger "
        "triple (paper appendix A).",
        _add_arguments,
        convert,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
