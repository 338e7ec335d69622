"""High-cardinality categories: binary codes above ``max_onehot_levels`` (see dg_tf.tabular.columns).

The decoding of generated codes is checked against a brute force over every
valid level, not against the implementation's candidate search.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pandas as pd
import pytest

from dg_tf import ConfigError, TableSchema, from_dataframe, to_dataframe
from dg_tf.cli.table_flags import add_table_flags
from dg_tf.data.specs import OutputType
from dg_tf.evaluation.names import default_label_attribute, names_from_schema
from dg_tf.tabular.columns import BINARY, ONE_HOT, ColumnSpec
from dg_tf.tabular.options import MAX_ONEHOT_LEVELS
from test_tabular_frames import assert_table_equal, sorted_table

LEVELS = 5000
BITS = math.ceil(math.log2(LEVELS))  # 13


def _table(num_series: int = 6000, length: int = 2) -> pd.DataFrame:
    """Long table: 5,000-level text and integer columns, as attributes and as features."""
    series = np.arange(num_series)
    step = np.tile(np.arange(length), num_series)
    owner = np.repeat(series, length)
    names = np.array([f"site-{i:04d}" for i in range(LEVELS)], dtype=object)
    cell = (owner * 7 + step * 3) % LEVELS  # every level appears among the cells
    return pd.DataFrame({
        "id": owner,
        "site": names[owner % LEVELS],  # attribute, text
        "zip": (owner % LEVELS) * 10 + 1000,  # attribute, integer-coded (integer_discrete_max_levels)
        "shelf": pd.Categorical(names[cell % 7], categories=names),  # feature, 5,000 categories (7 used)
        "page": names[cell],  # feature, text
        "item": cell.astype(np.int32) - 2500,  # feature, integer-coded
        "value": np.linspace(0.0, 1.0, len(owner)),
    })


def _kwargs(**overrides):
    kwargs = dict(id_column="id", attribute_columns=["site", "zip"], feature_columns=["shelf", "page", "item", "value"],
                  integer_discrete_max_levels=LEVELS)
    kwargs.update(overrides)
    return kwargs


@pytest.fixture(scope="module")
def fitted():
    df = _table()
    dataset, schema = from_dataframe(df, **_kwargs())
    return df, dataset, schema


def test_5000_levels_are_13_two_way_outputs_per_column(fitted):
    _, dataset, schema = fitted
    assert BITS == 13
    for spec in (*schema.attributes, *schema.features[:3]):
        assert spec.kind == "discrete" and spec.encoding == BINARY and len(spec.levels) == LEVELS, spec.name
        assert spec.bits == BITS and spec.width == 2 * BITS
        assert [(o.type_, o.dim) for o in spec.outputs] == [(OutputType.DISCRETE, 2)] * BITS
    assert schema.features[3].width == 1 and schema.features[3].encoding is None
    assert dataset.attributes.shape == (6000, 2 * 2 * BITS)
    assert dataset.features.shape == (6000, 2, 3 * 2 * BITS + 1)
    assert dataset.attribute_outputs == schema.attribute_outputs and dataset.feature_outputs == schema.feature_outputs
    assert sum(o.dim for o in schema.feature_outputs) == sum(spec.width for spec in schema.features)


def test_5000_levels_round_trip_exactly_also_through_the_schema_json(fitted, tmp_path):
    df, dataset, schema = fitted
    expected = sorted_table(df, ["id"])
    assert_table_equal(to_dataframe(dataset, schema), expected)
    schema.save(tmp_path / "schema.json")
    stored = json.loads((tmp_path / "schema.json").read_text())
    assert [c["encoding"] for c in stored["attributes"]] == [BINARY, BINARY]
    loaded = TableSchema.load(tmp_path / "schema.json")
    assert loaded == schema and loaded.feature_outputs == dataset.feature_outputs
    back = to_dataframe(dataset, loaded)
    assert_table_equal(back, expected)  # dtypes included: str, int64, category, int32
    assert back["shelf"].dtype == df["shelf"].dtype and back["item"].dtype == np.int32


def _valid_codes_bits() -> np.ndarray:
    """int [LEVELS, BITS]: the bits of every valid code, most significant first."""
    return np.array([[int(b) for b in format(k, f"0{BITS}b")] for k in range(LEVELS)])


def test_generated_probabilities_decode_to_the_most_probable_valid_level():
    spec = ColumnSpec.fit("site", "discrete", pd.Series([f"s{i:04d}" for i in range(LEVELS)]))
    rng = np.random.default_rng(7)
    p1 = rng.random((400, BITS))
    block = np.stack([1 - p1, p1], axis=-1).reshape(400, 2 * BITS)
    codes = spec.decode_raw(block)
    bits = _valid_codes_bits()
    log_likelihood = bits @ np.log(p1).T + (1 - bits) @ np.log(1 - p1).T  # [LEVELS, 400]
    np.testing.assert_array_equal(codes, np.argmax(log_likelihood, axis=0))
    argmax_codes = (p1 > 0.5) @ (2 ** np.arange(BITS - 1, -1, -1))
    assert (argmax_codes >= LEVELS).mean() > 0.3  # the repair is exercised
    valid = argmax_codes < LEVELS
    np.testing.assert_array_equal(codes[valid], argmax_codes[valid])  # a valid argmax code is kept


def test_generated_hard_bits_decode_to_the_nearest_valid_level_smallest_first():
    spec = ColumnSpec.fit("site", "discrete", pd.Series(np.arange(LEVELS)), max_onehot_levels=100)
    rng = np.random.default_rng(8)
    drawn = rng.integers(0, 2, (400, BITS))
    block = np.stack([1 - drawn, drawn], axis=-1).reshape(400, 2 * BITS).astype(np.float32)
    distance = (drawn[:, None, :] != _valid_codes_bits()[None, :, :]).sum(axis=-1)  # [400, LEVELS] Hamming
    np.testing.assert_array_equal(spec.decode_raw(block), np.argmin(distance, axis=1))


def test_random_generated_arrays_give_only_real_levels(fitted):
    df, _, schema = fitted
    rng = np.random.default_rng(3)
    n, length = 300, 2
    features = rng.random((n, length, sum(spec.width for spec in schema.features))).astype(np.float32)
    attributes = rng.random((n, sum(spec.width for spec in schema.attributes))).astype(np.float32)
    table = to_dataframe((features, attributes, np.ones((n, length), np.float32)), schema)
    for name in ("site", "zip", "shelf", "page", "item"):
        assert table[name].dtype == df[name].dtype, name
        allowed = set(df[name].cat.categories) if name == "shelf" else set(df[name])
        assert table[name].isin(allowed).all(), name


def test_threshold_one_hot_up_to_max_onehot_levels_then_binary():
    def encodings(levels: int, **options):
        df = pd.DataFrame({"id": np.arange(levels), "label": [f"l{i}" for i in range(levels)],
                           "value": np.zeros(levels)})
        _, schema = from_dataframe(df, id_column="id", attribute_columns=["label"], feature_columns=["value"],
                                   **options)
        return [(o.type_, o.dim) for o in schema.attribute_outputs]

    d = OutputType.DISCRETE
    assert encodings(MAX_ONEHOT_LEVELS) == [(d, MAX_ONEHOT_LEVELS)]
    assert encodings(MAX_ONEHOT_LEVELS + 1) == [(d, 2)] * math.ceil(math.log2(MAX_ONEHOT_LEVELS + 1))
    assert encodings(9, max_onehot_levels=8) == [(d, 2)] * 4
    assert encodings(9, max_onehot_levels=None) == [(d, 9)]
    with pytest.raises(ConfigError, match="max_onehot_levels=0 must be a positive integer or None"):
        encodings(9, max_onehot_levels=0)


def test_wide_discrete_step_columns_are_binary_coded():
    values = [["a", "b", "c", "d"], ["e", "f", None, None], ["g", "h", "i", "j"]]
    df = pd.DataFrame({"id": [1, 2, 3], **{f"t{j}": [row[j] for row in values] for j in range(4)}})
    dataset, schema = from_dataframe(df, id_column="id", attribute_columns=[], feature_columns=["t0", "t1", "t2", "t3"],
                                     style="wide", max_onehot_levels=5)
    assert schema.features[0].bits == 4 and dataset.features.shape == (3, 4, 8)
    assert_table_equal(to_dataframe(dataset, schema), df)


def test_schemas_without_an_encoding_are_one_hot():
    data = ColumnSpec.fit("c", "discrete", pd.Series(["x", "y"])).to_dict()
    assert data.pop("encoding") == ONE_HOT
    assert ColumnSpec.from_dict(data).outputs[0].dim == 2
    with pytest.raises(ValueError, match="encoding='gray'"):
        ColumnSpec.from_dict({**data, "encoding": "gray"})


def test_the_flag_reads_none_and_defaults_to_the_constant():
    parser = argparse.ArgumentParser()
    add_table_flags(parser)
    assert parser.parse_args([]).max_onehot_levels == MAX_ONEHOT_LEVELS
    assert parser.parse_args(["--max-onehot-levels", "none"]).max_onehot_levels is None
    assert parser.parse_args(["--max-onehot-levels", "40"]).max_onehot_levels == 40


def test_evaluation_names_bits_and_never_predicts_one(fitted):
    _, dataset, schema = fitted
    names = names_from_schema(schema)
    assert names.attributes[:2] == ("site bit 1/13", "site bit 2/13") and len(names.attributes) == 2 * BITS
    assert names.levels[0] == ("0", "1") and names.bit_attributes == frozenset(range(2 * BITS))
    assert default_label_attribute(dataset.attribute_outputs) == 0
    assert default_label_attribute(dataset.attribute_outputs, skip=names.bit_attributes) is None
