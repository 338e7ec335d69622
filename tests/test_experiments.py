"""Smoke tests of the paper-reproduction commands (experiments/): tiny models, one epoch, real structure.

Each command runs end to end on tiny settings and the test checks its
output files and the structure and values of its tables: Table 2 has one
row per connection technology of the real MBA data plus ``all`` and one
column per generator; the membership and DP tables have one row per run.
WWT and GCUT run on tiny synthetic datasets of the converters' schemas.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

import oracles
from dg_tf import (
    ConfigError, Dataset, DoppelGANger, Normalization, Output, OutputType, load_dataset, load_npz, save_dataset,
)
from experiments.common import int_list, json_object, resolve_epochs, truncate
from conftest import FCC_MBA, TINY, require_data

#: TINY's network sizes only (the commands set epochs, sample_len and seeds themselves).
TINY_SIZES = {k: v for k, v in TINY.items() if k not in ("sample_len", "epochs", "seed")}
TINY_BASELINES = {"ar": {"hidden_layers": 1, "hidden_units": 8}, "rnn": {"units": 8},
                  "naive_gan": {"hidden_layers": 1, "hidden_units": 16}, "hmm": {"num_states": 2}}


@pytest.fixture
def mba():
    """The bundled FCC MBA data the commands read by default: skip without it, fail without it in CI."""
    require_data(FCC_MBA / "data_train.npz")
    return FCC_MBA


def _run(module, *argv: str) -> None:
    assert module.main([*argv]) is None


def _results(out: Path) -> dict:
    for name in ("config.json", "results.json", "results.md"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["machine"]["cpu_count"] >= 1 and config["command"].startswith("python -m experiments.")
    return json.loads((out / "results.json").read_text())


def _png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


def _table2_by_hand(real: Dataset, synthetic: Dataset) -> pd.Series:
    """Table 2 by hand: scipy's W1 between the real and synthetic per-series totals of the byte counter
    (feature 0 summed over the active steps), per connection technology (attribute 1), then over all series;
    NaN where a side has no series of a technology."""
    def totals(data):
        return (data.features[:, :, 0].astype(np.float64) * data.gen_flags).sum(axis=1)

    def technology(data):
        start = data.attribute_outputs[0].dim
        return data.attributes[:, start:start + data.attribute_outputs[1].dim].argmax(axis=1)

    rows = {}
    for category in range(real.attribute_outputs[1].dim):
        a = totals(real)[technology(real) == category]
        b = totals(synthetic)[technology(synthetic) == category]
        rows[str(category)] = wasserstein_distance(a, b) if a.size and b.size else np.nan
    rows["all"] = wasserstein_distance(totals(real), totals(synthetic))
    return pd.Series(rows)


def _spy(monkeypatch, module, name: str) -> list:
    """Replace ``module.name`` by a wrapper that records each call's positional arguments; returns the record."""
    calls, original = [], getattr(module, name)

    def wrapper(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def _rows_of(subset: Dataset, real: Dataset) -> set[int]:
    """The rows of ``real`` whose series are the series of ``subset``."""
    index = {row.tobytes(): i for i, row in enumerate(real.features)}
    return {index[row.tobytes()] for row in subset.features}


def test_argument_types():
    assert int_list("1,4,8,4") == [1, 4, 8]
    assert json_object('{"a": 1}') == {"a": 1}
    for bad, parse in (("0,1", int_list), ("x", int_list), ("[1]", json_object), ("{", json_object)):
        with pytest.raises(Exception):
            parse(bad)


def test_fcc_mba_run(mba, tmp_path):
    from experiments.fcc_mba import run

    out = tmp_path / "mba"
    _run(run, "--out", str(out), "--quick", "--sample-lens", "4,8", "--num-generate", "200",
         "--dg-overrides", json.dumps(TINY_SIZES), "--baseline-overrides", json.dumps(TINY_BASELINES))
    results = _results(out)
    real = load_dataset(FCC_MBA)
    table2 = pd.read_csv(out / "table2.csv", index_col=0)
    technologies = real.attribute_outputs[1].dim
    assert list(table2.index.astype(str)) == [str(c) for c in range(technologies)] + ["all"]
    assert list(table2.columns) == ["real series", "DG", "DG (default config)", "AR", "RNN", "HMM", "Naive GAN",
                                    "real test (floor, not i.i.d.)"]
    counts = real.attributes[:, 15:20].sum(0)
    assert table2["real series"].tolist() == [*counts.astype(int).tolist(), 600]
    table2.index = table2.index.astype(str)
    files = {"DG": "dg", "DG (default config)": "dg_default_config", "AR": "ar", "RNN": "rnn", "HMM": "hmm",
             "Naive GAN": "naive_gan"}
    for column, stem in files.items():  # every cell recomputed from the synthetic file the command wrote
        synthetic = load_npz(out / "synthetic" / f"{stem}.npz", real.feature_outputs, real.attribute_outputs)
        np.testing.assert_allclose(table2[column], _table2_by_hand(real, synthetic), rtol=1e-6, err_msg=column)
    np.testing.assert_allclose(table2["real test (floor, not i.i.d.)"],
                               _table2_by_hand(real, load_dataset(FCC_MBA, "test")), rtol=1e-6)
    sweep = pd.read_csv(out / "sweep.csv", index_col=0)
    assert sweep.index.tolist() == [4, 8]
    assert sweep.loc[8, "W1 all"] == pytest.approx(table2.loc["all", "DG"])
    assert set(pd.read_csv(out / "acf.csv", index_col=0).columns) == {"traffic_bytes", "ping_loss_rate", "mean"}
    assert results["epochs"] == 1 and set(results["train_seconds"]) >= {"DG", "DG (S=4)", "HMM"}
    for figure in ("fig20_cdf.png", "fig23_neighbours.png", "acf.png", "attributes_dg.png"):
        _png(out / figure)
    synthetic = load_npz(out / "synthetic" / "naive_gan.npz", real.feature_outputs, real.attribute_outputs)
    assert synthetic.features.shape == (200, 56, 2)
    config = json.loads((out / "config.json").read_text())["settings"]
    assert config["dg_configs"]["DG"]["use_aux_critic"] is False and config["dg_configs"]["DG"]["self_norm"] is False
    assert config["dg_configs"]["DG (default config)"]["use_aux_critic"] is True
    assert "| 0 |" in (out / "results.md").read_text()


def test_fcc_mba_quick(mba, tmp_path, monkeypatch):
    """The quick job's Table 2 W1 equals scipy's W1 of the per-series totals of the set it generated."""
    from experiments.fcc_mba import metrics, quick

    compared = _spy(monkeypatch, metrics, "fidelity")
    out = tmp_path / "quick"
    _run(quick, "--out", str(out), "--epochs", "1", "--dg-overrides", json.dumps(TINY_SIZES))
    results = _results(out)
    assert set(results["attribute_total_variation"]) == {"ISP", "technology", "state"}
    assert 20 < results["uniform_noise_w1"] < 30  # the README's scale: 25.3
    (real, synthetic, _), = compared
    assert real.num_samples == synthetic.num_samples == 600
    written = {k: np.nan if v is None else v for k, v in results["table2_w1"].items()}  # JSON null: no series
    assert written == pytest.approx(_table2_by_hand(real, synthetic).to_dict(), rel=1e-6, nan_ok=True)
    assert "ACF-MSE of traffic_bytes" in (out / "results.md").read_text()


def test_fcc_mba_membership(mba, tmp_path, monkeypatch):
    """Each run scores members drawn from its own training rows and non-members from the disjoint pool;
    the success rate and AUC written are the attack counted by hand on the saved run's critic scores."""
    from experiments.fcc_mba import membership

    attacks = _spy(monkeypatch, membership, "membership_inference_attack")
    out = tmp_path / "mi"
    _run(membership, "--out", str(out), "--quick", "--sizes", "10,40", "--holdout", "20", "--steps", "2",
         "--repeats", "1", "--dg-overrides", json.dumps(TINY_SIZES))
    results = _results(out)
    table = pd.read_csv(out / "fig15_membership.csv")
    assert table["training series"].tolist() == [10, 40]
    assert table["chance (%)"].tolist() == [50.0, 50.0]
    assert table["scored (members / non-members)"].tolist() == ["10 / 10", "20 / 20"]
    runs = results["runs"]
    assert [len(r["members"]) for r in runs] == [10, 40]
    non_members = set(json.loads((out / "config.json").read_text())["settings"]["split"]["non_member_rows"])
    assert len(non_members) == 20 and all(not non_members & set(r["members"]) for r in runs)
    real = load_dataset(FCC_MBA)
    for (_, scored_members, scored_others), run, success, auc in zip(attacks, runs, table["success rate (%)"],
                                                                    table["AUC"]):
        assert _rows_of(scored_members, real) <= set(run["members"]) and _rows_of(scored_others, real) <= non_members
        critic = DoppelGANger.load(out / "runs" / f"size{run['size']}_run0").critic_scores
        members, others = critic(scored_members), critic(scored_others)
        assert run["success_rate"] == pytest.approx(oracles.membership_success(members, others), abs=1e-12)
        assert run["auc"] == pytest.approx(oracles.pairwise_auc(members, others), abs=1e-12)
        assert (success, auc) == pytest.approx((100 * run["success_rate"], run["auc"]))
    _png(out / "fig15_membership.png")


def test_bad_overrides_name_the_flag_and_write_nothing(mba, tmp_path):
    from dg_tf.errors import ConfigError
    from experiments.fcc_mba import run

    with pytest.raises(ConfigError, match="--dg-overrides: unknown config field"):
        run.main(["--out", str(tmp_path / "x"), "--quick", "--dg-overrides", '{"bogus": 1}'])
    with pytest.raises(ConfigError, match="--baseline-overrides"):
        run.main(["--out", str(tmp_path / "x"), "--quick", "--baseline-overrides", '{"arima": {}}'])
    assert not (tmp_path / "x").exists()


def test_fcc_mba_membership_refuses_too_large_sizes(mba, tmp_path):
    from dg_tf.errors import ConfigError
    from experiments.fcc_mba import membership

    with pytest.raises(ConfigError, match="need 700 series"):
        membership.main(["--out", str(tmp_path / "x"), "--sizes", "500", "--holdout", "200"])
    assert not (tmp_path / "x").exists()


def test_fcc_mba_dp(mba, tmp_path):
    from experiments.fcc_mba import dp

    out = tmp_path / "dp"
    _run(dp, "--out", str(out), "--quick", "--noise", "none,1,4", "--dg-overrides", json.dumps(TINY_SIZES))
    results = _results(out)
    table = pd.read_csv(out / "dp_fidelity.csv", index_col=0)
    assert table.index.tolist() == ["no DP", "sigma=1", "sigma=4"]
    epsilon = table["epsilon"].tolist()
    assert math.isinf(epsilon[0]) and epsilon[1] > epsilon[2] > 0  # more noise, less privacy spent
    for label in ("sigma=1", "sigma=4"):
        privacy = json.loads((out / "runs" / label.replace("=", "_") / "privacy.json").read_text())
        assert privacy["epsilon"] == pytest.approx(table.loc[label, "epsilon"])
        assert results["runs"][label]["privacy"]["noise_multiplier"] == float(label.split("=")[1])
    assert results["runs"]["no DP"]["privacy"] is None
    assert {"W1 all", "ACF-MSE traffic_bytes"} <= set(table.columns)
    for figure in ("fig16_acf.png", "dp_acf_mse.png", "dp_w1.png"):
        _png(out / figure)


def _wwt_like(folder: Path, n: int, seed: int, length: int = 550) -> None:
    """WWT's schema: one MINUSONE_ONE feature over 550 days; domain 9, access 3, agent 2 (one-hot)."""
    rng = np.random.default_rng(seed)
    levels = (9, 3, 2)
    codes = [rng.integers(0, k, n) for k in levels]
    t = np.arange(length)
    level = rng.uniform(-0.6, 0.4, (n, 1)) + 0.05 * codes[0][:, None]
    weekly = 0.1 * np.sin(2 * np.pi * t / 7)[None, :] * (1 + codes[2][:, None])
    features = np.clip(level + weekly + 0.02 * rng.standard_normal((n, length)), -1, 1)[..., None]
    attributes = np.concatenate([np.eye(k)[c] for k, c in zip(levels, codes)], axis=1)
    for split, rows in (("train", slice(0, n // 2 + n // 4)), ("test", slice(n // 2 + n // 4, n))):
        save_dataset(folder, Dataset(
            features=features[rows].astype(np.float32), attributes=attributes[rows].astype(np.float32),
            gen_flags=np.ones((len(features[rows]), length), np.float32),
            feature_outputs=[Output(OutputType.CONTINUOUS, 1, Normalization.MINUSONE_ONE)],
            attribute_outputs=[Output(OutputType.DISCRETE, k) for k in levels]), split=split)


def _gcut_like(folder: Path, n: int, seed: int, length: int = 50) -> None:
    """GCUT's schema: 9 ZERO_ONE features, variable length; end event type 4 (one-hot)."""
    rng = np.random.default_rng(seed)
    event = rng.integers(0, 4, n)
    lengths = rng.integers(3, length + 1, n)
    flags = (np.arange(length)[None, :] < lengths[:, None]).astype(np.float32)
    base = rng.uniform(0.1, 0.6, (n, 1, 9)) + 0.05 * event[:, None, None]
    features = np.clip(base + 0.05 * rng.standard_normal((n, length, 9)), 0, 1) * flags[..., None]
    for split, rows in (("train", slice(0, 3 * n // 4)), ("test", slice(3 * n // 4, n))):
        save_dataset(folder, Dataset(
            features=features[rows].astype(np.float32), attributes=np.eye(4)[event[rows]].astype(np.float32),
            gen_flags=flags[rows], feature_outputs=[Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)] * 9,
            attribute_outputs=[Output(OutputType.DISCRETE, 4)]), split=split)


def _claims(out: Path) -> pd.DataFrame:
    text = (out / "results.md").read_text()
    assert "## The paper's claims and our numbers" in text
    rows = [line for line in text.splitlines() if line.startswith("| Fig.") or line.startswith("| Table")]
    return pd.DataFrame([r.strip("|").split("|") for r in rows]).map(str.strip)


def test_wwt_run(tmp_path):
    """Besides the files and settings: the ACF-MSE (synthetic and floor) equals DG's definition computed
    sample by sample from synthetic.npz and the truncated real data, and the membership inference equals
    the attack counted by hand on the saved run's critic scores of the train and test splits."""
    from experiments.wwt import run

    data, out = tmp_path / "wwt", tmp_path / "out"
    _wwt_like(data, 64, seed=1)
    _run(run, "--data", str(data), "--out", str(out), "--epochs", "1", "--max-length", "50", "--horizon", "10",
         "--dg-overrides", json.dumps(TINY_SIZES))
    results = _results(out)
    settings = json.loads((out / "config.json").read_text())["settings"]
    assert settings["dg_config"]["sample_len"] == 10 and settings["dg_config"]["use_aux_critic"] is True
    assert settings["dg_config"]["self_norm"] is True and settings["max_length"] == 50
    real, holdout = truncate(load_dataset(data), 50), truncate(load_dataset(data, "test"), 50)
    synthetic = load_npz(out / "synthetic.npz", *_specs(data))
    for key, other in (("fidelity", synthetic), ("floor", holdout)):
        expected = oracles.acf_mse(real.features[:, :, 0], other.features[:, :, 0], real.lengths, other.lengths)
        assert results[key]["acf_mse"]["mean"] == pytest.approx(expected, rel=1e-9), key
    ranking = results["forecasting"]["algorithm_ranking"]
    assert set(ranking["real_scores"]) == {"mlp_5x200", "mlp_1x100", "linear_regression", "kernel_ridge_rbf"}
    critic = DoppelGANger.load(out / "run").critic_scores
    members, others = critic(real), critic(holdout)
    inference = results["privacy"]["membership_inference"]
    assert inference["success_rate"] == pytest.approx(oracles.membership_success(members, others), abs=1e-12)
    assert inference["auc"] == pytest.approx(oracles.pairwise_auc(members, others), abs=1e-12)
    claims = _claims(out)
    assert claims[0].tolist()[:5] == ["Table 3", "Fig. 6/7", "Fig. 19", "Table 5", "Fig. 24"]
    assert float(claims.iloc[0, 3]) == pytest.approx(results["fidelity"]["acf_mse"]["mean"], rel=1e-3)
    assert synthetic.features.shape == (48, 50, 1)
    assert (out / "report" / "report.md").is_file()


def test_gcut_run(tmp_path):
    """Besides the files and settings: the length W1 and total variation equal scipy's W1 and half the L1
    distance of the length histograms of synthetic.npz and the real training split, and the ranking's
    Spearman correlation is the Pearson correlation of the predictors' average ranks."""
    from experiments.gcut import run

    data, out = tmp_path / "gcut", tmp_path / "out"
    _gcut_like(data, 64, seed=2)
    _run(run, "--data", str(data), "--out", str(out), "--epochs", "1", "--dg-overrides", json.dumps(TINY_SIZES))
    results = _results(out)
    settings = json.loads((out / "config.json").read_text())["settings"]
    assert settings["dg_config"]["use_aux_critic"] is False and settings["dg_config"]["self_norm"] is False
    assert settings["dg_config"]["sample_len"] == 10
    synthetic, real = load_npz(out / "synthetic.npz", *_specs(data)), load_dataset(data)
    lengths = results["fidelity"]["lengths"]
    assert lengths["wasserstein1"] == pytest.approx(wasserstein_distance(real.lengths, synthetic.lengths), rel=1e-12)
    histograms = [np.bincount(d.lengths, minlength=51) / d.num_samples for d in (real, synthetic)]
    assert lengths["total_variation"] == pytest.approx(0.5 * np.abs(histograms[0] - histograms[1]).sum(), rel=1e-12)
    assert "feature 0 ~ feature 3" in results["fidelity"]["cross_feature_correlation"]
    ranking = results["utility"]["algorithm_ranking"]
    scores = [list(ranking[side].values()) for side in ("real_scores", "synthetic_scores")]
    assert list(ranking["real_scores"]) == list(ranking["synthetic_scores"])
    if min(np.ptp(s) for s in scores) == 0:  # a constant side has no ranking
        assert ranking["spearman"] is None
    else:
        ranks = [oracles.average_ranks(s) for s in scores]
        assert ranking["spearman"] == pytest.approx(np.corrcoef(*ranks)[0, 1], rel=1e-12)
    claims = _claims(out)
    assert claims[0].tolist().count("Fig. 13") == 6 and "Table 5" in claims[0].tolist()
    assert synthetic.features.shape == (48, 50, 9)
    assert (synthetic.lengths >= 1).all() and (synthetic.lengths <= 50).all()


def test_truncate_keeps_flags_consistent():
    flags = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], np.float32)
    data = Dataset(features=flags[..., None] * 0.5, attributes=np.zeros((2, 0), np.float32), gen_flags=flags,
                   feature_outputs=[Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)], attribute_outputs=[])
    short = truncate(data, 4)
    assert short.features.shape == (2, 4, 1) and short.lengths.tolist() == [4, 2]
    assert short.features[1, :, 0].tolist() == [0.5, 0.5, 0, 0]
    with pytest.raises(Exception, match="must lie in"):
        truncate(data, 7)


def _specs(folder: Path):
    real = load_dataset(folder)
    return real.feature_outputs, real.attribute_outputs


def test_epochs_come_from_the_flag_then_quick_then_the_default():
    def epochs(value, quick):
        return resolve_epochs(argparse.Namespace(epochs=value, quick=quick), 400)

    assert (epochs(7, True), epochs(None, True), epochs(None, False)) == (7, 1, 400)
    with pytest.raises(ConfigError, match="--epochs 0 must be >= 1"):
        epochs(0, False)
