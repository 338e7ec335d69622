"""``python -m dg_tf.evaluate``: compare synthetic data with real data; write metrics, figures and a report.

Reads the real dataset folder (the original triple), the synthetic ``.npz``
(same layout, e.g. ``RUN/synthetic.npz``) and, when the folder has one, the
held-out split ``data_test.npz`` (for the real-vs-real floor, memorization and
membership inference). With ``--run RUN_DIR`` the trained critic scores the
real samples for the membership inference attack of paper §6.2. Writes
``REPORT_DIR/metrics.json``, PNG figures and ``REPORT_DIR/report.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import typing
from pathlib import Path
from typing import Sequence

from dg_tf.cli import add_common_flags, command_prog, fail
from dg_tf.evaluation.settings import EvaluationConfig, Statistic

__all__ = ["build_parser", "main"]

logger = logging.getLogger("dg_tf.evaluate")


def build_parser() -> argparse.ArgumentParser:
    defaults = EvaluationConfig()
    parser = argparse.ArgumentParser(
        prog=command_prog("evaluate"), description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--real", type=Path, required=True, help="real dataset folder (the original triple)")
    parser.add_argument("--synthetic", type=Path, required=True, help="synthetic .npz (data_feature, ...)")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--run", type=Path, default=None,
                        help="trained run folder: its critic scores real samples for membership inference")
    parser.add_argument("--train-split", default="train", help="split of --real the model was trained on")
    parser.add_argument("--holdout-split", default="test",
                        help="held-out split of --real ('none' for no held-out set; used when the file exists)")
    parser.add_argument("--statistic", default=defaults.statistic, choices=typing.get_args(Statistic),
                        help="per-sample statistic compared by W1 (Table 2 uses the sum)")
    parser.add_argument("--max-lag", type=int, default=defaults.max_lag, help="ACF lags 1..MAX_LAG-1 [L-1]")
    parser.add_argument("--label-attribute", type=int, default=defaults.label_attribute,
                        help="discrete attribute predicted in the utility tests [the one with the fewest categories]")
    parser.add_argument("--no-utility", action="store_true", help="skip train-on-synthetic/test-on-real")
    parser.add_argument("--no-scores", action="store_true", help="skip TimeGAN's discriminative/predictive scores")
    parser.add_argument("--score-iterations", type=int, default=defaults.score_iterations,
                        help="training batches of each TimeGAN score's GRU [TimeGAN's: 2000 / 5000]")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of splits and models")
    add_common_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Evaluate as the flags say. TensorFlow's own threading is kept: its TimeGAN GRU scorers ran about 20%
    faster with it than with :func:`~dg_tf.runtime.configure_cpu_threads` on the 2-core CPU."""
    args = build_parser().parse_args(argv)
    from dg_tf.data.loading import load_dataset, load_npz  # the library, once the flags are sound
    from dg_tf.evaluation.names import dataset_names
    from dg_tf.evaluation.report import evaluate
    from dg_tf.evaluation.report_files import write_report
    from dg_tf.model import DoppelGANger

    config = dataclasses.replace(
        EvaluationConfig(), statistic=args.statistic, max_lag=args.max_lag, label_attribute=args.label_attribute,
        utility=not args.no_utility, scores=not args.no_scores, score_iterations=args.score_iterations,
        seed=args.seed,
    )
    real = load_dataset(args.real, args.train_split)
    synthetic = load_npz(args.synthetic, real.feature_outputs, real.attribute_outputs)
    holdout = None
    holdout_file = args.real / f"data_{args.holdout_split}.npz"
    if args.holdout_split != "none" and holdout_file.is_file():
        holdout = load_dataset(args.real, args.holdout_split)
    else:
        logger.info("no held-out split (%s): no floor, memorization check or membership inference", holdout_file)
    score_fn = None
    if args.run is not None:
        model = DoppelGANger.load(args.run)
        score_fn = model.critic_scores
    if synthetic.max_length != real.max_length:
        fail(f"{args.synthetic}: length {synthetic.max_length} differs from the real data's {real.max_length}")
    names = dataset_names(args.real, real)
    evaluation = evaluate(real, synthetic, holdout=holdout, score_fn=score_fn, names=names, config=config)
    report = write_report(args.out, real, synthetic, evaluation, names=names, config=config,
                          title=f"{args.synthetic} vs {args.real}")
    logger.info("report: %s", report)

