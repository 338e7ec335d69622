"""Shared command-line plumbing: logging, one-line errors, config flags, progress bar.

Every ``python -m dg_tf.<command>`` builds its parser here, so the flags that
set hyperparameters are derived from :class:`~dg_tf.config.DGConfig` (one
source of defaults) and every command fails the same way: one line on stderr
and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
import types
import typing
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

from dg_tf.config import DGConfig
from dg_tf.errors import ConfigError, DGError
from dg_tf.limits import brief
from dg_tf.runtime import configure_cpu_threads
from dg_tf.training import Progress

__all__ = [
    "add_config_flags",
    "comma_list",
    "config_from_args",
    "config_overrides",
    "fail",
    "run_main",
    "ProgressBar",
    "repo_data_dir",
    "format_duration",
]

logger = logging.getLogger("dg_tf")

def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _parse_optional_int(text: str) -> int | None:
    return None if text.lower() in ("auto", "none") else int(text)


def _parse_optional_float(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--config FILE.json`` and one flag per :class:`DGConfig` field.

    Flags default to "not given" so that only what the user types overrides
    the config file (or the defaults).
    """
    parser.add_argument("--config", type=Path, help="JSON file with DGConfig fields")
    group = parser.add_argument_group("hyperparameters (DGConfig fields; default in brackets)")
    defaults = DGConfig()
    hints = typing.get_type_hints(DGConfig)
    for field in dataclasses.fields(DGConfig):
        hint = hints[field.name]
        default = getattr(defaults, field.name)
        kwargs: dict[str, Any] = {"default": argparse.SUPPRESS, "dest": field.name}
        origin = typing.get_origin(hint)
        if hint is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif origin is Literal:
            kwargs["choices"] = typing.get_args(hint)
        elif origin in (typing.Union, types.UnionType) and float in typing.get_args(hint):
            kwargs["type"] = _parse_optional_float
            kwargs["metavar"] = "FLOAT|none"
        elif origin in (typing.Union, types.UnionType):
            kwargs["type"] = _parse_optional_int
            kwargs["metavar"] = "INT|auto"
        else:
            kwargs["type"] = hint
        if field.name == "sample_len":
            help_text = "records per LSTM pass S [auto: L/S closest to 50, paper §4.4]"
        elif field.name == "dp_noise_multiplier":
            help_text = "DP-SGD noise multiplier sigma of both critics, paper §6.2 [none: no DP]"
        else:
            help_text = f"[{default}]"
        group.add_argument(_flag(field.name), help=help_text, **kwargs)


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The DGConfig fields given on the command line."""
    names = {f.name for f in dataclasses.fields(DGConfig)}
    return {name: value for name, value in vars(args).items() if name in names}


def config_from_args(args: argparse.Namespace, base: DGConfig | None = None) -> DGConfig:
    """``base`` (or ``--config``, or the defaults) with the given flags applied."""
    if base is None:
        base = DGConfig.from_file(args.config) if args.config is not None else DGConfig()
    return base.replace(**config_overrides(args))


def run_main(
    main: Callable[[Sequence[str] | None], None], argv: Sequence[str] | None = None, *, model_threads: bool = True
) -> int:
    """Run a command's ``main`` with logging set up; errors become one line and exit 2.

    ``model_threads``: set DoppelGANger's CPU threading first
    (:func:`~dg_tf.runtime.configure_cpu_threads`). ``evaluate`` leaves
    TensorFlow's defaults: its TimeGAN GRU scorers ran 20% faster with them on
    the 2-core CPU (an MBA report took 81 s instead of 106 s, and 112 s instead
    of 133 s, 2026-11-23).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("absl").setLevel(logging.WARNING)  # checkpoint-sharding chatter
    if model_threads:
        configure_cpu_threads()
    try:
        _check_utf8(sys.argv[1:] if argv is None else argv)
        main(argv)
    except (DGError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


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


def repo_data_dir() -> Path:
    """The repository's ``data/`` folder (bundled datasets) next to the package."""
    return Path(__file__).resolve().parent.parent / "data"


class ProgressBar(Progress):
    """A one-line progress bar on stderr: epoch, step, losses, speed and ETA.

    On a terminal the line is redrawn in place; otherwise (logs, CI) one log
    line is written about every 5% of the epochs.
    """

    SHOWN = ("loss/d", "loss/attr_d", "loss/g")

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.metrics: dict[str, float] = {}

    def on_train_begin(self, start_epoch, epochs, steps_per_epoch):
        self.start_epoch, self.epochs, self.steps_per_epoch = start_epoch, epochs, steps_per_epoch
        self.total = (epochs - start_epoch) * steps_per_epoch
        self.done = 0
        self.began = time.perf_counter()
        self.log_every = max(1, (epochs - start_epoch) // 20)

    def _line(self, epoch: int, step: int) -> str:
        elapsed = time.perf_counter() - self.began
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        losses = " ".join(f"{k} {self.metrics[k]:+.4f}" for k in self.SHOWN if k in self.metrics)
        return (f"epoch {epoch}/{self.epochs} step {step}/{self.steps_per_epoch} | {losses} | "
                f"{rate:.1f} steps/s ETA {format_duration(eta)}")

    def on_step_end(self, epoch, step):
        self.done += 1
        if self.tty:
            self.stream.write("\r" + self._line(epoch, step).ljust(100))
            self.stream.flush()

    def on_epoch_end(self, epoch, metrics):
        self.metrics = metrics
        if self.tty:
            self.stream.write("\r" + self._line(epoch, self.steps_per_epoch).ljust(100))
            if epoch == self.epochs:
                self.stream.write("\n")
            self.stream.flush()
        elif (epoch - self.start_epoch) % self.log_every == 0 or epoch == self.epochs:
            logger.info(self._line(epoch, self.steps_per_epoch))


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` of a number of seconds (progress lines, ETAs)."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def fail(message: str) -> typing.NoReturn:
    """Raise the one-line error of a command-line mistake."""
    raise ConfigError(message)
