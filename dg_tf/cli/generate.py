"""``python -m dg_tf.generate``: sample synthetic data from a trained run.

Writes the original ``.npz`` layout (``data_feature``, ``data_attribute``,
``data_gen_flag``) atomically, or, for a run trained on a table (``--format
csv|parquet``, or an ``--out`` ending in .csv / .parquet), a table in the
input's columns, dtypes and units. With ``--attributes FILE.npz`` the series
are generated for the given attributes (its ``data_attribute`` array, one row
per series; paper §4.3 conditional generation). With ``--conditions FILE.csv``
(or ``.parquet``), a run trained on a table generates one series per row of
the file, whose columns are any of the table's attribute columns: given
values are kept exactly, empty cells and absent columns are drawn from the
model conditioned on them (:mod:`dg_tf.conditioning`).

With ``--shard-size K``, ``--out`` is a folder of shards ``part-00000.npz``,
... (``.csv`` / ``.parquet`` with ``--format``) of K series each plus a
``manifest.json``: memory stays bounded by one shard, a crash leaves only
complete shards, and the same command resumes (:mod:`dg_tf.sharded_generation`).

Before generating anything, the memory the output needs (the whole output,
or one shard) is estimated from the model's sizes
(:meth:`~dg_tf.model.DoppelGANger.check_generation_memory`) and compared with
the available memory: the command logs the plan, or refuses and says which
``--shard-size`` would fit.

The runtime flags (``--generate-batch-size``, ``--jit-compile``, ...) say how
this process runs the model (:meth:`~dg_tf.model.DoppelGANger.load`); the
run's own are used otherwise. The series of a seed depend on
``--generate-batch-size``.

The output holds only what the generator produced. ``--copy-extras
NAME,NAME --extras-from FILE.npz`` copies named extra arrays (e.g.
``data_feature_min``) of a dataset's ``.npz`` into an ``.npz`` output; nothing
else of the real data is ever copied.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

from dg_tf.cli import add_common_flags, comma_list, command_prog, fail
from dg_tf.cli.config_flags import add_config_flags, config_overrides
from dg_tf.tabular.options import is_table_file, table_format

__all__ = ["build_parser", "main"]

logger = logging.getLogger("dg_tf.generate")


FORMATS = ("npz", "csv", "parquet")


def _output_format(out: Path, requested: str | None) -> str:
    if requested is not None:
        return requested
    return table_format(out) if is_table_file(out) else "npz"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=command_prog("generate"), description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="trained run (or saved model) folder")
    parser.add_argument("--num", type=int, default=None,
                        help="number of series [required unless --attributes gives them]")
    parser.add_argument("--out", type=Path, required=True,
                        help="output file (.npz, .csv, .csv.gz, .parquet); a folder with --shard-size")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="output format [from the --out suffix; npz otherwise, and always with --shard-size]")
    parser.add_argument("--attributes", type=Path, default=None,
                        help=".npz whose data_attribute array [N, A] conditions the generation")
    parser.add_argument("--conditions", type=Path, default=None,
                        help="table (.csv, .parquet) of attribute labels, one row per series: given cells are kept, "
                             "the rest drawn conditioned on them (runs trained on a table)")
    parser.add_argument("--seed", type=int, default=None, help="noise seed [the run's config seed]")
    parser.add_argument("--copy-extras", type=comma_list, default=[], metavar="NAME,NAME",
                        help="copy these extra arrays of --extras-from into the .npz output (e.g. "
                             "data_feature_min,data_feature_max) [none: only generated arrays]")
    parser.add_argument("--extras-from", type=Path, default=None,
                        help="the dataset .npz (e.g. DATA/data_train.npz) that --copy-extras copies from")
    shards = parser.add_argument_group("sharded output (very large N)")
    shards.add_argument("--shard-size", type=int, default=None,
                        help="write --out as a folder of shards of this many series, resumable")
    shards.add_argument("--overwrite", action="store_true",
                        help="replace the shards of a different earlier generation in --out")
    shards.add_argument("--verify", action="store_true",
                        help="when resuming, check kept shards' SHA-256 (not only their size)")
    add_config_flags(parser, groups=("runtime",), config_file=False)
    add_common_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sharded = args.shard_size is not None
    if sharded and args.shard_size < 1:
        fail(f"--shard-size {args.shard_size} must be a positive number of series")
    if not sharded and (args.overwrite or args.verify):
        fail("--overwrite and --verify go with --shard-size")
    if bool(args.copy_extras) != (args.extras_from is not None):
        fail("--copy-extras NAMES and --extras-from FILE.npz go together")
    output_format = (args.format or "npz") if sharded else _output_format(args.out, args.format)
    if args.copy_extras and (sharded or output_format != "npz"):
        fail("--copy-extras writes into one .npz output, not shards or a table")
    if args.conditions is not None and (sharded or args.attributes is not None):
        fail("--conditions goes without --attributes and --shard-size")
    # the library (TensorFlow), once the flags are sound
    from dg_tf.data.attribute_files import attribute_rows, iter_attribute_chunks
    from dg_tf.data.loading import load_extras, save_npz
    from dg_tf.limits import available_memory, format_bytes
    from dg_tf.model import DoppelGANger
    from dg_tf.run import RunFolder
    from dg_tf.runtime import configure_cpu_threads
    from dg_tf.sharded_generation import ShardPlan, generate_shards
    from dg_tf.tabular import to_dataframe, write_table

    configure_cpu_threads()
    model = DoppelGANger.load(args.run, runtime=config_overrides(args, groups=("runtime",)))
    if args.conditions is not None:
        _generate_with_conditions(model, args, output_format)
        return
    num = args.num
    if args.attributes is not None:
        rows, _ = attribute_rows(args.attributes)
        if num is not None and num != rows:
            fail(f"--num {num} differs from the {rows} rows of {args.attributes}")
        num = rows
    if num is None or num < 1:
        fail("--num N (a positive number of series) is required without --attributes")
    schema = None
    if output_format != "npz":
        schema = model.table_schema
        if schema is None:
            fail(f"--format {output_format}: {args.run} has no {RunFolder(args.run).schema_file.name} (it was not "
                 "trained on a table); write .npz instead")
    extras = load_extras(args.extras_from, args.copy_extras) if args.copy_extras else {}
    seed = model.config.seed if args.seed is None else args.seed
    rows = min(args.shard_size, num) if sharded else num
    needed = model.check_generation_memory(rows, table=schema is not None)
    logger.info("%s: about %s of memory (%s available)",
                f"streaming {num} series in shards of {rows}" if sharded else f"generating {num} series in memory",
                format_bytes(needed), format_bytes(available_memory()))
    if sharded:
        plan = ShardPlan(RunFolder(args.run).fingerprint(), seed, num, args.shard_size, output_format)
        generate_shards(model, args.out, plan, schema=schema, attributes=args.attributes,
                        overwrite=args.overwrite, verify=args.verify)
        return
    attributes = None if args.attributes is None else next(iter_attribute_chunks(args.attributes, num))
    synthetic = model.generate(num, attributes=attributes, seed=seed)
    if schema is None:
        synthetic.extras = extras
        save_npz(args.out, synthetic)
    else:
        write_table(args.out, to_dataframe(synthetic, schema), format=output_format)
    logger.info("wrote %d series to %s", num, args.out)



def _generate_with_conditions(model, args: argparse.Namespace, output_format: str) -> None:
    """One series per row of ``--conditions`` (checked before anything is generated or written)."""
    from dg_tf.data.loading import save_npz
    from dg_tf.tabular import to_dataframe, write_table
    from dg_tf.tabular.files import read_table

    if model.table_schema is None:
        fail(f"--conditions: {args.run} was not trained on a table, so it has no attribute columns to name; "
             "use --attributes FILE.npz")
    conditions = read_table(args.conditions, keep_leading_zeros=True)
    if args.num is not None and args.num != len(conditions):
        fail(f"--num {args.num} differs from the {len(conditions)} rows of {args.conditions}")
    seed = model.config.seed if args.seed is None else args.seed
    synthetic = model.generate_conditioned(conditions, seed=seed, source=str(args.conditions))
    if output_format == "npz":
        save_npz(args.out, synthetic)
    else:
        write_table(args.out, to_dataframe(synthetic, model.table_schema), format=output_format)
    logger.info("wrote %d series, one per row of %s, to %s", len(conditions), args.conditions, args.out)
