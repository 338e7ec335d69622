"""A *prepared* dataset folder: the original triple made from a table, plus its schema.

``python -m dg_tf.prepare`` writes, and ``python -m dg_tf.train --data FILE``
writes inside its run folder:

- ``data_feature_output.pkl``, ``data_attribute_output.pkl``, ``data_train.npz``
  (and ``data_test.npz`` when a test fraction is held out): the original DG
  layout, readable by :func:`dg_tf.load_dataset` and the original code;
- ``table_schema.json``: the fitted :class:`~dg_tf.tabular.schema.TableSchema`
  that turns these arrays, or generated ones, back into the input's table;
- ``dg_config.json``: the ``sample_len`` the table was padded for (the
  schema's), which ``python -m dg_tf.train`` uses as its default.

The files are written into a staging folder and moved into place only when
all of them are complete (:func:`dg_tf.fileio.atomic_folder`), so a failure
part-way leaves the folder as it was (absent if it was absent).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

import numpy as np

from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import save_dataset
from dg_tf.data.validation import check_sample_len
from dg_tf.fileio import atomic_folder, atomic_write
from dg_tf.tabular.schema import TableSchema

__all__ = ["SCHEMA_FILE", "DATASET_CONFIG_FILE", "save_prepared", "load_schema", "split_series"]

logger = logging.getLogger(__name__)

SCHEMA_FILE = "table_schema.json"
#: Config fields a dataset folder recommends (read by ``python -m dg_tf.train``).
DATASET_CONFIG_FILE = "dg_config.json"


def split_series(dataset: Dataset, test_fraction: float, seed: int) -> tuple[Dataset, Dataset | None]:
    """Hold out ``round(N * test_fraction)`` random series (seeded) as a test split.

    Every extra array with one row per series (the ids and start times) is split
    with them. Returns ``(train, None)`` for a fraction of 0.

    Raises:
        ValueError: the fraction is outside [0, 1) or leaves a split empty.
    """
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction} must lie in [0, 1)")
    num_test = round(dataset.num_samples * test_fraction)
    if num_test == 0:
        return dataset, None
    if num_test >= dataset.num_samples - 1:
        raise ValueError(f"test_fraction={test_fraction} leaves fewer than 2 of {dataset.num_samples} series to train")
    order = np.random.default_rng(seed).permutation(dataset.num_samples)

    def take(rows: np.ndarray) -> Dataset:
        rows = np.sort(rows)
        extras = {k: v[rows] for k, v in dataset.extras.items() if len(v) == dataset.num_samples}
        return dataclasses.replace(dataset, features=dataset.features[rows], attributes=dataset.attributes[rows],
                                   gen_flags=dataset.gen_flags[rows], extras=extras)

    return take(order[num_test:]), take(order[:num_test])


def save_prepared(
    path: str | os.PathLike[str],
    dataset: Dataset,
    schema: TableSchema,
    *,
    test_fraction: float = 0.0,
    seed: int = 0,
) -> None:
    """Write a prepared dataset folder (see the module docstring): all files or none.

    Args:
        path: the folder (created if needed; other files in it are kept).
        dataset: what :func:`~dg_tf.tabular.frames.from_dataframe` returned.
        schema: its schema; with a ``sample_len`` (the data's length is a
            multiple of it), ``dg_config.json`` recommends it.
        test_fraction: fraction of series held out as ``data_test.npz`` (with
            0, a ``data_test.npz`` left in an earlier prepared folder, one
            with a schema, is removed: it would not match the new schema).
        seed: seed of that split.
    """
    sample_len = schema.sample_len
    if sample_len is not None:
        check_sample_len(dataset.max_length, sample_len, os.fspath(path))
    train, test = split_series(dataset, test_fraction, seed)
    path = Path(path)
    stale = path / "data_test.npz"
    prepared_before = (path / SCHEMA_FILE).is_file()
    with atomic_folder(path) as staging:
        save_dataset(staging, train)
        if test is not None:
            save_dataset(staging, test, split="test")
        schema.save(staging / SCHEMA_FILE)
        if sample_len is not None:
            with atomic_write(staging / DATASET_CONFIG_FILE, "w") as handle:
                json.dump({"sample_len": sample_len}, handle, indent=2)
    if test is None and stale.exists():
        if prepared_before:
            stale.unlink()
            logger.info("removed the stale %s of the earlier preparation", stale)
        else:
            logger.warning("%s was there before and does not match the new data; it was left as it was", stale)
    logger.info("prepared %s: %d training series%s, length %d (sample_len %s), schema %s", path,
                train.num_samples, "" if test is None else f" and {test.num_samples} test series",
                dataset.max_length, sample_len, SCHEMA_FILE)


def load_schema(path: str | os.PathLike[str]) -> TableSchema | None:
    """The folder's ``table_schema.json``, or ``None`` if it has none (e.g. an original DG triple)."""
    file = Path(path) / SCHEMA_FILE
    return TableSchema.load(file) if file.is_file() else None
