"""Building blocks shared by the generator and the critics.

- :class:`OutputHeads`: one Dense head per :class:`~dg_tf.data.specs.Output`,
  fused into a single matmul whose kernel is initialised block by block exactly
  like separate ``tf.layers.dense`` heads (glorot-uniform per head, zero bias),
  followed by each output's activation (softmax / sigmoid / tanh).
- :class:`TF1LSTMCell`: the TF1 ``LSTMCell`` the original used (one glorot
  kernel over ``[input, h]``, gate order i, j, f, o, constant +1 forget bias).
- :class:`TF1LSTM`: that cell run over a whole (time-major) sequence, either as
  TensorFlow's fused ``BlockLSTM`` kernel (one op forward, one backward: the
  same gate layout, forget bias and equations) or as a ``tf.while_loop`` over
  the cell (the path XLA can compile); for inference on CPUs also as
  :meth:`TF1LSTM.run_inference`, its constant input columns projected once.
- :class:`MLP`: the MLPs of the critics and attribute generators.
- :func:`piecewise_linear_relu`: ReLU for the critics, whose gradient graph
  drops the (zero) second derivative.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from dg_tf.data.specs import Normalization, Output, OutputType
from dg_tf.seeding import derive_seed

__all__ = [
    "BlockGlorotUniform",
    "OutputHeads",
    "TF1LSTM",
    "TF1LSTMCell",
    "apply_activations",
    "discretize",
    "MLP",
    "piecewise_linear_relu",
    "row_split_sizes",
]


#: :meth:`TF1LSTM.run_inference` unrolls sequences up to this many steps (no loop overhead).
UNROLLED_STEPS = 8
#: TF1 ``LSTMCell``'s forget bias, added to the forget gate at run time (not a weight).
FORGET_BIAS = 1.0


def row_split_sizes(batch_size: int | None, parts: int) -> list[int] | None:
    """Row counts of ``parts`` near-equal contiguous parts of a batch (sizes differ by at most one).

    At most ``batch_size`` parts (none empty). ``None`` when there is nothing
    to split: one part, or a batch of unknown (``None``) size.
    """
    parts = min(parts, batch_size or 1)
    if batch_size is None or parts < 2:
        return None
    return [batch_size // parts + (i < batch_size % parts) for i in range(parts)]


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

    Args:
        outputs: the output specs, in column order.
        seed: seeds the block-wise glorot-uniform kernel.
        repeats: the outputs repeat this many times along the last axis (the
            feature heads: one block of outputs per record of a pass). The
            kernel is the one of ``outputs * repeats`` separate heads; the
            activations run once over a ``[..., repeats, width]`` view instead
            of once per head.

    Call: ``x`` float32 [..., in_dim] -> float32 [..., repeats * sum(output dims)].
    """

    def __init__(self, outputs: Sequence[Output], seed: int, repeats: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.outputs = list(outputs)
        self.seed = seed
        self.repeats = repeats

    def build(self, input_shape):
        widths = [o.dim for o in self.outputs] * self.repeats
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]), sum(widths)),
            initializer=BlockGlorotUniform(widths, self.seed),
        )
        self.bias = self.add_weight(name="bias", shape=(sum(widths),), initializer="zeros")

    def call(self, x):
        logits = tf.tensordot(x, self.kernel, axes=1) + self.bias
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


@tf.function(jit_compile=True)
def _tanh_form_lstm_gates(varying: tf.Tensor, constant: tf.Tensor, c: tf.Tensor):
    """One LSTM step's gate update from scaled pre-activations (:meth:`TF1LSTM.run_inference`), fused by XLA.

    ``varying + constant`` ([B, 4U] plus [B, 4U] or [4U]) are the TF1 gates
    i, j, f, o with i, f, o halved; returns the new (h, c), each [B, U].
    """
    i, j, f, o = tf.split(tf.tanh(varying + constant), 4, axis=-1)
    c = c * (0.5 * f + 0.5) + (0.5 * i + 0.5) * j
    return tf.tanh(c) * (0.5 * o + 0.5), c


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
        new_c = c * tf.sigmoid(f + FORGET_BIAS) + tf.sigmoid(i) * tf.tanh(j)
        new_h = tf.tanh(new_c) * tf.sigmoid(o)
        return new_h, [new_h, new_c]


def _recurrence(step: Callable, steps: int, h: tf.Tensor, c: tf.Tensor, *, unrolled: bool):
    """Run ``step(t, h, c) -> (h, c)`` for t = 0 .. steps - 1 from the state (h, c), each [B, U].

    A Python loop when ``unrolled`` (no loop overhead; the graph grows with
    ``steps``), else a ``tf.while_loop``. Returns the outputs [steps, B, U]
    (every step's h) and the final state ``[h, c]``.
    """
    if unrolled:
        outputs = []
        for t in range(steps):
            h, c = step(t, h, c)
            outputs.append(h)
        return tf.stack(outputs), [h, c]

    def body(t, h, c, outputs):
        h, c = step(t, h, c)
        return t + 1, h, c, outputs.write(t, h)

    _, h, c, outputs = tf.while_loop(
        lambda t, *_: t < steps, body, (0, h, c, tf.TensorArray(h.dtype, size=steps, element_shape=h.shape)),
        maximum_iterations=steps,
    )
    return outputs.stack(), [h, c]


class TF1LSTM(keras.layers.Layer):
    """A :class:`TF1LSTMCell` run over a time-major sequence.

    The cell is the sublayer ``cell`` (checkpoints name its variables
    ``<layer>/cell/kernel`` and ``<layer>/cell/bias``, as a
    ``keras.layers.RNN`` around the cell did).

    Args:
        units: the cell's width U.
        seed: seeds the cell's kernel.
        fused: run TensorFlow's ``BlockLSTM`` kernel (one op for the whole
            sequence, one for its gradient; float32/float16 only): the TF1
            ``LSTMBlockCell`` equations with ``forget_bias=1``, no peepholes,
            no clipping, which are the ``LSTMCell`` ones, with the same
            ``[input, h]`` kernel and i, j, f, o gate layout. Otherwise a
            ``tf.while_loop`` over the cell, which XLA compiles (``BlockLSTM``
            has no XLA kernel). The two agree to float rounding.
        batch_splits: the fused kernel runs as this many independent
            ``BlockLSTM`` ops, each over a contiguous part of the batch (the
            parts' sizes differ by at most one row). Rows never interact, so
            the outputs are the same up to float rounding; TensorFlow's
            inter-op thread pool runs the parts concurrently, each a
            single-threaded chain of small matmuls, which on CPUs is faster
            than one chain split across threads op by op (measured in
            ``benchmarks/``). A batch of unknown size is not split.

    Call: ``inputs`` [T, B, I] and ``initial_state`` ``[h, c]`` (each [B, U]) ->
    (outputs [T, B, U], final state ``[h, c]``).
    """

    def __init__(self, units: int, seed: int, fused: bool = True, batch_splits: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.fused = fused
        self.batch_splits = batch_splits
        self.cell = TF1LSTMCell(units, seed, dtype=self.dtype_policy)

    def _block_lstm(self, inputs, h, c):
        """``BlockLSTM`` over [T, b, I] from state (h, c) [b, U]: (cell states, outputs), each [T, b, U]."""
        zeros = tf.zeros([self.units], inputs.dtype)
        out = tf.raw_ops.BlockLSTM(
            seq_len_max=tf.cast(tf.shape(inputs)[0], tf.int64), x=inputs, cs_prev=c, h_prev=h,
            w=tf.cast(self.cell.kernel, inputs.dtype), wci=zeros, wcf=zeros, wco=zeros,
            b=tf.cast(self.cell.bias, inputs.dtype), forget_bias=FORGET_BIAS, cell_clip=-1.0,
            use_peephole=False,
        )
        return out[1], out[6]

    def build(self, input_shape):
        self.cell.build((input_shape[1], input_shape[2]))

    def _tanh_form_scale(self) -> tf.Tensor:
        """float32 [4U]: 0.5 on the i, f, o gate columns, 1 on j (see :meth:`run_inference`)."""
        u = self.units
        return tf.concat([tf.fill([u], 0.5), tf.ones([u]), tf.fill([2 * u], 0.5)], axis=0)

    def constant_gate_inputs(self, constant_inputs: tf.Tensor | None = None) -> tf.Tensor:
        """The part of the gate pre-activations that is the same at every step, for :meth:`run_inference`.

        Args:
            constant_inputs: float32 [B, C], input columns with the same value
                at every step (the first C columns of the cell's input);
                ``None`` for none.

        Returns:
            ``(constant_inputs W_c + b + forget bias)`` in the scaled form
            :meth:`run_inference` takes: float32 [B, 4U], or [4U] without
            constant inputs.
        """
        u = self.units
        gates = self.cell.bias + tf.concat([tf.zeros([2 * u]), tf.fill([u], FORGET_BIAS), tf.zeros([u])], axis=0)
        if constant_inputs is not None:
            gates = tf.matmul(constant_inputs, self.cell.kernel[:constant_inputs.shape[-1]]) + gates
        return gates * self._tanh_form_scale()

    def run_inference(self, inputs: tf.Tensor, constant_gates: tf.Tensor, initial_state):
        """The LSTM for inference (float32), its constant input columns projected once by :meth:`constant_gate_inputs`.

        Per step one matmul ``[x_t, h] W`` over the varying input columns and
        ``h``, then one XLA-fused gate update that adds ``constant_gates``;
        unrolled up to :data:`UNROLLED_STEPS` steps, else a ``tf.while_loop``
        (as fast here, and traced in constant time). The gates use
        ``sigmoid(x) = (1 + tanh(x / 2)) / 2`` (the i, f, o columns are
        pre-scaled by 1/2), so one tanh pass covers all four. The same
        function as :meth:`call` up to float rounding (tested). On CPUs it is
        faster than ``BlockLSTM``, whose gate arithmetic takes about as long as
        its matmuls, and the constant columns (the generator's attributes)
        leave the per-step matmul.

        Args:
            inputs: float32 [T, B, I], the varying input columns (the last I of the cell's input).
            constant_gates: from :meth:`constant_gate_inputs`.
            initial_state: ``[h, c]``, each [B, U].

        Returns:
            outputs [T, B, U] and the final state ``[h, c]``.
        """
        rows = inputs.shape[-1] + self.units
        kernel = self.cell.kernel[-rows:] * self._tanh_form_scale()
        h, c = (tf.cast(s, tf.float32) for s in initial_state)

        def step(t, h, c):
            return _tanh_form_lstm_gates(tf.matmul(tf.concat([inputs[t], h], axis=-1), kernel), constant_gates, c)

        return _recurrence(step, inputs.shape[0], h, c, unrolled=inputs.shape[0] <= UNROLLED_STEPS)

    def call(self, inputs, initial_state):
        h, c = (tf.cast(s, inputs.dtype) for s in initial_state)
        if self.fused and inputs.dtype in (tf.float32, tf.float16):
            sizes = row_split_sizes(inputs.shape[1], self.batch_splits)
            if sizes is None:
                cells, outputs = self._block_lstm(inputs, h, c)
            else:
                parts = zip(tf.split(inputs, sizes, axis=1), tf.split(h, sizes), tf.split(c, sizes))
                cells, outputs = (tf.concat(p, axis=1) for p in zip(*(self._block_lstm(*p) for p in parts)))
            return outputs, [outputs[-1], cells[-1]]

        def step(t, h, c):
            h, (_, c) = self.cell(inputs[t], [h, c])
            return h, c

        return _recurrence(step, inputs.shape[0], h, c, unrolled=False)


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
        activation: of the hidden layers (the critics use :func:`piecewise_linear_relu`).

    Call: ``x`` float32 [B, in_dim] -> [B, units] (``x`` itself if num_layers is 0).
    """

    def __init__(
        self,
        num_layers: int,
        units: int,
        seed: int,
        batch_norm: tuple[float, float] | None = None,
        synchronized_batch_norm: bool = False,
        activation: str | Callable[[tf.Tensor], tf.Tensor] = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.use_batch_norm = batch_norm is not None
        for i in range(num_layers):
            setattr(self, f"dense_{i}", keras.layers.Dense(
                units,
                activation=activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=derive_seed(seed, i)),
                dtype=self.dtype_policy,
            ))
            if batch_norm is not None:
                momentum, epsilon = batch_norm
                setattr(self, f"batch_norm_{i}", keras.layers.BatchNormalization(
                    momentum=momentum, epsilon=epsilon, synchronized=synchronized_batch_norm,
                    dtype=self.dtype_policy,
                ))

    def call(self, x, training=None):
        for i in range(self.num_layers):
            x = getattr(self, f"dense_{i}")(x)
            if self.use_batch_norm:
                x = getattr(self, f"batch_norm_{i}")(x, training=training)
        return x
