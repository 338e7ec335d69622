"""The table and figure scripts of ``evaluation/`` on a tiny dataset folder and hand-made synthetic sets.

The synthetic sets have known distances to the real data:

- ``COPY``: the real training data itself (every distance 0, TSTR = real);
- ``SHIFT``: feature 0 + 0.05 at every step of the 8-step series, so each
  per-sample sum moves by exactly 0.4 (W1 0.4 in every category) while every
  Pearson correlation, hence the ACF, is unchanged;
- ``SHORT``: every series cut to 6 of its 8 steps (length W1 2, TV 1);
- ``MODE``: every attribute set to category 0 (a collapsed generator).
"""

from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np
import pandas as pd
import pytest

import oracles
from conftest import REPO, TINY, make_toy_dataset
from dg_tf import DGConfig, DoppelGANger, load_dataset, save_dataset, save_npz
from dg_tf.cli import run_main
from dg_tf.evaluation.privacy import membership_inference_attack
from dg_tf.transforms import flags_from_lengths

# evaluation/ is a repository-root package (python -m evaluation.<script>), not part of the installed dg_tf.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from evaluation import (  # noqa: E402
    common,
    fig01_autocorrelation,
    fig08_cross_correlation,
    fig09_lengths,
    fig10_attribute_histogram,
    fig13_tstr,
    fig15_membership_inference,
    table2_w1_by_category,
    table3_acf_mse,
    table5_rank_correlation,
)

SCRIPTS = [
    table2_w1_by_category, table3_acf_mse, table5_rank_correlation, fig01_autocorrelation, fig08_cross_correlation,
    fig09_lengths, fig10_attribute_histogram, fig13_tstr, fig15_membership_inference,
]
PNG = b"\x89PNG\r\n\x1a\n"
FLOOR = "real test (floor)"


def _with_lengths(data, length):
    flags = flags_from_lengths(np.full(data.num_samples, length), data.max_length)
    return dataclasses.replace(data, features=data.features * flags[:, :, None], gen_flags=flags)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A dataset folder (train 60 + test 40 fixed-length series) and the synthetic files."""
    root = tmp_path_factory.mktemp("evaluation")
    real = make_toy_dataset(60, seed=1, variable_length=False)
    save_dataset(root / "data", real, "train")
    save_dataset(root / "data", make_toy_dataset(40, seed=2, variable_length=False), "test")
    shift = dataclasses.replace(real, features=real.features.copy())
    shift.features[:, :, 0] += 0.05  # wave lies in [0.1, 0.9]: stays inside ZERO_ONE
    mode = dataclasses.replace(real, attributes=real.attributes.copy())
    mode.attributes[:, :3] = [1, 0, 0]
    for name, data in {"copy": real, "shift": shift, "short": _with_lengths(real, 6), "mode": mode}.items():
        save_npz(root / f"{name}.npz", data)
    return root


def _run(module, argv, capsys):
    module.main([str(a) for a in argv])
    return capsys.readouterr().out


def _table(text: str, title: str) -> pd.DataFrame:
    """The Markdown table printed under the line that starts with ``title``, as strings."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    header, body = rows[0], rows[2:]
    assert set("".join(rows[1])) == {"-", "|"}
    return pd.DataFrame([r[1:] for r in body], index=[r[0] for r in body], columns=header[1:]).rename_axis(header[0])


def _is_png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG


def _synthetic(folder, *names):
    return [arg for name in names for arg in ("--synthetic", f"{name.upper()}={folder / f'{name}.npz'}")]


def test_table2_exact_w1_per_category_with_names(folder, capsys, tmp_path):
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"feature_names": ["wave", "other", "parity"],
                                 "levels": {"colour": ["red", "green", "blue"], "level": []}}))
    out = _run(table2_w1_by_category,
               ["--real", folder / "data", *_synthetic(folder, "copy", "shift"), "--names", names, "--out", tmp_path],
               capsys)
    table = _table(out, "Table 2")
    assert table.index.name == "colour"
    assert list(table.index) == ["red", "green", "blue", "all"]
    assert list(table.columns) == ["real train series", "COPY", "SHIFT", FLOOR]
    assert set(table["COPY"]) == {"0"}
    assert set(table["SHIFT"]) == {"0.4"}
    assert table["real train series"].astype(int).iloc[:3].sum() == 60 and table.loc["all", "real train series"] == "60"
    assert "of wave by colour" in out
    csv = pd.read_csv(tmp_path / "table2.csv", index_col=0)
    np.testing.assert_allclose(csv["SHIFT"], 0.4, rtol=1e-5)
    assert (csv[FLOOR] > 0).all()
    assert _is_png(tmp_path / "fig20_cdf.png")


def test_table3_acf_mse_zero_for_copy_and_shift(folder, capsys, tmp_path):
    out = _run(table3_acf_mse, ["--real", folder / "data", *_synthetic(folder, "copy", "shift"), "--out", tmp_path],
               capsys)
    table = _table(out, "Table 3")
    assert list(table.index) == ["COPY", "SHIFT", FLOOR]
    assert list(table.columns) == ["feature 0", "feature 1", "mean"]
    assert set(table.loc["COPY"]) == {"0"}
    csv = pd.read_csv(tmp_path / "table3.csv", index_col=0)
    np.testing.assert_allclose(csv.loc["SHIFT"], 0, atol=1e-12)  # the ACF ignores a constant shift
    assert csv.loc[FLOOR, "mean"] > 1e-6
    assert csv.loc[FLOOR, "mean"] == pytest.approx(csv.loc[FLOOR, ["feature 0", "feature 1"]].mean())


def test_fig01_curves_and_one_png_per_synthetic_set(folder, capsys, tmp_path):
    out = _run(fig01_autocorrelation, ["--real", folder / "data", *_synthetic(folder, "copy", "short"),
                                       "--feature", 0, "--lags", 3, "--out", tmp_path], capsys)
    table = _table(out, "Fig. 1")
    assert list(table.index) == ["feature 0, real train", "feature 0, COPY", "feature 0, SHORT", f"feature 0, {FLOOR}"]
    assert list(table.columns) == ["lag 1", "lag 4", "lag 6"]  # lags 1..6 of length-8 series
    assert table.loc["feature 0, COPY"].tolist() == table.loc["feature 0, real train"].tolist()
    curves = pd.read_csv(tmp_path / "fig01_acf.csv", index_col=0)
    assert list(curves.index) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal(curves["feature 0, COPY"], curves["feature 0, real train"])
    assert _is_png(tmp_path / "fig01_acf_COPY.png") and _is_png(tmp_path / "fig01_acf_SHORT.png")


def test_fig08_cross_correlation(folder, capsys, tmp_path):
    out = _run(fig08_cross_correlation, ["--real", folder / "data", *_synthetic(folder, "copy", "shift"),
                                         "--out", tmp_path], capsys)
    table = _table(out, "Fig. 8")
    assert list(table.index) == ["real train", "COPY", "SHIFT", FLOOR]
    assert list(table.columns) == ["series", "undefined", "median r", "W1 to real"]
    assert table.loc["real train", "W1 to real"] == "-"
    assert table.loc["COPY", "W1 to real"] == "0"
    assert float(table.loc["SHIFT", "W1 to real"]) < 1e-6  # a shift keeps r (up to float32 rounding)
    assert table.loc["COPY", "median r"] == table.loc["real train", "median r"]
    assert "feature 0 and feature 1" in out
    assert _is_png(tmp_path / "fig08_cdf.png")


def test_fig09_lengths(folder, capsys, tmp_path):
    out = _run(fig09_lengths, ["--real", folder / "data", *_synthetic(folder, "copy", "short"), "--out", tmp_path],
               capsys)
    table = _table(out, "Fig. 9")
    assert list(table.index) == ["real train", "COPY", "SHORT", FLOOR]
    assert table.loc["SHORT"].tolist() == ["60", "6", "6", "6", "0", "2", "1"]
    assert table.loc["COPY", "W1 to real (steps)"] == "0" and table.loc["COPY", "full length (%)"] == "100"
    histogram = pd.read_csv(tmp_path / "fig09_histogram.csv", index_col=0)
    assert histogram.loc[6, "SHORT"] == 1.0 and histogram.loc[8, "real train"] == 1.0
    assert _is_png(tmp_path / "fig09_lengths_SHORT.png")


def test_fig10_attribute_histogram(folder, capsys, tmp_path):
    out = _run(fig10_attribute_histogram, ["--real", folder / "data", *_synthetic(folder, "copy", "mode"),
                                           "--out", tmp_path], capsys)
    table = _table(out, "Fig. 10")
    assert table.index.name == "attribute 0"  # the only discrete attribute
    assert list(table.index) == ["0", "1", "2", "total variation", "Jensen-Shannon distance"]
    assert list(table.columns) == ["real train", "COPY", "MODE", FLOOR]
    assert table.loc[["0", "1", "2"], "COPY"].tolist() == table.loc[["0", "1", "2"], "real train"].tolist()
    assert table.loc[["0", "1", "2"], "MODE"].tolist() == ["1", "0", "0"]
    csv = pd.read_csv(tmp_path / "fig10_attribute.csv", index_col=0)
    assert float(csv.loc["total variation", "MODE"]) == pytest.approx(1 - float(csv.loc["0", "real train"]))
    assert float(csv.loc["total variation", "COPY"]) == 0
    assert _is_png(tmp_path / "fig10_attribute.png")


def test_fig13_copy_scores_like_real_data(folder, capsys, tmp_path):
    out = _run(fig13_tstr, [
        "--real", folder / "data", *_synthetic(folder, "copy", "mode"), "--task", "classification",
        "--task", "forecasting", "--horizon", 2, "--regressors", "linear_regression,kernel_ridge_rbf",
        "--out", tmp_path], capsys)
    classification = _table(out, "Fig. 13: classification")
    assert list(classification.index) == ["mlp", "naive_bayes", "logistic_regression", "decision_tree", "linear_svm"]
    assert list(classification.columns) == ["real (A)", "COPY", "MODE"]
    assert classification["COPY"].tolist() == classification["real (A)"].tolist()
    forecasting = _table(out, "Fig. 13: forecasting")
    assert list(forecasting.index) == ["linear_regression", "kernel_ridge_rbf"]
    assert forecasting["COPY"].tolist() == forecasting["real (A)"].tolist()
    assert forecasting.loc["linear_regression", "real (A)"] == "1"  # cos(t/3) * level is linear in the history
    assert set(classification["MODE"]) == {"n/a"}  # a single category: nothing to learn
    csv = pd.read_csv(tmp_path / "fig13_classification_attribute_0.csv", index_col=0)
    accuracy = csv["real (A)"]
    # Each accuracy is k of the 40 held-out series, beats always guessing A's majority category, and is printed.
    np.testing.assert_allclose(40 * accuracy, np.round(40 * accuracy), atol=1e-9)
    held_out = load_dataset(folder / "data", "test").attributes[:, :3].argmax(axis=1)
    assert (accuracy > np.bincount(held_out).max() / held_out.size).all()
    np.testing.assert_allclose(classification["real (A)"].astype(float), accuracy, rtol=1e-3)
    assert _is_png(tmp_path / "fig13_classification_attribute_0.png")
    assert _is_png(tmp_path / "fig13_forecasting_last_2_steps.png")


def test_table5_rank_correlation(folder, capsys, tmp_path):
    real = folder / "data"
    out = _run(table5_rank_correlation, [
        "--real", real, "--synthetic", f"PAIR={real / 'data_train.npz'},{real / 'data_test.npz'}",
        "--synthetic", f"HALVES={folder / 'shift.npz'}", "--task", "classification", "--task", "forecasting",
        "--horizon", 2, "--regressors", "linear_regression,kernel_ridge_rbf", "--out", tmp_path], capsys)
    table = _table(out, "Table 5")
    assert list(table.index) == ["classification: attribute 0", "forecasting: last 2 steps"]
    assert list(table.columns) == ["PAIR", "HALVES"]
    assert set(table["PAIR"]) == {"1"}  # B, B' = A, A': the same ranking
    scores = _table(out, "classification: attribute 0: accuracy")
    assert list(scores.columns) == ["A -> A'", "PAIR: B -> B'", "HALVES: B -> B'"]
    assert scores["PAIR: B -> B'"].tolist() == scores["A -> A'"].tolist()
    record = json.loads((tmp_path / "table5.json").read_text())
    halves = record["classification: attribute 0"]["HALVES"]
    # Spearman by hand: Pearson correlation of the average ranks (SHIFT's halves tie two predictors).
    names = list(halves["real_scores"])
    ranks = [oracles.average_ranks([halves[side][n] for n in names]) for side in ("real_scores", "synthetic_scores")]
    assert halves["spearman"] == pytest.approx(np.corrcoef(*ranks)[0, 1], rel=1e-12)
    assert float(table.loc["classification: attribute 0", "HALVES"]) == pytest.approx(halves["spearman"], rel=1e-3)
    assert len(halves["synthetic_scores"]) == 5
    assert (tmp_path / "table5.csv").is_file()
    assert (tmp_path / "table5_scores_forecasting_last_2_steps.csv").is_file()


def test_fig15_membership_inference_of_two_runs(tmp_path, capsys, monkeypatch):
    """Per run, the series scored come from the run's own train and test splits, and the success rate and
    AUC written are the attack counted by hand on the run's critic scores of them."""
    scored = []

    def attack(score_fn, train, holdout):
        scored.append((train, holdout))
        return membership_inference_attack(score_fn, train, holdout)

    monkeypatch.setattr(fig15_membership_inference, "membership_inference_attack", attack)
    runs = []
    for size in (24, 12):
        data = tmp_path / f"data{size}"
        save_dataset(data, make_toy_dataset(size, seed=size), "train")
        save_dataset(data, make_toy_dataset(16, seed=100 + size), "test")
        train = make_toy_dataset(size, seed=size)
        DoppelGANger(DGConfig(**{**TINY, "epochs": 1}), train.feature_outputs, train.attribute_outputs).fit(
            train, run_dir=tmp_path / f"run{size}")
        runs += ["--run", f"{tmp_path / f'run{size}'}:{data}"]
    out = _run(fig15_membership_inference, [*runs, "--out", tmp_path / "out"], capsys)
    table = _table(out, "Fig. 15")
    assert list(table.index) == [str(tmp_path / "run12"), str(tmp_path / "run24")]  # sorted by size
    assert table["training series"].tolist() == ["12", "24"]
    assert table["scored (train / held-out)"].tolist() == ["12 / 12", "16 / 16"]
    assert table["chance (%)"].tolist() == ["50", "50"]
    record = json.loads((tmp_path / "out" / "fig15_membership.json").read_text())
    assert record[str(tmp_path / "run24")]["num_train"] == 16
    for size, (train, holdout) in zip((24, 12), scored):
        for rows, split in ((train, "train"), (holdout, "test")):
            source = {row.tobytes() for row in load_dataset(tmp_path / f"data{size}", split).features}
            assert all(row.tobytes() in source for row in rows.features)
        run = str(tmp_path / f"run{size}")
        critic = DoppelGANger.load(run).critic_scores
        members, others = critic(train), critic(holdout)
        success = oracles.membership_success(members, others)
        assert record[run]["success_rate"] == pytest.approx(success, abs=1e-12)
        assert record[run]["auc"] == pytest.approx(oracles.pairwise_auc(members, others), abs=1e-12)
        assert float(table.loc[run, "success rate (%)"]) == pytest.approx(100 * success, rel=1e-3)
    assert _is_png(tmp_path / "out" / "fig15_membership.png")


@pytest.mark.parametrize(("argv", "message"), [
    (["--feature", "2"], "--feature 2: not a continuous feature column (continuous columns: [0, 1])"),
    (["--attribute", "1"], "--attribute 1: not a discrete attribute output"),
    (["--synthetic", "COPY=missing.npz"], "missing.npz"),
])
def test_bad_input_is_one_line_and_exit_2(folder, capsys, argv, message):
    synthetic = [] if "--synthetic" in argv else _synthetic(folder, "copy")
    status = run_main(table2_w1_by_category.main, ["--real", str(folder / "data"), *map(str, synthetic), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err[-1].startswith("error: ") and message in err[-1]


def test_named_path():
    assert common.named_path("DG=runs/a/synthetic.npz") == ("DG", common.Path("runs/a/synthetic.npz"))
    assert common.named_path("runs/a/synthetic.npz")[0] == "a"
    assert common.named_path("hmm.npz")[0] == "hmm"
    with pytest.raises(common.argparse.ArgumentTypeError):
        common.named_path("DG=")


def test_markdown_table_formats_cells():
    frame = pd.DataFrame({"x|y": [1.23456789, np.nan], "n": [3, 4]}, index=pd.Index(["a", "b"], name="row"))
    assert common.markdown_table(frame).splitlines() == [
        "| row | x\\|y | n |", "|---|---|---|", "| a | 1.235 | 3 |", "| b | n/a | 4 |"]


@pytest.mark.parametrize("module", SCRIPTS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_script_has_help(module, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    assert f"python -m {module.PROG}" in capsys.readouterr().out
