"""Tabular data in and out: DataFrame, CSV and Parquet, long and wide.

Most users hold time series with metadata as a table. This subpackage turns
such a table into DoppelGANger's arrays (paper §3.1: attributes, features,
generation flags) and back:

- :func:`from_dataframe` -> ``(Dataset, TableSchema)``;
- :func:`to_dataframe` (training or generated arrays + schema) -> DataFrame;
- :class:`TableSchema`: the fitted description, saved as JSON;
- :func:`read_table` / :func:`write_table`: CSV (``.csv``, ``.csv.gz``) and
  Parquet (``.parquet``, ``.pq``) files.

Discrete columns are one-hot, except above ``max_onehot_levels`` levels
(default 150), where a level is written as its ``ceil(log2(levels))`` bits,
each a 2-way discrete output: thousands of levels stay a few dozen columns
(:mod:`~dg_tf.tabular.columns`, :mod:`~dg_tf.tabular.binary_code`).

Modules: :mod:`~dg_tf.tabular.frames` (the two conversions),
:mod:`~dg_tf.tabular.inference` (column types), :mod:`~dg_tf.tabular.columns`
(per-column encoding), :mod:`~dg_tf.tabular.binary_code` (binary codes),
:mod:`~dg_tf.tabular.timeaxis` (the time column),
:mod:`~dg_tf.tabular.missing` (missing values), :mod:`~dg_tf.tabular.grouped`
(series regrouping, long series), :mod:`~dg_tf.tabular.schema`,
:mod:`~dg_tf.tabular.dtypes` (dtypes and JSON), :mod:`~dg_tf.tabular.files`,
:mod:`~dg_tf.tabular.options` (the options' choices and the file suffixes,
without pandas, for the command line).

The names are imported on first use (PEP 562), so that importing
``dg_tf.tabular.options`` does not load pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dg_tf.lazy import lazy_attributes

#: Each public name and the module that defines it.
_EXPORTS = {
    "from_dataframe": "dg_tf.tabular.frames",
    "to_dataframe": "dg_tf.tabular.frames",
    "TableSchema": "dg_tf.tabular.schema",
    "read_table": "dg_tf.tabular.files",
    "write_table": "dg_tf.tabular.files",
    "SERIES_ID": "dg_tf.tabular.options",
    "SERIES_START": "dg_tf.tabular.options",
}

__all__ = list(_EXPORTS)

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from dg_tf.tabular.files import read_table, write_table
    from dg_tf.tabular.frames import from_dataframe, to_dataframe
    from dg_tf.tabular.options import SERIES_ID, SERIES_START
    from dg_tf.tabular.schema import TableSchema

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
