"""Checks that data follows the DoppelGANger format (:mod:`dg_tf.data.loading`).

The original code trusts its input; a malformed dataset then fails deep inside
training or silently trains on garbage. Here every rule is checked up front,
and the first broken rule raises :class:`~dg_tf.errors.DataFormatError`
naming the file, the array (``data_feature``, ``data_attribute``,
``data_gen_flag``), the index of the first offending element and the rule.
Nothing is ever repaired.

Rules of :func:`validate_dataset`, in the order they are checked:

1. the data is not empty (N > 0 samples, L > 0 steps);
2. ranks and shapes: features ``[N, L, K]``, attributes ``[N, A]``, gen flags
   ``[N, L]``, with K and A the total widths of the output specs;
3. the specs are valid and contain no generation-flag output (dg_tf appends
   that one itself, paper appendix B);
4. no NaN or Inf anywhere;
5. gen flags are 0/1, start with 1 and have the form 1...1 0...0;
6. features are exactly 0 after a series ends;
7. continuous columns lie in their normalization range;
8. discrete outputs are one-hot (on active steps, and in the attributes).

All checks are vectorised NumPy (one pass per rule, a Python loop only over
output specs), so a 50000 x 550 x 3 dataset is checked in about a second.
"""

from __future__ import annotations

import logging
import numbers
from typing import Sequence

import numpy as np

from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Output, OutputType
from dg_tf.errors import DataFormatError

__all__ = ["validate_attributes", "validate_outputs", "validate_dataset", "check_sample_len"]

logger = logging.getLogger(__name__)

FEATURE = "data_feature"
ATTRIBUTE = "data_attribute"
GEN_FLAG = "data_gen_flag"


def validate_outputs(
    outputs: Sequence[Output],
    file: str,
    array: str = "outputs",
    *,
    allow_gen_flag: bool = False,
) -> None:
    """Check a list of output specs.

    Args:
        outputs: the specs, e.g. the content of ``data_feature_output.pkl``.
        file: file the specs came from, used in the error.
        array: name used for the specs in the error (e.g. ``"feature_outputs"``).
        allow_gen_flag: accept an ``is_gen_flag`` output. Data files must not
            hold one (dg_tf appends the flag itself), so this is ``False``
            except for raw spec files.

    Raises:
        DataFormatError: ``outputs`` is not a list of valid :class:`Output`;
            the index is the position of the first bad spec.
    """
    if not isinstance(outputs, (list, tuple)):
        raise DataFormatError(file, array, None, f"must be a list of Output, got {type(outputs).__name__}")
    for i, out in enumerate(outputs):
        if not isinstance(out, Output):
            raise DataFormatError(file, array, i, f"must be an Output, got {type(out).__name__} {out!r:.80}")
        problem = Output.problem(out)
        if problem is not None:
            raise DataFormatError(file, array, i, f"invalid output spec: {problem}")
        if out.is_gen_flag and not allow_gen_flag:
            raise DataFormatError(
                file,
                array,
                i,
                "is_gen_flag output is not allowed in data files: dg_tf appends the generation flag itself",
            )


def check_sample_len(max_length: int, sample_len: int, source: str = "<memory>") -> None:
    """Check that ``sample_len`` (S, steps per RNN rollout) divides ``max_length`` (L).

    The original's ``add_gen_flag`` requires ``L % S == 0`` so that the
    generator's ``[B, L/S, S*D]`` output reshapes to ``[B, L, D]``. This is the
    one check of ``sample_len``; :meth:`dg_tf.config.ModelConfig.resolved_sample_len`
    and :func:`dg_tf.config.padding_sample_len` decide it.

    Args:
        max_length: L, the padded series length.
        sample_len: S, the number of steps one rollout emits.
        source: file or config the values came from, used in the error.

    Raises:
        DataFormatError: ``sample_len`` is not a positive integer dividing
            ``max_length`` (array ``"sample_len"``, index ``None``).
    """
    if isinstance(sample_len, bool) or not isinstance(sample_len, numbers.Integral) or sample_len < 1:
        raise DataFormatError(source, "sample_len", None, f"sample_len={sample_len!r} must be a positive integer")
    if int(max_length) % int(sample_len) != 0:
        raise DataFormatError(
            source, "sample_len", None, f"sample_len={int(sample_len)} must divide max_length={int(max_length)}"
        )


def validate_dataset(dataset: Dataset, source: str = "<memory>") -> None:
    """Check a dataset against every DoppelGANger format rule (see module docstring).

    Args:
        dataset: the data; ``features: [N, L, K]``, ``attributes: [N, A]``,
            ``gen_flags: [N, L]`` of any numeric dtype (float32 after loading).
        source: file the arrays came from (e.g. ``".../data_train.npz"``),
            used in the error.

    Raises:
        DataFormatError: for the first broken rule, with the index of the
            first offending element: ``(sample, step, column)`` in
            ``data_feature``, ``(sample, column)`` in ``data_attribute``,
            ``(sample, step)`` in ``data_gen_flag``, or ``None`` for rules
            about whole arrays.
    """
    features = np.asarray(dataset.features)
    attributes = np.asarray(dataset.attributes)
    gen_flags = np.asarray(dataset.gen_flags)
    feature_outputs = dataset.feature_outputs
    attribute_outputs = dataset.attribute_outputs

    _check_empty(features, source)
    _check_shapes(features, attributes, gen_flags, feature_outputs, attribute_outputs, source)
    validate_outputs(feature_outputs, source, "feature_outputs")
    validate_outputs(attribute_outputs, source, "attribute_outputs")
    for name, arr in ((FEATURE, features), (ATTRIBUTE, attributes), (GEN_FLAG, gen_flags)):
        _check_finite(arr, name, source)
    _check_gen_flags(gen_flags, source)
    active = gen_flags == 1  # [N, L]; after the check above flags are exactly 0/1
    _check_padding_zero(features, active, source)
    _check_ranges(features, feature_outputs, "feature", FEATURE, source)
    _check_ranges(attributes, attribute_outputs, "attribute", ATTRIBUTE, source)
    _check_one_hot(features, feature_outputs, active, "feature", FEATURE, source)
    _check_one_hot(attributes, attribute_outputs, None, "attribute", ATTRIBUTE, source)
    logger.debug("%s: %d samples of length %d pass validation", source, features.shape[0], features.shape[1])


def validate_attributes(attributes: np.ndarray, attribute_outputs: Sequence[Output], source: str = "<memory>") -> None:
    """Check given attributes [N, A] alone (conditional generation input).

    Rules: 2-D with A = total width of ``attribute_outputs``, finite,
    continuous columns within range, discrete blocks one-hot.

    Raises:
        DataFormatError: for the first broken rule (array ``data_attribute``).
    """
    attributes = np.asarray(attributes)
    expected = sum(o.dim for o in attribute_outputs)
    if attributes.ndim != 2 or attributes.shape[1] != expected:
        raise DataFormatError(
            source, ATTRIBUTE, None, f"expected shape [N, {expected}], got {list(attributes.shape)}"
        )
    _check_finite(attributes, ATTRIBUTE, source)
    _check_ranges(attributes, attribute_outputs, "attribute", ATTRIBUTE, source)
    _check_one_hot(attributes, attribute_outputs, None, "attribute", ATTRIBUTE, source)


# ----------------------------------------------------------------------------- rules


def _check_empty(features: np.ndarray, source: str) -> None:
    if features.ndim >= 1 and features.shape[0] == 0:
        raise DataFormatError(source, FEATURE, None, f"data is empty: no samples (shape {features.shape})")
    if features.ndim >= 2 and features.shape[1] == 0:
        raise DataFormatError(source, FEATURE, None, f"data is empty: series have length 0 (shape {features.shape})")


def _check_shapes(
    features: np.ndarray,
    attributes: np.ndarray,
    gen_flags: np.ndarray,
    feature_outputs: Sequence[Output],
    attribute_outputs: Sequence[Output],
    source: str,
) -> None:
    for name, arr, rank, layout in (
        (FEATURE, features, 3, "[N, L, K]"),
        (ATTRIBUTE, attributes, 2, "[N, A]"),
        (GEN_FLAG, gen_flags, 2, "[N, L]"),
    ):
        if arr.dtype.kind not in "biuf":
            raise DataFormatError(source, name, None, f"must hold numbers, got dtype {arr.dtype}")
        if arr.ndim != rank:
            raise DataFormatError(source, name, None, f"must be {rank}-D {layout}, got shape {arr.shape}")
    n, length, k = features.shape
    if attributes.shape[0] != n:
        raise DataFormatError(
            source,
            ATTRIBUTE,
            None,
            f"has {attributes.shape[0]} samples (shape {attributes.shape}) "
            f"but {FEATURE} has {n} (shape {features.shape})",
        )
    if gen_flags.shape != (n, length):
        raise DataFormatError(
            source,
            GEN_FLAG,
            None,
            f"must have shape {(n, length)} = [N, L] of {FEATURE} {features.shape}, got {gen_flags.shape}",
        )
    for name, arr, outputs, kind in (
        (FEATURE, features, feature_outputs, "feature"),
        (ATTRIBUTE, attributes, attribute_outputs, "attribute"),
    ):
        expected = _safe_total_dim(outputs)
        if expected is not None and arr.shape[-1] != expected:
            want = (n, length, expected) if arr.ndim == 3 else (n, expected)
            raise DataFormatError(
                source,
                name,
                None,
                f"has {arr.shape[-1]} columns (shape {arr.shape}) but the {kind} outputs span "
                f"{expected} columns (expected shape {want})",
            )


def _safe_total_dim(outputs: Sequence[Output]) -> int | None:
    """Total width, or ``None`` when the specs are too broken to tell (checked next)."""
    try:
        dims = [o.dim for o in outputs]
    except (AttributeError, TypeError):
        return None
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in dims):
        return None
    return sum(dims)


def _check_finite(arr: np.ndarray, name: str, source: str) -> None:
    if arr.dtype.kind != "f":
        return  # integers and bools are always finite
    bad = ~np.isfinite(arr)
    if bad.any():
        index = _first(bad)
        raise DataFormatError(source, name, index, f"value {arr[index]} is not finite (NaN or Inf)")


def _check_gen_flags(gen_flags: np.ndarray, source: str) -> None:
    bad = (gen_flags != 0) & (gen_flags != 1)
    if bad.any():
        index = _first(bad)
        raise DataFormatError(source, GEN_FLAG, index, f"generation flag value {gen_flags[index]} is not 0 or 1")
    starts = gen_flags[:, 0] != 1
    if starts.any():
        sample = int(np.argmax(starts))
        raise DataFormatError(
            source, GEN_FLAG, (sample, 0), "series must start active (flag 1 at step 0) and have length >= 1"
        )
    rises = gen_flags[:, 1:] > gen_flags[:, :-1]  # a 1 after a 0
    if rises.any():
        sample, step = _first(rises)
        raise DataFormatError(
            source,
            GEN_FLAG,
            (sample, step + 1),
            f"flag goes back from 0 to 1 at step {step + 1}: flags must be 1...1 followed by 0...0",
        )


def _check_padding_zero(features: np.ndarray, active: np.ndarray, source: str) -> None:
    ended = ~active  # [N, L]
    if not ended.any():
        return  # every series has full length (e.g. FCC MBA): nothing to check
    nonzero = np.zeros(ended.shape, dtype=bool)
    for col in range(features.shape[2]):  # column loop: fast strided 2-D passes
        nonzero |= features[:, :, col] != 0
    bad = nonzero & ended
    if bad.any():
        sample, step = _first(bad)
        col = int(np.flatnonzero(features[sample, step] != 0)[0])
        index = (sample, step, col)
        raise DataFormatError(
            source,
            FEATURE,
            index,
            f"value {features[index]} after the series ended ({GEN_FLAG} is 0 at step {step}) must be exactly 0",
        )


def _check_ranges(arr: np.ndarray, outputs: Sequence[Output], kind: str, name: str, source: str) -> None:
    """Continuous columns within their Normalization bounds.

    For features only active steps matter, but padded steps are exactly 0
    (checked before), which lies inside both ranges, so no mask is needed.
    """
    best: tuple[tuple[int, ...], int] | None = None  # (index, output number)
    offset = 0
    for j, out in enumerate(outputs):
        if out.type_ == OutputType.CONTINUOUS:
            low, high = out.normalization.bounds
            block = arr[..., offset : offset + out.dim]
            bad = (block < low) | (block > high)
            if bad.any():
                index = _first(bad)
                index = index[:-1] + (index[-1] + offset,)
                if best is None or index < best[0]:
                    best = (index, j)
        offset += out.dim
    if best is not None:
        index, j = best
        norm = outputs[j].normalization
        low, high = norm.bounds
        raise DataFormatError(
            source,
            name,
            index,
            f"continuous value {arr[index]} of {kind} output {j} is outside {norm.name} range "
            f"[{low:g}, {high:g}]",
        )


def _check_one_hot(
    arr: np.ndarray,
    outputs: Sequence[Output],
    active: np.ndarray | None,
    kind: str,
    name: str,
    source: str,
) -> None:
    """Discrete blocks are one-hot rows (on active steps when ``active`` is given)."""
    best: tuple[tuple[int, ...], int] | None = None  # (row index, output number)
    offset = 0
    for j, out in enumerate(outputs):
        if out.type_ == OutputType.DISCRETE:
            # Column loop (fast strided passes) instead of reductions over a short last axis.
            bad = np.zeros(arr.shape[:-1], dtype=bool)  # a value other than 0/1, or a second 1
            seen_one = np.zeros(arr.shape[:-1], dtype=bool)
            for col in range(offset, offset + out.dim):
                column = arr[..., col]
                is_one = column == 1
                bad |= (~is_one & (column != 0)) | (seen_one & is_one)
                seen_one |= is_one
            bad |= ~seen_one
            if active is not None:
                bad &= active
            if bad.any():
                index = _first(bad)
                if best is None or index < best[0]:
                    best = (index, j)
        offset += out.dim
    if best is not None:
        index, j = best
        start = sum(o.dim for o in outputs[:j])
        row = arr[index][start : start + outputs[j].dim]
        values = [v.item() for v in row]
        shown = ", ".join(f"{v:g}" for v in values[:12]) + (", ..." if len(values) > 12 else "")
        non_binary = [v for v in values if v not in (0, 1)]
        if non_binary:
            why = f"holds value {non_binary[0]:g}"
        else:
            why = f"has {int(sum(values))} ones"
        raise DataFormatError(
            source,
            name,
            index,
            f"discrete {kind} output {j} (columns {start}..{start + outputs[j].dim - 1}) is not one-hot: "
            f"the row {why}, expected 0/1 values with exactly one 1 (row: [{shown}])",
        )


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """Index (C order) of the first True element of a non-empty-True boolean mask."""
    flat = int(np.argmax(mask.reshape(-1)))
    return tuple(int(i) for i in np.unravel_index(flat, mask.shape))
