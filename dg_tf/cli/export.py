"""``python -m dg_tf.export``: write a trained run as a plain TensorFlow SavedModel.

The folder ``--out`` (new, or an empty folder) is a SavedModel with the
functions and serving signatures ``generate(n, seed)`` and, for a model with
attributes, ``generate_conditional(attributes, seed)``; a TensorFlow process
loads it with ``tf.saved_model.load`` without dg_tf and gets the arrays
``python -m dg_tf.generate`` would write for the same seed
(:mod:`dg_tf.serving`). ``--out``'s ``assets.extra/layout.json`` describes
the inputs, outputs and columns. An existing non-empty ``--out`` is refused
and left as it is.

The runtime flags (``--generate-batch-size``, ``--jit-compile``, ...) are
fixed into the export as they would run ``generate`` here; the series of a
seed depend on ``--generate-batch-size``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

from dg_tf.cli import add_common_flags, command_prog
from dg_tf.cli.config_flags import add_config_flags, config_overrides

__all__ = ["build_parser", "main"]

logger = logging.getLogger("dg_tf.export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=command_prog("export"), description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="trained run (or saved model) folder")
    parser.add_argument("--out", type=Path, required=True, help="SavedModel folder to create (absent or empty)")
    add_config_flags(parser, groups=("runtime",), config_file=False)
    add_common_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # the library (TensorFlow), once the flags are sound
    from dg_tf.model import DoppelGANger
    from dg_tf.runtime import configure_cpu_threads
    from dg_tf.serving import check_export_folder, export_saved_model

    check_export_folder(args.out)  # before the slow part
    configure_cpu_threads()
    model = DoppelGANger.load(args.run, runtime=config_overrides(args, groups=("runtime",)))
    logger.info("loaded %s; exporting with generate_batch_size %d", args.run, model.config.generate_batch_size)
    export_saved_model(model, args.out)  # logs where it went
