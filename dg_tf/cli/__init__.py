"""The command line: one thin module per command (parse flags, call the library, log where things went).

``python -m dg_tf.<command>`` runs the shim ``dg_tf/<command>.py``, which runs
``main`` of :mod:`dg_tf.cli.<command>` through :func:`run_main`: logging set
up, and every :class:`~dg_tf.errors.DGError` or ``OSError`` one line on stderr
with exit status 2. Flags that set hyperparameters are derived from
:class:`~dg_tf.config.DGConfig` (:mod:`~dg_tf.cli.config_flags`) and the table
flags from :func:`~dg_tf.tabular.from_dataframe`
(:mod:`~dg_tf.cli.table_flags`), so no default is written twice.

Every command has ``--version`` and ``--verbose`` (:func:`add_common_flags`).
TensorFlow's C++ start-up lines are dropped from stderr unless ``--verbose``
(:mod:`~dg_tf.cli.quiet`). ``dg-tf <command>`` (:mod:`~dg_tf.cli.console`)
runs the same commands.

Nothing a command imports before its flags are checked loads TensorFlow,
Keras or pandas: ``--help`` and a flag error answer at once. The commands that train or
generate then set TensorFlow's CPU threading
(:func:`~dg_tf.runtime.configure_cpu_threads`) before it runs an op.
"""

from __future__ import annotations

import argparse
import logging
import sys
import typing
from typing import Callable, Sequence

from dg_tf import __version__
from dg_tf.cli.quiet import quiet_tensorflow_start, show_tensorflow_log
from dg_tf.errors import ConfigError, DGError
from dg_tf.limits import brief

__all__ = [
    "add_common_flags", "comma_list", "command_prog", "entry_point", "fail", "run_main", "version_text",
]


def run_main(main: Callable[[Sequence[str] | None], None], argv: Sequence[str] | None = None) -> int:
    """Run a command's ``main`` with logging set up; errors become one line and exit status 2.

    TensorFlow's C++ start-up lines are dropped from stderr unless the
    command's ``--verbose`` is given (:func:`~dg_tf.cli.quiet.quiet_tensorflow_start`).

    Returns:
        The exit status: 0, 2 for a :class:`DGError` or ``OSError``, 130 when interrupted.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("absl").setLevel(logging.WARNING)  # checkpoint-sharding chatter
    try:
        _check_utf8(sys.argv[1:] if argv is None else argv)
        with quiet_tensorflow_start():
            main(argv)
    except (DGError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def entry_point(module: str, main: Callable[[Sequence[str] | None], None]) -> None:
    """In a ``python -m dg_tf.<command>`` shim: when it runs as ``__main__``, run ``main`` and exit with its status."""
    if module == "__main__":
        raise SystemExit(run_main(main))


#: How the running process was invoked: ``"dg-tf"`` once :mod:`dg_tf.cli.console` picked the command.
_invoked_as = "python -m"


def command_prog(module: str) -> str:
    """The ``prog`` of a command's parser: ``dg-tf train`` under the console command, else ``python -m dg_tf.train``.

    Args:
        module: the command's module name under ``dg_tf`` (``"retrain_attributes"``).
    """
    if _invoked_as == "dg-tf":
        return "dg-tf " + module.replace("_", "-")
    return f"python -m dg_tf.{module}"


def version_text() -> str:
    """What ``--version`` prints: ``dg_tf <version>``."""
    return f"dg_tf {__version__}"


class _Verbose(argparse.Action):
    """``--verbose``: TensorFlow prints its start-up lines and log (:func:`~dg_tf.cli.quiet.show_tensorflow_log`)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: typing.Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=False, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: typing.Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, True)
        show_tensorflow_log()


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--version`` and ``--verbose``, the flags every command has."""
    parser.add_argument("--version", action="version", version=version_text(), help="print dg_tf's version and exit")
    parser.add_argument("--verbose", action=_Verbose,
                        help="show TensorFlow's C++ start-up lines and its INFO/WARNING log (hidden by default)")


def comma_list(text: str) -> list[str]:
    """A flag's comma-separated names (``"a, b,"`` -> ``["a", "b"]``)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _check_utf8(argv: Sequence[str]) -> None:
    """Refuse an argument that is not valid UTF-8 (TensorFlow, JSON and the logs need UTF-8 paths)."""
    for number, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(f"argument {number} ({brief(arg)}) is not valid UTF-8; use UTF-8 names") from None


def fail(message: str) -> typing.NoReturn:
    """Raise the one-line error of a command-line mistake."""
    raise ConfigError(message)
