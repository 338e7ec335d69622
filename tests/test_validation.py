"""Tests for dg_tf.data.validation: one test per DoppelGANger format rule."""

from __future__ import annotations

import numpy as np
import pytest

from dg_tf.data import Dataset, Normalization, Output, OutputType, check_sample_len, gen_flag_output, validate_dataset
from dg_tf.data.validation import validate_outputs
from dg_tf.errors import DataFormatError

SRC = "some/dir/data_train.npz"
LENGTHS = (6, 3, 1, 4)


def make_dataset(seed: int = 0) -> Dataset:
    """A valid tiny dataset: N=4, L=6.

    Feature columns: 0 = CONTINUOUS ZERO_ONE, 1..3 = DISCRETE(3),
    4..5 = CONTINUOUS MINUSONE_ONE(2). Attribute columns: 0..1 = DISCRETE(2),
    2 = CONTINUOUS ZERO_ONE.
    """
    rng = np.random.default_rng(seed)
    n, length = len(LENGTHS), 6
    gen_flags = (np.arange(length)[None, :] < np.array(LENGTHS)[:, None]).astype(np.float32)
    features = np.zeros((n, length, 6), np.float32)
    features[:, :, 0] = rng.uniform(0, 1, (n, length))
    features[np.arange(n)[:, None], np.arange(length)[None, :], 1 + rng.integers(0, 3, (n, length))] = 1
    features[:, :, 4:6] = rng.uniform(-1, 1, (n, length, 2))
    features *= gen_flags[:, :, None]
    attributes = np.zeros((n, 3), np.float32)
    attributes[np.arange(n), rng.integers(0, 2, n)] = 1
    attributes[:, 2] = rng.uniform(0, 1, n)
    return Dataset(
        features=features,
        attributes=attributes,
        gen_flags=gen_flags,
        feature_outputs=[
            Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
            Output(OutputType.DISCRETE, 3),
            Output(OutputType.CONTINUOUS, 2, Normalization.MINUSONE_ONE),
        ],
        attribute_outputs=[
            Output(OutputType.DISCRETE, 2),
            Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
        ],
    )


def expect_error(dataset: Dataset, array: str, index, *words: str) -> DataFormatError:
    with pytest.raises(DataFormatError) as info:
        validate_dataset(dataset, source=SRC)
    err = info.value
    assert err.file == SRC
    assert err.array == array
    assert err.index == index
    for word in words:
        assert word in err.rule, (word, err.rule)
    assert "\n" not in str(err)
    return err


def test_valid_dataset_passes():
    ds = make_dataset()
    validate_dataset(ds, source=SRC)  # no error
    # Sanity of the fixture itself: padded steps are zero, lengths as intended.
    assert list(ds.lengths) == list(LENGTHS)
    assert np.all(ds.features[1, 3:] == 0)


def test_valid_dataset_of_other_dtypes_passes():
    ds = make_dataset()
    ds.gen_flags = ds.gen_flags.astype(np.int64)
    ds.features = ds.features.astype(np.float64)
    validate_dataset(ds, source=SRC)


# ------------------------------------------------------------------ empty data


def test_no_samples():
    ds = make_dataset()
    ds.features, ds.attributes, ds.gen_flags = ds.features[:0], ds.attributes[:0], ds.gen_flags[:0]
    expect_error(ds, "data_feature", None, "empty")


def test_zero_length():
    ds = make_dataset()
    ds.features, ds.gen_flags = ds.features[:, :0], ds.gen_flags[:, :0]
    expect_error(ds, "data_feature", None, "empty", "length 0")


# ------------------------------------------------------------------ ranks and shapes


def test_features_must_be_3d():
    ds = make_dataset()
    ds.features = ds.features[:, :, 0]
    err = expect_error(ds, "data_feature", None, "3-D", "(4, 6)")
    assert "[N, L, K]" in err.rule


def test_attributes_must_be_2d():
    ds = make_dataset()
    ds.attributes = ds.attributes[:, :, None]
    expect_error(ds, "data_attribute", None, "2-D", "(4, 3, 1)")


def test_gen_flags_must_be_2d():
    ds = make_dataset()
    ds.gen_flags = ds.gen_flags[:, :, None]
    expect_error(ds, "data_gen_flag", None, "2-D")


def test_sample_count_mismatch():
    ds = make_dataset()
    ds.attributes = ds.attributes[:3]
    expect_error(ds, "data_attribute", None, "3 samples", "has 4")


def test_gen_flag_length_mismatch():
    ds = make_dataset()
    ds.gen_flags = ds.gen_flags[:, :5]
    expect_error(ds, "data_gen_flag", None, "(4, 6)", "(4, 5)")


def test_feature_width_must_match_specs():
    ds = make_dataset()
    ds.feature_outputs = ds.feature_outputs[:2]  # span 4 columns, data has 6
    err = expect_error(ds, "data_feature", None, "6 columns", "span 4")
    assert "(4, 6, 4)" in err.rule


def test_attribute_width_must_match_specs():
    ds = make_dataset()
    ds.attributes = np.concatenate([ds.attributes, np.zeros((4, 1), np.float32)], axis=1)
    expect_error(ds, "data_attribute", None, "4 columns", "span 3")


def test_non_numeric_array():
    ds = make_dataset()
    ds.attributes = ds.attributes.astype(str)
    expect_error(ds, "data_attribute", None, "numbers")


# ------------------------------------------------------------------ the specs themselves


def test_gen_flag_output_not_allowed_in_specs():
    ds = make_dataset()
    ds.feature_outputs = ds.feature_outputs + [gen_flag_output()]
    flags = np.stack([ds.gen_flags, 1 - ds.gen_flags], axis=-1)  # shapes still consistent
    ds.features = np.concatenate([ds.features, flags], axis=-1)
    expect_error(ds, "feature_outputs", 3, "is_gen_flag")


def test_invalid_spec_reported_with_its_position():
    ds = make_dataset()
    broken = object.__new__(Output)  # bypasses __init__, like unpickling
    broken.type_, broken.dim, broken.normalization, broken.is_gen_flag = OutputType.CONTINUOUS, 1, None, False
    ds.attribute_outputs = [ds.attribute_outputs[0], broken]
    expect_error(ds, "attribute_outputs", 1, "invalid output spec", "Normalization")


def test_spec_with_broken_dim_is_a_spec_error_not_a_crash():
    ds = make_dataset()
    broken = object.__new__(Output)
    broken.type_, broken.dim, broken.normalization, broken.is_gen_flag = OutputType.DISCRETE, "3", None, False
    ds.feature_outputs = [ds.feature_outputs[0], broken, ds.feature_outputs[2]]
    expect_error(ds, "feature_outputs", 1, "dim='3'")


def test_validate_outputs_rejects_non_outputs():
    with pytest.raises(DataFormatError) as info:
        validate_outputs([Output(OutputType.DISCRETE, 2), 7], "x.pkl", "pickle")
    assert (info.value.file, info.value.array, info.value.index) == ("x.pkl", "pickle", 1)
    assert "int" in info.value.rule
    with pytest.raises(DataFormatError) as info:
        validate_outputs("not a list", "x.pkl")
    assert info.value.index is None


# ------------------------------------------------------------------ NaN / Inf


def test_nan_in_features_even_on_padded_step():
    ds = make_dataset()
    ds.features[2, 3, 4] = np.nan  # sample 2 has length 1: a padded step
    ds.features[3, 0, 0] = 2.0  # also out of range, but NaN is checked first
    expect_error(ds, "data_feature", (2, 3, 4), "finite", "nan")


def test_inf_in_attributes():
    ds = make_dataset()
    ds.attributes[1, 2] = -np.inf
    expect_error(ds, "data_attribute", (1, 2), "finite", "-inf")


def test_nan_in_gen_flags():
    ds = make_dataset()
    ds.gen_flags[3, 5] = np.nan
    expect_error(ds, "data_gen_flag", (3, 5), "finite")


# ------------------------------------------------------------------ generation flags


def test_gen_flag_values_must_be_binary():
    ds = make_dataset()
    ds.gen_flags[1, 1] = 0.5
    expect_error(ds, "data_gen_flag", (1, 1), "0.5", "0 or 1")


def test_series_must_start_active():
    ds = make_dataset()
    ds.gen_flags[2, 0] = 0  # sample 2 becomes length 0
    ds.features[2] = 0
    expect_error(ds, "data_gen_flag", (2, 0), "start", "length >= 1")


def test_gen_flags_must_not_rise_again():
    ds = make_dataset()
    ds.gen_flags[1, 4] = 1  # 1 1 1 0 1 0
    expect_error(ds, "data_gen_flag", (1, 4), "1...1 followed by 0...0")


# ------------------------------------------------------------------ padding


def test_features_after_end_must_be_zero():
    ds = make_dataset()
    ds.features[1, 4, 5] = 0.25
    ds.features[3, 5, 0] = 0.5  # later in C order
    expect_error(ds, "data_feature", (1, 4, 5), "0.25", "exactly 0")


def test_discrete_padding_must_be_zero_too():
    ds = make_dataset()
    ds.features[2, 1, 2] = 1.0  # a one-hot row on a padded step
    expect_error(ds, "data_feature", (2, 1, 2), "after the series ended")


# ------------------------------------------------------------------ continuous ranges


def test_continuous_feature_above_zero_one():
    ds = make_dataset()
    ds.features[0, 2, 0] = 1.5
    err = expect_error(ds, "data_feature", (0, 2, 0), "feature output 0", "1.5", "ZERO_ONE")
    assert str(err) == (
        f"{SRC}: data_feature at index (0, 2, 0): continuous value 1.5 of feature output 0 "
        "is outside ZERO_ONE range [0, 1]"
    )


def test_continuous_feature_below_minusone_one():
    ds = make_dataset()
    ds.features[3, 1, 5] = -1.25
    expect_error(ds, "data_feature", (3, 1, 5), "feature output 2", "-1.25", "MINUSONE_ONE range [-1, 1]")


def test_negative_value_is_fine_for_minusone_one_but_not_zero_one():
    ds = make_dataset()
    ds.features[0, 0, 4] = -0.9  # MINUSONE_ONE column: fine
    validate_dataset(ds, source=SRC)
    ds.features[0, 0, 0] = -0.1  # ZERO_ONE column: not fine
    expect_error(ds, "data_feature", (0, 0, 0), "-0.1")


def test_first_range_violation_in_array_order_across_outputs():
    ds = make_dataset()
    ds.features[1, 0, 0] = 2.0  # output 0, later sample
    ds.features[0, 5, 4] = 3.0  # output 2, earlier sample
    expect_error(ds, "data_feature", (0, 5, 4), "feature output 2", "3")


def test_continuous_attribute_out_of_range():
    ds = make_dataset()
    ds.attributes[2, 2] = 1.0001
    expect_error(ds, "data_attribute", (2, 2), "attribute output 1", "1.0001", "ZERO_ONE")


# ------------------------------------------------------------------ one-hot


def test_discrete_feature_with_two_ones():
    ds = make_dataset()
    ds.features[0, 1, 1:4] = [1, 1, 0]
    expect_error(ds, "data_feature", (0, 1), "discrete feature output 1", "one-hot", "2 ones")


def test_discrete_feature_with_soft_values():
    ds = make_dataset()
    ds.features[3, 0, 1:4] = [0.5, 0.5, 0]
    expect_error(ds, "data_feature", (3, 0), "feature output 1", "0.5")


def test_discrete_feature_all_zero_on_active_step():
    ds = make_dataset()
    ds.features[2, 0, 1:4] = 0  # sample 2, its only active step
    expect_error(ds, "data_feature", (2, 0), "0 ones")


def test_discrete_attribute_not_one_hot():
    ds = make_dataset()
    ds.attributes[1, 0:2] = [0, 0]
    expect_error(ds, "data_attribute", (1,), "discrete attribute output 0", "0 ones")


def test_range_rule_comes_before_one_hot_rule():
    ds = make_dataset()
    ds.features[0, 0, 1:4] = [1, 1, 1]
    ds.features[3, 3, 0] = 7.0
    expect_error(ds, "data_feature", (3, 3, 0), "continuous value 7")


# ------------------------------------------------------------------ sample_len


def test_sample_len_must_divide_length():
    with pytest.raises(DataFormatError) as info:
        check_sample_len(550, 7, "cfg.json")
    err = info.value
    assert (err.file, err.array, err.index) == ("cfg.json", "sample_len", None)
    assert err.rule == "sample_len=7 must divide max_length=550"


@pytest.mark.parametrize("bad", [0, -5, 2.0, True, "5"])
def test_sample_len_must_be_positive_int(bad):
    with pytest.raises(DataFormatError) as info:
        check_sample_len(550, bad)
    assert info.value.array == "sample_len"
    assert "positive integer" in info.value.rule


@pytest.mark.parametrize("good", [1, 10, 550, np.int64(25)])
def test_sample_len_accepts_divisors(good):
    check_sample_len(550, good)  # no error
