"""Pure NumPy data transforms of DoppelGANger, each with an exact inverse.

Implements the data-side pieces of DoppelGANger (Lin et al., IMC 2020):

* auto-normalization (paper §4.2): every continuous feature column of every
  sample is rescaled by that sample's own min/max, and the pair
  ``((max+min)/2, (max-min)/2)`` becomes two "additional attributes"
  (:func:`normalize_per_sample` / :func:`renormalize_per_sample`);
* generation flags for variable length (paper appendix B): two channels per
  step, ``[1, 0]`` "continues" and ``[0, 1]`` "ends here"
  (:func:`add_gen_flag_channels`; the generator reads them back, see
  :mod:`dg_tf.models.flags`);
* small helpers on lengths, masks, ranges and output blocks.

Shape symbols: N samples (B in a batch), L max length, K feature columns
(``total_dim`` of the feature outputs), S ``sample_len``, T = L/S LSTM passes,
D columns per record, C continuous feature columns.

Where dg_tf deliberately differs from the original TF1 code:

* per-sample min/max is taken over **active** steps only (the original took
  all ``L`` steps, padding included), and padding stays exactly 0 after
  normalization (the original left it non-zero);
* a dataset with no continuous feature yields ``[N, 0]`` additional
  attributes instead of crashing (original issue #37).

Everything here is pure: no TensorFlow, no randomness, no I/O, and inputs are
never modified (every function returns new arrays).

This module is longer than 400 lines because each transform sits with its exact
inverse and the few helpers both use (active steps, output column slices);
about half of it is the docstrings that state the shapes and the original's
conventions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dg_tf.data.specs import Normalization, Output, OutputType, total_dim
from dg_tf.data.validation import check_sample_len

__all__ = [
    "additional_outputs",
    "normalize_per_sample",
    "renormalize_per_sample",
    "add_gen_flag_channels",
    "lengths_from_flags",
    "flags_from_lengths",
    "mask_after_end",
    "clip_to_ranges",
    "split_outputs",
    "discrete_to_one_hot",
]


# --------------------------------------------------------------------------- #
# Internal helpers
# --------------------------------------------------------------------------- #


def _float_dtype(x: np.ndarray) -> np.dtype:
    """Floating dtype that holds ``x`` without loss (at least float32)."""
    return np.result_type(x.dtype, np.float32)


def _check_features_and_flags(
    features: np.ndarray, gen_flags: np.ndarray, names: tuple[str, str] = ("features", "gen_flags")
) -> None:
    """Raise ValueError unless features is [N, L, K] and gen_flags is [N, L]."""
    fname, gname = names
    if features.ndim != 3:
        raise ValueError(f"{fname} must have shape [N, L, K], got shape {features.shape}")
    if gen_flags.shape != features.shape[:2]:
        raise ValueError(
            f"{gname} must have shape [N, L] = {features.shape[:2]} to match {fname}, "
            f"got shape {gen_flags.shape}"
        )


def _check_last_dim(x: np.ndarray, outputs: Sequence[Output], name: str) -> None:
    """Raise ValueError unless the last axis of ``x`` spans ``total_dim(outputs)``."""
    expected = total_dim(list(outputs))
    if x.ndim < 1 or x.shape[-1] != expected:
        raise ValueError(
            f"{name} must have last axis of size total_dim(outputs)={expected}, got shape {x.shape}"
        )


def _output_slices(outputs: Sequence[Output]) -> list[tuple[Output, slice]]:
    """``(output, column slice)`` for each output, in order."""
    result = []
    start = 0
    for output in outputs:
        result.append((output, slice(start, start + output.dim)))
        start += output.dim
    return result


def _continuous_columns(outputs: Sequence[Output]) -> list[tuple[int, Normalization]]:
    """``(column index, normalization)`` of every continuous column, in column order."""
    columns = []
    for output, cols in _output_slices(outputs):
        if output.type_ == OutputType.CONTINUOUS:
            columns.extend((c, output.normalization) for c in range(cols.start, cols.stop))
    return columns


def _active(gen_flags: np.ndarray) -> np.ndarray:
    """Boolean mask of active steps (flags are 1 while active, 0 afterwards)."""
    return gen_flags > 0.5


# --------------------------------------------------------------------------- #
# Auto-normalization (paper §4.2)
# --------------------------------------------------------------------------- #


def additional_outputs(feature_outputs: Sequence[Output]) -> list[Output]:
    """Specs of the additional attributes that auto-normalization adds.

    Per continuous feature column, in column order:
    ``Output(CONTINUOUS, 1, <the feature's normalization>)`` for (max+min)/2 and
    ``Output(CONTINUOUS, 1, ZERO_ONE)`` for (max-min)/2. Empty without continuous columns.
    """
    outputs: list[Output] = []
    for _, norm in _continuous_columns(feature_outputs):
        outputs.append(Output(OutputType.CONTINUOUS, 1, norm))
        outputs.append(Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE))
    return outputs


def normalize_per_sample(
    features: np.ndarray,
    gen_flags: np.ndarray,
    feature_outputs: Sequence[Output],
    eps: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, list[Output]]:
    """Rescale each continuous feature column by its sample's own range (auto-normalization).

    Paper §4.2: the max and min of every series become metadata ("additional
    attributes") and the series itself is generated in a fixed range, which
    alleviates mode collapse. For each continuous column c of each sample::

        max_c = max over active steps + eps,  min_c = min over active steps - eps
        x <- (x - min_c) / (max_c - min_c)          # ZERO_ONE:     in [0, 1]
        x <- 2 x - 1                                # MINUSONE_ONE: in [-1, 1]

    Unlike the original (which included the zero padding in min/max), only
    active steps count, and padding steps of continuous columns are exactly 0
    afterwards. ``eps`` keeps a constant series finite (original commit
    34efa73). A sample with no active step gets ``max = eps``, ``min = -eps``.
    Discrete columns are returned unchanged. Computed in float64.

    Args:
        features: float [N, L, K], K = ``total_dim(feature_outputs)``.
        gen_flags: [N, L], 1 on active steps and 0 on padding.
        feature_outputs: outputs spanning the K columns, in column order.
        eps: widening of each per-sample range; must be > 0.

    Returns:
        ``(normalized, additional_attributes, additional_outputs)``:

        * normalized: float32 [N, L, K];
        * additional_attributes: float32 [N, 2*C], per continuous column in
          column order the pair ``((max+min)/2, (max-min)/2)``; [N, 0] when
          there is no continuous column (original issue #37);
        * additional_outputs: the 2*C specs of :func:`additional_outputs`.

    Raises:
        ValueError: shapes do not match each other or ``feature_outputs``, or
            ``eps`` is not positive.
    """
    x = np.asarray(features, dtype=np.float64)
    flags = np.asarray(gen_flags)
    _check_features_and_flags(x, flags)
    _check_last_dim(x, feature_outputs, "features")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps={eps!r} must be a positive finite number")

    n = x.shape[0]
    columns = _continuous_columns(feature_outputs)
    normalized = x.copy()
    if not columns:
        return normalized.astype(np.float32), np.zeros((n, 0), np.float32), []

    active = _active(flags)  # [N, L]
    has_active = active.any(axis=1)  # [N]
    idx = [c for c, _ in columns]
    values = x[:, :, idx]  # [N, L, C]
    mask = active[:, :, None]
    max_ = np.where(mask, values, -np.inf).max(axis=1, initial=-np.inf)  # [N, C]
    min_ = np.where(mask, values, np.inf).min(axis=1, initial=np.inf)
    max_ = np.where(has_active[:, None], max_, 0.0) + eps
    min_ = np.where(has_active[:, None], min_, 0.0) - eps

    scaled = (values - min_[:, None, :]) / (max_ - min_)[:, None, :]
    minus_one = np.array([norm == Normalization.MINUSONE_ONE for _, norm in columns])
    scaled = np.where(minus_one, 2.0 * scaled - 1.0, scaled)
    normalized[:, :, idx] = np.where(mask, scaled, 0.0)

    mid = (max_ + min_) / 2.0
    half = (max_ - min_) / 2.0
    additional = np.stack([mid, half], axis=-1).reshape(n, 2 * len(columns))
    return (
        normalized.astype(np.float32),
        additional.astype(np.float32),
        additional_outputs(feature_outputs),
    )


def renormalize_per_sample(
    normalized: np.ndarray,
    additional_attributes: np.ndarray,
    gen_flags: np.ndarray,
    feature_outputs: Sequence[Output],
) -> np.ndarray:
    """Undo :func:`normalize_per_sample` using the (mid, half) additional attributes.

    Paper §4.2. For each continuous column c with pair ``(mid_c, half_c)``::

        max_c = mid_c + half_c,  min_c = mid_c - half_c
        x <- (x + 1) / 2                            # MINUSONE_ONE only
        x <- x * (max_c - min_c) + min_c

    Then every column (continuous and discrete, as the original multiplies
    the whole feature tensor by the flags) is set to exactly 0 on padding
    steps. Works on generated inputs too (any finite values; no clipping,
    see :func:`clip_to_ranges`). Computed in float64.

    Args:
        normalized: float [N, L, K], K = ``total_dim(feature_outputs)``.
        additional_attributes: float [N, 2*C], the (mid, half) pairs per
            continuous column in column order (only these columns: drop the
            real attributes first).
        gen_flags: [N, L], 1 on active steps and 0 on padding.
        feature_outputs: outputs spanning the K columns, in column order.

    Returns:
        float32 [N, L, K] features in the original scale.

    Raises:
        ValueError: shapes do not match each other or ``feature_outputs``.
    """
    result = np.array(normalized, dtype=np.float64, order="C")  # a new array: the input is never changed
    addi = np.asarray(additional_attributes, dtype=np.float64)
    flags = np.asarray(gen_flags)
    _check_features_and_flags(result, flags, ("normalized", "gen_flags"))
    _check_last_dim(result, feature_outputs, "normalized")
    columns = _continuous_columns(feature_outputs)
    expected = (result.shape[0], 2 * len(columns))
    if addi.shape != expected:
        raise ValueError(
            f"additional_attributes must have shape [N, 2*C] = {expected} "
            f"(C={len(columns)} continuous feature columns), got shape {addi.shape}"
        )

    if columns:
        # x -> x * scale + offset per (sample, column): with max = mid + half and min = mid - half,
        # ZERO_ONE x * (max - min) + min and MINUSONE_ONE (x + 1) / 2 * (max - min) + min = x * half + mid.
        # Discrete columns keep scale 1, offset 0.
        idx = [c for c, _ in columns]
        mid, half = addi[:, 0::2], addi[:, 1::2]  # [N, C]
        minus_one = np.array([norm == Normalization.MINUSONE_ONE for _, norm in columns])
        scale = np.ones((result.shape[0], result.shape[2]))
        offset = np.zeros_like(scale)
        scale[:, idx] = np.where(minus_one, half, 2.0 * half)
        offset[:, idx] = np.where(minus_one, mid, mid - half)
        # on [N, L * K] with the factors tiled over the steps: contiguous loops, fast with few columns
        steps = result.shape[1]
        flat = result.reshape(result.shape[0], -1)  # a view of result
        flat *= np.tile(scale, steps)
        flat += np.tile(offset, steps)
    return np.where(_active(flags)[:, :, None], result, 0.0).astype(np.float32)  # (faster than masked assignment)


# --------------------------------------------------------------------------- #
# Generation flags (paper appendix B)
# --------------------------------------------------------------------------- #


def add_gen_flag_channels(features: np.ndarray, gen_flags: np.ndarray, sample_len: int) -> np.ndarray:
    """Append the 2 generation-flag channels to the features (original ``add_gen_flag``).

    Paper appendix B: each step carries ``[1, 0]`` if the series continues
    after it and ``[0, 1]`` if it ends there. With
    ``shift[t] = gen_flags[t+1]`` (0 at t = L-1) and ``chunk_active[t] = 1``
    if any step of t's ``sample_len`` chunk is active::

        channel0 = shift
        channel1 = (1 - shift) * chunk_active

    So active non-final steps get [1, 0]; the last active step and the
    trailing steps of its chunk get [0, 1] (the generator emits whole chunks
    of S records, paper §4.1); later chunks get [0, 0]. Example, L=6, S=3,
    length 4: flags ``[1,1,1,1,0,0]`` give channel0 ``[1,1,1,0,0,0]`` and
    channel1 ``[0,0,0,1,1,1]``; length 2 gives channel0 ``[1,0,0,0,0,0]``
    and channel1 ``[0,1,1,0,0,0]``.

    Args:
        features: float [N, L, K].
        gen_flags: [N, L], 1 on active steps and 0 on padding.
        sample_len: S, records per RNN step; must divide L.

    Returns:
        [N, L, K+2], the features followed by the two channels (float32, or
        the features' dtype if wider).

    Raises:
        ValueError: shapes mismatch; :class:`~dg_tf.errors.DataFormatError`
            (a ValueError) when ``sample_len`` is not a positive integer dividing L.
    """
    x = np.asarray(features)
    flags = np.asarray(gen_flags)
    _check_features_and_flags(x, flags)
    n, length, _ = x.shape
    check_sample_len(length, sample_len, "<features>")
    dtype = _float_dtype(x)
    active = _active(flags).astype(dtype)  # [N, L]
    shift = np.zeros_like(active)
    shift[:, :-1] = active[:, 1:]
    chunk_active = active.reshape(n, length // sample_len, sample_len).max(axis=2)  # [N, T]
    chunk_active = np.repeat(chunk_active, sample_len, axis=1)  # [N, L]
    channels = np.stack([shift, (1.0 - shift) * chunk_active], axis=-1)
    return np.concatenate([x.astype(dtype), channels], axis=-1)


def lengths_from_flags(gen_flags: np.ndarray) -> np.ndarray:
    """Series lengths: the number of active steps per sample.

    Args:
        gen_flags: [N, L], 1 on active steps and 0 on padding.

    Returns:
        int32 [N].

    Raises:
        ValueError: ``gen_flags`` is not 2-D.
    """
    flags = np.asarray(gen_flags)
    if flags.ndim != 2:
        raise ValueError(f"gen_flags must have shape [N, L], got shape {flags.shape}")
    return _active(flags).sum(axis=1).astype(np.int32)


def flags_from_lengths(lengths: np.ndarray, max_length: int) -> np.ndarray:
    """Generation flags from lengths: ``flags[i, t] = 1`` iff ``t < lengths[i]``.

    Args:
        lengths: integer-valued [N], each in ``[0, max_length]``.
        max_length: L.

    Returns:
        float32 [N, L].

    Raises:
        ValueError: ``max_length`` is negative, ``lengths`` is not 1-D, or a
            length is not an integer in ``[0, max_length]`` (the message names
            its index and value).
    """
    if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 0:
        raise ValueError(f"max_length={max_length!r} must be a non-negative integer")
    values = np.asarray(lengths)
    if values.ndim != 1:
        raise ValueError(f"lengths must have shape [N], got shape {values.shape}")
    if values.size:
        numeric = values.astype(np.float64)
        bad = ~np.isfinite(numeric) | (numeric != np.round(numeric)) | (numeric < 0) | (numeric > max_length)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"lengths[{i}]={values[i]!r} must be an integer in [0, max_length={max_length}]"
            )
    steps = np.arange(max_length)
    return (steps[None, :] < values.astype(np.int64)[:, None]).astype(np.float32)


def mask_after_end(features: np.ndarray, gen_flags: np.ndarray) -> np.ndarray:
    """Multiply features by the per-step flags, so padding steps are exactly 0.

    Paper appendix B (everything after the end flag is padding).

    Args:
        features: float [N, L, K].
        gen_flags: [N, L], 1 on active steps and 0 on padding.

    Returns:
        [N, L, K] (float32, or the features' dtype if wider).

    Raises:
        ValueError: shapes mismatch.
    """
    x = np.asarray(features)
    flags = np.asarray(gen_flags)
    _check_features_and_flags(x, flags)
    dtype = _float_dtype(x)
    return x.astype(dtype) * flags.astype(dtype)[:, :, None]


# --------------------------------------------------------------------------- #
# Per-output helpers
# --------------------------------------------------------------------------- #


def split_outputs(x: np.ndarray, outputs: Sequence[Output]) -> list[np.ndarray]:
    """Split the last axis of ``x`` into one block per output.

    Args:
        x: [..., total_dim(outputs)].
        outputs: the outputs spanning the last axis, in order.

    Returns:
        One array [..., output.dim] per output (copies, not views).

    Raises:
        ValueError: the last axis does not span ``total_dim(outputs)``.
    """
    x = np.asarray(x)
    _check_last_dim(x, outputs, "x")
    return [x[..., cols].copy() for _, cols in _output_slices(outputs)]


def clip_to_ranges(features_or_attributes: np.ndarray, outputs: Sequence[Output]) -> np.ndarray:
    """Clip every continuous output's columns to its Normalization bounds.

    Used after decoding generated data, whose rescaled values may overshoot
    their range slightly (e.g. ``(max-min)/2`` can exceed 1 by ``eps``).
    Discrete columns are untouched.

    Args:
        features_or_attributes: [..., total_dim(outputs)].
        outputs: the outputs spanning the last axis, in order.

    Returns:
        Same shape (float32, or the input's dtype if wider).

    Raises:
        ValueError: the last axis does not span ``total_dim(outputs)``.
    """
    x = np.asarray(features_or_attributes)
    _check_last_dim(x, outputs, "features_or_attributes")
    result = x.astype(_float_dtype(x))  # astype copies
    for output, cols in _output_slices(outputs):
        if output.type_ == OutputType.CONTINUOUS:
            low, high = output.normalization.bounds
            result[..., cols] = np.clip(result[..., cols], low, high)
    return result


def discrete_to_one_hot(x: np.ndarray, outputs: Sequence[Output]) -> np.ndarray:
    """Replace each discrete output block by the one-hot of its argmax.

    Ties go to the first maximal category (``np.argmax``). Continuous blocks
    are unchanged. Used on generated softmax outputs (attributes and the
    generation flags, paper appendix B).

    Args:
        x: [..., total_dim(outputs)].
        outputs: the outputs spanning the last axis, in order.

    Returns:
        Same shape (float32, or the input's dtype if wider).

    Raises:
        ValueError: the last axis does not span ``total_dim(outputs)``.
    """
    x = np.asarray(x)
    _check_last_dim(x, outputs, "x")
    result = x.astype(_float_dtype(x))
    for output, cols in _output_slices(outputs):
        if output.type_ == OutputType.DISCRETE:
            block = result[..., cols]
            hot = np.argmax(block, axis=-1)[..., None] == np.arange(output.dim)
            result[..., cols] = hot.astype(result.dtype)
    return result
