"""``benchmarks.fidelity``: its scoring on series whose answers are known, its data helpers, a CI-sized run.

The peer side needs its own venv and the shared tables; CI runs dg_tf alone on
the bundled FCC MBA data (``--systems dg_tf``), a few series and one epoch.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from benchmarks.fidelity import MEASURES, resampled_labels_tv, score  # noqa: E402
from benchmarks.fidelity_cases import (  # noqa: E402
    CASES, DEFAULT_CASES, HOLDOUT_FRACTION, DerivedLabel, Series, batch_size, label_text, split_ids, table_series,
)


def _series(lengths, labels, length=12, seed=0, period=4.3):
    rng = np.random.default_rng(seed)
    lengths = np.asarray(lengths)
    steps = np.arange(length)
    values = 5 + 3 * np.sin(2 * np.pi * steps / period + rng.uniform(0, 6, (len(lengths), 1)))
    values = values + rng.normal(0, 0.1, values.shape)
    values = np.where(steps < lengths[:, None], values, 0.0)[..., None]
    return Series(values, lengths, np.array(labels, dtype=str)[:, None], ("x",), ("kind",))


def test_score_of_the_real_data_itself_is_zero_and_of_known_differences_is_exact():
    real = _series([10, 12, 12, 8, 10, 12], ["a", "a", "b", "b", "a", "b"])
    held = _series([12, 9, 11, 12], ["a", "b", "a", "b"], seed=1)
    same = score(real, held, real, label_attribute=0, sample_len=2)
    for measure in ("acf_mse", "length_w1", "short_fraction", "too_short_fraction", "attribute_tv",
                    "statistic_w1", "statistic_w1_by_label"):
        assert same[measure] == 0.0, measure
    # All series of length 1 and of one label: every length measure is known by hand.
    ones = Series(real.features.copy(), np.ones(6, dtype=np.int64), np.full((6, 1), "a"), ("x",), ("kind",))
    ones.features[:, 1:] = 0.0
    result = score(real, held, ones, label_attribute=0, sample_len=2)
    assert result["short_fraction"] == 1.0 and result["too_short_fraction"] == 1.0
    assert result["length_w1"] == pytest.approx((np.mean([10, 12, 12, 8, 10, 12]) - 1) / 12)
    assert result["attribute_tv"] == pytest.approx(0.5)  # real 1/2 "a", synthetic all "a"
    assert result["tstr"] is None  # one label: no classifier can be trained
    assert result["detail"]["lengths"] == {"min": 1, "mean": 1.0, "max": 1, "std": 0.0, "real_min": 8,
                                           "real_mean": pytest.approx(64 / 6), "real_max": 12}
    # too short by more than one sample_len: length 5 vs shortest 8 and S=2 counts, length 7 does not.
    shorter = Series(real.features, np.array([5, 7, 12, 12, 12, 12]), real.labels, ("x",), ("kind",))
    result = score(real, held, shorter, label_attribute=0, sample_len=2)
    assert result["short_fraction"] == pytest.approx(2 / 6) and result["too_short_fraction"] == pytest.approx(1 / 6)


def _multinomial_tv_mean(probabilities, draws):
    """Expected total variation between ``draws`` multinomial draws' frequencies and ``probabilities``,
    by enumerating every outcome."""
    expected = 0.0
    for counts in itertools.product(range(draws + 1), repeat=len(probabilities)):
        if sum(counts) == draws:
            chance = math.factorial(draws) / math.prod(map(math.factorial, counts)) * math.prod(
                p ** c for p, c in zip(probabilities, counts))
            expected += chance * 0.5 * sum(abs(c / draws - p) for p, c in zip(probabilities, counts))
    return expected


def test_resampled_labels_tv_is_the_sampling_floor_of_an_exact_label_model():
    # Two equally common labels, 4 series drawn: TV 0, 1/4, 1/2 with chances 6/16, 8/16, 2/16.
    assert _multinomial_tv_mean([0.5, 0.5], 4) == pytest.approx(3 / 16)
    halves = np.array([["a"], ["b"], ["a"], ["b"]])
    # labels a, a, b, c and 6 series drawn; 10,000 resamples: a standard error of about 0.001
    labels = np.array([["a"], ["a"], ["b"], ["c"]])
    expected = _multinomial_tv_mean([0.5, 0.25, 0.25], 6)
    for seed in range(3):
        assert resampled_labels_tv(labels, 6, seed) == pytest.approx(expected, abs=0.004)
        assert resampled_labels_tv(halves, 4, seed) == pytest.approx(3 / 16, abs=0.004)
    assert resampled_labels_tv(np.full((5, 1), "x"), 3) == 0.0  # one label: every draw is exact
    # the mean over attributes: a second attribute of one label halves every draw's TV
    assert resampled_labels_tv(np.column_stack([labels[:, 0], np.full(4, "x")]), 6) == pytest.approx(
        resampled_labels_tv(labels, 6) / 2)
    # more series, less sampling error: 4 equally common classes, 600 series drawn instead of 60
    four = np.array([["a"], ["b"], ["c"], ["d"]])
    assert resampled_labels_tv(four, 600) == pytest.approx(resampled_labels_tv(four, 60) / 10 ** 0.5, rel=0.05)


def test_score_scales_features_by_the_real_training_range():
    real = _series([12] * 6, ["a", "b"] * 3)
    shifted = Series(real.features + 6.0 * (real.features != 0), real.lengths, real.labels, ("x",), ("kind",))
    result = score(real, real, shifted, label_attribute=0, sample_len=1)
    active = real.features[real.features != 0]
    assert result["statistic_w1"] == pytest.approx(6.0 / np.ptp(active), rel=1e-9)  # a shift of 6 in units of the range
    # Shape unchanged: only 2-step windows (r = +-1 exactly, DG zeroes |r| > 1 after rounding) may differ.
    assert result["acf_mse"] < 0.005
    assert result["tstr"] is not None


def test_floor_tstr_trains_on_the_real_training_series():
    real = _series([12] * 8, ["a"] * 4 + ["b"] * 4, period=3)
    real.features[4:] *= 0.1  # label b: small values, easy to tell apart
    held = Series(real.features[[0, 5]], real.lengths[[0, 5]], real.labels[[0, 5]], ("x",), ("kind",))
    floor = score(real, held, held, label_attribute=0, sample_len=1, floor=True)
    assert floor["tstr"] == 1.0
    assert set(floor["detail"]["tstr"]) == {"mlp", "naive_bayes", "logistic_regression", "decision_tree", "linear_svm"}


def test_split_batch_and_labels():
    train, held = split_ids(np.arange(100, 200))
    assert len(held) == round(HOLDOUT_FRACTION * 100) and len(train) == 75
    assert not set(train) & set(held) and set(train) | set(held) == set(range(100, 200))
    np.testing.assert_array_equal(split_ids(np.arange(100, 200))[1], held)  # seeded
    assert [batch_size(n) for n in (60, 75, 150, 450, 101)] == [60, 75, 75, 90, 50]
    np.testing.assert_array_equal(label_text(np.array([9.0, 3, "x"], dtype=object)), ["9", "3", "x"])
    np.testing.assert_array_equal(label_text(np.array([2.5, 7])), ["2.5", "7"])


def test_derived_labels_are_the_thirds_of_each_series_statistic():
    # Six series, ids not in row order. By length: 1..6 steps.
    lengths = {16: 1, 15: 2, 14: 3, 13: 4, 12: 5, 11: 6}
    frame = pd.DataFrame([(i, t) for i, n in lengths.items() for t in range(n)], columns=["series_id", "step"])
    frame["dim_0"] = 0.0
    by_length = DerivedLabel("duration", "length", ("short", "medium", "long")).add_to(frame, "series_id", ("dim_0",))
    assert by_length.groupby("series_id")["duration"].agg(set).to_dict() == {
        16: {"short"}, 15: {"short"}, 14: {"medium"}, 13: {"medium"}, 12: {"long"}, 11: {"long"}}
    assert list(by_length.columns) == [*frame.columns, "duration"] and len(by_length) == len(frame)
    # By spread: four steps each; dim_0's spread rises with the id, dim_1's (ten times larger) falls.
    ids, steps = np.repeat(np.arange(6), 4), np.tile(np.arange(4.0), 6)
    frame = pd.DataFrame({"series_id": ids, "step": steps, "dim_0": (ids + 1) * steps, "dim_1": 10 * (6 - ids) * steps})
    levels = ("low", "mid", "high")
    first = DerivedLabel("level", "spread", levels).add_to(frame, "series_id", ("dim_0", "dim_1"))
    both = DerivedLabel("level", "spread", levels, features=2).add_to(frame, "series_id", ("dim_0", "dim_1"))
    spread_of = lambda columns: frame.groupby("series_id")[columns].agg(lambda x: np.std(x, ddof=1)).mean(axis=1)
    for derived, columns in ((first, ["dim_0"]), (both, ["dim_0", "dim_1"])):
        ranked = spread_of(columns).sort_values().index
        labels = derived.groupby("series_id")["level"].first()
        assert [labels[i] for i in ranked] == ["low", "low", "mid", "mid", "high", "high"]
    assert first.groupby("series_id")["level"].first().tolist() == ["low", "low", "mid", "mid", "high", "high"]
    assert both.groupby("series_id")["level"].first().tolist() == ["high", "high", "mid", "mid", "low", "low"]
    assert set(DEFAULT_CASES) < set(CASES) and all(CASES[name].derived is None for name in DEFAULT_CASES)


def test_table_series_pads_groups_in_id_order():
    frame = pd.DataFrame({"series_id": [2, 2, 1, 1, 1], "step": [0, 1, 0, 1, 2], "class": [7, 7, 3, 3, 3],
                          "dim_0": [0.5, 0.6, 1.0, 2.0, 3.0]})
    series = table_series(frame, CASES["pickup_gesture"], length=4)
    np.testing.assert_array_equal(series.lengths, [3, 2])
    np.testing.assert_array_equal(series.features[:, :, 0], [[1, 2, 3, 0], [0.5, 0.6, 0, 0]])
    np.testing.assert_array_equal(series.labels, [["3"], ["7"]])
    with pytest.raises(ValueError, match="more than L=2"):
        table_series(frame, CASES["pickup_gesture"], length=2)


def test_series_file_round_trip(tmp_path):
    series = _series([3, 12], ["a", "b"])
    series.save(tmp_path / "s.npz")
    back = Series.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(back.features, series.features)
    np.testing.assert_array_equal(back.labels, series.labels)
    assert (back.feature_names, back.attribute_names) == (("x",), ("kind",))


def test_ci_sized_run_of_dg_tf_on_the_bundled_data(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.fidelity", "--cases", "fcc_mba", "--systems", "dg_tf", "--seeds", "1",
         "--epochs", "1", "--max-series", "40", "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "fidelity.json").read_text())
    case = report["cases"]["fcc_mba"]
    assert (case["train_series"], case["held_out_series"], case["batch_size"]) == (30, 10, 30)
    (run,) = case["systems"]["dg_tf"]["runs"]
    lengths = run["score"]["detail"]["lengths"]
    assert lengths["min"] == lengths["max"] == 56  # fixed-length data: every series full length
    assert run["score"]["short_fraction"] == 0.0 and case["floor"]["length_w1"] == 0.0
    assert report["commit"] and report["machine"]["cores"] >= 1
    assert "| acf_mse |" in (tmp_path / "fidelity.md").read_text()
    exact = case["resampled_labels"]["attribute_tv"]
    assert f"exact label model generating 30 series (the training labels resampled, mean of 10000): {exact:.3g}." \
        in (tmp_path / "fidelity.md").read_text()
    # both systems get dg_tf's default sizes: the paper's (appendix B: LSTM 1 x 100, critics 4 x 200), feature noise 20
    assert report["settings"]["architecture"] == "noise20"
    assert (run["config"]["feature_noise_dim"], run["config"]["attribute_noise_dim"]) == (20, 5)
    assert (run["config"]["feature_lstm_units"], run["config"]["critic_hidden_units"]) == (100, 200)
    bad = subprocess.run([sys.executable, "-m", "benchmarks.fidelity", "--systems", "nope"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown ['nope']" in bad.stderr
    untagged = subprocess.run([sys.executable, "-m", "benchmarks.fidelity", "--architecture", "paper"],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
    assert untagged.returncode == 2 and "need a --tag" in untagged.stderr


def test_readme_section_is_rendered_from_the_reports(tmp_path):
    from benchmarks.fidelity_compare import BEGIN, END, format_summary, main, merge, replace_section

    summary = {m: {"median": 0.5, "min": 0.4, "max": 0.6} for m in MEASURES}
    case = {"train_series": 3, "held_out_series": 1, "max_length": 4, "sample_len": 1, "epochs": 2, "batch_size": 3,
            "floor": {m: 0.25 for m in MEASURES}, "systems": {"dg_tf": {"summary": summary}}}
    report = {"date": "2026-12-03T09:00:00+00:00", "commit": "abc1234", "machine": {"cpu": "CPU", "cores": 2},
              "cases": {"toy": case}}
    body = format_summary(merge([report]), [report])
    assert "| toy | held-out real (floor) | 0.25 |" in body and "| toy | dg_tf | 0.5 |" in body
    assert "exact label model" not in body  # reports written before it existed
    labelled = dict(report, cases={"toy": dict(case, resampled_labels={"attribute_tv": 0.125})})
    rows = format_summary(merge([report, labelled]), [report]).splitlines()
    assert rows[3] == "| toy | exact label model (floor) | — | — | — | — | 0.125 | — | — | — |"
    assert "at commit `abc1234`" in body
    text = f"intro\n{BEGIN}\nold table\n{END}\noutro\n"
    assert replace_section(text, body, "R.md") == f"intro\n{BEGIN}\n{body}\n{END}\noutro\n"
    with pytest.raises(ValueError, match="R.md: needs the lines"):
        replace_section("no markers", body, "R.md")
    both = merge([report, report], ["", " (again)"])["toy"]["systems"]
    assert list(both) == ["dg_tf", "dg_tf (again)"]
    tagged = dict(report, cases={"toy": dict(case, systems={"gretel-paper": {"summary": {
        m: {"median": 0.75, "min": 0.75, "max": 0.75} for m in MEASURES}}})})
    renamed = merge([report, tagged], ["", " (late)"], {"gretel-paper": "gretel"})["toy"]["systems"]
    assert list(renamed) == ["dg_tf", "gretel (late)"] and renamed["gretel (late)"]["tstr"]["median"] == 0.75
    (tmp_path / "a.json").write_text(json.dumps(report))
    (tmp_path / "b.json").write_text(json.dumps(tagged))
    (tmp_path / "R.md").write_text(f"{BEGIN}\n{END}\n")
    main([str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--rename", "gretel-paper=gretel",
          "--readme", str(tmp_path / "R.md")])
    assert "| toy | gretel | 0.75 |" in (tmp_path / "R.md").read_text()
    with pytest.raises(SystemExit):
        main([str(tmp_path / "a.json"), "--rename", "gretel-paper"])
    other = dict(report, cases={"toy": dict(case, epochs=3)})
    with pytest.raises(ValueError, match="toy: reports differ in epochs"):
        merge([report, other])
