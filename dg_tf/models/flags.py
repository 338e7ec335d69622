"""Generation flags (paper appendix B): from the generator's per-record outputs to series ends and masks.

Every record the LSTM emits ends with a 2-way generation flag; the first
"stop" ends the series (:func:`generation_flags`). The generator applies the
lengths the flags imply, and its :class:`~dg_tf.encoding.LengthRule`, pass
chunk by pass chunk (:func:`masked_steps` for generation, :func:`step_mask` for
training, whose gradient needs a product with the mask rather than a select).

Symbols: B batch, P passes of a chunk, S sample_len, D feature width with the
flag channels last (none with a fixed length).
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["generation_flags", "masked_steps", "step_mask", "steps_of", "static_size"]


def generation_flags(flag_probs: tf.Tensor) -> tf.Tensor:
    """Recorded generation flags from the per-step flag softmax.

    The original loop records the current flag (starting at 1) and then keeps
    it only if the step's argmax is 0 ("continue"); so the step that says
    "stop" is still active. Vectorised: an exclusive cumulative product.

    Args:
        flag_probs: float32 [B, L, 2] generation-flag probabilities.

    Returns:
        float32 [B, L], 1 up to and including the stop step, 0 afterwards.
    """
    keep_going = tf.cast(flag_probs[..., 0] >= flag_probs[..., 1], tf.float32)  # argmax == 0
    return tf.math.cumprod(keep_going, axis=1, exclusive=True)


def static_size(x: tf.Tensor, axis: int = 0) -> int | tf.Tensor:
    """The size of ``x`` along ``axis``: a Python int when static (XLA then needs no value), else a tensor."""
    return x.shape[axis] if x.shape[axis] is not None else tf.shape(x)[axis]


def steps_of(records: tf.Tensor, sample_len: int) -> tf.Tensor:
    """Time-major pass records [P, B, S * D] -> per-step features [B, P*S, D]."""
    passes, batch_size = records.shape[0], static_size(records, axis=1)
    return tf.reshape(tf.transpose(records, [1, 0, 2]), [batch_size, passes * sample_len, -1])


def _flag_mask(features: tf.Tensor, alive: tf.Tensor, sample_len: int, first_step: int | tf.Tensor,
               fixed: int | None, minimum: int):
    """Generation flags of P passes of steps and the mask they imply (:func:`generation_flags`, per chunk).

    Args:
        features: float32 [B, P*S, D] the passes' steps (flag channels last,
            unless ``fixed``).
        alive: bool [B], the series has not ended before these passes.
        sample_len: S.
        first_step: index of the passes' first step in the whole series (an int32 scalar tensor lets one
            trace, and one XLA compilation, serve every chunk of a shape).
        fixed, minimum: the model's :class:`~dg_tf.encoding.LengthRule` (plain
            values: tf.function caches its traces by them).

    Returns:
        mask bool [B, P*S, D] (feature channels: up to the series' end; flag
        channels: up to the end of its last pass), gen_flags float32 [B, P*S]
        and alive after the passes, bool [B].
    """
    batch_size, steps, width = static_size(features), features.shape[1], features.shape[2]
    if fixed is not None:  # every series has the fixed length: no flag channels
        active = tf.fill([batch_size], tf.clip_by_value(fixed - first_step, 0, steps))
        ends = tf.tile(active[:, None], [1, width])
        mask = tf.range(steps)[None, :, None] < ends[:, None, :]
        gen_flags = tf.cast(tf.range(steps)[None, :] < active[:, None], tf.float32)
        return mask, gen_flags, tf.fill([batch_size], first_step + steps < fixed)
    stops = features[..., -1] > features[..., -2]  # the flag's argmax is 1: "stop"
    allowed = first_step + tf.range(steps) >= minimum - 1  # no series ends before the shortest real one
    stops = tf.cast(tf.logical_and(stops, allowed[None, :]), tf.int32)
    first_stop = tf.argmax(tf.concat([stops, tf.ones([batch_size, 1], tf.int32)], axis=1), axis=1,
                           output_type=tf.int32)  # = steps when it never stops
    active = tf.where(alive, tf.minimum(first_stop + 1, steps), 0)  # recorded flags of each series
    last_pass_end = (active + sample_len - 1) // sample_len * sample_len
    ends = tf.concat([tf.tile(active[:, None], [1, width - 2]), tf.tile(last_pass_end[:, None], [1, 2])], axis=1)
    mask = tf.range(steps)[None, :, None] < ends[:, None, :]
    gen_flags = tf.cast(tf.range(steps)[None, :] < active[:, None], tf.float32)
    return mask, gen_flags, tf.logical_and(alive, first_stop == steps)


def masked_steps(records: tf.Tensor, alive: tf.Tensor, sample_len: int, first_step: int | tf.Tensor,
                 fixed: int | None, minimum: int):
    """Generation: (masked features [B, P*S, D], exact +0.0 where masked; gen_flags; alive) of ``records``."""
    features = steps_of(records, sample_len)
    mask, gen_flags, alive = _flag_mask(features, alive, sample_len, first_step, fixed, minimum)
    return tf.where(mask, features, tf.zeros_like(features)), gen_flags, alive


def step_mask(records: tf.Tensor, alive: tf.Tensor, sample_len: int, first_step: int | tf.Tensor,
              fixed: int | None, minimum: int):
    """Training: (float32 mask, gen_flags, alive) of ``records``; the caller multiplies (its gradient).

    Integer and select work only: XLA fuses it into one pass where TensorFlow's
    own ops take several times longer (see ``Kernels.xla_helpers``).
    """
    mask, gen_flags, alive = _flag_mask(steps_of(records, sample_len), alive, sample_len, first_step, fixed, minimum)
    return tf.cast(mask, tf.float32), gen_flags, alive


#: The same function compiled by XLA (chosen by ``Kernels.xla_helpers``).
#: No autograph: it has no tensor-dependent Python control flow, and converting it took about 0.7 s of a
#: fresh process's first trace.
xla_step_mask = tf.function(step_mask, jit_compile=True, autograph=False)
