"""FCC Measuring Broadband America (MBA) raw CSVs -> DG triple (paper §5.1.1, appendix A, Table 8).

Raw input (FCC MBA raw data releases, e.g. ``data-raw-2017-oct.tar.gz``;
files with a header row, ``dtime`` in UTC, ``YYYY-MM-DD HH:MM:SS``):

* ``curr_netusage.csv``: hourly traffic counters of each unit; used columns
  ``unit_id, dtime, wan_rx_bytes, wan_tx_bytes, sk_rx_bytes, sk_tx_bytes``
  (bytes received / sent on the WAN, and those of SamKnows' own tests);
* ``curr_udplatency.csv``: hourly UDP ping results per unit and server; used
  columns ``unit_id, dtime, target, successes, failures``;
* a unit profile CSV (the "unit profile" published with the validated data
  of the report, exported to CSV) with columns named, case, spaces and
  underscores ignored, ``Unit ID``, ``ISP``, ``Technology``, ``State``.

Rules (paper line numbers refer to ``doppelganger_imc2020.txt``):

1. one sample per unit (home), the window 2017-10-01 00:00 to 2017-10-15
   00:00 in 6-hour periods: 56 steps ("Considering period from 10/01/2017
   from 10/15/2017 ... we take the average of measurements every 6 hours ...
   All samples have measurement length 56", appendix A l. 598);
2. hourly measurements (Table 8, l. 642-650):

   - traffic byte counter: bytes sent and received in the hour excluding
     the active measurements, ``(wan_rx - sk_rx) + (wan_tx - sk_tx)`` summed
     over the unit's netusage rows of that hour;
   - ping loss rate: per server (``target``), ``failures / (successes +
     failures)`` over the unit's udplatency rows of the hour; the hour's value
     is the lowest over servers ("UDP ping loss rate to the server that has
     lowest loss rate within the hour"; §5.1.1 l. 238 "min. across measured
     servers"); rows with no probe (successes + failures = 0) measure nothing;

3. each 6-hour step is the mean of the hourly values present in it, and a
   unit is valid if every step has at least one hourly value ("As long as
   there is at least one measurement in each 6 hours period, we regard it as
   a valid sample", l. 598), for each of the two measurements (a DG sample
   cannot hold a missing value);
4. metadata: ISP, technology, state from the unit profile, one-hot with the
   levels sorted, in the column order of the published triple (ISP 15,
   technology 5, state 53; the paper lists them as technology, ISP, state,
   §5.1.1 l. 238); units without a profile row, or with an empty field, are
   dropped;
5. features: min-max scaled to ``[0, 1]`` per measurement with the global
   min/max over every step of every kept unit, stored as ``data_feature_min``
   / ``data_feature_max`` exactly like the published triple (its min/max are
   those of all 739 units, train and test);
6. a uniform sample of 600 units into train, the rest into test ("we get 739
   valid samples ... from which we sample 600 samples", l. 598; the published
   test split holds the other 139).

Memory: every file is read in chunks of ``chunk_rows`` rows; each chunk is
reduced at once to per (unit, hour[, server]) sums of the window, so memory
is O(units x hours x servers in the window), a few hundred MB at most for
the real files.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from data.converters.common import (
    FLOAT,
    INT,
    OPTIONAL_TEXT,
    TEXT,
    ConversionSummary,
    RawDataError,
    default_of,
    encode_attributes,
    fixed_length_splits,
    iter_csv,
    log_counts,
    min_max,
    read_header,
    require_columns,
    run_cli,
    split_indices,
    write_output,
)
from dg_tf.data.specs import Normalization

__all__ = ["convert", "main", "NETUSAGE_FILE", "UDPLATENCY_FILE", "ATTRIBUTES", "FEATURES"]

logger = logging.getLogger(__name__)

NETUSAGE_FILE = "curr_netusage.csv"
UDPLATENCY_FILE = "curr_udplatency.csv"
_NETUSAGE_COLUMNS = {
    "unit_id": INT,
    "dtime": TEXT,
    "wan_rx_bytes": FLOAT,
    "wan_tx_bytes": FLOAT,
    "sk_rx_bytes": FLOAT,
    "sk_tx_bytes": FLOAT,
}
_UDPLATENCY_COLUMNS = {"unit_id": INT, "dtime": TEXT, "target": TEXT, "successes": FLOAT, "failures": FLOAT}
#: Attributes in column order (that of the published triple), with the unit-profile column each comes from.
ATTRIBUTES = ("ISP", "Technology", "State")
#: Feature columns, in order (that of the published triple).
FEATURES = ("traffic byte counter", "ping loss rate")
_UNIT_ID = "Unit ID"
_FILTERS = (
    "no traffic measurement in some period",
    "no ping loss measurement in some period",
    "no unit profile",
    "empty field in the unit profile",
)


def _normalized(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).lower()


def _hours(file: str, chunk: pd.DataFrame, line: int, start: pd.Timestamp) -> np.ndarray:
    """int64 [n] whole hours from ``start`` to each row's ``dtime`` (floor)."""
    times = pd.to_datetime(chunk["dtime"], format="ISO8601", errors="coerce")
    bad = times.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise RawDataError(file, "dtime", line + row, f"value {chunk['dtime'].iloc[row]!r} is not a date-time")
    return ((times - start) // pd.Timedelta(hours=1)).to_numpy(dtype=np.int64)


def _hourly_traffic(files: Sequence[str], start: pd.Timestamp, hours: int, chunk_rows: int) -> pd.Series:
    """Bytes per (unit_id, hour) of the window, summed over the netusage rows of the hour."""
    parts = []
    for file in files:
        require_columns(file, read_header(file), list(_NETUSAGE_COLUMNS))
        for line, chunk in iter_csv(file, _NETUSAGE_COLUMNS, chunk_rows=chunk_rows):
            hour = _hours(file, chunk, line, start)
            inside = (hour >= 0) & (hour < hours)
            traffic = (chunk["wan_rx_bytes"] - chunk["sk_rx_bytes"]) + (chunk["wan_tx_bytes"] - chunk["sk_tx_bytes"])
            frame = pd.DataFrame({"unit_id": chunk["unit_id"].to_numpy()[inside], "hour": hour[inside],
                                  "value": traffic.to_numpy()[inside]})
            parts.append(frame.groupby(["unit_id", "hour"])["value"].sum())
    return pd.concat(parts).groupby(level=["unit_id", "hour"]).sum() if parts else _empty_series()


def _hourly_loss(files: Sequence[str], start: pd.Timestamp, hours: int, chunk_rows: int) -> pd.Series:
    """Lowest per-server loss rate per (unit_id, hour) of the window."""
    parts = []
    for file in files:
        require_columns(file, read_header(file), list(_UDPLATENCY_COLUMNS))
        for line, chunk in iter_csv(file, _UDPLATENCY_COLUMNS, chunk_rows=chunk_rows):
            for name in ("successes", "failures"):
                negative = (chunk[name] < 0).to_numpy()
                if negative.any():
                    row = int(np.argmax(negative))
                    raise RawDataError(file, name, line + row, f"count must be >= 0, got {chunk[name].iloc[row]:g}")
            hour = _hours(file, chunk, line, start)
            inside = (hour >= 0) & (hour < hours)
            frame = pd.DataFrame({
                "unit_id": chunk["unit_id"].to_numpy()[inside],
                "hour": hour[inside],
                "target": chunk["target"].astype(str).to_numpy()[inside],
                "successes": chunk["successes"].to_numpy()[inside],
                "failures": chunk["failures"].to_numpy()[inside],
            })
            parts.append(frame.groupby(["unit_id", "hour", "target"])[["successes", "failures"]].sum())
    if not parts:
        return _empty_series()
    counts = pd.concat(parts).groupby(level=["unit_id", "hour", "target"]).sum()
    probes = counts["successes"] + counts["failures"]
    rate = (counts["failures"] / probes)[probes > 0]
    return rate.groupby(level=["unit_id", "hour"]).min()


def _empty_series() -> pd.Series:
    index = pd.MultiIndex.from_arrays([np.zeros(0, np.int64), np.zeros(0, np.int64)], names=["unit_id", "hour"])
    return pd.Series(np.zeros(0), index=index, dtype=np.float64)


def _per_step(hourly: pd.Series, hours_per_step: int, num_steps: int) -> pd.DataFrame:
    """Mean of the hourly values in each step: DataFrame [units, num_steps], NaN where none."""
    units = hourly.index.get_level_values("unit_id")
    steps = hourly.index.get_level_values("hour") // hours_per_step
    means = hourly.groupby([units, steps]).mean()
    return means.unstack().reindex(columns=range(num_steps))


def _read_profile(file: str, chunk_rows: int) -> pd.DataFrame:
    """Unit profile: DataFrame indexed by unit id with columns :data:`ATTRIBUTES` (NaN = empty)."""
    header = read_header(file)
    by_name = {_normalized(c): c for c in header}
    wanted = (_UNIT_ID, *ATTRIBUTES)
    missing = [w for w in wanted if _normalized(w) not in by_name]
    if missing:
        raise RawDataError(
            file, None, 1, f"header lacks column(s) {missing} (case, spaces and '_' ignored); found {header}"
        )
    columns = {by_name[_normalized(_UNIT_ID)]: INT, **{by_name[_normalized(a)]: OPTIONAL_TEXT for a in ATTRIBUTES}}
    rename = dict(zip(columns, wanted))  # file's spelling -> canonical name
    frames = []
    for line, chunk in iter_csv(file, columns, chunk_rows=chunk_rows):
        chunk = chunk.rename(columns=rename)
        chunk["line"] = np.arange(line, line + len(chunk))
        frames.append(chunk)
    profile = pd.concat(frames, ignore_index=True)
    for column in ATTRIBUTES:
        profile[column] = profile[column].str.strip().replace("", np.nan)
    distinct = profile.drop_duplicates(subset=list(wanted))
    clash = distinct.duplicated(subset=_UNIT_ID, keep=False)
    if clash.any():
        row = distinct[clash].iloc[-1]
        raise RawDataError(
            file, by_name[_normalized(_UNIT_ID)], int(row["line"]),
            f"unit {row[_UNIT_ID]} is listed more than once with different ISP / technology / state",
        )
    return distinct.set_index(_UNIT_ID)[list(ATTRIBUTES)]


def convert(
    input: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    unit_profile: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    num_train: int | None = 600,
    num_test: int | None = None,
    seed: int = 0,
    start: str = "2017-10-01 00:00:00",
    num_steps: int = 56,
    hours_per_step: int = 6,
    overwrite: bool = False,
    chunk_rows: int = 1_000_000,
) -> ConversionSummary:
    """Convert FCC MBA raw CSVs into the DG triple in ``out``.

    Writes ``data_feature_output.pkl`` (2 CONTINUOUS ZERO_ONE features:
    traffic byte counter, ping loss rate), ``data_attribute_output.pkl``
    (DISCRETE ISP, technology, state), ``data_train.npz`` / ``data_test.npz``
    (``data_feature`` float32 [N, num_steps, 2], ``data_attribute`` float32
    [N, A], ``data_gen_flag`` all ones [N, num_steps], ``data_feature_min`` /
    ``data_feature_max`` float32 [2] in bytes and loss fraction) and
    ``conversion.json``. Kept units are ordered by unit id before sampling.
    See the module docstring for the rules.

    Args:
        input: one or more extracted raw-release folders, each holding
            ``curr_netusage.csv`` and ``curr_udplatency.csv`` (e.g. the
            September and October 2017 releases).
        unit_profile: the unit profile CSV.
        out: output folder; must be empty or absent unless ``overwrite``.
        num_train: units sampled into ``data_train.npz`` (``None``: the rest).
        num_test: units sampled into ``data_test.npz`` (``None``: the rest).
        seed: seed of the uniform sample.
        start: first hour of the window (``dtime`` clock, UTC).
        num_steps: steps per sample.
        hours_per_step: hours averaged into one step.
        overwrite: replace the files of a non-empty ``out``.
        chunk_rows: CSV rows read at a time.

    Returns:
        The :class:`~data.converters.common.ConversionSummary`; ``total``
        counts the units with any measurement in the window.

    Raises:
        RawDataError: (a DataFormatError) a missing file or column, an empty
            or non-numeric count, a bad ``dtime``, a unit profiled twice
            with different values, or no unit left; names the file, line and
            column. Nothing is written.
        ConfigError: the counts exceed the kept units, or ``out`` is not empty.
    """
    folders = [input] if isinstance(input, (str, os.PathLike)) else list(input)
    netusage = [os.fspath(Path(f) / NETUSAGE_FILE) for f in folders]
    udplatency = [os.fspath(Path(f) / UDPLATENCY_FILE) for f in folders]
    begin = pd.Timestamp(start)
    hours = num_steps * hours_per_step

    traffic = _per_step(_hourly_traffic(netusage, begin, hours, chunk_rows), hours_per_step, num_steps)
    loss = _per_step(_hourly_loss(udplatency, begin, hours, chunk_rows), hours_per_step, num_steps)
    profile = _read_profile(os.fspath(unit_profile), chunk_rows)
    units = traffic.index.union(loss.index).sort_values()
    traffic, loss = traffic.reindex(units), loss.reindex(units)
    failed = {
        _FILTERS[0]: traffic.isna().any(axis=1).to_numpy(),
        _FILTERS[1]: loss.isna().any(axis=1).to_numpy(),
        _FILTERS[2]: ~units.isin(profile.index),
        _FILTERS[3]: profile.reindex(units).isna().any(axis=1).to_numpy(),
    }
    alive = np.ones(len(units), dtype=bool)
    dropped = {}
    for name in _FILTERS:
        hit = alive & failed[name]
        dropped[name] = int(hit.sum())
        alive &= ~hit
    kept = int(alive.sum())
    log_counts("fcc_mba", len(units), kept, dropped)
    if kept == 0:
        raise RawDataError(folders[0], None, None, "no unit passed the filters of the paper's appendix A")

    raw = np.stack([traffic.to_numpy()[alive], loss.to_numpy()[alive]], axis=-1)  # [N, num_steps, 2]
    scaled, low, high = min_max(raw.reshape(-1, len(FEATURES)), Normalization.ZERO_ONE)
    features = scaled.astype(np.float32).reshape(kept, num_steps, len(FEATURES))
    kept_profile = profile.reindex(units[alive])
    levels, attributes = encode_attributes({a: kept_profile[a].astype(str).to_numpy() for a in ATTRIBUTES})
    extras = {"data_feature_min": low.astype(np.float32), "data_feature_max": high.astype(np.float32)}
    train, test = split_indices(kept, num_train, num_test, seed)
    splits = fixed_length_splits(features, attributes, Normalization.ZERO_ONE, levels, extras,
                                 {"train": train, "test": test})
    summary = ConversionSummary(
        dataset="fcc_mba",
        total=int(len(units)),
        kept=kept,
        dropped=dropped,
        num_train=len(train),
        num_test=len(test),
        levels=levels,
        feature_names=list(FEATURES),
        feature_min=[float(v) for v in low],
        feature_max=[float(v) for v in high],
        transform="feature = (value - min) / (max - min) per measurement; min/max over every step of every "
        "kept unit (data_feature_min / data_feature_max)",
    )
    write_output(out, splits, summary, overwrite=overwrite)
    return summary


def _add_arguments(parser) -> None:
    parser.add_argument("--input", type=Path, nargs="+", required=True,
                        help=f"raw-release folder(s) holding {NETUSAGE_FILE} and {UDPLATENCY_FILE}")
    parser.add_argument("--unit-profile", type=Path, required=True,
                        help="unit profile CSV with Unit ID, ISP, Technology, State columns")
    parser.add_argument("--start", default=default_of(convert, "start"), help="first hour, UTC [%(default)s]")
    parser.add_argument("--num-steps", type=int, default=default_of(convert, "num_steps"),
                        help="steps per sample [%(default)s]")
    parser.add_argument("--hours-per-step", type=int, default=default_of(convert, "hours_per_step"),
                        help="hours averaged into one step [%(default)s]")


def main(argv: list[str] | None = None) -> int:
    """``python -m data.converters.fcc_mba --input DIR --unit-profile FILE --out DIR``; returns the exit status."""
    return run_cli(
        "Convert FCC Measuring Broadband America raw CSVs into the DoppelGANger triple (paper appendix A).",
        _add_arguments,
        convert,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
