"""The whole evaluation (dg_tf.evaluation.report) and ``python -m dg_tf.evaluate``."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

import oracles
from conftest import TINY, make_toy_dataset
from dg_tf import DGConfig, DoppelGANger, load_dataset, load_npz, save_dataset, save_npz
from dg_tf.evaluate import main as evaluate_main
from dg_tf.evaluation import EvaluationConfig, evaluate, write_report
from dg_tf.evaluation.scores import discriminative_score
from dg_tf.cli import run_main

FAST = EvaluationConfig(scores=False, seed=3)


def _numbers(tree):
    """Every number in a nested metrics dict (None = undefined is skipped)."""
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _numbers(value)
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield tree


def test_identical_data_gives_zero_distances_and_equal_tstr():
    real = make_toy_dataset(60, seed=1)
    holdout = make_toy_dataset(40, seed=2)
    result = evaluate(real, real, holdout=holdout, config=FAST)
    fidelity = result.metrics["fidelity"]
    assert fidelity["acf_mse"]["mean"] == 0.0
    assert all(v == 0.0 for v in fidelity["acf_mse"]["per_feature"].values())
    for stats in fidelity["statistics"].values():
        assert stats["wasserstein1"] == 0.0 and stats["midpoint_wasserstein1"] == 0.0
        assert set(_numbers(stats["wasserstein1_by_attribute"])) == {0.0}
    for marginal in fidelity["attributes"].values():
        if marginal["type"] == "discrete":
            assert marginal["total_variation"] == 0.0 and marginal["jensen_shannon"] == 0.0
        else:
            assert marginal["wasserstein1"] == [0.0]
    assert fidelity["lengths"] == {"wasserstein1": 0.0, "total_variation": 0.0}
    assert set(fidelity["cross_feature_correlation"].values()) == {0.0}
    tstr = result.metrics["utility"]["train_on_synthetic_test_on_real"]
    assert tstr["train_synthetic"] == tstr["train_real"]
    assert len(tstr["train_real"]) == 5
    # The floor is a real comparison: two independent real samples differ.
    assert result.metrics["floor"]["statistics"]["feature 0"]["wasserstein1"] > 0
    memorization = result.metrics["privacy"]["memorization"]
    assert memorization["flagged"] and memorization["copy_fraction"] == 1.0


def test_known_shift_is_measured_exactly():
    real = make_toy_dataset(50, seed=1, variable_length=False)
    shifted = dataclasses.replace(real, features=real.features.copy())
    shifted.features[:, :, 0] += 0.05  # stays inside [0, 1]; sum over 8 steps shifts by 0.4
    result = evaluate(real, shifted, config=dataclasses.replace(FAST, utility=False))
    stats = result.metrics["fidelity"]["statistics"]["feature 0"]
    assert stats["wasserstein1"] == pytest.approx(0.4, abs=1e-5)
    assert stats["midpoint_wasserstein1"] == pytest.approx(0.05, abs=1e-6)
    assert result.metrics["fidelity"]["acf_mse"]["per_feature"]["feature 0"] == pytest.approx(0, abs=1e-12)
    assert result.metrics["floor"] is None
    assert "skipped" in result.metrics["privacy"]["memorization"]


def test_mismatched_specs_are_refused():
    real = make_toy_dataset(20, seed=1)
    other = make_toy_dataset(20, length=10, seed=1)
    with pytest.raises(ValueError, match="length"):
        evaluate(real, other, config=FAST)


def test_report_files_embed_existing_figures(tmp_path):
    real = make_toy_dataset(60, seed=1)
    synthetic = make_toy_dataset(70, seed=5)
    result = evaluate(real, synthetic, holdout=make_toy_dataset(30, seed=2), config=FAST)
    page = write_report(tmp_path, real, synthetic, result, config=FAST).read_text()
    embedded = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert {"acf.png", "attributes.png", "lengths.png", "neighbours.png", "statistic_cdf.png"} <= set(embedded)
    for name in embedded:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["fidelity"] == json.loads(json.dumps(result.metrics["fidelity"]))
    # The Table-2 style table lists every category of the 3-way attribute.
    assert "by attribute 0 (Table 2)" in page
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A dataset folder with train and test splits and a tiny trained run."""
    root = tmp_path_factory.mktemp("evaluate")
    data = root / "data"
    save_dataset(data, make_toy_dataset(48, seed=1))
    save_dataset(data, make_toy_dataset(48, seed=2), split="test")
    model = DoppelGANger(DGConfig(**TINY), make_toy_dataset(1).feature_outputs, make_toy_dataset(1).attribute_outputs)
    run = root / "run"
    model.fit(make_toy_dataset(48, seed=1), run_dir=run)
    save_npz(root / "synthetic.npz", model.generate(64, seed=0))
    return root


def test_cli_writes_report_with_membership_inference(toy_run, tmp_path):
    """The CLI's membership inference equals the attack counted by hand on the run's critic scores of the
    train and test splits; its discriminative score is the one of the real training data's continuous columns
    against the synthetic file's, |k/20 - 0.5| for k right of the 20 test series, above 0 for the output of a
    2-epoch model; report.md shows both."""
    out = tmp_path / "report"
    code = run_main(evaluate_main, [
        "--real", str(toy_run / "data"), "--synthetic", str(toy_run / "synthetic.npz"), "--out", str(out),
        "--run", str(toy_run / "run"), "--score-iterations", "200",
    ])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    inference = metrics["privacy"]["membership_inference"]
    real, holdout = load_dataset(toy_run / "data"), load_dataset(toy_run / "data", "test")
    critic = DoppelGANger.load(toy_run / "run").critic_scores
    members, others = critic(real), critic(holdout)
    assert inference["success_rate"] == pytest.approx(oracles.membership_success(members, others), abs=1e-12)
    assert inference["auc"] == pytest.approx(oracles.pairwise_auc(members, others), abs=1e-12)
    assert inference["chance_level"] == 0.5 and inference["num_train"] == inference["num_holdout"] == 48

    discriminative = metrics["scores"]["discriminative"]
    right = 20 * (0.5 + discriminative)  # 48 real + 48 synthetic series, 20% (20) held out for testing
    assert right == pytest.approx(round(right), abs=1e-9) and 10 < round(right) <= 20  # a 2-epoch model is detected
    synthetic = load_npz(toy_run / "synthetic.npz", real.feature_outputs, real.attribute_outputs)
    assert discriminative == discriminative_score(real.features[:, :, :2], real.lengths, synthetic.features[:, :, :2],
                                                  synthetic.lengths, seed=0, iterations=200)
    assert metrics["data"]["holdout"]["num_samples"] == 48
    page = (out / "report.md").read_text()
    success = 100 * inference["success_rate"]
    assert f"membership inference with the critic: success {success:.1f}% (chance 50.0%)" in page
    assert f"discriminative score |accuracy - 0.5| (0 is best): {discriminative:.4g}" in page


def test_cli_copy_of_training_data_is_flagged(toy_run, tmp_path):
    copy = tmp_path / "copy.npz"
    save_npz(copy, make_toy_dataset(48, seed=1))
    out = tmp_path / "report"
    assert run_main(evaluate_main, ["--real", str(toy_run / "data"), "--synthetic", str(copy), "--out", str(out),
                                    "--no-scores", "--no-utility"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["privacy"]["memorization"]["flagged"] is True
    assert "FLAGGED" in (out / "report.md").read_text()


def test_cli_bad_synthetic_file_is_one_line_and_writes_nothing(toy_run, tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, data_feature=np.zeros((3, 8, 3)), data_attribute=np.zeros((3, 4)), data_gen_flag=np.ones((3, 8)))
    out = tmp_path / "report"
    code = run_main(evaluate_main, ["--real", str(toy_run / "data"), "--synthetic", str(bad), "--out", str(out)])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "bad.npz" in error[0] and error[0].startswith("error:")
    assert not out.exists()


def test_fixed_length_data_without_continuous_attributes(fcc_mba):
    order = np.random.default_rng(0).permutation(fcc_mba.num_samples)  # the file is sorted, not i.i.d.

    def rows(start, stop):
        i = order[start:stop]
        return dataclasses.replace(fcc_mba, features=fcc_mba.features[i], attributes=fcc_mba.attributes[i],
                                   gen_flags=fcc_mba.gen_flags[i], extras={})

    real, synthetic, holdout = rows(0, 200), rows(200, 400), rows(400, 600)
    result = evaluate(real, synthetic, holdout=holdout, config=dataclasses.replace(FAST, label_attribute=1))
    fidelity = result.metrics["fidelity"]
    assert set(fidelity["attributes"]) == {"attribute 0", "attribute 1", "attribute 2"}
    assert fidelity["lengths"] == {"wasserstein1": 0.0, "total_variation": 0.0}
    by_technology = fidelity["statistics"]["feature 0"]["wasserstein1_by_attribute"]["attribute 1"]
    assert set(by_technology) <= {"0", "1", "2", "3", "4"} and len(by_technology) >= 3
    assert result.metrics["utility"]["label_attribute"] == "attribute 1"
    assert not result.metrics["privacy"]["memorization"]["flagged"]


def test_holdout_with_another_attribute_mix_is_reported():
    real = make_toy_dataset(90, seed=1)
    first_category = real.attributes[:, 0] == 1
    skewed = dataclasses.replace(real, features=real.features[first_category],
                                 attributes=real.attributes[first_category], gen_flags=real.gen_flags[first_category])
    config = dataclasses.replace(FAST, utility=False)
    check = evaluate(real, real, holdout=skewed, config=config).metrics["holdout_check"]
    assert check["mismatched_attributes"] == ["attribute 0"] and check["attribute_p_values"]["attribute 0"] < 1e-6
    fair = evaluate(real, real, holdout=make_toy_dataset(90, seed=2), config=config).metrics["holdout_check"]
    assert fair["mismatched_attributes"] == []
