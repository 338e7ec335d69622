"""Slow: dg_tf on the bundled FCC MBA data is as good as the README's figures say, within a stated margin.

Run with ``python -m pytest -m slow`` (about 2 minutes on 2 CPU cores). It runs
the fidelity harness's FCC MBA case for dg_tf with one seed (the README's
setting: 450 training series, 400 epochs of batch 90, sample_len 8) and
compares it with the committed harness results of the default
(``benchmarks/results/fidelity-e22-default.json``, 16 seeds, rendered into
the README) that the README quotes. A run on another machine
follows another float-rounding path, so each measure may be as bad as the
worst committed seed plus a margin:

- total variation of each attribute (ISP, technology, state): + 0.05;
- W1 of the per-series mean of each feature: x 1.5;
- ACF-MSE of the byte counter: x 2 (the ping-loss curve is DG's 1 of constant
  windows against noise; its number is the harness's and not asserted here);
- every series full length (56 steps) and TSTR accuracy within 0.1 of the worst seed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO

RESULTS = REPO / "benchmarks" / "results" / "fidelity-e22-default.json"


@pytest.mark.slow
def test_fcc_mba_matches_the_readme_figures(tmp_path):
    committed = json.loads(RESULTS.read_text())["cases"]["fcc_mba"]
    runs = committed["systems"]["dg_tf"]["runs"]
    worst = {name: max(run["score"]["detail"]["attribute_tv"][name] for run in runs)
             for name in ("isp", "technology", "state")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.fidelity", "--cases", "fcc_mba", "--systems", "dg_tf", "--seeds", "1",
         "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    case = json.loads((tmp_path / "fidelity.json").read_text())["cases"]["fcc_mba"]
    assert (case["train_series"], case["epochs"], case["batch_size"]) == (450, 400, 90)
    (run,) = case["systems"]["dg_tf"]["runs"]
    score = run["score"]
    for name, bound in worst.items():
        assert score["detail"]["attribute_tv"][name] <= bound + 0.05, name
    for feature in ("bytes", "ping_loss"):
        bound = max(r["score"]["detail"]["statistic_w1"][feature] for r in runs)
        assert score["detail"]["statistic_w1"][feature] <= 1.5 * bound, feature
    assert score["detail"]["acf_mse"]["bytes"] <= 2 * max(r["score"]["detail"]["acf_mse"]["bytes"] for r in runs)
    assert score["detail"]["lengths"]["min"] == 56 and score["short_fraction"] == 0.0  # all full length
    assert score["tstr"] >= min(r["score"]["tstr"] for r in runs) - 0.1
