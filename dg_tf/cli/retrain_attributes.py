"""``python -m dg_tf.retrain_attributes``: give a trained model a new attribute distribution (paper §6.1).

Only the attribute generator is retrained, towards the rows of
``--attributes FILE.npz`` (its ``data_attribute`` array [N, A], in the
training data's attribute layout: discrete one-hot, continuous in range); the
feature and min/max generators are frozen, so series generated for given
attributes do not change (:meth:`dg_tf.DoppelGANger.retrain_attributes`). The
retrained model is written to ``--out`` as a full model folder (usable by
``python -m dg_tf.generate --run``); ``--run`` is left untouched.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

from dg_tf.cli import add_common_flags, command_prog, fail

__all__ = ["build_parser", "main"]

logger = logging.getLogger("dg_tf.retrain_attributes")

#: Epochs of the original's retraining example (``example_retraining_attribute/``).
DEFAULT_EPOCHS = 100


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=command_prog("retrain_attributes"), description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--run", type=Path, required=True, help="trained run (or saved model) folder")
    parser.add_argument("--attributes", type=Path, required=True,
                        help=".npz whose data_attribute array [N, A] has the desired attribute distribution")
    parser.add_argument("--out", type=Path, required=True, help="new model folder (must not hold a model)")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                        help="passes over the attribute rows (N // batch_size steps each)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the retraining [the run's config seed]")
    add_common_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.epochs < 1:
        fail(f"--epochs {args.epochs} must be >= 1")
    if args.out.resolve() == args.run.resolve():
        fail("--out must be a new folder: the original --run is kept untouched")
    # the library (TensorFlow), once the flags are sound
    from dg_tf.data.attribute_files import attribute_rows, iter_attribute_chunks
    from dg_tf.model import DoppelGANger
    from dg_tf.run import RunFolder
    from dg_tf.runtime import configure_cpu_threads
    from dg_tf.training import ProgressBar

    out = RunFolder(args.out)
    if out.config_file.exists():
        fail(f"--out {args.out} already holds a model; choose a new folder")
    configure_cpu_threads()
    model = DoppelGANger.load(args.run)
    rows, _ = attribute_rows(args.attributes)
    attributes = next(iter_attribute_chunks(args.attributes, rows))
    model.retrain_attributes(attributes, args.epochs, run_dir=out.path, seed=args.seed, callbacks=[ProgressBar()],
                             source=str(args.attributes))
    logger.info("retrained model: %s  (attribute generator retrained on %d rows of %s)",
                args.out, len(attributes), args.attributes)
