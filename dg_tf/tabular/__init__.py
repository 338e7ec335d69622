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
:mod:`~dg_tf.tabular.dtypes` (dtypes and JSON), :mod:`~dg_tf.tabular.files`.
"""

from __future__ import annotations

from dg_tf.tabular.files import read_table, write_table
from dg_tf.tabular.frames import SERIES_ID, SERIES_START, from_dataframe, to_dataframe
from dg_tf.tabular.schema import TableSchema

__all__ = ["from_dataframe", "to_dataframe", "TableSchema", "read_table", "write_table", "SERIES_ID", "SERIES_START"]
