"""Tests for dg_tf.transforms: every forward transform against its inverse and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from dg_tf.data.specs import Normalization, Output, OutputType, gen_flag_output
from dg_tf.transforms import (
    add_gen_flag_channels,
    clip_to_ranges,
    discrete_to_one_hot,
    flags_from_lengths,
    lengths_from_flags,
    mask_after_end,
    normalize_per_sample,
    renormalize_per_sample,
    split_outputs,
)

EPS = 1e-4
CONT = OutputType.CONTINUOUS
DISC = OutputType.DISCRETE
ZO = Normalization.ZERO_ONE
MO = Normalization.MINUSONE_ONE

# Columns: 0-1 ZERO_ONE, 2-4 DISCRETE, 5 MINUSONE_ONE.
MIXED = [Output(CONT, 2, ZO), Output(DISC, 3), Output(CONT, 1, MO)]


def _mixed_data(n: int = 7, length: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random mixed features with lengths 1..L (sample 0 has length 1, sample 1 length L)."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, length + 1, size=n)
    lengths[0] = 1
    lengths[1] = length
    flags = (np.arange(length)[None, :] < lengths[:, None]).astype(np.float32)
    feats = np.zeros((n, length, 6), np.float32)
    feats[:, :, 0:2] = rng.uniform(0.0, 1.0, size=(n, length, 2))
    feats[:, :, 2:5] = np.eye(3)[rng.integers(0, 3, size=(n, length))]
    feats[:, :, 5] = rng.uniform(-1.0, 1.0, size=(n, length))
    feats *= flags[:, :, None]
    return feats, flags, lengths


# --------------------------------------------------------------------------- #
# normalize_per_sample / renormalize_per_sample
# --------------------------------------------------------------------------- #


def test_normalize_renormalize_round_trip_mixed_variable_length():
    feats, flags, _ = _mixed_data()
    feats_copy, flags_copy = feats.copy(), flags.copy()
    norm, addi, addi_outputs = normalize_per_sample(feats, flags, MIXED)

    assert norm.dtype == np.float32 and norm.shape == feats.shape
    assert addi.dtype == np.float32 and addi.shape == (feats.shape[0], 6)
    assert addi_outputs == [
        Output(CONT, 1, ZO), Output(CONT, 1, ZO),
        Output(CONT, 1, ZO), Output(CONT, 1, ZO),
        Output(CONT, 1, MO), Output(CONT, 1, ZO),
    ]
    active = flags > 0.5
    # Padding exactly zero, active values in range, discrete columns untouched.
    assert np.all(norm[~active] == 0.0)
    assert np.all((norm[active][:, 0:2] >= 0.0) & (norm[active][:, 0:2] <= 1.0))
    assert np.all((norm[active][:, 5] >= -1.0) & (norm[active][:, 5] <= 1.0))
    np.testing.assert_array_equal(norm[:, :, 2:5], feats[:, :, 2:5])

    back = renormalize_per_sample(norm, addi, flags, MIXED)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, feats, rtol=1e-5, atol=1e-6)
    assert np.all(back[~active] == 0.0)
    # Inputs not modified.
    np.testing.assert_array_equal(feats, feats_copy)
    np.testing.assert_array_equal(flags, flags_copy)


def test_normalize_additional_attributes_hand_computed():
    feats, flags, lengths = _mixed_data()
    _, addi, _ = normalize_per_sample(feats, flags, MIXED)
    i = 2
    n_active = lengths[i]
    expected = []
    for col in (0, 1, 5):
        values = feats[i, :n_active, col].astype(np.float64)
        mx, mn = values.max() + EPS, values.min() - EPS
        expected += [(mx + mn) / 2, (mx - mn) / 2]
    np.testing.assert_allclose(addi[i], expected, rtol=1e-6, atol=1e-7)


def test_normalize_ignores_padding_in_min_max():
    outputs = [Output(CONT, 1, ZO)]
    feats = np.zeros((1, 5, 1), np.float32)
    feats[0, :3, 0] = [0.5, 0.9, 0.7]
    flags = np.array([[1, 1, 1, 0, 0]], np.float32)
    norm, addi, _ = normalize_per_sample(feats, flags, outputs)
    np.testing.assert_allclose(addi[0], [0.7, 0.2 + EPS], rtol=1e-6)
    # Including padding (the original) would give min 0, i.e. mid ~0.45.
    span = 0.4 + 2 * EPS
    np.testing.assert_allclose(
        norm[0, :, 0], [EPS / span, (0.4 + EPS) / span, (0.2 + EPS) / span, 0, 0], rtol=1e-5
    )
    # Negative active values: padding zeros must not raise the max either.
    outputs = [Output(CONT, 1, MO)]
    norm, addi, _ = normalize_per_sample(-feats, flags, outputs)
    np.testing.assert_allclose(addi[0], [-0.7, 0.2 + EPS], rtol=1e-6)
    expected = [2 * (0.4 + EPS) / span - 1, 2 * EPS / span - 1, 2 * (0.2 + EPS) / span - 1, 0, 0]
    np.testing.assert_allclose(norm[0, :, 0], expected, rtol=1e-5, atol=1e-6)


def test_normalize_minusone_one_values_hand_computed():
    outputs = [Output(CONT, 1, MO)]
    feats = np.array([[[-0.5], [0.5], [0.0]]], np.float32)
    flags = np.ones((1, 3), np.float32)
    norm, addi, _ = normalize_per_sample(feats, flags, outputs, eps=0.5)
    # max = 1, min = -1: x stays x.
    np.testing.assert_allclose(norm[0, :, 0], [-0.5, 0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(addi[0], [0.0, 1.0], atol=1e-7)


def test_normalize_constant_series_finite_and_round_trips():
    outputs = [Output(CONT, 2, ZO), Output(CONT, 1, MO)]
    feats = np.zeros((3, 4, 3), np.float32)
    feats[0] = 0.3
    feats[1] = -0.2  # constant negative
    flags = np.ones((3, 4), np.float32)
    flags[2] = 0.0  # a sample with no active step at all
    norm, addi, _ = normalize_per_sample(feats, flags, outputs)
    assert np.all(np.isfinite(norm)) and np.all(np.isfinite(addi))
    np.testing.assert_allclose(norm[0, :, :2], 0.5, atol=1e-6)
    np.testing.assert_allclose(norm[0, :, 2], 0.0, atol=1e-6)
    np.testing.assert_allclose(addi[2], [0, EPS] * 3, atol=1e-9)
    back = renormalize_per_sample(norm, addi, flags, outputs)
    np.testing.assert_allclose(back, feats * flags[:, :, None], rtol=1e-5, atol=1e-6)


def test_normalize_no_continuous_column():
    outputs = [Output(DISC, 3)]
    rng = np.random.default_rng(0)
    feats = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=(4, 5))]
    flags = np.ones((4, 5), np.float32)
    norm, addi, addi_outputs = normalize_per_sample(feats, flags, outputs)
    assert addi.shape == (4, 0) and addi.dtype == np.float32
    assert addi_outputs == []
    np.testing.assert_array_equal(norm, feats)
    np.testing.assert_array_equal(renormalize_per_sample(norm, addi, flags, outputs), feats)


def test_renormalize_hand_computed_and_generated_inputs():
    outputs = [Output(CONT, 1, ZO), Output(CONT, 1, MO)]
    norm = np.array([[[0.0, -1.0], [1.0, 1.0], [0.5, 0.0]]], np.float32)
    addi = np.array([[10.0, 2.0, -1.0, 3.0]], np.float32)  # [8, 12] and [-4, 2]
    flags = np.array([[1, 1, 0]], np.float32)
    back = renormalize_per_sample(norm, addi, flags, outputs)
    np.testing.assert_allclose(back[0], [[8.0, -4.0], [12.0, 2.0], [0.0, 0.0]])
    for layout in (np.asfortranarray(norm), norm.transpose(2, 1, 0).copy().transpose(2, 1, 0)):  # any memory order
        np.testing.assert_array_equal(renormalize_per_sample(layout, addi, flags, outputs), back)
    # Generated inputs: any finite values give finite output.
    rng = np.random.default_rng(0)
    g = renormalize_per_sample(
        rng.normal(size=(5, 3, 2)) * 3, rng.normal(size=(5, 4)), np.ones((5, 3)), outputs
    )
    assert np.all(np.isfinite(g))


def test_normalize_shape_errors():
    feats, flags, _ = _mixed_data()
    with pytest.raises(ValueError, match="total_dim"):
        normalize_per_sample(feats[:, :, :5], flags, MIXED)
    with pytest.raises(ValueError, match="gen_flags"):
        normalize_per_sample(feats, flags[:, :-1], MIXED)
    norm, addi, _ = normalize_per_sample(feats, flags, MIXED)
    with pytest.raises(ValueError, match="additional_attributes"):
        renormalize_per_sample(norm, addi[:, :-1], flags, MIXED)


# --------------------------------------------------------------------------- #
# Generation flags
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("sample_len", [1, 2, 3, 4, 6, 12])
def test_gen_flag_round_trip_every_length(sample_len):
    length = 12
    rng = np.random.default_rng(0)
    lengths = np.arange(0, length + 1)
    flags = flags_from_lengths(lengths, length)
    feats = rng.normal(size=(len(lengths), length, 3)).astype(np.float32) * flags[:, :, None]
    feats_copy, flags_copy = feats.copy(), flags.copy()
    with_flags = add_gen_flag_channels(feats, flags, sample_len)
    assert with_flags.shape == (len(lengths), length, 5)
    np.testing.assert_array_equal(with_flags[:, :, :3], feats)
    ch = with_flags[:, :, 3:]
    # Active non-final steps [1, 0]; each channel pair is one-hot or all zero.
    for i, n in enumerate(lengths):
        if n > 0:
            np.testing.assert_array_equal(ch[i, : n - 1], np.tile([1, 0], (n - 1, 1)))
            np.testing.assert_array_equal(ch[i, n - 1], [0, 1])
    assert np.all(ch.sum(axis=-1) <= 1)
    np.testing.assert_array_equal(feats, feats_copy)
    np.testing.assert_array_equal(flags, flags_copy)


@pytest.mark.parametrize("sample_len", [1, 2, 3, 4, 6, 12])
def test_the_generator_reads_the_encoded_flags_back(sample_len):
    """Real series encoded with flag channels, read as the generator reads its own output
    (dg_tf.models.flags.masked_steps on S records per pass): the same flags, and nothing masked away."""
    from dg_tf.models.flags import masked_steps

    length = 12
    lengths = np.arange(1, length + 1)
    flags = flags_from_lengths(lengths, length)
    feats = np.random.default_rng(1).uniform(0.1, 1, size=(len(lengths), length, 3)).astype(np.float32)
    encoded = add_gen_flag_channels(feats * flags[:, :, None], flags, sample_len)
    passes = encoded.reshape(len(lengths), length // sample_len, -1).transpose(1, 0, 2)  # [T, N, S * D]
    masked, gen_flags, alive = masked_steps(passes, np.ones(len(lengths), bool), sample_len, 0, None, 1)
    np.testing.assert_array_equal(gen_flags.numpy(), flags)
    np.testing.assert_array_equal(masked.numpy(), encoded)
    assert not alive.numpy().any()

@pytest.mark.parametrize(
    "length, sample_len, n_active, channel0, channel1",
    [
        (6, 3, 4, [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]),
        (6, 3, 2, [1, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0]),
        (6, 3, 3, [1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]),
        (6, 3, 6, [1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1]),
        (6, 2, 1, [0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]),
        (6, 1, 4, [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0]),
        (6, 6, 1, [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]),
    ],
)
def test_gen_flag_channels_exact(length, sample_len, n_active, channel0, channel1):
    flags = flags_from_lengths(np.array([n_active]), length)
    out = add_gen_flag_channels(np.zeros((1, length, 1), np.float32), flags, sample_len)
    np.testing.assert_array_equal(out[0, :, 1], channel0)
    np.testing.assert_array_equal(out[0, :, 2], channel1)


def test_gen_flag_channels_bad_sample_len():
    with pytest.raises(ValueError, match=r"sample_len=5.*12"):
        add_gen_flag_channels(np.zeros((2, 12, 1)), np.ones((2, 12)), 5)
    with pytest.raises(ValueError, match="sample_len"):
        add_gen_flag_channels(np.zeros((2, 12, 1)), np.ones((2, 12)), 0)


# --------------------------------------------------------------------------- #
# Batch generation (paper §4.1): S records per LSTM pass
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("sample_len", [1, 2, 3, 6])
def test_pass_records_are_consecutive_steps(sample_len):
    """The generator's records [T, B, S*D] (time-major) as steps [B, L, D]: record j of pass t is step t*S + j."""
    from dg_tf.models.flags import steps_of

    rng = np.random.default_rng(0)
    b, length, d = 2, 6, 4
    t = length // sample_len
    records = rng.normal(size=(t, b, sample_len * d)).astype(np.float32)
    steps = steps_of(records, sample_len).numpy()
    assert steps.shape == (b, length, d)
    for ti in range(t):
        for j in range(sample_len):
            np.testing.assert_array_equal(steps[:, ti * sample_len + j], records[ti, :, j * d:(j + 1) * d])


# --------------------------------------------------------------------------- #
# Lengths, masks, ranges, one-hot
# --------------------------------------------------------------------------- #


def test_lengths_flags_round_trip():
    lengths = np.array([0, 1, 3, 5])
    flags = flags_from_lengths(lengths, 5)
    assert flags.dtype == np.float32
    np.testing.assert_array_equal(
        flags, [[0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    )
    got = lengths_from_flags(flags)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, lengths)


@pytest.mark.parametrize("bad, index", [([1, 6, 2], 1), ([2, 3, -1], 2), ([1.5, 2], 0)])
def test_flags_from_lengths_bad_length(bad, index):
    with pytest.raises(ValueError, match=rf"lengths\[{index}\]"):
        flags_from_lengths(np.array(bad), 5)


def test_mask_after_end():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4, 2)).astype(np.float32)
    x_copy = x.copy()
    flags = flags_from_lengths(np.array([0, 2, 4]), 4)
    out = mask_after_end(x, flags)
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[1, :2], x[1, :2])
    np.testing.assert_array_equal(out[1, 2:], 0.0)
    np.testing.assert_array_equal(out[2], x[2])
    np.testing.assert_array_equal(x, x_copy)


def test_clip_to_ranges():
    outputs = [Output(CONT, 2, ZO), Output(DISC, 2), Output(CONT, 1, MO)]
    x = np.array([[-0.5, 1.5, 3.0, -2.0, -1.5], [0.3, 0.7, 0.2, 0.8, 1.2]], np.float32)
    x_copy = x.copy()
    out = clip_to_ranges(x, outputs)
    np.testing.assert_array_equal(
        out, np.array([[0.0, 1.0, 3.0, -2.0, -1.0], [0.3, 0.7, 0.2, 0.8, 1.0]], np.float32)
    )
    np.testing.assert_array_equal(x, x_copy)
    # Works on [..., D] features too.
    assert clip_to_ranges(np.stack([x, x]), outputs).shape == (2, 2, 5)
    with pytest.raises(ValueError, match="total_dim"):
        clip_to_ranges(x[:, :4], outputs)


def test_discrete_to_one_hot_and_split_outputs():
    outputs = [Output(DISC, 3), Output(CONT, 1, ZO), gen_flag_output()]
    x = np.array(
        [
            [0.2, 0.5, 0.3, 0.7, 0.6, 0.4],
            [0.4, 0.2, 0.4, -0.3, 0.5, 0.5],  # ties -> first
            [0.1, 0.1, 0.8, 1.5, 0.0, 1.0],
        ],
        np.float32,
    )
    x_copy = x.copy()
    out = discrete_to_one_hot(x, outputs)
    expected = np.array(
        [
            [0, 1, 0, 0.7, 1, 0],
            [1, 0, 0, -0.3, 1, 0],
            [0, 0, 1, 1.5, 0, 1],
        ],
        np.float32,
    )
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(x, x_copy)
    assert discrete_to_one_hot(x[None], outputs).shape == (1, 3, 6)

    blocks = split_outputs(x, outputs)
    assert [b.shape for b in blocks] == [(3, 3), (3, 1), (3, 2)]
    np.testing.assert_array_equal(np.concatenate(blocks, axis=-1), x)
    blocks[0][:] = 99.0
    np.testing.assert_array_equal(x, x_copy)
    with pytest.raises(ValueError, match="total_dim"):
        split_outputs(x[:, :5], outputs)
