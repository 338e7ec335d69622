"""Building blocks shared by the generator and the critics.

- :class:`OutputHeads`: one Dense head per :class:`~dg_tf.data.specs.Output`,
  fused into a single matmul whose kernel is initialised block by block exactly
  like separate ``tf.layers.dense`` heads (glorot-uniform per head, zero bias),
  followed by each output's activation (softmax / sigmoid / tanh).
- :class:`MLP`: the MLPs of the critics and attribute generators.
- :func:`piecewise_linear_relu`: ReLU for the critics, whose gradient graph
  drops the (zero) second derivative.

The LSTM is in :mod:`dg_tf.models.lstm`.
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

import keras
import numpy as np
import tensorflow as tf

from dg_tf.data.specs import Normalization, Output, OutputType
from dg_tf.seeding import derive_seed

__all__ = [
    "BlockGlorotUniform",
    "OutputHeads",
    "apply_activations",
    "discretize",
    "MLP",
    "piecewise_linear_relu",
    "straight_through",
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
    A 2-way discrete block's softmax is computed as the logistic function of
    the logit differences, ``softmax(a, b) = (sigmoid(a - b), sigmoid(b - a))``
    (the same function; TensorFlow's softmax is slow on 2-wide rows), and
    neighbouring outputs with the same elementwise activation share one op.
    """
    kinds = []
    for output in outputs:
        if output.type_ == OutputType.DISCRETE:
            kinds.append("sigmoid" if output.dim == 2 else "softmax")
        elif output.normalization == Normalization.ZERO_ONE:
            kinds.append("sigmoid")
        else:
            kinds.append("tanh")
    width = sum(o.dim for o in outputs)
    pairs = [sum(o.dim for o in outputs[:i]) for i, o in enumerate(outputs) if o.is_discrete and o.dim == 2]
    if pairs:  # columns a, b of each 2-way block -> a - b, b - a; every other column unchanged
        mixing = np.eye(width, dtype=np.float32)
        for start in pairs:
            mixing[start:start + 2, start:start + 2] = [[1.0, -1.0], [-1.0, 1.0]]
        shape = logits.shape if logits.shape.is_fully_defined() else tf.shape(logits)
        flat = tf.matmul(tf.reshape(logits, [-1, width]), tf.constant(mixing, logits.dtype))
        logits = tf.reshape(flat, shape)
    groups: list[tuple[str, int]] = []  # runs of columns with one activation
    for kind, output in zip(kinds, outputs):
        if groups and kind != "softmax" and groups[-1][0] == kind:
            groups[-1] = (kind, groups[-1][1] + output.dim)
        else:
            groups.append((kind, output.dim))
    blocks = tf.split(logits, [w for _, w in groups], axis=-1) if len(groups) > 1 else [logits]
    functions = {"softmax": lambda b: tf.nn.softmax(b, axis=-1), "sigmoid": tf.sigmoid, "tanh": tf.tanh}
    activated = [functions[kind](block) for block, (kind, _) in zip(blocks, groups)]
    return tf.concat(activated, axis=-1) if len(activated) > 1 else activated[0]


def discretize(values: tf.Tensor, outputs: Sequence[Output]) -> tf.Tensor:
    """One-hot(argmax) for each discrete block of ``values`` [..., sum(dims)]; continuous unchanged (all of it
    when there are no outputs: [..., 0])."""
    if not outputs:
        return values
    blocks = tf.split(values, [o.dim for o in outputs], axis=-1)
    return tf.concat(
        [
            tf.one_hot(tf.argmax(b, axis=-1), o.dim, dtype=b.dtype) if o.is_discrete else b
            for b, o in zip(blocks, outputs)
        ],
        axis=-1,
    )


def straight_through(values: tf.Tensor, outputs: Sequence[Output]) -> tf.Tensor:
    """:func:`discretize` in the forward pass, the identity's gradient in the backward pass.

    The straight-through estimator (Bengio, Léonard and Courville, 2013):
    each discrete block of ``values`` [..., sum(dims)] becomes one-hot(argmax)
    (up to float rounding), the vectors generation outputs, while gradients
    reach the probabilities as if unchanged; continuous blocks pass as they are.
    """
    return values + tf.stop_gradient(discretize(values, outputs) - values)


class OutputHeads(keras.layers.Layer):
    """One Dense head per output (fused), then per-output activations.

    Args:
        outputs: the output specs, in column order.
        seed: seeds the block-wise glorot-uniform kernel.
        repeats: the outputs repeat this many times along the last axis (the
            feature heads: one block of outputs per record of a pass). The
            kernel is the one of ``outputs * repeats`` separate heads; the
            activations run once over a ``[..., repeats, width]`` view instead
            of once per head.
        chained: each head after the first also sees the values of the heads
            before it (one-hot of the argmax for a discrete output, the
            activation for a continuous one, without gradient): its logits
            gain ``values_before @ chain_i``, a kernel [sum of the earlier
            dims, dim_i] that starts at zero. The outputs are then generated
            one after another, each given the ones before, as the min/max
            generator is given the attributes. Only with ``repeats == 1``.

    Call: ``x`` float32 [..., in_dim] -> float32 [..., repeats * sum(output dims)].

    Raises:
        ValueError: ``chained`` with ``repeats > 1``.
    """

    def __init__(self, outputs: Sequence[Output], seed: int, repeats: int = 1, chained: bool = False, **kwargs):
        super().__init__(**kwargs)
        if chained and repeats != 1:
            raise ValueError("chained heads need repeats == 1")
        self.outputs = list(outputs)
        self.seed = seed
        self.repeats = repeats
        self.chained = chained

    def get_config(self) -> dict:
        return {**super().get_config(), "outputs": [o.to_dict() for o in self.outputs], "seed": self.seed,
                "repeats": self.repeats, "chained": self.chained}

    @classmethod
    def from_config(cls, config: dict) -> "OutputHeads":
        return cls(**{**config, "outputs": [Output.from_dict(o) for o in config["outputs"]]})

    def build(self, input_shape):
        widths = [o.dim for o in self.outputs] * self.repeats
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]), sum(widths)),
            initializer=BlockGlorotUniform(widths, self.seed),
        )
        self.bias = self.add_weight(name="bias", shape=(sum(widths),), initializer="zeros")
        for i in range(1, len(widths) if self.chained else 0):  # named, not a list (see MLP)
            setattr(self, f"chain_{i}", self.add_weight(
                name=f"chain_{i}", shape=(sum(widths[:i]), widths[i]), initializer="zeros"))

    def _chain_logits(self, logits: tf.Tensor) -> tf.Tensor:
        """``logits`` [..., width] with each head's chain term added, head by head (see ``chained``)."""
        blocks = tf.split(logits, [o.dim for o in self.outputs], axis=-1)
        values = []  # of the heads so far; the last head's values feed nothing
        for i, output in enumerate(self.outputs[:-1]):
            values.append(tf.stop_gradient(discretize(apply_activations(blocks[i], [output]), [output])))
            chain = getattr(self, f"chain_{i + 1}")
            blocks[i + 1] = blocks[i + 1] + tf.tensordot(tf.concat(values, axis=-1), chain, axes=1)
        return tf.concat(blocks, axis=-1)

    def call(self, x):
        logits = tf.tensordot(x, self.kernel, axes=1) + self.bias
        if self.chained:
            logits = self._chain_logits(logits)
        if self.repeats == 1:
            return apply_activations(logits, self.outputs)
        width = sum(o.dim for o in self.outputs)
        if logits.shape.is_fully_defined():  # static shapes: nothing for XLA to evaluate
            shape = logits.shape
            blocks = tf.reshape(logits, [*shape[:-1], self.repeats, width])
        else:
            shape = tf.shape(logits)
            blocks = tf.reshape(logits, tf.concat([shape[:-1], [self.repeats, width]], 0))
        return tf.reshape(apply_activations(blocks, self.outputs), shape)


@tf.custom_gradient
def piecewise_linear_relu(x: tf.Tensor):
    """ReLU whose gradient ``dy * (x > 0)`` treats the on/off pattern as a constant.

    Values and gradients are TensorFlow's ReLU's. The second derivative is
    zero almost everywhere; TensorFlow's ReLU gradient still propagates those
    zeros back through the forward pass, which in the gradient penalty's double
    backward (paper §4.3, WGAN-GP) costs a full backward pass of the critic at
    the interpolated inputs. Here that path is absent from the graph, so the
    penalty's weight gradient skips it (about 12% of a critic update).
    """
    on = tf.cast(x > 0, x.dtype)

    def gradient(dy):
        return dy * on

    return tf.nn.relu(x), gradient


class MLP(keras.layers.Layer):
    """Hidden layers ``num_layers x (Dense(units) -> ReLU [-> BatchNorm])``.

    Sublayers are held as named attributes (``dense_0``, ``batch_norm_0``, ...),
    not in a list: Keras 3 layers in Python lists are invisible to
    ``tf.train.Checkpoint``, which would silently skip their weights. They
    share this layer's dtype policy (mixed precision).

    Args:
        num_layers: number of hidden blocks.
        units: width of each.
        seed: seeds the glorot-uniform kernels (biases start at zero).
        batch_norm: ``(momentum, epsilon)`` to append BatchNorm after each ReLU,
            as the original attribute generators do; ``None`` for none.
        synchronized_batch_norm: BatchNorm statistics over the global batch of
            all replicas of a ``tf.distribute`` strategy.
        activation: of the hidden layers: "relu", or "piecewise_linear_relu"
            (:func:`piecewise_linear_relu`, the critics').

    Call: ``x`` float32 [B, in_dim] -> [B, units] (``x`` itself if num_layers is 0).
    """

    def __init__(
        self,
        num_layers: int,
        units: int,
        seed: int,
        batch_norm: tuple[float, float] | None = None,
        synchronized_batch_norm: bool = False,
        activation: Literal["relu", "piecewise_linear_relu"] = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.units = units
        self.seed = seed
        self.batch_norm = batch_norm
        self.synchronized_batch_norm = synchronized_batch_norm
        self.activation = activation
        self.use_batch_norm = batch_norm is not None
        for i in range(num_layers):
            setattr(self, f"dense_{i}", keras.layers.Dense(
                units,
                activation=piecewise_linear_relu if activation == "piecewise_linear_relu" else activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=derive_seed(seed, i)),
                dtype=self.dtype_policy,
            ))
            if batch_norm is not None:
                momentum, epsilon = batch_norm
                setattr(self, f"batch_norm_{i}", keras.layers.BatchNormalization(
                    momentum=momentum, epsilon=epsilon, synchronized=synchronized_batch_norm,
                    dtype=self.dtype_policy,
                ))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_layers": self.num_layers, "units": self.units, "seed": self.seed,
                "batch_norm": self.batch_norm, "synchronized_batch_norm": self.synchronized_batch_norm,
                "activation": self.activation}

    def build(self, input_shape):
        """Create every sublayer's weights for inputs [..., input_shape[-1]] (no forward pass)."""
        width = input_shape[-1]
        for i in range(self.num_layers):
            getattr(self, f"dense_{i}").build((None, width))
            width = self.units
            if self.use_batch_norm:
                getattr(self, f"batch_norm_{i}").build((None, width))

    @property
    def batch_norms(self) -> list[keras.layers.BatchNormalization]:
        """The BatchNorm sublayers, first to last (none without ``batch_norm``)."""
        return [getattr(self, f"batch_norm_{i}") for i in range(self.num_layers)] if self.use_batch_norm else []

    def call(self, x, training=None):
        for i in range(self.num_layers):
            x = getattr(self, f"dense_{i}")(x)
            if self.use_batch_norm:
                x = getattr(self, f"batch_norm_{i}")(x, training=training)
        return x
