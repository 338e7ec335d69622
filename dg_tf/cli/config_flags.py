"""Command-line flags derived from :class:`~dg_tf.config.DGConfig`: one flag per field, in its group.

Flags default to "not given", so only what the user types overrides the
config file (or the dataset's recommendation, or the defaults); the help
shows each field's default from the config itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, Sequence

from dg_tf.config import GROUPS, DGConfig

__all__ = ["add_config_flags", "config_from_args", "config_overrides"]

#: Help of the fields whose default says little by itself.
_HELP = {
    "sample_len": "records per LSTM pass S [auto: L/S closest to 50, paper §4.4]",
    "dp_noise_multiplier": "DP-SGD noise multiplier sigma of both critics, paper §6.2 [none: no DP]",
}
#: The heading of each group's flags.
_TITLES = {"model": "model (saved with it; fixed once trained)",
           "training": "training (may change on --resume)",
           "runtime": "runtime (how this process runs; may change on --resume)"}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _parse_optional_int(text: str) -> int | None:
    return None if text.lower() in ("auto", "none") else int(text)


def _parse_optional_float(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def add_config_flags(parser: argparse.ArgumentParser, groups: Sequence[str] = tuple(GROUPS),
                     config_file: bool = True) -> None:
    """Add ``--config FILE.json`` (if ``config_file``) and one flag per field of the named groups."""
    if config_file:
        parser.add_argument("--config", type=Path, help="JSON file with DGConfig fields")
    for group_name in groups:
        group = parser.add_argument_group(f"{_TITLES[group_name]}; default in brackets")
        cls = GROUPS[group_name]
        defaults = cls()
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            hint = hints[field.name]
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
            group.add_argument(_flag(field.name), help=_HELP.get(field.name, f"[{getattr(defaults, field.name)}]"),
                               **kwargs)


def config_overrides(args: argparse.Namespace, groups: Sequence[str] = tuple(GROUPS)) -> dict[str, Any]:
    """The fields of the named groups given on the command line."""
    names = {field.name for group in groups for field in dataclasses.fields(GROUPS[group])}
    return {name: value for name, value in vars(args).items() if name in names}


def config_from_args(args: argparse.Namespace, base: DGConfig | None = None) -> DGConfig:
    """``base`` (or ``--config``, or the defaults) with the given flags applied."""
    if base is None:
        base = DGConfig.from_file(args.config) if args.config is not None else DGConfig()
    return base.replace(**config_overrides(args))
