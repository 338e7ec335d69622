"""``python -m dg_tf.generate``: sample synthetic data from a trained run.

Writes the original ``.npz`` layout (``data_feature``, ``data_attribute``,
``data_gen_flag``) atomically, or, for a run trained on a table (``--format
csv|parquet``, or an ``--out`` ending in .csv / .parquet), a table in the
input's columns, dtypes and units. With ``--attributes FILE.npz`` the series
are generated for the given attributes (its ``data_attribute`` array, one row
per series; paper §4.3 conditional generation).
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
from dg_tf.table_cli import is_table_file
from dg_tf.tabular import to_dataframe, write_table
from dg_tf.tabular.files import table_format
from dg_tf.tabular.folder import SCHEMA_FILE, load_schema

logger = logging.getLogger("dg_tf.generate")


FORMATS = ("npz", "csv", "parquet")


def _output_format(out: Path, requested: str | None) -> str:
    if requested is not None:
        return requested
    return table_format(out) if is_table_file(out) else "npz"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dg_tf.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="trained run (or saved model) folder")
    parser.add_argument("--num", type=int, default=None,
                        help="number of series [required unless --attributes gives them]")
    parser.add_argument("--out", type=Path, required=True, help="output file (.npz, .csv, .csv.gz, .parquet)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format [from the --out suffix; npz otherwise]")
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
    output_format = _output_format(args.out, args.format)
    schema = None
    if output_format != "npz":
        schema = load_schema(args.run)
        if schema is None:
            fail(f"--format {output_format}: {args.run} has no {SCHEMA_FILE} (it was not trained on a table); "
                 "write .npz instead")
    seed = model.config.seed if args.seed is None else args.seed
    synthetic = model.generate(num, attributes=attributes, seed=seed)
    if schema is None:
        save_npz(args.out, synthetic)
    else:
        write_table(args.out, to_dataframe(synthetic, schema), format=output_format)
    logger.info("wrote %d series to %s", num, args.out)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
