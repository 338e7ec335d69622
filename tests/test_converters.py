"""Raw-dataset converters (data/converters, paper appendix A) on small hand-made raw files.

Each raw file is written here in the exact layout of the public release
(header, column order, quirks); the expected arrays are computed by hand from
the values written.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from dg_tf.data.loading import load_dataset
from dg_tf.data.specs import Normalization, Output, OutputType
from dg_tf.errors import ConfigError, DataFormatError

# data/converters is a repository-root package (python -m data.converters.<name>), not part of the
# installed dg_tf: make it importable however pytest was started.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from data.converters import fcc_mba, gcut, wwt  # noqa: E402
from data.converters.common import ConversionSummary  # noqa: E402

DATES = pd.date_range("2015-07-01", "2016-12-31").strftime("%Y-%m-%d").tolist()


# ============================================================================ WWT


def _write_wwt(path, rows, header=None):
    header = ["Page", *DATES] if header is None else header
    lines = [",".join(header)] + [",".join([page, *values]) for page, values in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _wwt_rows():
    return [
        ("2NE1_zh.wikipedia.org_all-access_spider", [str(i) for i in range(550)]),
        ("Under_score_article_en.wikipedia.org_desktop_all-agents", ["5"] * 550),
        ("Gap_de.wikipedia.org_mobile-web_all-agents", ["1"] * 10 + [""] + ["1"] * 539),
        ("Zero_commons.wikimedia.org_all-access_all-agents", ["0"] * 550),
    ]


def test_dates_span_the_paper_window():
    assert len(DATES) == 550


def test_wwt_exact_arrays(tmp_path):
    raw = _write_wwt(tmp_path / "train_1.csv", _wwt_rows())
    summary = wwt.convert(raw, tmp_path / "out", num_train=None, num_test=None, chunk_rows=2)

    assert (summary.total, summary.kept, summary.dropped) == (4, 3, {"missing value in the window": 1})
    assert summary.levels == {
        "domain": ["commons.wikimedia.org", "en.wikipedia.org", "zh.wikipedia.org"],
        "access": ["all-access", "desktop"],
        "agent": ["all-agents", "spider"],
    }
    data = load_dataset(tmp_path / "out")
    assert data.feature_outputs == [Output(OutputType.CONTINUOUS, 1, Normalization.MINUSONE_ONE)]
    assert data.attribute_outputs == [Output(OutputType.DISCRETE, d) for d in (3, 2, 2)]
    assert data.features.shape == (3, 550, 1) and data.gen_flags.shape == (3, 550)
    assert np.all(data.gen_flags == 1)
    # File order of the complete pages: 2NE1 (zh, all-access, spider), Under_score... (en, desktop,
    # all-agents), Zero (commons, all-access, all-agents).
    np.testing.assert_array_equal(
        data.attributes,
        [[0, 0, 1, 1, 0, 0, 1], [0, 1, 0, 0, 1, 1, 0], [1, 0, 0, 1, 0, 1, 0]],
    )
    top = np.log1p(549.0)  # global max of log(1 + views); the global min is log(1 + 0) = 0
    np.testing.assert_allclose(data.features[0, :, 0], 2 * np.log1p(np.arange(550)) / top - 1, atol=1e-6)
    np.testing.assert_allclose(data.features[1, :, 0], 2 * np.log1p(5.0) / top - 1, atol=1e-6)
    np.testing.assert_array_equal(data.features[2, :, 0], -1.0)
    np.testing.assert_allclose(data.extras["data_feature_min"], [0.0])
    np.testing.assert_allclose(data.extras["data_feature_max"], [top], rtol=1e-6)
    assert not (tmp_path / "out" / "data_test.npz").exists()
    record = json.loads((tmp_path / "out" / "conversion.json").read_text())
    assert record == summary.to_dict()


def test_wwt_uniform_split_is_seeded_and_disjoint(tmp_path):
    rows = [(f"P{i}_en.wikipedia.org_all-access_all-agents", [str(i)] * 550) for i in range(10)]
    raw = _write_wwt(tmp_path / "train_1.csv", rows)
    first = wwt.convert(raw, tmp_path / "a", num_train=6, num_test=3, seed=1)
    wwt.convert(raw, tmp_path / "b", num_train=6, num_test=3, seed=1)
    assert (first.num_train, first.num_test) == (6, 3)
    train, test = load_dataset(tmp_path / "a"), load_dataset(tmp_path / "a", split="test")
    views = lambda d: np.round(np.expm1((d.features[:, 0, 0] + 1) / 2 * np.log1p(9.0))).astype(int)  # noqa: E731
    assert len(set(views(train)) | set(views(test))) == 9  # disjoint, one page left out
    np.testing.assert_array_equal(train.extras["data_feature_max"], test.extras["data_feature_max"])
    np.testing.assert_array_equal(load_dataset(tmp_path / "b").features, train.features)
    with pytest.raises(ConfigError, match="at most the 10 series"):
        wwt.convert(raw, tmp_path / "c", num_train=8, num_test=3)
    assert not (tmp_path / "c").exists()


def test_wwt_refuses_a_non_empty_folder_unless_overwrite(tmp_path):
    raw = _write_wwt(tmp_path / "train_1.csv", _wwt_rows())
    wwt.convert(raw, tmp_path / "out", num_train=2, num_test=None)
    assert (tmp_path / "out" / "data_test.npz").exists()
    with pytest.raises(ConfigError, match="not empty"):
        wwt.convert(raw, tmp_path / "out", num_train=None, num_test=None)
    wwt.convert(raw, tmp_path / "out", num_train=None, num_test=None, overwrite=True)
    assert not (tmp_path / "out" / "data_test.npz").exists()  # the stale split is gone
    assert load_dataset(tmp_path / "out").num_samples == 3


def _bad_cell(rows, row, day, value):
    values = list(rows[row][1])
    values[DATES.index(day)] = value
    rows[row] = (rows[row][0], values)
    return rows


@pytest.mark.parametrize(
    "header, rows, pattern",
    [
        (["page", *DATES], None, r"line 1, column 'page': the first header column must be 'Page'"),
        (["Page", *DATES[:2], *DATES[3:]], None, r"line 1, column '2015-07-04': dates must be consecutive"),
        (["Page", *DATES[:-1]], None, r"header covers 2015-07-01..2016-12-30, not the window"),
        (None, _bad_cell(_wwt_rows(), 1, "2015-07-05", "abc"), r"line 3, column '2015-07-05': .*'abc'"),
        (None, _bad_cell(_wwt_rows(), 0, "2016-01-01", "-3"), r"line 2, column '2016-01-01': .*>= 0"),
        (None, [("NoSuffix_en.wikipedia.org", ["1"] * 550)], r"line 2, column 'Page': page name 'NoSuffix"),
    ],
)
def test_wwt_malformed_input_raises_and_writes_nothing(tmp_path, header, rows, pattern):
    if header is not None and len(header) != 551:
        rows = [(p, v[: len(header) - 1]) for p, v in _wwt_rows()]
    raw = _write_wwt(tmp_path / "train_1.csv", rows or _wwt_rows(), header)
    with pytest.raises(DataFormatError, match=pattern) as info:
        wwt.convert(raw, tmp_path / "out", num_train=None, num_test=None, chunk_rows=2)
    assert str(raw) in str(info.value)
    assert not (tmp_path / "out").exists()


def test_wwt_command_line(tmp_path):
    raw = _write_wwt(tmp_path / "train_1.csv", _wwt_rows())
    done = subprocess.run(
        [sys.executable, "-m", "data.converters.wwt", "--input", str(raw), "--out", str(tmp_path / "out"),
         "--num-train", "2", "--num-test", "rest", "--seed", "3"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "3 kept" in done.stderr
    assert load_dataset(tmp_path / "out", split="test").num_samples == 1
    bad = _write_wwt(tmp_path / "bad.csv", _wwt_rows(), ["Page", *DATES[1:]])
    assert wwt.main(["--input", str(bad), "--out", str(tmp_path / "out2")]) == 2
    assert not (tmp_path / "out2").exists()


# ============================================================================ GCUT

T = 300_000_000  # 5 minutes in microseconds


def _event(ts, job, task, kind):
    # timestamp, missing info, job ID, task index, machine ID, event type, user, scheduling class,
    # priority, CPU request, memory request, disk space request, different machines restriction
    return f"{ts},,{job},{task},,{kind},user{job},0,0,0.125,0.0625,0.0001,0"


def _usage(start, end, job, task, measurements):
    """One task_usage row; ``measurements`` are the 9 of Table 6, in gcut.MEASUREMENTS order."""
    row = dict(zip(gcut.TASK_USAGE_COLUMNS, [""] * 20))
    row.update({"start time": start, "end time": end, "job ID": job, "task index": task, "machine ID": 77,
                "mean disk I/O time": 0.001, "max disk I/O time": 0.002, "CPI": 1.5, "MAI": 0.01,
                "sample portion": 1, "aggregation type": 0})
    row.update(zip(gcut.MEASUREMENTS, ["" if m is None else m for m in measurements]))
    return ",".join(str(v) for v in row.values())


def _m(base):
    return [round(base + 0.001 * k, 6) for k in range(9)]


def _write_parts(folder, parts):
    folder.mkdir(parents=True)
    for i, lines in enumerate(parts):
        with gzip.open(folder / f"part-{i:05d}-of-{len(parts):05d}.csv.gz", "wt") as handle:
            handle.write("".join(line + "\n" for line in lines))


def _gcut_trace(root):
    """Tasks A..J (see the test) in two task_events and two task_usage part files."""
    blank_sampled = _m(0.7)
    blank_sampled[2] = None  # empty "sampled CPU usage" cell
    events0 = [
        _event(0, 1, 0, 0), _event(1, 1, 0, 1), _event(2 * T, 1, 0, 4),  # A: FINISH
        _event(0, 1, 1, 0), _event(1, 1, 1, 1), _event(T // 2, 1, 1, 2),  # B: EVICT, then ...
        _event(T // 2 + 1, 1, 1, 0), _event(T // 2 + 2, 1, 1, 1),
        _event(0, 2, 0, 0), _event(1, 2, 0, 1),  # C: never ends
        _event(3 * T, 2, 1, 3),  # D: FAIL
        _event(T, 3, 0, 2),  # E: EVICT
        _event(2 * T, 3, 1, 3),  # F: FAIL
        _event(3 * T, 4, 0, 4),  # G: FINISH
        _event(5 * T, 4, 1, 2),  # H: EVICT
        _event(T, 5, 0, 6),  # I: LOST
    ]
    events1 = [_event(3 * T, 1, 1, 5), _event(T, 6, 0, 2)]  # B: ... KILL; J: EVICT
    usage0 = [
        _usage(0, T, 1, 0, _m(0.1)), _usage(T, 2 * T, 1, 0, _m(0.2)),  # A
        _usage(T, 2 * T, 1, 1, _m(0.4)), _usage(0, T, 1, 1, _m(0.3)),  # B (unsorted)
        _usage(0, T, 2, 0, _m(0.5)),  # C
        _usage(0, T, 2, 1, _m(0.5)), _usage(2 * T, 3 * T, 2, 1, _m(0.5)),  # D: gap
        _usage(0, T, 3, 1, _m(0.6)), _usage(T, 2 * T, 3, 1, blank_sampled),  # F: empty cell
        _usage(0, T, 4, 0, _m(0.5)), _usage(T, 2 * T, 4, 0, _m(0.5)),  # G: ends before its event
        *[_usage(k * T, (k + 1) * T, 4, 1, _m(0.5)) for k in range(5)],  # H: 5 records
        _usage(0, T, 5, 0, _m(0.5)),  # I
    ]
    usage1 = [
        _usage(2 * T, 3 * T, 1, 1, _m(0.5)),  # B, third record in the next part file
        _usage(0, T, 6, 0, _m(0.9)),  # J
        _usage(0, T, 99, 0, _m(5.0)),  # a task absent from task_events: ignored
    ]
    _write_parts(root / "task_events", [events0, events1])
    _write_parts(root / "task_usage", [usage0, usage1])
    return root


def test_gcut_exact_arrays(tmp_path):
    trace = _gcut_trace(tmp_path / "trace")
    summary = gcut.convert(trace, tmp_path / "out", num_train=None, num_test=None, max_length=4, chunk_rows=3)

    assert summary.total == 10 and summary.kept == 3
    assert summary.dropped == {
        "no end event": 2,  # C, I (LOST is not an end type by default)
        "discontinuous records": 1,  # D
        "empty measurement record": 2,  # E (no records), F (an empty cell)
        "mismatched end time": 1,  # G
        "longer than max_length": 1,  # H
    }
    assert summary.levels == {"end event type": ["EVICT", "FAIL", "FINISH", "KILL"]}
    data = load_dataset(tmp_path / "out")
    assert data.feature_outputs == [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)] * 9
    assert data.attribute_outputs == [Output(OutputType.DISCRETE, 4)]
    assert data.features.shape == (3, 4, 9)
    # Kept tasks in (job, task) order: A (FINISH, 2 records), B (last end event KILL, 3), J (EVICT, 1).
    np.testing.assert_array_equal(data.attributes, [[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]])
    np.testing.assert_array_equal(data.lengths, [2, 3, 1])
    raw = np.array([_m(b) for b in (0.1, 0.2, 0.3, 0.4, 0.5, 0.9)])  # every record of A, B, J
    low, high = raw.min(axis=0), raw.max(axis=0)
    scaled = (raw - low) / (high - low)
    expected = np.zeros((3, 4, 9))
    expected[0, :2], expected[1, :3], expected[2, :1] = scaled[0:2], scaled[2:5], scaled[5:6]
    np.testing.assert_allclose(data.features, expected, atol=1e-6)
    np.testing.assert_allclose(data.extras["data_feature_min"], low, rtol=1e-6)
    np.testing.assert_allclose(data.extras["data_feature_max"], high, rtol=1e-6)


def test_gcut_end_types_and_candidates(tmp_path):
    trace = _gcut_trace(tmp_path / "trace")
    with_lost = gcut.convert(trace, tmp_path / "lost", num_train=None, num_test=None, max_length=4,
                             end_event_types=(2, 3, 4, 5, 6))
    assert with_lost.kept == 4 and with_lost.dropped["no end event"] == 1  # I kept, ending in LOST
    assert load_dataset(tmp_path / "lost").attributes[2].tolist() == [0, 0, 0, 0, 1]  # A, B, I, J
    sampled = [
        gcut.convert(trace, tmp_path / f"s{i}", num_train=None, num_test=None, max_length=4, max_candidates=5,
                     seed=4)
        for i in range(2)
    ]
    assert sampled[0].total == 5 and sampled[0] == sampled[1]
    assert sampled[0].kept + sum(sampled[0].dropped.values()) == 5


def test_gcut_malformed_input_raises_and_writes_nothing(tmp_path):
    trace = _gcut_trace(tmp_path / "trace")
    part = trace / "task_usage" / "part-00001-of-00002.csv.gz"
    lines = gzip.open(part, "rt").read().splitlines()
    lines[1] = lines[1].replace(",0.9,", ",x,", 1)
    with gzip.open(part, "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"part-00001-of-00002.csv.gz, line 2, column 'mean CPU usage rate'"):
        gcut.convert(trace, tmp_path / "out", num_train=None, num_test=None, max_length=4, chunk_rows=1)
    assert not (tmp_path / "out").exists()

    events = trace / "task_events" / "part-00000-of-00002.csv.gz"
    with gzip.open(events, "wt") as handle:
        handle.write("0,,1,0,,0,u,0,0,0.1,0.1,0.1\n")  # 12 fields: a column missing
    with pytest.raises(DataFormatError, match=r"line 1: has 12 comma-separated fields, expected 13"):
        gcut.convert(trace, tmp_path / "out", max_length=4)
    with gzip.open(events, "wt") as handle:
        handle.write(_event(0, 1, 0, 0) + "\n" + _event(5, "", 0, 4) + "\n")
    with pytest.raises(DataFormatError, match=r"line 2, column 'job ID': value must be an integer"):
        gcut.convert(trace, tmp_path / "out", max_length=4)
    assert not (tmp_path / "out").exists()


# ============================================================================ FCC MBA

NETUSAGE_HEADER = "unit_id,dtime,wan_rx_bytes,wan_tx_bytes,sk_rx_bytes,sk_tx_bytes,location_id"
UDP_HEADER = "unit_id,dtime,target,rtt_avg,rtt_min,rtt_max,rtt_std,successes,failures,location_id"


def _net(unit, hour, rx, tx=0, sk_rx=0, sk_tx=0, day=1, minute=5):
    return f"{unit},2017-10-{day:02d} {hour:02d}:{minute:02d}:00,{rx},{tx},{sk_rx},{sk_tx},9"


def _udp(unit, hour, target, successes, failures):
    return f"{unit},2017-10-01 {hour:02d}:30:00,{target},20000,15000,30000,100,{successes},{failures},9"


def _fcc_files(root, net_extra=(), udp_extra=(), profile_rows=None):
    """Units 1..7 over 6 hours (2 steps of 3 hours); see test_fcc_mba_exact_arrays."""
    net = [
        _net(1, 0, 600, 200), _net(1, 0, 500, 300, sk_rx=100, minute=40),  # two rows: 800 + 700
        *[_net(1, h, 1000 * (h + 1) + 100, 500, sk_rx=100) for h in range(1, 6)],  # 1000 (h + 1) + 500
        _net(1, 23, 10**12, day=30).replace("2017-10-30", "2017-09-30"),  # before the window
        _net(1, 6, 10**12),  # after the window
        _net(2, 1, 10000), _net(2, 4, 20000),
        *[_net(3, h, 10) for h in range(3)],  # no traffic in step 1
        *[_net(u, h, 10) for u in (4, 5, 6) for h in range(6)],
        _net(7, 0, 100000), _net(7, 3, 50),
        *net_extra,
    ]
    udp = [
        *[_udp(1, h, t, s, f) for h in (0, 1, 2, 3, 5) for t, s, f in (("a", 90, 10), ("b", 95, 5))],
        _udp(1, 4, "a", 90, 10), _udp(1, 4, "b", 40, 10), _udp(1, 4, "b", 60, 0),  # b: 10 / 110
        _udp(2, 0, "a", 99, 1), _udp(2, 3, "a", 80, 20), _udp(2, 5, "a", 0, 0),
        *[_udp(u, h, "a", 100, 0) for u in (3, 5, 6) for h in (0, 3)],
        _udp(4, 0, "a", 90, 10), *[_udp(4, h, "a", 0, 0) for h in (3, 4, 5)],  # no probe in step 1
        _udp(7, 0, "a", 100, 0), _udp(7, 3, "a", 50, 50),
        *udp_extra,
    ]
    release = root / "data-raw-2017-oct"
    release.mkdir(parents=True)
    (release / "curr_netusage.csv").write_text("\n".join([NETUSAGE_HEADER, *net]) + "\n")
    (release / "curr_udplatency.csv").write_text("\n".join([UDP_HEADER, *udp]) + "\n")
    profile_rows = profile_rows or [
        "1,Comcast,Cable,PA,100", "1,Comcast,Cable,PA,100", "2,AT&T,DSL,CA,10", "3,Charter,Cable,TX,50",
        "4,Windstream,Satellite,KS,5", "6,Verizon,Fiber,,75", "7,Verizon,Fiber,NY,75",
    ]
    profile = root / "unit_profile.csv"
    profile.write_text("\n".join(["Unit ID,ISP,Technology,State,Download Speed", *profile_rows]) + "\n")
    return release, profile


FCC_WINDOW = dict(start="2017-10-01 00:00:00", num_steps=2, hours_per_step=3)


def test_fcc_mba_exact_arrays(tmp_path):
    release, profile = _fcc_files(tmp_path)
    summary = fcc_mba.convert(release, profile, tmp_path / "out", num_train=None, num_test=None, chunk_rows=4,
                              **FCC_WINDOW)

    assert summary.total == 7 and summary.kept == 3
    assert summary.dropped == {
        "no traffic measurement in some period": 1,  # unit 3
        "no ping loss measurement in some period": 1,  # unit 4
        "no unit profile": 1,  # unit 5
        "empty field in the unit profile": 1,  # unit 6
    }
    assert summary.levels == {
        "ISP": ["AT&T", "Comcast", "Verizon"], "Technology": ["Cable", "DSL", "Fiber"], "State": ["CA", "NY", "PA"]
    }
    data = load_dataset(tmp_path / "out")
    assert data.feature_outputs == [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)] * 2
    assert data.attribute_outputs == [Output(OutputType.DISCRETE, 3)] * 3
    # Units 1, 2, 7: 3-hour means of the hourly values present.
    traffic = np.array([[2500.0, 5500.0], [10000.0, 20000.0], [100000.0, 50.0]])
    loss = np.array([[0.05, (0.05 + 10 / 110 + 0.05) / 3], [0.01, 0.2], [0.0, 0.5]])
    np.testing.assert_allclose(data.features[..., 0], (traffic - 50) / (100000 - 50), atol=1e-7)
    np.testing.assert_allclose(data.features[..., 1], loss / 0.5, atol=1e-7)
    np.testing.assert_allclose(data.extras["data_feature_min"], [50, 0])
    np.testing.assert_allclose(data.extras["data_feature_max"], [100000, 0.5])
    np.testing.assert_array_equal(
        data.attributes,
        [[0, 1, 0, 1, 0, 0, 0, 0, 1], [1, 0, 0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 0, 1, 0, 1, 0]],
    )
    assert np.all(data.gen_flags == 1)


def test_fcc_mba_split_like_the_published_triple(tmp_path):
    release, profile = _fcc_files(tmp_path)
    summary = fcc_mba.convert(release, profile, tmp_path / "out", num_train=2, seed=5, **FCC_WINDOW)
    assert (summary.num_train, summary.num_test) == (2, 1)  # "sample 600" for train, the rest is test
    train, test = load_dataset(tmp_path / "out"), load_dataset(tmp_path / "out", split="test")
    both = np.concatenate([train.features, test.features])
    assert both[..., 0].max() == 1.0 and both[..., 0].min() == 0.0  # one scale for both splits
    np.testing.assert_array_equal(train.extras["data_feature_max"], test.extras["data_feature_max"])


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        # 34 netusage and 28 udplatency rows come first (header = line 1).
        (dict(net_extra=[_net(7, 4, "abc")]), r"curr_netusage.csv, line 36, column 'wan_rx_bytes': .*'abc'"),
        (dict(udp_extra=["7,yesterday,a,1,1,1,1,10,0,9"]), r"curr_udplatency.csv, line 30, column 'dtime'"),
        (dict(udp_extra=["7,2017-10-01 01:00:00,a,1,1,1,1,,0,9"]), r"line 30, column 'successes': empty value"),
        (dict(profile_rows=["1,Comcast,Cable,PA,1", "1,Comcast,DSL,PA,1"]), r"profile.csv, line 3, .*more than once"),
    ],
)
def test_fcc_mba_malformed_input_raises_and_writes_nothing(tmp_path, kwargs, pattern):
    release, profile = _fcc_files(tmp_path, **kwargs)
    with pytest.raises(DataFormatError, match=pattern):
        fcc_mba.convert(release, profile, tmp_path / "out", chunk_rows=4, **FCC_WINDOW)
    assert not (tmp_path / "out").exists()


def test_fcc_mba_wrong_headers(tmp_path):
    release, profile = _fcc_files(tmp_path)
    net = release / "curr_netusage.csv"
    net.write_text(net.read_text().replace(",sk_tx_bytes", ",sk_tx"))
    with pytest.raises(DataFormatError, match=r"line 1: header lacks column\(s\) \['sk_tx_bytes'\]"):
        fcc_mba.convert(release, profile, tmp_path / "out", **FCC_WINDOW)
    release2, profile2 = _fcc_files(tmp_path / "second")
    profile2.write_text(profile2.read_text().replace("State", "Region"))
    with pytest.raises(DataFormatError, match=r"header lacks column\(s\) \['State'\]"):
        fcc_mba.convert(release2, profile2, tmp_path / "out", **FCC_WINDOW)
    assert not (tmp_path / "out").exists()


def test_summary_is_json_ready():
    summary = ConversionSummary("x", 2, 1, {"f": 1}, 1, 0, {"a": ["b"]}, ["v"], [0.0], [1.0], "t")
    assert json.loads(json.dumps(summary.to_dict()))["dropped"] == {"f": 1}
