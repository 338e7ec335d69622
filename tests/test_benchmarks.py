"""``benchmarks/``: CI-sized runs of the script (dg_tf alone, and beside the peer when its venv exists) and its pieces.

Timings are never asserted: only that the script runs end to end and reports
the cases asked for with positive numbers; that the medians, ratios, summary
lines and README tables come out right for fabricated runner outputs whose
ratios are known; and that the data, FLOP counts and peer-side column mapping
are right.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO
from dg_tf import Dataset, Output
from dg_tf.data.validation import validate_dataset

# benchmarks/ is a repository-root package (python -m benchmarks.bench), not part of the installed dg_tf.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from benchmarks.cases import CASES, TINY_BATCH, cluster_lengths  # noqa: E402
from benchmarks.bench import summarize  # noqa: E402
from benchmarks.common import (  # noqa: E402
    ARCHITECTURES, Architecture, StepClock, generation_figures, read_case, replace_marked_section, timed_window,
    to_codes, write_case,
)
from benchmarks.conditioning import _conditional_tv, _off_support_mass  # noqa: E402
from benchmarks.flops import Shape, critic_training_flops, generation_flops, training_flops  # noqa: E402
from benchmarks.peer_env import DEFAULT_VENV  # noqa: E402
from benchmarks.render import BEGIN, END, format_report, summary_lines  # noqa: E402

SMOKE_CASES = ["web_traffic", "cluster_trace"]  # fixed and variable length; fcc_mba is built below
#: The smoke runs' timed windows, seconds (the real runs' 5 s would make CI slow).
SMOKE_WINDOW = "0.1"


def _tiny_run(tmp_path, cases, *flags):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--tiny", "--reps", "1", "--steps", "2", "--steps-per-epoch", "2",
         "--min-window", SMOKE_WINDOW, "--cases", ",".join(cases), "--out", str(out), *flags],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text())


def test_tiny_run_reports_every_case_with_positive_numbers(tmp_path):
    stdout, report = _tiny_run(tmp_path, SMOKE_CASES, "--skip-peer")
    table = [line for line in stdout.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in table[1:3]] == SMOKE_CASES
    assert sorted(report["cases"]) == sorted(SMOKE_CASES)
    assert report["machine"]["cores"] >= 1 and len(report["machine"]["load_average"]) == 3
    assert report["commit"] and report["date"] and report["command"].startswith("python -m benchmarks.bench --tiny")
    for name in SMOKE_CASES:
        case = report["cases"][name]
        assert "gretel" not in case and "ratio" not in case
        dg = case["dg_tf"]
        for key in ("train_samples_per_s", "generate_samples_per_s", "generate_full_samples_per_s", "peak_rss_mib",
                    "model_flops_per_s", "matmul_flops_per_s"):
            assert dg[key] > 0, (name, key)
        assert 0 < dg["fraction_of_matmul_peak"] < 1
        assert dg["peak_rss_mib"] >= dg["train_peak_rss_mib"]
        (run,) = case["runs"]["dg_tf"]
        assert run["timed_train_steps"] >= 2 and run["timed_train_steps"] % 2 == 0  # whole epochs of 2 steps
        for key in ("train_window_s", "generate_window_s", "generate_full_window_s"):
            assert run[key] >= float(SMOKE_WINDOW), key
        assert run["generate_calls"] >= 3 and run["generate_full_calls"] >= 3
        # early exit or not, the output is the same: so are its lengths
        assert 1 <= run["generate_mean_length"] == run["generate_full_mean_length"] <= case["max_length"]
        cold = case["cold_start"]
        assert 0 < cold["import_tensorflow_s"] < cold["api_s"] and cold["cli_s"] > 0 and cold["steady_batch_s"] > 0
        assert cold["dg_tf_share_s"] == pytest.approx(cold["api_s"] - cold["import_tensorflow_s"])
    web = report["cases"]["web_traffic"]
    assert web["dg_tf"]["generate_mean_length"] == web["max_length"] == web["mean_length"]  # a fixed length


@pytest.mark.skipif(not (DEFAULT_VENV / "bin" / "python").exists(),
                    reason=f"no peer venv at {DEFAULT_VENV} (python -m benchmarks.peer_env builds it)")
def test_tiny_run_beside_the_peer_reports_ratios(tmp_path):
    stdout, report = _tiny_run(tmp_path, ["cluster_trace"], "--peer-venv", str(DEFAULT_VENV))
    case = report["cases"]["cluster_trace"]
    (peer,) = case["runs"]["gretel"]
    assert peer["train_samples_per_s"] > 0 and peer["generate_samples_per_s"] > 0
    assert peer["generate_mean_length"] == case["max_length"]  # gretel always rolls out every step
    assert peer["generate_full_samples_per_s"] == peer["generate_samples_per_s"]  # its natural mode is the full one
    assert peer["train_window_s"] >= float(SMOKE_WINDOW) and peer["timed_train_steps"] % 2 == 0
    for key in ("train_samples_per_s", "generate_samples_per_s", "generate_full_samples_per_s", "peak_rss_mib"):
        assert case["ratio"][key] == pytest.approx(case["dg_tf"][key] / case["gretel"][key])
    assert "- **Generation, full rollouts on both sides:** dg_tf / gretel samples/s" in stdout


def _run(train, natural, full, natural_length, full_length, rss, matmul=None):
    """A fabricated runner result (samples/s, steps, MiB, FLOP/s)."""
    run = {"train_samples_per_s": train, "train_window_s": 5.0, "generate_samples_per_s": natural,
           "generate_window_s": 5.0, "generate_mean_length": natural_length, "generate_full_samples_per_s": full,
           "generate_full_window_s": 5.0, "generate_full_mean_length": full_length, "peak_rss_mib": rss,
           "train_peak_rss_mib": rss, "baseline_rss_mib": rss / 2, "versions": {}}
    return run if matmul is None else {**run, "matmul_flops_per_s": matmul}


def _fabricated_case():
    """Three repetitions per side whose medians give ratios 2.5 (training), 3 (full rollouts), 6 (natural)."""
    runs = {
        "dg_tf": [_run(100, 600, 300, 20, 20, 1000, 1e9), _run(300, 500, 200, 20, 20, 900, 2e9),
                  _run(200, 800, 400, 20, 20, 1100, 1e9)],
        "gretel": [_run(80, 100, 100, 50, 50, 500), _run(60, 90, 90, 50, 50, 450),
                   _run(90, 110, 110, 50, 50, 400)],
    }
    cold = [{"cli_s": 9.0, "api_s": 6.0, "import_tensorflow_s": 4.5, "dg_tf_share_s": 1.5},
            {"cli_s": 7.0, "api_s": 5.0, "import_tensorflow_s": 3.8, "dg_tf_share_s": 1.2},
            {"cli_s": 8.0, "api_s": 5.5, "import_tensorflow_s": 4.0, "dg_tf_share_s": 1.5}]
    return {"runs": runs, "cold_starts": cold, **summarize(runs, cold, train_flops=1e6, gen_batch=100)}


def test_summary_takes_medians_then_ratios_of_the_medians():
    case = _fabricated_case()
    assert case["dg_tf"]["train_samples_per_s"] == 200 and case["gretel"]["train_samples_per_s"] == 80
    assert case["ratio"]["train_samples_per_s"] == 2.5
    assert case["ratio"]["generate_full_samples_per_s"] == 3.0  # 300 / 100
    assert case["ratio"]["generate_samples_per_s"] == 6.0  # 600 / 100
    assert case["ratio"]["peak_rss_mib"] == 1000 / 450
    assert case["dg_tf"]["generate_mean_length"] == 20 and case["gretel"]["generate_mean_length"] == 50
    assert case["dg_tf"]["model_flops_per_s"] == 1e6 * 200
    assert case["dg_tf"]["fraction_of_matmul_peak"] == pytest.approx(0.15)  # the median of 0.1, 0.15, 0.2
    assert case["cold_start"] == {"cli_s": 8.0, "api_s": 5.5, "import_tensorflow_s": 4.0, "dg_tf_share_s": 1.5,
                                  "steady_batch_s": 100 / 600}


def _fabricated_report():
    other = _fabricated_case()
    other["ratio"] = dict(other["ratio"], train_samples_per_s=4.0, generate_samples_per_s=8.0)
    return {"date": "2026-12-03T13:00:00+00:00", "commit": "abc1234", "command": "python -m benchmarks.bench",
            "wall_s": 600.0, "warnings": [],
            "machine": {"cpu": "CPU", "cores": 2, "memory_gib": 23.5, "system": "Linux", "python": "3.11.7",
                        "load_average": [0.1, 0.1, 0.1], "load_average_end": [1.9, 1.0, 0.5]},
            "settings": {"threads": 2, "reps": 3, "min_window": 5.0},
            "cases": {"web_traffic": _fabricated_case(), "cluster_trace": other}}


def test_summary_lines_never_mix_full_rollouts_with_natural_modes():
    lines = summary_lines(_fabricated_report()["cases"])
    assert lines[0] == "- **Training:** dg_tf / gretel samples/s 2.50x (web_traffic) to 4.00x (cluster_trace)."
    assert lines[1] == "- **Generation, full rollouts on both sides:** dg_tf / gretel samples/s 3.00x (both cases)."
    assert lines[2].startswith("- **Generation, each side's natural mode") and lines[2].endswith(
        "6.00x (web_traffic) to 8.00x (cluster_trace).")
    assert "of which dg_tf's own share beyond importing TensorFlow 1.50 s (both cases)" in lines[3]


def test_readme_section_is_rendered_from_the_json(tmp_path):
    from benchmarks.render import main as render

    report = _fabricated_report()
    body = format_report(report)
    assert "at commit `abc1234`" in body and "timed windows of at least 5.0 s (training 5.0 to 5.0 s" in body
    assert "| web_traffic | 200 | 80 | **2.50** | 300 | 100 | **3.00** | 600 | 100 | **6.00** | 20.0 | 50.0 |" in body
    assert "| web_traffic | 1,000 | 450 | 2.22 | 0.20 | 15.0 | 8.00 | 5.50 | 1.50 | 0.167 |" in body
    (tmp_path / "results.json").write_text(json.dumps(report))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\nold table\n{END}\noutro\n")
    render([str(tmp_path / "results.json"), "--readme", str(readme)])
    assert readme.read_text() == f"intro\n{BEGIN}\n{body}\n{END}\noutro\n"
    # the repository's README has the section the script rewrites
    text = (REPO / "benchmarks" / "README.md").read_text()
    assert body in replace_marked_section(text, body, BEGIN, END, "benchmarks/README.md")


def _cond_ops(model, early_exit: bool) -> int:
    """How many tf.cond ops (early-exit checks) the traced generation batch holds, in the functions it calls too."""
    counter, key = tf.TensorSpec([2], tf.uint64), tf.TensorSpec([1], tf.uint64)
    graph = model._sample.get_concrete_function(counter, key, model.config.generate_batch_size, 1, None, early_exit,
                                                False).graph
    definition = graph.as_graph_def()
    nodes = [*definition.node, *(node for f in definition.library.function for node in f.node_def)]
    return sum(node.op in ("If", "StatelessIf") for node in nodes)


@pytest.mark.parametrize("variable_length", [True, False])
def test_full_rollouts_generate_the_same_series_without_early_exit(tiny_config, variable_length):
    """``generate_early_exit=False`` (the benchmark's full rollouts) changes the work, never the output."""
    from conftest import make_toy_dataset
    from dg_tf import DoppelGANger

    dataset = make_toy_dataset(n=32, length=16, variable_length=variable_length)
    config = tiny_config.replace(sample_len=1, epochs=1)  # 16 passes: 8 chunks of 2
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)
    natural = model.generate(40, seed=3)
    model.config = model.config.replace(generate_early_exit=False)
    full = model.generate(40, seed=3)
    for name in ("features", "attributes", "gen_flags"):
        assert getattr(natural, name).tobytes() == getattr(full, name).tobytes(), name
    assert _cond_ops(model, early_exit=False) == 0
    # a fixed length decides every chunk when tracing: no run-time check (and less to trace on a cold start)
    assert (_cond_ops(model, early_exit=True) > 0) == variable_length


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


def test_fidelity_harness_architecture_is_the_default_model_config():
    """The fidelity harness's default sizes, given to both systems, are dg_tf's defaults, field by field."""
    from benchmarks.dg_runner import arch_config
    from benchmarks.fidelity import DEFAULT_ARCHITECTURE
    from dg_tf import DGConfig

    default, sized = DGConfig().model, arch_config(ARCHITECTURES[DEFAULT_ARCHITECTURE]).model
    fields = ("attribute_noise_dim", "addi_attribute_noise_dim", "feature_noise_dim", "attribute_hidden_layers",
              "attribute_hidden_units", "feature_lstm_layers", "feature_lstm_units", "critic_hidden_layers",
              "critic_hidden_units", "aux_critic_hidden_layers", "aux_critic_hidden_units")
    assert {f: getattr(sized, f) for f in fields} == {f: getattr(default, f) for f in fields}


def test_flops_by_hand():
    """Every matmul of dg_tf's training step (dg_tf/training/step.py) for a tiny shape, counted from the layer sizes.

    L=4, S=2 (2 passes), K=1 continuous feature (Aa=2), A=2 real attribute columns, variable length (D=3 with
    the 2 flag channels); noise 1, attribute MLPs 1 x 2, LSTM 1 x 2, critics 1 x 2.
    """
    arch = Architecture(attribute_noise_dim=1, feature_noise_dim=1, attribute_layers=1, attribute_units=2, lstm_layers=1, lstm_units=2,
                        critic_layers=1, critic_units=2)
    shape = Shape(length=4, sample_len=2, feature_width=1, continuous_features=1, attribute_width=2)
    # multiply-adds per sample of each Dense layer, as (inputs x outputs)
    attribute_mlp = [1 * 2, 2 * 2]           # noise 1 -> 2 -> A 2
    addi_mlp = [(1 + 2) * 2, 2 * 2]          # noise 1 + A 2 -> 2 -> Aa 2
    lstm = 2 * (2 + 2 + 1 + 2) * 4 * 2       # 2 passes of [A + Aa + noise, h] (7) -> 4 gates of 2 units
    heads = 2 * 2 * (2 * 3)                  # 2 passes of h 2 -> S x D = 6
    critic = [(4 * 3 + 4) * 2, 2 * 1]        # L x D + A + Aa = 16 -> 2 -> 1
    aux = [4 * 2, 2 * 1]                     # A + Aa = 4 -> 2 -> 1
    g = 2 * (sum(attribute_mlp) + sum(addi_mlp) + lstm + heads)
    assert generation_flops(shape, arch) == g == 2 * (6 + 10 + 112 + 24)

    def per_critic(layers):
        f, first = 2 * sum(layers), 2 * layers[0]
        return (3 * f            # critic round: forwards on real, fake and interpolated rows
                + f              # the penalty's gradient with respect to the interpolated input
                + 2 * f          # weight gradients of the real and fake terms
                + 2 * (f - first)  # their input gradients, below the first layer (the inputs need none)
                + 2 * f          # the penalty's double backward
                + 2 * f)         # generator round: a forward and the input gradient, into the generator

    assert per_critic(critic) == critic_training_flops(critic) == 2 * (12 * 34 - 2 * 32)
    # one generator forward (the critic round reuses it) and its backward; the BatchNorm replay reruns the MLPs
    expected = 3 * g + 2 * (sum(attribute_mlp) + sum(addi_mlp)) + per_critic(critic) + per_critic(aux)
    assert training_flops(shape, arch) == expected
    fixed = Shape(length=4, sample_len=2, feature_width=1, continuous_features=1, attribute_width=2, fixed_length=True)
    assert generation_flops(fixed, arch) == g - 2 * 2 * 2 * (2 * 2)  # no flag channels: heads of S x K = 2
    paper = Shape.of(550, 10, [{"type": "CONTINUOUS", "dim": 1}], [{"type": "DISCRETE", "dim": d} for d in (9, 3, 2)])
    assert paper.addi_width == 2 and paper.attribute_width == 14 and paper.step_width == 3


def _clock(*stamps):
    """A fake ``time.perf_counter``'s values: ``stamps``, then a constant for pytest's own calls."""
    return itertools.chain(stamps, itertools.repeat(100.0))


def test_step_clock_times_steps_after_the_warm_up_epoch(monkeypatch):
    now = _clock(0.0, 5.0, 6.0, 7.0, 8.0)  # warm-up epoch ends at 5 s, then 3 steps in 3 s
    monkeypatch.setattr(time, "perf_counter", lambda: next(now))
    clock = StepClock()
    for epoch in (1, 1, 2, 2):
        clock.tick(epoch)
    assert clock.window_reached(min_steps=2, min_seconds=2.0) and not clock.window_reached(3, 2.0)
    assert not clock.window_reached(min_steps=2, min_seconds=2.5)
    clock.tick(3)
    assert clock.figures(batch_size=10) == {"train_samples_per_s": 10.0, "timed_train_steps": 3, "train_window_s": 3.0}
    only_warm_up = StepClock()
    for epoch in (0, 0):  # gretel counts epochs from 0
        only_warm_up.tick(epoch)
    assert not only_warm_up.window_reached(1, 0.0)
    with pytest.raises(ValueError, match="warm-up"):
        only_warm_up.figures(batch_size=10)


def test_generation_is_timed_over_a_window_of_calls(monkeypatch):
    now = _clock(0.0, 1.0, 2.5, 4.0, 5.5)  # calls end at 1, 2.5, 4 and 5.5 s
    monkeypatch.setattr(time, "perf_counter", lambda: next(now))
    lengths = iter([10.0, 11.0, 12.0, 13.0])
    figures = generation_figures(lambda: next(lengths), n=100, min_seconds=5.0, min_calls=3, prefix="generate_full_")
    assert figures == {"generate_full_samples_per_s": 400 / 5.5, "generate_full_window_s": 5.5,
                       "generate_full_calls": 4, "generate_full_mean_length": 13.0}
    now = _clock(0.0, 10.0, 11.0, 12.0)  # one long call: still at least min_calls
    monkeypatch.setattr(time, "perf_counter", lambda: next(now))
    assert timed_window(lambda: "out", min_seconds=5.0, min_calls=3) == (3, 12.0, "out")


def test_gen_calls_below_one_is_one_clear_error():
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--gen-calls", "0", "--skip-peer"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--gen-calls must be >= 1" in done.stderr


def test_gpu_script_refuses_without_a_gpu_and_formats_its_rows(monkeypatch):
    """benchmarks.gpu: no GPU visible and no --allow-cpu -> one clear refusal before any work;
    bad sizes are refused by the parser; the printed row carries the runner's figures."""
    from benchmarks import gpu

    monkeypatch.setattr(gpu, "visible_gpus", lambda: [])
    with pytest.raises(SystemExit, match="sees no GPU"):
        gpu.main(["--series", "10", "--batches", "5"])
    for bad in (["--batches", "100,x"], ["--batches", "0"], ["--series", "50", "--batches", "100"]):
        with pytest.raises(SystemExit):
            gpu.parse_args(bad)
    assert gpu.parse_args([]).batches == [100, 1000] and gpu.parse_args([]).series == 50_000
    run = {"train_samples_per_s": 12345.6, "generate_samples_per_s": 50000.0, "generate_full_samples_per_s": 40000.0,
           "generate_mean_length": 550.0, "peak_rss_mib": 2048.4}
    row = gpu.format_rows({"1000": run}).splitlines()[-1]
    assert row == "| 1000 | 12,346 | 50,000 | 40,000 | 550 | 2,048 |"


def test_conditioning_measures_by_hand():
    # real (a): pairs (given, target) = (0,0) (0,1) (1,0) (1,0); generated (b): (0,2) (1,1) (1,0) (0,0)
    given_a, target_a = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 0])
    given_b, target_b = np.array([0, 1, 1, 0]), np.array([2, 1, 0, 0])
    assert _off_support_mass(given_a, target_a, given_b, target_b, 3) == 0.5  # (0,2) and (1,1) never occur in a
    assert _off_support_mass(given_a, target_a, given_a, target_a, 3) == 0.0
    # given 0: a (1/2, 1/2, 0) vs b (1/2, 0, 1/2) -> TV 1/2; given 1: a (1, 0, 0) vs b (1/2, 1/2, 0) -> 1/2
    assert _conditional_tv(given_a, target_a, given_b, target_b, 2, 3) == pytest.approx(0.5)
    # weights are a's frequencies: with given 1 three times as common in a, only its TV (1/2) moves
    given_a2, target_a2 = np.array([0, 1, 1, 1]), np.array([0, 0, 0, 0])
    expected = 0.25 * 0.5 + 0.75 * 0.5  # given 0: (1,0,0) vs (1/2,0,1/2); given 1: (1,0,0) vs (1/2,1/2,0)
    assert _conditional_tv(given_a2, target_a2, given_b, target_b, 2, 3) == pytest.approx(expected)
