"""The table options' names, choices and defaults, and the table file suffixes: no NumPy, no pandas.

The command line builds its flags and checks a ``--data`` path from these
before anything heavy is imported (``--help`` answers at once); the modules
that do the work import them from here, so each is written once.
"""

from __future__ import annotations

import os

from dg_tf.errors import DataFormatError

__all__ = [
    "DEFAULT_LONG_SERIES", "DEFAULT_MISSING", "DEFAULT_STYLE", "LONG_SERIES_POLICIES", "MAX_ONEHOT_LEVELS",
    "MISSING_POLICIES",
    "SERIES_ID", "SERIES_START", "STYLES", "TABLE_FORMATS", "is_table_file", "table_format",
]

#: Table styles: one row per (series, step), or one row per series.
STYLES = ("long", "wide")
#: The accepted values of ``missing``.
MISSING_POLICIES = ("error", "drop", "interpolate")
#: What to do with a series longer than ``max_length``.
LONG_SERIES_POLICIES = ("error", "truncate", "split")

#: :func:`~dg_tf.tabular.from_dataframe`'s defaults of ``style``, ``missing`` and ``long_series``.
DEFAULT_STYLE = "long"
DEFAULT_MISSING = "error"
DEFAULT_LONG_SERIES = "error"

#: Discrete columns with more levels than this are binary-coded rather than one-hot (the
#: ``max_onehot_levels`` default of :func:`~dg_tf.tabular.frames.from_dataframe`). Measured
#: (``python -m benchmarks.high_cardinality``, a Zipf attribute of about 150, 300 and 500 drawn
#: levels, 3 seeds, README "Measured: one-hot against binary codes"): binary codes came closer to
#: the real marginal than one-hot at every size (total variation 0.17 vs 0.25 at 150 levels, 0.30
#: vs 0.43 at 500; floor 0.11 and 0.27), with 15-20x smaller data and no slower steps. 150 (also
#: gretel-synthetics' switch point) keeps the paper's one-hot, unchanged, for columns of up to 150
#: levels; smaller values were not measured.
MAX_ONEHOT_LEVELS = 150

#: ``Dataset.extras`` key of the ids of the series [N].
SERIES_ID = "series_id"
#: ``Dataset.extras`` key of the first time of each series [N] (numeric form).
SERIES_START = "series_start"

#: File suffix -> format.
TABLE_FORMATS = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | os.PathLike[str]) -> str:
    """``"csv"`` or ``"parquet"``, from the file's suffix (case-insensitive).

    Raises:
        DataFormatError: the suffix is none of :data:`TABLE_FORMATS`.
    """
    name = os.fspath(path).lower()
    for suffix, fmt in TABLE_FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise DataFormatError(
        os.fspath(path), "file name", None, f"unknown table suffix; expected one of {', '.join(TABLE_FORMATS)}"
    )


def is_table_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a CSV or Parquet file (by its suffix); anything else is a dataset folder."""
    return os.fspath(path).lower().endswith(tuple(TABLE_FORMATS))
