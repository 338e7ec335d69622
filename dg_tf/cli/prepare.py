"""``python -m dg_tf.prepare``: turn a CSV / Parquet table into a dataset folder for training.

Writes the original DG triple (``data_feature_output.pkl``,
``data_attribute_output.pkl``, ``data_train.npz`` and, with
``--test-fraction``, ``data_test.npz``), the fitted ``table_schema.json``
that turns generated arrays back into a table in the input's columns, dtypes
and units, and ``dg_config.json`` with the ``sample_len`` the series were
padded for. Then ``python -m dg_tf.train --data DIR`` trains on it and
``python -m dg_tf.generate --run RUN --format csv`` gives a table back.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

from dg_tf.cli import add_common_flags, command_prog, fail
from dg_tf.cli.table_flags import add_table_flags, table_options
from dg_tf.tabular.options import is_table_file

__all__ = ["build_parser", "main"]

logger = logging.getLogger("dg_tf.prepare")


def _sample_len(text: str) -> int | str:
    """``--sample-len``: "auto" or a positive integer."""
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer or auto")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=command_prog("prepare"), description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, help="input table, CSV (.csv or .csv.gz)")
    source.add_argument("--parquet", type=Path, help="input table, Parquet (.parquet or .pq)")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--sample-len", type=_sample_len, default="auto",
                        help="records per LSTM pass S; series are padded to a multiple of S "
                             "(auto: about 50 passes for the longest series)")
    parser.add_argument("--test-fraction", type=float, default=0.0,
                        help="fraction of series held out as data_test.npz (for evaluation)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    add_table_flags(parser)
    add_common_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    path = args.csv if args.csv is not None else args.parquet
    if not is_table_file(path):
        fail(f"{path}: expected a .csv, .csv.gz, .parquet or .pq file")
    options = table_options(args, path)
    from dg_tf.tabular.files import from_table_file  # pandas, once the flags are sound
    from dg_tf.tabular.folder import save_prepared

    dataset, schema = from_table_file(path, **options, sample_len=args.sample_len)
    try:
        save_prepared(args.out, dataset, schema, test_fraction=args.test_fraction, seed=args.seed)
    except ValueError as err:
        fail(str(err))
    logger.info("next: python -m dg_tf.train --data %s", args.out)
