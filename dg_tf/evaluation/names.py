"""Human names of a dataset's columns and categories, for reports and tables.

The original DG triple has no names ("feature 0", "attribute 1", category 3).
Names come from what wrote the folder: ``table_schema.json`` (``python -m
dg_tf.prepare``, the input table's columns and labels) or ``conversion.json``
(the ``data/converters`` of the paper's raw datasets).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any, Sequence

from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Output
from dg_tf.tabular.folder import load_schema
from dg_tf.tabular.schema import TableSchema

__all__ = ["ColumnNames", "CONVERSION_FILE", "names_from_schema", "names_from_record", "dataset_names",
           "default_label_attribute"]

logger = logging.getLogger(__name__)

#: The provenance record ``data/converters`` writes next to a converted triple.
CONVERSION_FILE = "conversion.json"


@dataclasses.dataclass(frozen=True)
class ColumnNames:
    """Human names of the feature and attribute outputs (default "feature i", "attribute i").

    Attributes:
        features: one name per feature output.
        attributes: one name per attribute output.
        levels: per attribute output, the names of its categories (or None).
    """

    features: tuple[str, ...]
    attributes: tuple[str, ...]
    levels: tuple[tuple[str, ...] | None, ...]

    @classmethod
    def default(cls, dataset: Dataset) -> "ColumnNames":
        return cls(
            features=tuple(f"feature {i}" for i in range(len(dataset.feature_outputs))),
            attributes=tuple(f"attribute {i}" for i in range(len(dataset.attribute_outputs))),
            levels=tuple(None for _ in dataset.attribute_outputs),
        )

    def level(self, attribute: int, label: int) -> str:
        """Name of category ``label`` of attribute output ``attribute``."""
        names = self.levels[attribute]
        return str(label) if names is None else names[label]


def names_from_schema(schema: TableSchema) -> ColumnNames:
    """The table's column names and category labels (a wide table's single feature is "value").

    A learned start (:attr:`TableSchema.start`) is the attribute ``"<time column> start"``,
    its labels the grid positions (steps after the earliest start).
    """
    names = [str(spec.name) for spec in schema.attributes]
    if schema.start is not None:
        names.append(f"{schema.start.name} start")
    return ColumnNames(
        features=tuple("value" if spec.name is None else str(spec.name) for spec in schema.features),
        attributes=tuple(names),
        levels=tuple(None if spec.levels is None else tuple(str(v) for v in spec.levels)
                     for spec in schema.attribute_specs),
    )


def names_from_record(dataset: Dataset, record: Any, source: str = "<record>") -> ColumnNames:
    """Names from a ``conversion.json``-style record, where they fit the dataset.

    ``feature_names`` must name every feature output and ``levels`` (attribute
    name -> category names) every attribute output in order, with one name per
    category of a discrete one; a part that does not fit is ignored (logged).
    """
    default = ColumnNames.default(dataset)
    features, attributes, levels = default.features, default.attributes, default.levels
    feature_names = record.get("feature_names") if isinstance(record, dict) else None
    if isinstance(feature_names, list) and len(feature_names) == len(dataset.feature_outputs):
        features = tuple(str(n) for n in feature_names)
    else:
        logger.info("%s: no 'feature_names' for the %d feature outputs", source, len(dataset.feature_outputs))
    recorded = record.get("levels") if isinstance(record, dict) else None
    outputs = dataset.attribute_outputs
    if (
        isinstance(recorded, dict)
        and len(recorded) == len(outputs)
        and all(isinstance(v, list) and (not o.is_discrete or len(v) == o.dim)
                for o, v in zip(outputs, recorded.values()))
    ):
        attributes = tuple(str(n) for n in recorded)
        levels = tuple(tuple(str(x) for x in v) if o.is_discrete else None for o, v in zip(outputs, recorded.values()))
    else:
        logger.info("%s: its 'levels' do not match the %d attribute outputs", source, len(outputs))
    return ColumnNames(features=features, attributes=attributes, levels=levels)


def dataset_names(folder: str | os.PathLike[str], dataset: Dataset, record_file: Path | None = None) -> ColumnNames:
    """The names of a dataset folder's columns: its table schema, else a conversion record, else defaults.

    Args:
        folder: the dataset folder.
        dataset: one of its splits (to check the names fit).
        record_file: a ``conversion.json``-style file to use instead of the folder's.
    """
    schema = load_schema(folder) if record_file is None else None
    if schema is not None:
        return names_from_schema(schema)
    file = Path(folder) / CONVERSION_FILE if record_file is None else Path(record_file)
    if not file.is_file():
        return ColumnNames.default(dataset)
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        logger.warning("%s: cannot read names (%s); using default names", file, err)
        return ColumnNames.default(dataset)
    return names_from_record(dataset, record, str(file))


def default_label_attribute(outputs: Sequence[Output]) -> int | None:
    """The discrete attribute with the fewest categories (> 1), the coarsest grouping to predict or condition on.

    E.g. the connection technology of FCC MBA (5 categories; ISP has 15, state
    53) or GCUT's end event type. ``None`` when there is no such attribute.
    """
    candidates = [i for i, o in enumerate(outputs) if o.is_discrete and o.dim > 1]
    return min(candidates, key=lambda i: (outputs[i].dim, i)) if candidates else None
