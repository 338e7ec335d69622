"""Conditions given as a table: labels of some attribute columns, one row per series wanted.

``DoppelGANger.generate_dataframe(conditions=df)`` and ``python -m
dg_tf.generate --conditions FILE`` take a table whose columns are any subset
of the model's attribute columns. Row ``i`` describes synthetic series ``i``:
a value is honoured exactly; a missing cell (NaN, None, empty in a CSV) or a
column left out is drawn from the model conditioned on the given values
(:mod:`dg_tf.conditioning`). :func:`encode_conditions` checks every cell and
turns the table into the model's attribute layout plus a mask of what is
given; the first bad cell is one :class:`~dg_tf.errors.DataFormatError` naming
the row and the column, before anything is generated.

Values are matched to a discrete column's labels as they are, or by their
text (a CSV holds ``"3"`` for the label ``3`` and ``"True"`` for ``True``).
Continuous values must be numbers within the range the model was trained
on (the model cannot generate outside it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dg_tf.data.specs import total_dim
from dg_tf.errors import DataFormatError
from dg_tf.limits import label
from dg_tf.tabular.columns import ColumnSpec
from dg_tf.tabular.inference import DISCRETE, column_label, show
from dg_tf.tabular.schema import TableSchema

__all__ = ["encode_conditions", "describe_conditions"]


def encode_conditions(
    conditions: pd.DataFrame, schema: TableSchema, source: str = "<conditions>"
) -> tuple[np.ndarray, np.ndarray]:
    """The given attribute values of each row, in the model's layout, and which are given.

    Args:
        conditions: one row per series; columns: some of the schema's
            attribute columns (rows are reported by position, 0-based).
        schema: the model's table schema.
        source: the conditions' file or ``"<conditions>"``, for errors.

    Returns:
        ``(attributes, given)``: float32 [n, A] (given values encoded as the
        training data was, zeros elsewhere) and bool [n, len(schema.attribute_outputs)].

    Raises:
        DataFormatError: not a table, no rows, a column that is not an
            attribute column of the model, or a cell that is not one of a
            discrete column's labels / not a number within a continuous
            column's range (the message names the row and the column).
    """
    if not isinstance(conditions, pd.DataFrame):
        raise DataFormatError(source, "conditions", None,
                              f"must be a pandas DataFrame (one row per series), got {type(conditions).__name__}")
    if len(conditions) == 0:
        raise DataFormatError(source, "conditions", None, "has no rows: one row per series to generate")
    by_name = {spec.name: spec for spec in schema.attributes}
    for name in conditions.columns:
        if name not in by_name:
            known = ", ".join(column_label(n) for n in by_name) or "none"
            role = "the id, time or a feature column" if name in schema.columns else "not a column of the table"
            raise DataFormatError(source, column_label(name), None,
                                  f"is {role}; conditions may give attribute columns only ({known})")
    n = len(conditions)
    blocks, given = [], []
    for spec in schema.attribute_specs:
        block = np.zeros((n, spec.output.dim), np.float32)
        present = np.zeros(n, bool)
        if spec is not schema.start and spec.name in conditions.columns:
            column = conditions[spec.name].reset_index(drop=True)
            present = column.notna().to_numpy()
            if present.any():
                block[present] = _encode_cells(spec, column[present], source)
        blocks.append(block)
        given.append(present)
    attributes = np.concatenate(blocks, axis=1) if blocks else np.zeros((n, 0), np.float32)
    assert attributes.shape[1] == total_dim(schema.attribute_outputs)
    return attributes, np.stack(given, axis=1) if given else np.zeros((n, 0), bool)


def _encode_cells(spec: ColumnSpec, values: pd.Series, source: str) -> np.ndarray:
    """float32 [m, dim] of the non-missing cells ``values`` (index: their rows)."""
    if spec.kind == DISCRETE:
        codes = spec.levels.get_indexer(pd.Index(values.astype(object)))
        unmatched = codes < 0
        if unmatched.any():  # by text, as a CSV gives them
            by_text = {str(level): i for i, level in enumerate(spec.levels)}
            codes[unmatched] = [by_text.get(str(v), -1) for v in values[unmatched]]
        bad = np.flatnonzero(codes < 0)
        if bad.size:
            row, value = int(values.index[bad[0]]), values.iloc[bad[0]]
            levels = label(", ".join(show(v) for v in spec.levels), 300)
            raise DataFormatError(source, column_label(spec.name), row,
                                  f"{show(value)} is not one of the column's labels ({levels})")
        return spec.encode(pd.Series(spec.levels[codes], dtype=spec.levels.dtype))
    numbers = pd.to_numeric(values.astype(object), errors="coerce").to_numpy(np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(numbers) | (numbers < float(spec.minimum)) | (numbers > float(spec.maximum)))
    if bad.size:
        row, value = int(values.index[bad[0]]), values.iloc[bad[0]]
        rule = (f"{show(value)} is not a number" if not np.isfinite(numbers[bad[0]]) else
                f"{show(value)} is outside the range the model was trained on [{spec.minimum:g}, {spec.maximum:g}]")
        raise DataFormatError(source, column_label(spec.name), row, rule)
    return spec.encode(pd.Series(numbers))


def describe_conditions(conditions: pd.DataFrame, row: int) -> str:
    """The given labels of one row, for messages: ``"state='NSW', gender='Female'"``."""
    cells = conditions.iloc[row]
    return ", ".join(f"{name}={show(value)}" for name, value in cells.items() if pd.notna(value))
