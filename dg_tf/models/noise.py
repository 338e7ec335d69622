"""Generation noise: the numbers of a Philox ``tf.random.Generator``, drawn by stateless ops.

A ``tf.random.Generator`` serialises its draws (each reads and advances one
state variable) and, with one thread per op (:mod:`dg_tf.runtime`), each draw
runs on one core. :class:`CounterNoise` draws the same numbers at the counters
the generator would use, so the draws of one batch depend on nothing but
arithmetic on the counter: they run concurrently with each other and with the
networks, and a large draw runs as several ops over parts of its values
(:data:`DRAW_PART_VALUES`).

The normals come from Philox uniforms (``StatelessRandomUniformV2``, the same
bits) through TensorFlow's own Box-Muller transform written as vectorised ops
(:func:`box_muller`): the generator's kernel evaluates log, sin and cos one
value at a time, which made the noise about a sixth of a generation batch's
work. The numbers equal the generator's up to the last bit of those functions
(within 1e-6 relative; about three in four are bitwise equal; tested).
"""

from __future__ import annotations

import math

import tensorflow as tf

__all__ = ["CounterNoise", "DRAW_PART_VALUES", "PHILOX_SKIP_PER_VALUE", "box_muller"]

#: Counter steps a Philox ``tf.random.Generator`` skips per value drawn (TensorFlow's stateful random ops).
PHILOX_SKIP_PER_VALUE = 256
#: Values one Philox counter step yields inside a draw (a draw of n values uses n / 4 consecutive counters).
_VALUES_PER_COUNTER = 4
#: A draw of more values than this runs as several ops of at most this many (a multiple of 4).
DRAW_PART_VALUES = 65536
#: TensorFlow's Box-Muller floor on the first uniform of a pair (no log of 0).
_BOX_MULLER_EPSILON = 1.0e-7


def box_muller(uniform: tf.Tensor) -> tf.Tensor:
    """N(0, 1) float32 [2 * P] from uniforms [P, 2] in [0, 1), as TensorFlow's ``BoxMullerFloat`` pairs them.

    Pair (u1, u2) gives ``r sin(v), r cos(v)`` with ``r = sqrt(-2 log max(u1,
    1e-7))`` and ``v = 2 pi u2`` (the product in float64, as the C++ code's
    ``2.0f * M_PI * u2`` is), in that order: the values of
    ``StatelessRandomNormalV2`` at the uniforms' counter, up to the last bit
    of log, sin and cos.
    """
    radius = tf.sqrt(-2.0 * tf.math.log(tf.maximum(uniform[:, 0], _BOX_MULLER_EPSILON)))
    angle = tf.cast(tf.cast(uniform[:, 1], tf.float64) * (2.0 * math.pi), tf.float32)
    return tf.reshape(tf.stack([tf.sin(angle) * radius, tf.cos(angle) * radius], axis=1), [-1])


def _advanced(counter: tf.Tensor, steps: int | tf.Tensor) -> tf.Tensor:
    """The 128-bit counter uint64 [2] (low word first) advanced by ``steps`` (non-negative), carrying."""
    low, high = counter[0], counter[1]
    new_low = low + tf.cast(steps, tf.uint64)
    carry = tf.cast(new_low < low, tf.uint64)
    return tf.stack([new_low, high + carry])


class CounterNoise:
    """Stateless stand-in for a Philox ``tf.random.Generator`` (what
    :meth:`Generator.sample_noise <dg_tf.models.generator.Generator.sample_noise>` draws from).

    ``tf.random.Generator.reset_from_seed(seed)`` sets the state to the
    128-bit counter ``(seed, -1 if seed < 0 else 0)`` and the key ``-1 if
    seed < 0 else 0`` (the seed's 64-bit chunks, sign-extended); each
    ``normal(shape)`` draws at the current counter and skips it
    :data:`PHILOX_SKIP_PER_VALUE` per value. This object does the same with
    ``StatelessRandomNormalV2`` and a counter held in tensors, so the numbers
    are the generator's and no variable is shared between draws.

    Args:
        key: uint64 [1] the Philox key.
        counter: uint64 [2] the 128-bit counter, low word first.
    """

    def __init__(self, key: tf.Tensor, counter: tf.Tensor):
        self.key = key
        self.counter = counter

    @classmethod
    def from_seed(cls, seed: tf.Tensor) -> "CounterNoise":
        """The state of ``tf.random.Generator.reset_from_seed(seed)`` for an int64 [] ``seed``."""
        seed = tf.cast(seed, tf.int64)
        high = tf.where(seed < 0, tf.constant(-1, tf.int64), tf.constant(0, tf.int64))
        return cls(tf.bitcast(high, tf.uint64)[None], tf.bitcast(tf.stack([seed, high]), tf.uint64))

    def normal(self, shape, mean: float = 0.0, stddev: float = 1.0, dtype: tf.DType = tf.float32) -> tf.Tensor:
        """N(mean, stddev) values of a static ``shape``, as ``tf.random.Generator.normal`` draws them.

        Over :data:`DRAW_PART_VALUES` values the draw runs as independent
        ops, each over consecutive values from its own counter (4 values per
        counter step), concatenated: the same numbers.
        """
        count = math.prod(int(d) for d in shape)
        starts = list(range(0, count, DRAW_PART_VALUES)) or [0]
        parts = [
            box_muller(tf.raw_ops.StatelessRandomUniformV2(
                shape=[(min(DRAW_PART_VALUES, count - start) + 1) // 2, 2], key=self.key,  # whole pairs
                counter=_advanced(self.counter, start // _VALUES_PER_COUNTER) if start else self.counter,
                alg=tf.random.Algorithm.PHILOX.value, dtype=tf.float32))
            for start in starts
        ]
        values = parts[0] if len(parts) == 1 else tf.concat(parts, axis=0)
        values = tf.cast(tf.reshape(values[:count] if count % 2 else values, shape), dtype)
        self.counter = _advanced(self.counter, PHILOX_SKIP_PER_VALUE * count)
        return values * stddev + mean
