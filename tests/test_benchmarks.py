"""``benchmarks/``: a CI-sized smoke run of the script (dg_tf only, no peer venv) and its pieces.

Timings are never asserted: only that the script runs end to end, reports the
cases asked for with positive numbers, and that the data, FLOP counts and
peer-side column mapping are right.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPO
from dg_tf import Dataset, Output
from dg_tf.data.validation import validate_dataset

# benchmarks/ is a repository-root package (python -m benchmarks.bench), not part of the installed dg_tf.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from benchmarks.cases import CASES, TINY_BATCH, cluster_lengths  # noqa: E402
from benchmarks.common import (  # noqa: E402
    ARCHITECTURES, Architecture, StepClock, median_seconds, read_case, to_codes, write_case,
)
from benchmarks.flops import Shape, generation_flops, training_flops  # noqa: E402

SMOKE_CASES = ["web_traffic", "cluster_trace"]  # fixed and variable length; fcc_mba is built below


def test_tiny_run_reports_every_case_with_positive_numbers(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--tiny", "--skip-peer", "--reps", "1",
         "--steps", "2", "--steps-per-epoch", "2", "--cases", ",".join(SMOKE_CASES), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in table[1:]] == SMOKE_CASES
    report = json.loads(out.read_text())
    assert sorted(report["cases"]) == sorted(SMOKE_CASES)
    assert report["machine"]["cores"] >= 1 and len(report["machine"]["load_average"]) == 3
    for name in SMOKE_CASES:
        case = report["cases"][name]
        assert "gretel" not in case and "ratio" not in case
        dg = case["dg_tf"]
        for key in ("train_samples_per_s", "generate_samples_per_s", "peak_rss_mib", "model_flops_per_s",
                    "matmul_flops_per_s"):
            assert dg[key] > 0, (name, key)
        assert 0 < dg["fraction_of_matmul_peak"] < 1
        assert dg["peak_rss_mib"] >= dg["train_peak_rss_mib"]
        (run,) = case["runs"]["dg_tf"]
        assert run["timed_train_steps"] == 2  # epochs after the warm-up one, 2 steps each


def test_unknown_case_is_one_clear_error():
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--cases", "nope", "--skip-peer"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "unknown ['nope']" in done.stderr and "web_traffic" in done.stderr


@pytest.mark.parametrize("name", list(CASES))
def test_tiny_case_data_is_a_valid_dataset_and_round_trips(name, tmp_path):
    data = CASES[name].build(tiny=True, steps_per_epoch=2)
    assert data.features.shape[0] == 2 * TINY_BATCH
    dataset = Dataset(data.features, data.attributes, data.gen_flags,
                      [Output.from_dict(o) for o in data.feature_outputs],
                      [Output.from_dict(o) for o in data.attribute_outputs])
    validate_dataset(dataset, name)  # one-hot rows, ranges, zero padding, flags
    write_case(tmp_path / "case.npz", data.features, data.attributes, data.gen_flags,
               data.feature_outputs, data.attribute_outputs)
    back = read_case(tmp_path / "case.npz")
    np.testing.assert_array_equal(back["features"], data.features)
    np.testing.assert_array_equal(back["gen_flags"], data.gen_flags)
    assert back["attribute_outputs"] == data.attribute_outputs


def test_full_size_shapes_match_the_issue():
    web = CASES["web_traffic"].build(tiny=False, steps_per_epoch=1)
    assert web.features.shape == (100, 550, 1)
    assert [o["dim"] for o in web.attribute_outputs] == [9, 3, 2]
    assert CASES["web_traffic_b1000"].batch_size == 1000
    lengths = cluster_lengths(5000, 2500, np.random.default_rng(0))
    assert lengths.min() >= 1 and lengths.max() == 2500
    assert np.mean(lengths < 50) > 0.8  # most series under 50 steps


def test_to_codes_gives_gretel_one_column_per_variable():
    outputs = [{"type": "CONTINUOUS", "dim": 2}, {"type": "DISCRETE", "dim": 3}]
    values = np.array([[0.1, 0.2, 0, 0, 1], [0.3, 0.4, 0, 1, 0]], np.float32)
    codes, types = to_codes(values, outputs)
    np.testing.assert_allclose(codes, [[0.1, 0.2, 2], [0.3, 0.4, 1]], rtol=1e-6)
    assert types == ["continuous", "continuous", "discrete"]
    with pytest.raises(ValueError, match="span 5 columns but the data has 4"):
        to_codes(values[:, :4], outputs)


def test_flops_by_hand():
    # L=4, S=2, K=1 continuous (D=3 with the flag, Aa=2), A=2; noise 1, MLPs 1x2, LSTM 1x2, critics 1x2.
    arch = Architecture(noise_dim=1, attribute_layers=1, attribute_units=2, lstm_layers=1, lstm_units=2,
                        critic_layers=1, critic_units=2)
    shape = Shape(length=4, sample_len=2, feature_width=1, continuous_features=1, attribute_width=2)
    attribute = 1 * 2 + 2 * 2         # noise -> 2 -> A
    addi = (1 + 2) * 2 + 2 * 2        # noise + A -> 2 -> Aa
    lstm = 2 * 4 * 2 * (2 + 2 + 1 + 2)  # 2 passes x 4u(in + u)
    heads = 2 * 3 * 4                 # u x D per record
    g = 2 * (attribute + addi + lstm + heads)
    critic = 2 * ((4 * 3 + 4) * 2 + 2 * 1)
    aux = 2 * (4 * 2 + 2 * 1)
    assert generation_flops(shape, arch) == g
    assert training_flops(shape, arch) == 4 * g + 12 * critic + 12 * aux
    paper = Shape.of(550, 10, [{"type": "CONTINUOUS", "dim": 1}], [{"type": "DISCRETE", "dim": d} for d in (9, 3, 2)])
    assert paper.addi_width == 2 and paper.attribute_width == 14
    assert training_flops(paper, ARCHITECTURES["paper"]) > 12 * 2 * 550 * 3 * 200  # first critic layer dominates


def test_step_clock_times_steps_after_the_warm_up_epoch(monkeypatch):
    now = iter([0.0, 5.0, 6.0, 7.0, 8.0, 0.0, 1.0])  # warm-up epoch ends at 5 s, then 3 steps in 3 s
    monkeypatch.setattr(time, "perf_counter", lambda: next(now))
    clock = StepClock()
    for epoch in (1, 1, 2, 2, 3):
        clock.tick(epoch)
    assert clock.samples_per_second(batch_size=10) == (10.0, 3)
    only_warm_up = StepClock()
    for epoch in (0, 0):  # gretel counts epochs from 0
        only_warm_up.tick(epoch)
    with pytest.raises(ValueError, match="warm-up"):
        only_warm_up.samples_per_second(batch_size=10)


def test_generation_time_is_the_median_of_the_calls(monkeypatch):
    now = iter([0.0, 1.0, 1.0, 4.0, 4.0, 6.0])  # calls of 1 s, 3 s and 2 s
    monkeypatch.setattr(time, "perf_counter", lambda: next(now))
    calls = []
    assert median_seconds(lambda: calls.append(1), 3) == 2.0
    assert len(calls) == 3


def test_gen_calls_below_one_is_one_clear_error():
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--gen-calls", "0", "--skip-peer"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--gen-calls must be >= 1" in done.stderr
