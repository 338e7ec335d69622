"""dg_tf: DoppelGANger in TensorFlow 2 / Keras 3.

DoppelGANger (Lin et al., "Using GANs for Sharing Networked Time Series Data",
IMC 2020) generates time series together with their metadata. Public API:

- :class:`DGConfig`: every hyperparameter (paper defaults).
- :class:`Output`, :class:`OutputType`, :class:`Normalization`: the original specs.
- :class:`Dataset`, :func:`load_dataset`, :func:`save_dataset`: the original triple.
- :class:`DoppelGANger`: ``fit``, ``generate``, ``save``, ``load``.
- :func:`from_dataframe`, :func:`to_dataframe`, :class:`TableSchema`,
  :func:`read_table`, :func:`write_table`: tables (long or wide; CSV, Parquet).
"""

import os

# TensorFlow's C++ start-up chatter (CPU features, oneDNN) drowns the useful
# log lines; a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dg_tf.config import DGConfig  # noqa: E402
from dg_tf.data import (  # noqa: E402
    Dataset,
    Normalization,
    Output,
    OutputType,
    load_dataset,
    load_npz,
    save_dataset,
    save_npz,
)
from dg_tf.errors import ConfigError, DataFormatError, DGError, TrainingDivergedError  # noqa: E402
from dg_tf.model import DoppelGANger  # noqa: E402
from dg_tf.tabular import TableSchema, from_dataframe, read_table, to_dataframe, write_table  # noqa: E402

__all__ = [
    "DGConfig",
    "Dataset",
    "Output",
    "OutputType",
    "Normalization",
    "load_dataset",
    "save_dataset",
    "load_npz",
    "save_npz",
    "DoppelGANger",
    "from_dataframe",
    "to_dataframe",
    "TableSchema",
    "read_table",
    "write_table",
    "DGError",
    "ConfigError",
    "DataFormatError",
    "TrainingDivergedError",
]

__version__ = "0.1.0"
