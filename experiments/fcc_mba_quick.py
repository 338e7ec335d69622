"""Reproduce the README's FCC MBA table: train the default job, compare with the real data.

    python experiments/fcc_mba_quick.py [--epochs 400] [--sample-len 8] [--seed 0]

Prints the machine, the date, the training time and, for 600 synthetic series
against the 600 real training series: total variation of each attribute's
marginal (ISP, technology, state), Wasserstein-1 of the per-sample total of the
(normalized) byte counter, and DG's autocorrelation MSE of the byte counter.
The paper's full experiment (17000 epochs, baselines, Table 2) is separate.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
from scipy.stats import wasserstein_distance

from dg_tf import DGConfig, DoppelGANger, load_dataset
from dg_tf.evaluation import acf_mse

DATA = Path(__file__).resolve().parent.parent / "data" / "FCC_MBA"
#: Attribute blocks of the FCC MBA triple (data/README of ../shared): one-hot ISP, technology, state.
BLOCKS = {"ISP": slice(0, 15), "technology": slice(15, 20), "state": slice(20, 73)}

logger = logging.getLogger("fcc_mba_quick")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--sample-len", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    real = load_dataset(DATA)
    config = DGConfig(sample_len=args.sample_len, epochs=args.epochs, seed=args.seed, figure_every=0)
    began = time.perf_counter()
    model = DoppelGANger(config, real.feature_outputs, real.attribute_outputs).fit(real)
    seconds = time.perf_counter() - began
    synthetic = model.generate(real.num_samples, seed=args.seed)

    logger.info("machine: %s, %d CPU cores; date: %s", platform.processor() or platform.machine(),
                os.cpu_count(), datetime.date.today())
    logger.info("training: %d epochs, sample_len %d, %.0f s", args.epochs, args.sample_len, seconds)
    logger.info("| metric | value |\n|---|---|")
    for name, block in BLOCKS.items():
        tv = 0.5 * np.abs(real.attributes[:, block].mean(0) - synthetic.attributes[:, block].mean(0)).sum()
        logger.info("| total variation, %s marginal | %.3f |", name, tv)
    real_total, synthetic_total = real.features[:, :, 0].sum(1), synthetic.features[:, :, 0].sum(1)
    noise_total = np.random.default_rng(args.seed).uniform(size=real.features[:, :, 0].shape).sum(1)
    logger.info("| W1 of per-sample total bandwidth | %.3f (uniform noise: %.1f) |",
                wasserstein_distance(real_total, synthetic_total), wasserstein_distance(real_total, noise_total))
    logger.info("| ACF MSE of the byte counter | %.4f |", acf_mse(real.features[:, :, 0], synthetic.features[:, :, 0]))


if __name__ == "__main__":
    main()
