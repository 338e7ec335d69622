"""``dg-tf <command> [flags]``: the console command; ``dg-tf train ...`` runs ``python -m dg_tf.train ...``.

Installed by ``pip`` as the ``dg-tf`` script (``[project.scripts]`` in
``pyproject.toml``); ``python -m dg_tf <command>`` runs it too. Everything
after the command's name goes to that command's own parser, so ``dg-tf train
--help`` lists train's flags. The command's module is imported only once it
is chosen (and inside :func:`~dg_tf.cli.run_main`), so ``dg-tf --help``,
``--version`` and an unknown command answer at once; an unknown command is a
one-line error with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from typing import Sequence

from dg_tf import cli
from dg_tf.cli import run_main, version_text

__all__ = ["COMMANDS", "build_parser", "main"]

#: Each command: (its module, with ``main(argv)``; one line on what it does).
COMMANDS = {
    "train": ("dg_tf.cli.train", "train DoppelGANger on a dataset folder or a table and write synthetic data"),
    "generate": ("dg_tf.cli.generate", "sample synthetic data from a trained run"),
    "prepare": ("dg_tf.cli.prepare", "turn a CSV / Parquet table into a dataset folder"),
    "evaluate": ("dg_tf.cli.evaluate", "compare synthetic with real data and write a report"),
    "export": ("dg_tf.cli.export", "write a trained run as a plain TensorFlow SavedModel"),
    "retrain-attributes": ("dg_tf.cli.retrain_attributes", "retrain a run's attribute generator on new attributes"),
}


def build_parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:<20}{summary}" for name, (_, summary) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="dg-tf", usage="dg-tf [-h] [--version] COMMAND [FLAGS ...]",
        description="DoppelGANger (IMC 2020) in TensorFlow 2 / Keras 3.",
        epilog=f"commands:\n{listing}\n\n'dg-tf COMMAND --help' lists a command's flags; "
               "'dg-tf COMMAND ...' is 'python -m dg_tf.COMMAND ...' (retrain-attributes: dg_tf.retrain_attributes).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_text(), help="print dg_tf's version and exit")
    parser.add_argument("command", metavar="COMMAND", choices=COMMANDS,
                        help="the command to run (below); its own flags follow it")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dg-tf``: the first word picks the command, the rest are its flags.

    Returns:
        The command's exit status (as :func:`~dg_tf.cli.run_main`); ``--help``
        and ``--version`` exit 0, a missing or unknown command exits 2 (``SystemExit``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    name = parser.parse_args(argv[:1]).command
    module_name = COMMANDS[name][0]
    if importlib.util.find_spec(module_name) is None:
        parser.error(f"command {name!r} is not available in this installation (no module {module_name})")

    def command_main(args: Sequence[str] | None) -> None:
        cli._invoked_as = "dg-tf"  # the command's usage and --help name it "dg-tf <command>"
        importlib.import_module(module_name).main(args)

    return run_main(command_main, argv[1:])
