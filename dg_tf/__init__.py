"""dg_tf: DoppelGANger in TensorFlow 2 / Keras 3.

DoppelGANger (Lin et al., "Using GANs for Sharing Networked Time Series Data",
IMC 2020) generates time series together with their metadata. Public API:

- :class:`DGConfig` (with its groups :class:`ModelConfig`,
  :class:`TrainingConfig`, :class:`RuntimeConfig`): every hyperparameter
  (paper defaults).
- :class:`Output`, :class:`OutputType`, :class:`Normalization`: the original specs.
- :class:`Dataset`, :func:`load_dataset`, :func:`save_dataset`: the original triple.
- :func:`bundled_dataset`: the folder of a dataset shipped with the package
  (``bundled_dataset("fcc_mba")``, the paper's FCC MBA triple).
- :class:`DoppelGANger`: ``fit``, ``generate``, ``save``, ``load``.
- :func:`from_dataframe`, :func:`to_dataframe`, :class:`TableSchema`,
  :func:`read_table`, :func:`write_table`: tables (long or wide; CSV, Parquet).

The names are imported on first use (PEP 562), so ``import dg_tf`` and the
command lines' ``--help`` do not load TensorFlow or pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dg_tf.lazy import lazy_attributes

#: Each public name and the module that defines it.
_EXPORTS = {
    "DGConfig": "dg_tf.config",
    "ModelConfig": "dg_tf.config",
    "TrainingConfig": "dg_tf.config",
    "RuntimeConfig": "dg_tf.config",
    "Dataset": "dg_tf.data",
    "Output": "dg_tf.data",
    "OutputType": "dg_tf.data",
    "Normalization": "dg_tf.data",
    "load_dataset": "dg_tf.data",
    "save_dataset": "dg_tf.data",
    "load_npz": "dg_tf.data",
    "save_npz": "dg_tf.data",
    "bundled_dataset": "dg_tf.datasets",
    "DoppelGANger": "dg_tf.model",
    "from_dataframe": "dg_tf.tabular",
    "to_dataframe": "dg_tf.tabular",
    "TableSchema": "dg_tf.tabular",
    "read_table": "dg_tf.tabular",
    "write_table": "dg_tf.tabular",
    "DGError": "dg_tf.errors",
    "ConfigError": "dg_tf.errors",
    "DataFormatError": "dg_tf.errors",
    "TrainingDivergedError": "dg_tf.errors",
}

__all__ = list(_EXPORTS)

__version__ = "0.1.0"

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from dg_tf.config import DGConfig, ModelConfig, RuntimeConfig, TrainingConfig
    from dg_tf.datasets import bundled_dataset
    from dg_tf.data import Dataset, Normalization, Output, OutputType, load_dataset, load_npz, save_dataset, save_npz
    from dg_tf.errors import ConfigError, DataFormatError, DGError, TrainingDivergedError
    from dg_tf.model import DoppelGANger
    from dg_tf.tabular import TableSchema, from_dataframe, read_table, to_dataframe, write_table

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
