"""Data in the original DoppelGANger format: specs, the dataset, loading and validation.

The on-disk format is the original's: ``data_feature_output.pkl``,
``data_attribute_output.pkl`` and ``data_{split}.npz`` (see :mod:`dg_tf.data.loading`).
"""

from __future__ import annotations

from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import load_dataset, load_npz, load_outputs, save_dataset, save_npz, save_outputs
from dg_tf.data.specs import Normalization, Output, OutputType, continuous_columns, gen_flag_output, total_dim
from dg_tf.data.validation import check_sample_len, validate_dataset

__all__ = [
    "Output",
    "OutputType",
    "Normalization",
    "gen_flag_output",
    "total_dim",
    "continuous_columns",
    "Dataset",
    "load_dataset",
    "save_dataset",
    "load_npz",
    "save_npz",
    "load_outputs",
    "save_outputs",
    "validate_dataset",
    "check_sample_len",
]
