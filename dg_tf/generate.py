"""``python -m dg_tf.generate``: sample synthetic data from a trained run.

Writes the original ``.npz`` layout (``data_feature``, ``data_attribute``,
``data_gen_flag``) atomically. With ``--attributes FILE.npz`` the series are
generated for the given attributes (its ``data_attribute`` array, one row per
series; paper §4.3 conditional generation).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from dg_tf.cli import fail, run_main
from dg_tf.data.loading import save_npz
from dg_tf.errors import DataFormatError
from dg_tf.model import DoppelGANger

logger = logging.getLogger("dg_tf.generate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dg_tf.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="trained run (or saved model) folder")
    parser.add_argument("--num", type=int, default=None,
                        help="number of series [required unless --attributes gives them]")
    parser.add_argument("--out", type=Path, required=True, help="output .npz file")
    parser.add_argument("--attributes", type=Path, default=None,
                        help=".npz whose data_attribute array [N, A] conditions the generation")
    parser.add_argument("--seed", type=int, default=None, help="noise seed [the run's config seed]")
    return parser


def _read_attributes(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        if "data_attribute" not in data:
            raise DataFormatError(str(path), "data_attribute", None, "missing array")
        return data["data_attribute"].astype(np.float32)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    model = DoppelGANger.load(args.run)
    attributes = _read_attributes(args.attributes) if args.attributes is not None else None
    num = args.num
    if attributes is not None:
        if num is not None and num != len(attributes):
            fail(f"--num {num} differs from the {len(attributes)} rows of {args.attributes}")
        num = len(attributes)
    if num is None or num < 1:
        fail("--num N (a positive number of series) is required without --attributes")
    seed = model.config.seed if args.seed is None else args.seed
    synthetic = model.generate(num, attributes=attributes, seed=seed)
    save_npz(args.out, synthetic)
    logger.info("wrote %d series to %s", num, args.out)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
