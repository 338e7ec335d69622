"""The feature generator's LSTM (TF1's ``LSTMCell``) and the one choice of how it runs.

:func:`choose_kernels` is the only place that decides, from the device, the
precision and ``jit_compile``, which implementation runs where
(:class:`Kernels`); the networks take its answer and the trainer compiles
with it. The implementations all compute TF1's ``LSTMCell`` (one glorot
kernel over ``[input, h]``, gates i, j, f, o, a constant +1 forget bias) and
agree to float rounding (tested):

- fused: TensorFlow's ``BlockLSTM`` op, one op forward and one backward for
  the whole sequence (float32/float16, no XLA kernel), optionally as several
  independent ops over parts of the batch;
- loop: a ``tf.while_loop`` over :class:`TF1LSTMCell`, the form XLA compiles
  and the one for bfloat16;
- inference (:meth:`TF1LSTM.run_inference`, generation only, float32): the
  attributes' part of the input projected once per series and one tanh for
  all four gates.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import keras
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.runtime import available_cores

__all__ = ["Kernels", "choose_kernels", "TF1LSTM", "TF1LSTMCell", "row_split_sizes", "UNROLLED_STEPS"]

#: :meth:`TF1LSTM.run_inference` unrolls sequences up to this many steps (no loop overhead).
UNROLLED_STEPS = 8
#: TF1 ``LSTMCell``'s forget bias, added to the forget gate at run time (not a weight).
FORGET_BIAS = 1.0


@dataclasses.dataclass(frozen=True)
class Kernels:
    """How the networks run on this machine (from :func:`choose_kernels`); none of it changes the weights.

    The defaults are the choice for a CPU with the default runtime settings.

    Attributes:
        xla: XLA compiles whole training steps and generation batches.
        xla_helpers: XLA fuses the small integer/select work of the training
            step's flag masking, which TensorFlow's own ops run several times
            slower one by one (implied by ``xla``). Generation does not use it:
            there, each call of an XLA helper cost more than the work it saved
            (measured: the FCC MBA batch 12% faster without).
        fused_lstm: train with the ``BlockLSTM`` op; otherwise the while loop
            over the cell.
        inference_lstm: generate with :meth:`TF1LSTM.run_inference`, the batch
            in ``row_groups`` groups of rows, each a whole forward pass
            (:meth:`~dg_tf.models.generator.Generator.generate`).
        batch_splits: the fused LSTM runs as this many independent ops over
            parts of the batch (``RuntimeConfig.lstm_batch_splits``, resolved).
        row_groups: groups of rows of a generation batch
            (``RuntimeConfig.generate_row_groups``, resolved).
    """

    xla: bool = False
    xla_helpers: bool = True
    fused_lstm: bool = True
    inference_lstm: bool = True
    batch_splits: int = 2
    row_groups: int = 2


def choose_kernels(config: DGConfig, gpu: bool | None = None) -> Kernels:
    """The kernels for ``config`` on this machine: the one place this is decided.

    - XLA compiles whole steps with ``jit_compile="on"``, or with "auto" on a
      GPU unless the run is differentially private (Poisson batches have
      data-dependent shapes); on CPUs XLA's sigmoid/tanh are slower than
      TensorFlow's kernels (measured). "off" means no XLA anywhere, so then
      not even the helpers.
    - The fused ``BlockLSTM`` op trains wherever XLA does not compile the step
      and the compute dtype is float32 or float16 (it has no bfloat16 kernel).
    - Generation uses :meth:`TF1LSTM.run_inference` where the LSTM is fused
      and computes in float32.

    Args:
        config: reads ``jit_compile``, ``lstm_batch_splits`` and
            ``generate_row_groups`` (``None``: one per core,
            :func:`~dg_tf.runtime.available_cores`), ``precision`` and whether
            ``dp_noise_multiplier`` is set.
        gpu: whether a GPU is visible; ``None`` asks TensorFlow.
    """
    if gpu is None:
        gpu = bool(tf.config.list_physical_devices("GPU"))
    jit = config.runtime.jit_compile
    xla = jit == "on" or (jit == "auto" and gpu and not config.training.differentially_private)
    fused = not xla and config.model.precision != "mixed_bfloat16"
    return Kernels(
        xla=xla,
        xla_helpers=jit != "off",
        fused_lstm=fused,
        inference_lstm=fused and config.model.precision == "float32",
        batch_splits=config.runtime.lstm_batch_splits or available_cores(),
        row_groups=config.runtime.generate_row_groups or available_cores(),
    )


def row_split_sizes(batch_size: int | None, parts: int) -> list[int] | None:
    """Row counts of ``parts`` near-equal contiguous parts of a batch (sizes differ by at most one).

    At most ``batch_size`` parts (none empty). ``None`` when there is nothing
    to split: one part, or a batch of unknown (``None``) size.
    """
    parts = min(parts, batch_size or 1)
    if batch_size is None or parts < 2:
        return None
    return [batch_size // parts + (i < batch_size % parts) for i in range(parts)]


def _tanh_form_gates(varying: tf.Tensor, constant: tf.Tensor, c: tf.Tensor):
    """One LSTM step's gate update from scaled pre-activations (:meth:`TF1LSTM.run_inference`).

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

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "seed": self.seed}


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
        fused: run TensorFlow's ``BlockLSTM`` kernel (float32/float16 only):
            the TF1 ``LSTMBlockCell`` equations with ``forget_bias=1``, no
            peepholes, no clipping, which are the ``LSTMCell`` ones, with the
            same ``[input, h]`` kernel and i, j, f, o gate layout. Otherwise a
            ``tf.while_loop`` over the cell, which XLA compiles.
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

    Raises:
        ValueError: ``fused`` with a bfloat16 compute dtype (no such kernel).
    """

    def __init__(self, units: int, seed: int, fused: bool = True, batch_splits: int = 1, **kwargs):
        super().__init__(**kwargs)
        if fused and self.dtype_policy.compute_dtype == "bfloat16":
            raise ValueError("the fused BlockLSTM kernel has no bfloat16 form; use fused=False")
        self.units = units
        self.seed = seed
        self.fused = fused
        self.batch_splits = batch_splits
        self.cell = TF1LSTMCell(units, seed, dtype=self.dtype_policy)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "seed": self.seed, "fused": self.fused,
                "batch_splits": self.batch_splits}

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
        ``h``, then one gate update that adds ``constant_gates``; unrolled up to :data:`UNROLLED_STEPS` steps, else
        a ``tf.while_loop`` (as fast here, and traced in constant time). The
        gates use ``sigmoid(x) = (1 + tanh(x / 2)) / 2`` (the i, f, o columns
        are pre-scaled by 1/2), so one tanh pass covers all four. The same
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
            return _tanh_form_gates(tf.matmul(tf.concat([inputs[t], h], axis=-1), kernel), constant_gates, c)

        return _recurrence(step, inputs.shape[0], h, c, unrolled=inputs.shape[0] <= UNROLLED_STEPS)

    def call(self, inputs, initial_state):
        h, c = (tf.cast(s, inputs.dtype) for s in initial_state)
        if self.fused:
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
