"""Building blocks shared by the generator and the critics.

- :class:`OutputHeads`: one Dense head per :class:`~dg_tf.data.specs.Output`,
  fused into a single matmul whose kernel is initialised block by block exactly
  like separate ``tf.layers.dense`` heads (glorot-uniform per head, zero bias),
  followed by each output's activation (softmax / sigmoid / tanh).
- :class:`TF1LSTMCell`: the TF1 ``LSTMCell`` the original used (one glorot
  kernel over ``[input, h]``, gate order i, j, f, o, constant +1 forget bias).
- :class:`MLP`: the MLPs of the critics and attribute generators.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
import tensorflow as tf

from dg_tf.data.specs import Normalization, Output, OutputType
from dg_tf.seeding import derive_seed

__all__ = [
    "BlockGlorotUniform",
    "OutputHeads",
    "TF1LSTMCell",
    "apply_activations",
    "discretize",
    "MLP",
]


class BlockGlorotUniform(keras.initializers.Initializer):
    """Glorot-uniform per column block: block i has limit sqrt(6 / (fan_in + width_i)).

    Equivalent to initialising one Dense layer per block and concatenating
    their kernels, so a fused head keeps the original's initial scale.
    """

    def __init__(self, block_widths: Sequence[int], seed: int):
        self.block_widths = [int(w) for w in block_widths]
        self.seed = int(seed)

    def __call__(self, shape, dtype=None):
        fan_in, total = shape
        if total != sum(self.block_widths):
            raise ValueError(f"kernel width {total} != sum of block widths {sum(self.block_widths)}")
        blocks = []
        for i, width in enumerate(self.block_widths):
            limit = math.sqrt(6.0 / (fan_in + width))
            blocks.append(
                keras.random.uniform(
                    (fan_in, width), -limit, limit, dtype=dtype, seed=derive_seed(self.seed, i)
                )
            )
        return keras.ops.concatenate(blocks, axis=1)

    def get_config(self):
        return {"block_widths": self.block_widths, "seed": self.seed}


def apply_activations(logits: tf.Tensor, outputs: Sequence[Output]) -> tf.Tensor:
    """Per-output activation over the last axis of ``logits`` [..., sum(dims)].

    Discrete -> softmax over its block, ZERO_ONE -> sigmoid, MINUSONE_ONE -> tanh.
    """
    blocks = tf.split(logits, [o.dim for o in outputs], axis=-1)
    activated = []
    for block, output in zip(blocks, outputs):
        if output.type_ == OutputType.DISCRETE:
            activated.append(tf.nn.softmax(block, axis=-1))
        elif output.normalization == Normalization.ZERO_ONE:
            activated.append(tf.sigmoid(block))
        else:
            activated.append(tf.tanh(block))
    return tf.concat(activated, axis=-1)


def discretize(values: tf.Tensor, outputs: Sequence[Output]) -> tf.Tensor:
    """One-hot(argmax) for each discrete block of ``values`` [..., sum(dims)]; continuous unchanged."""
    blocks = tf.split(values, [o.dim for o in outputs], axis=-1)
    return tf.concat(
        [
            tf.one_hot(tf.argmax(b, axis=-1), o.dim, dtype=b.dtype) if o.is_discrete else b
            for b, o in zip(blocks, outputs)
        ],
        axis=-1,
    )


class OutputHeads(keras.layers.Layer):
    """One Dense head per output (fused), then per-output activations.

    Call: ``x`` float32 [..., in_dim] -> float32 [..., sum(output dims)].
    """

    def __init__(self, outputs: Sequence[Output], seed: int, **kwargs):
        super().__init__(**kwargs)
        self.outputs = list(outputs)
        self.seed = seed

    def build(self, input_shape):
        widths = [o.dim for o in self.outputs]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]), sum(widths)),
            initializer=BlockGlorotUniform(widths, self.seed),
        )
        self.bias = self.add_weight(name="bias", shape=(sum(widths),), initializer="zeros")

    def call(self, x):
        logits = tf.tensordot(x, self.kernel, axes=1) + self.bias
        return apply_activations(logits, self.outputs)


class TF1LSTMCell(keras.layers.Layer):
    """The TF1 ``tf.nn.rnn_cell.LSTMCell`` (no peepholes), as a Keras RNN cell.

    One kernel [in_dim + units, 4 * units] (glorot-uniform over the whole
    matrix), zero bias, gates in TF1 order (i, j, f, o), forget bias +1 added
    at run time rather than learned. States: ``[h, c]``, each [B, units].
    """

    def __init__(self, units: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.seed = seed
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]) + self.units, 4 * self.units),
            initializer=keras.initializers.GlorotUniform(seed=self.seed),
        )
        self.bias = self.add_weight(name="bias", shape=(4 * self.units,), initializer="zeros")

    def call(self, inputs, states, training=None):
        h, c = states
        z = tf.matmul(tf.concat([inputs, h], axis=-1), self.kernel) + self.bias
        i, j, f, o = tf.split(z, 4, axis=-1)
        new_c = c * tf.sigmoid(f + 1.0) + tf.sigmoid(i) * tf.tanh(j)
        new_h = tf.tanh(new_c) * tf.sigmoid(o)
        return new_h, [new_h, new_c]


class MLP(keras.layers.Layer):
    """Hidden layers ``num_layers x (Dense(units) -> ReLU [-> BatchNorm])``.

    Sublayers are held as named attributes (``dense_0``, ``batch_norm_0``, ...),
    not in a list: Keras 3 layers in Python lists are invisible to
    ``tf.train.Checkpoint``, which would silently skip their weights.

    Args:
        num_layers: number of hidden blocks.
        units: width of each.
        seed: seeds the glorot-uniform kernels (biases start at zero).
        batch_norm: ``(momentum, epsilon)`` to append BatchNorm after each ReLU,
            as the original attribute generators do; ``None`` for none.

    Call: ``x`` float32 [B, in_dim] -> [B, units] (``x`` itself if num_layers is 0).
    """

    def __init__(
        self,
        num_layers: int,
        units: int,
        seed: int,
        batch_norm: tuple[float, float] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.use_batch_norm = batch_norm is not None
        for i in range(num_layers):
            setattr(self, f"dense_{i}", keras.layers.Dense(
                units,
                activation="relu",
                kernel_initializer=keras.initializers.GlorotUniform(seed=derive_seed(seed, i)),
            ))
            if batch_norm is not None:
                momentum, epsilon = batch_norm
                setattr(self, f"batch_norm_{i}", keras.layers.BatchNormalization(
                    momentum=momentum, epsilon=epsilon
                ))

    def call(self, x, training=None):
        for i in range(self.num_layers):
            x = getattr(self, f"dense_{i}")(x)
            if self.use_batch_norm:
                x = getattr(self, f"batch_norm_{i}")(x, training=training)
        return x
