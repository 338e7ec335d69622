"""``python -m dg_tf.train``: train DoppelGANger on a dataset folder and write synthetic data.

With no arguments it trains on the bundled FCC MBA dataset (``data/FCC_MBA``)
with the paper's defaults and writes ``runs/<time>/`` with the model, its
checkpoints, TensorBoard logs and ``synthetic.npz`` (as many series as the
training set, in the same layout).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Sequence

from dg_tf.cli import ProgressBar, add_config_flags, config_from_args, config_overrides, fail, repo_data_dir, run_main
from dg_tf.config import DGConfig
from dg_tf.data.loading import load_dataset, save_npz
from dg_tf.model import CONFIG_FILE, DoppelGANger

logger = logging.getLogger("dg_tf.train")

SYNTHETIC_FILE = "synthetic.npz"
#: A dataset folder may recommend config fields (e.g. the bundled FCC MBA sets
#: sample_len 8 from the paper's grid {1, 4, 8}); used unless --config is given.
DATASET_CONFIG_FILE = "dg_config.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dg_tf.train", description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=repo_data_dir() / "FCC_MBA",
                        help="dataset folder with the original triple (data_feature_output.pkl, "
                             "data_attribute_output.pkl, data_train.npz); its dg_config.json, if any, "
                             "gives config defaults unless --config is given")
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder [runs/run-<date>-<time>]")
    parser.add_argument("--logdir", type=Path, default=None, help="TensorBoard folder [RUN/logs]")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its latest checkpoint (its config.json "
                             "is used; only --epochs may change)")
    parser.add_argument("--num-generate", type=int, default=None,
                        help="synthetic series written to RUN/synthetic.npz after training "
                             "[as many as the training set; 0 = none]")
    add_config_flags(parser)
    return parser


def _resolve_config(args: argparse.Namespace, run_dir: Path) -> DGConfig:
    if not args.resume:
        recommended = Path(args.data) / DATASET_CONFIG_FILE
        if args.config is None and recommended.is_file():
            logger.info("using the dataset's recommended config %s", recommended)
            return config_from_args(args, DGConfig.from_file(recommended))
        return config_from_args(args)
    saved = run_dir / CONFIG_FILE
    if not saved.is_file():
        fail(f"--resume: {saved} does not exist; nothing to resume")
    config = DGConfig.from_file(saved)
    changed = {k: v for k, v in config_overrides(args).items() if k != "epochs" and getattr(config, k) != v}
    if args.config is not None or changed:
        fail(f"--resume keeps the run's own config; only --epochs may change (got {sorted(changed) or '--config'})")
    return config.replace(**{k: v for k, v in config_overrides(args).items() if k == "epochs"})


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_dir = args.out if args.out is not None else Path("runs") / time.strftime("run-%Y%m%d-%H%M%S")
    if args.resume and args.out is None:
        fail("--resume needs --out RUN_DIR, the run to continue")
    config = _resolve_config(args, run_dir)
    dataset = load_dataset(args.data)
    source = str(Path(args.data) / "data_train.npz")
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset, run_dir=run_dir, logdir=args.logdir, resume=args.resume,
              progress=ProgressBar(), source=source)
    logger.info("model and weights: %s", run_dir)
    logger.info("checkpoints:       %s", run_dir / "checkpoints")
    logger.info("TensorBoard logs:  %s  (tensorboard --logdir %s)",
                args.logdir or run_dir / "logs", args.logdir or run_dir / "logs")
    num = dataset.num_samples if args.num_generate is None else args.num_generate
    if num > 0:
        synthetic = model.generate(num, seed=config.seed)
        synthetic.extras = dict(dataset.extras)
        save_npz(run_dir / SYNTHETIC_FILE, synthetic)
        logger.info("synthetic data:    %s  (%d series)", run_dir / SYNTHETIC_FILE, num)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
