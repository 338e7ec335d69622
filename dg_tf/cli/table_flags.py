"""Command-line flags that describe a table's columns (shared by ``prepare`` and ``train``).

Each flag sets the :func:`~dg_tf.tabular.from_dataframe` argument of the same
name, with that function's default (``None``, or the ``DEFAULT_*`` of
:mod:`dg_tf.tabular.options`, which its signature uses); column lists are
comma-separated. Nothing here imports pandas, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

from dg_tf.cli import comma_list, fail
from dg_tf.tabular.options import (
    DEFAULT_LONG_SERIES, DEFAULT_MISSING, DEFAULT_STYLE, LONG_SERIES_POLICIES, MAX_ONEHOT_LEVELS, MISSING_POLICIES,
    STYLES,
)

__all__ = ["TABLE_OPTIONS", "add_table_flags", "table_options"]

def int_or_none(text: str) -> int | None:
    """``"none"`` (any case) -> ``None``, else the integer."""
    return None if text.lower() == "none" else int(text)


#: from_dataframe's arguments set by flags: (parser, choices, help).
TABLE_OPTIONS: dict[str, tuple[Callable[[str], Any], tuple[str, ...] | None, str]] = {
    "id_column": (str, None, "column identifying each series (sample); required for a table"),
    "time_column": (str, None, "column ordering the steps (integer, float, datetime); regular spacing required"),
    "attribute_columns": (comma_list, None, "comma-separated metadata columns, constant within a series"),
    "feature_columns": (comma_list, None, "comma-separated measurement columns (wide style: the step columns, "
                                          "in step order); required for a table"),
    "discrete_columns": (comma_list, None, "columns forced to be categorical (one-hot)"),
    "continuous_columns": (comma_list, None, "columns forced to be continuous"),
    "integer_discrete_max_levels": (int, None, "integer columns with at most this many distinct values are "
                                               "categorical"),
    "max_onehot_levels": (int_or_none, None,
                          "discrete columns with more levels are binary-coded (ceil(log2(levels)) 2-way outputs) "
                          "instead of one-hot; 'none': always one-hot"),
    "style": (str, STYLES, "long: one row per (series, step); wide: one row per series, one column per step"),
    "max_length": (int, None, "longest series kept [the longest one]"),
    "missing": (str, MISSING_POLICIES, "missing values: refuse, drop the series, or interpolate inside the series"),
    "long_series": (str, LONG_SERIES_POLICIES, "series longer than --max-length: refuse, keep the start, "
                                               "or cut into pieces"),
}

#: from_dataframe's defaults that are not None.
_DEFAULTS = {"style": DEFAULT_STYLE, "missing": DEFAULT_MISSING, "long_series": DEFAULT_LONG_SERIES,
             "max_onehot_levels": MAX_ONEHOT_LEVELS}


def add_table_flags(parser: argparse.ArgumentParser) -> None:
    """Add a flag per :data:`TABLE_OPTIONS` entry, defaulting to :func:`from_dataframe`'s default."""
    group = parser.add_argument_group("table columns (CSV / Parquet input)")
    for name, (parse, choices, help_text) in TABLE_OPTIONS.items():
        default = _DEFAULTS.get(name)
        shown = "" if default is None or "[" in help_text else f" [{default}]"
        group.add_argument("--" + name.replace("_", "-"), type=parse, choices=choices, default=default,
                           help=help_text + shown)


def table_options(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """:func:`from_dataframe`'s keyword arguments for the table at ``path`` from the flags of :func:`add_table_flags`.

    ``--attribute-columns`` may be left out (no attribute columns).

    Raises:
        ConfigError: ``--id-column`` or ``--feature-columns`` is missing.
    """
    options = {name: getattr(args, name) for name in TABLE_OPTIONS}
    if options["id_column"] is None:
        fail(f"{path} is a table: --id-column is required")
    if options["feature_columns"] is None:
        fail(f"{path}: --feature-columns is required (wide style: the step columns, in step order)")
    if options["attribute_columns"] is None:
        options["attribute_columns"] = []
    return options
