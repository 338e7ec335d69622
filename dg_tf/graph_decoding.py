"""Generated data back to the input's scale in TensorFlow ops: :meth:`Encoding.decode`'s twin.

:meth:`Encoding.decode <dg_tf.encoding.Encoding.decode>` (NumPy) owns the
rules: the exact inverse of ``Encoding.encode``. :func:`decode_graph` repeats
them step for step in TensorFlow ops, so that generation decodes inside its
compiled batch (:func:`dg_tf.model.sample_batch`, which the exported model
runs too): no NumPy passes over every batch and no copies of the raw output
(on a 550-step series 20 to 30% of a generation batch's time, measured).
A change to the rules must be made in both; ``tests/test_export.py`` checks
that the two agree bitwise (the arithmetic is float64 in both).
"""

from __future__ import annotations

import tensorflow as tf

from dg_tf.data.specs import Normalization, Output, OutputType, total_dim
from dg_tf.encoding import Encoding

__all__ = ["column_layout", "decode_graph"]


def column_layout(outputs: list[Output]) -> list[tuple[Output, int, int]]:
    """``(output, first column, end column)`` for each output, in column order."""
    layout, start = [], 0
    for output in outputs:
        layout.append((output, start, start + output.dim))
        start += output.dim
    return layout


def _one_hot_graph(x: tf.Tensor, outputs: list[Output]) -> tf.Tensor:
    """:func:`~dg_tf.transforms.discrete_to_one_hot` in TensorFlow: x [..., total_dim(outputs)]."""
    blocks = []
    for output, start, stop in column_layout(outputs):
        block = x[..., start:stop]
        if output.type_ == OutputType.DISCRETE:
            block = tf.one_hot(tf.argmax(block, axis=-1), output.dim, dtype=x.dtype)
        blocks.append(block)
    return tf.concat(blocks, axis=-1) if blocks else x


def _clip_graph(x: tf.Tensor, outputs: list[Output]) -> tf.Tensor:
    """:func:`~dg_tf.transforms.clip_to_ranges` in TensorFlow: x [..., total_dim(outputs)]."""
    blocks = []
    for output, start, stop in column_layout(outputs):
        block = x[..., start:stop]
        if output.type_ == OutputType.CONTINUOUS:
            low, high = output.normalization.bounds
            block = tf.clip_by_value(block, tf.constant(low, x.dtype), tf.constant(high, x.dtype))
        blocks.append(block)
    return tf.concat(blocks, axis=-1) if blocks else x


def _renormalize_graph(normalized: tf.Tensor, additional: tf.Tensor, gen_flags: tf.Tensor,
                       outputs: list[Output]) -> tf.Tensor:
    """:func:`~dg_tf.transforms.renormalize_per_sample` in TensorFlow, in float64 as there.

    Args:
        normalized: float32 [N, L, K]; additional: float32 [N, 2*C] (mid, half)
        per continuous column; gen_flags: float32 [N, L].

    Returns:
        float32 [N, L, K]: per continuous column ``x * scale + offset`` (ZERO_ONE:
        scale 2*half, offset mid-half; MINUSONE_ONE: half, mid), every column
        0 on inactive steps.
    """
    x = tf.cast(normalized, tf.float64)
    addi = tf.cast(additional, tf.float64)
    batch = tf.shape(x)[0:1]
    scales, offsets, continuous = [], [], 0
    for output, start, stop in column_layout(outputs):
        for _ in range(start, stop):
            if output.type_ != OutputType.CONTINUOUS:
                scales.append(tf.ones(batch, tf.float64))
                offsets.append(tf.zeros(batch, tf.float64))
                continue
            mid, half = addi[:, 2 * continuous], addi[:, 2 * continuous + 1]
            minus_one = output.normalization == Normalization.MINUSONE_ONE
            scales.append(half if minus_one else 2.0 * half)
            offsets.append(mid if minus_one else mid - half)
            continuous += 1
    if continuous:
        x = x * tf.stack(scales, axis=1)[:, None, :]
        x = x + tf.stack(offsets, axis=1)[:, None, :]
    return tf.cast(tf.where((gen_flags > 0.5)[:, :, None], x, tf.zeros_like(x)), tf.float32)


def decode_graph(encoding: Encoding, features: tf.Tensor, attributes: tf.Tensor, gen_flags: tf.Tensor, *,
                 attribute_probabilities: bool = False) -> dict[str, tf.Tensor]:
    """:meth:`Encoding.decode` as TensorFlow ops, step for step.

    Args:
        encoding: the model's encoding.
        features: float32 [N, L, K + 2] generator output (flag channels last;
            [N, L, K] for a fixed length).
        attributes: float32 [N, A_real + A_addi] generator output.
        gen_flags: float32 [N, L] generated flags.
        attribute_probabilities: keep discrete attributes as the generator's
            probabilities instead of one-hot.

    Returns:
        ``data_feature`` float32 [N, L, K] (in the input's scale, zero after
        each series' end), ``data_attribute`` float32 [N, A_real] and
        ``data_gen_flag`` float32 [N, L]: the arrays of ``decode``.
    """
    feature_outputs, attribute_outputs = list(encoding.feature_outputs), list(encoding.attribute_outputs)
    real_width = encoding.num_real_attributes
    values = _one_hot_graph(features[..., :total_dim(feature_outputs)], feature_outputs)
    if encoding.self_norm:
        values = _renormalize_graph(values, attributes[:, real_width:], gen_flags, feature_outputs)
    values = _clip_graph(values, feature_outputs) * gen_flags[:, :, None]
    real = attributes[:, :real_width]
    if not attribute_probabilities:
        real = _one_hot_graph(real, attribute_outputs)
    real = _clip_graph(real, attribute_outputs)
    return {"data_feature": values, "data_attribute": real, "data_gen_flag": gen_flags}
