"""``python -m experiments.baselines.run``: train one of the paper's baselines and write its samples.

    python -m experiments.baselines.run --model hmm|ar|rnn|naive_gan --data DIR --out FILE.npz
        [--epochs N] [--seed S] [--num N] [--split train] [--set NAME=VALUE ...]

Reads the ``--split`` of the dataset folder ``DIR`` (original DoppelGANger
format), trains the baseline (paper §5.1.2, appendix B; hyperparameters are
the defaults of each baseline class, overridden by ``--set``, e.g. ``--set
num_states=20 --set length=empirical`` for the HMM), generates ``--num`` series (default:
as many as the training split) and writes them atomically as an ``.npz`` in
the layout of ``python -m dg_tf.generate``, ready for ``evaluation/``.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import logging
import time
from pathlib import Path
from typing import Sequence

from dg_tf.cli import fail, run_main
from dg_tf.data.loading import load_dataset, save_npz
from experiments.baselines import BASELINES

logger = logging.getLogger("experiments.baselines.run")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.baselines.run",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(BASELINES), required=True, help="which baseline")
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (original format)")
    parser.add_argument("--split", default="train", help="split to train on [train]")
    parser.add_argument("--out", type=Path, required=True, help="output .npz")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (EM iterations for hmm) [the baseline's default]")
    parser.add_argument("--seed", type=int, default=0, help="seed of training and generation [0]")
    parser.add_argument("--num", type=int, default=None, help="series to generate [size of the split]")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="constructor argument of the baseline class (repeatable)")
    return parser


def _constructor_options(settings: Sequence[str]) -> dict[str, object]:
    """``["num_states=20", "length=empirical"]`` -> ``{"num_states": 20, "length": "empirical"}``."""
    options: dict[str, object] = {}
    for setting in settings:
        name, sep, text = setting.partition("=")
        if not sep or not name.isidentifier():
            fail(f"--set {setting!r} must be NAME=VALUE")
        try:
            options[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[name] = text  # a bare word is a string
    return options


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        fail(f"--epochs {args.epochs} must be >= 1")
    if args.num is not None and args.num < 1:
        fail(f"--num {args.num} must be >= 1")
    options = _constructor_options(args.set)
    options["seed"] = args.seed
    if args.epochs is not None:
        options["epochs"] = args.epochs
    baseline = BASELINES[args.model]
    accepted = set(inspect.signature(baseline).parameters)
    unknown = sorted(set(options) - accepted)
    if unknown:
        fail(f"--set {', '.join(unknown)}: not an argument of {baseline.__name__} ({', '.join(sorted(accepted))})")
    real = load_dataset(args.data, split=args.split)
    model = baseline(**options)
    began = time.perf_counter()
    model.fit(real, source=str(args.data))
    logger.info("%s trained in %.1f s", args.model, time.perf_counter() - began)
    num = real.num_samples if args.num is None else args.num
    save_npz(args.out, model.generate(num, seed=args.seed))
    logger.info("wrote %d series to %s", num, args.out)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
