"""Slow: the default job on the real FCC MBA data gives data close to the real data.

Run with ``python -m pytest -m slow`` (about 2 minutes on 2 CPU cores).
"""

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from dg_tf import DGConfig, DoppelGANger
from dg_tf.evaluation import acf_mse


@pytest.mark.slow
def test_default_job_matches_real_fcc_mba(fcc_mba):
    model = DoppelGANger(DGConfig(sample_len=8, epochs=400), fcc_mba.feature_outputs, fcc_mba.attribute_outputs)
    synthetic = model.fit(fcc_mba).generate(600, seed=0)
    technology = slice(15, 20)
    tv = 0.5 * np.abs(fcc_mba.attributes[:, technology].mean(0) - synthetic.attributes[:, technology].mean(0)).sum()
    assert tv < 0.05
    real_total, synthetic_total = fcc_mba.features[:, :, 0].sum(1), synthetic.features[:, :, 0].sum(1)
    assert wasserstein_distance(real_total, synthetic_total) < 1.0  # uniform noise: ~25
    assert acf_mse(fcc_mba.features[:, :, 0], synthetic.features[:, :, 0]) < 0.01  # a flat ACF (no daily cycle) gives ~0.07
