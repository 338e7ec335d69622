"""The DoppelGANger generator (paper §4, Fig. 7, appendix B).

Three networks, run in order:
1. attribute MLP: noise -> real attributes (metadata); with
   ``chained_attributes`` its heads run in column order, each also given the
   values drawn for the attributes before it;
2. min/max MLP: noise + discrete real attributes -> the "additional
   attributes" (max+min)/2 and (max-min)/2 per continuous feature column
   (auto-normalization, §4.2); built only when such outputs exist;
3. LSTM: at each of T = L/S passes, all attributes + fresh noise -> S records
   (batch generation, §4.1) through one head per (sub-step, output); the last
   output of every record is the 2-way generation flag that ends the series.

Lengths (:class:`LengthRule`, from the training data): when every training
series has the same length the flags carry no information, so the generator
has none and every series gets that length (as gretel's DGAN does for fixed
lengths); otherwise the first "stop" flag ends a series, except that stops
before the shortest training length are ignored.

Symbols: B batch, L max length, S sample_len, T = L / S passes, D feature
width including the 2 flag channels (if any), A width of all attributes.

Training runs the LSTM over all T passes at once (:meth:`Generator.call`).
Generation (:meth:`Generator.generate`) runs it in a few chunks of passes and,
like the original's ``tf.while_loop``, stops once every series of the batch
has ended: the passes it skips are the zeros the full rollout would mask them
to, so the output is bitwise the same as without the early exit. On CPUs it
runs the batch as independent groups of rows, each a whole forward pass with
its own early exit, and the LSTM as ``TF1LSTM.run_inference`` (the attributes'
part of its input projected once per series). Which of these runs is the
:class:`~dg_tf.models.lstm.Kernels` the generator is given. Flags and lengths:
:mod:`dg_tf.models.flags`.

The module is longer than 400 lines because the three networks, the noise
they share and the two ways of running them (training over all passes,
generation in chunks with the early exit) are one unit: splitting them would
spread one forward pass over several files.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import keras
import tensorflow as tf

from dg_tf.config import ModelConfig
from dg_tf.data.specs import Output, total_dim
from dg_tf.encoding import LengthRule
from dg_tf.models.flags import masked_steps, static_size, step_mask, steps_of, xla_step_mask
from dg_tf.models.layers import MLP, OutputHeads, discretize, straight_through
from dg_tf.models.lstm import TF1LSTM, Kernels, row_split_sizes
from dg_tf.seeding import derive_seed

__all__ = ["Generator"]

#: Generation runs the T passes in about this many chunks; after each it stops
#: if every series has ended (more chunks: finer early exit, more ops).
GENERATION_CHUNKS = 8


class Generator(keras.Model):
    """Attributes, min/max and features from noise (or from given attributes).

    Args:
        config: the model settings (noise widths, layer sizes, initial state,
            BatchNorm, seed); nothing else of the run's configuration.
        feature_outputs: feature specs, the generation flag last (none with
            a fixed length).
        attribute_outputs: real attribute specs (may be empty).
        addi_outputs: additional (min/max) attribute specs (empty when
            auto-normalization is off).
        max_length: L.
        sample_len: S, dividing L.
        lengths: how lengths are decided (default: by the flags, any length).
        kernels: how the LSTM and the flag masking run here
            (:func:`~dg_tf.models.lstm.choose_kernels`).
        synchronized_batch_norm: BatchNorm statistics over the global batch of
            all replicas of a ``tf.distribute`` strategy.
        dtype: the Keras dtype policy of every layer (e.g. ``"mixed_bfloat16"``);
            outputs are float32 whatever the policy.
    """

    #: The batch axis of each noise input (for splitting a batch across replicas).
    NOISE_BATCH_AXES = {"attribute": 0, "addi_attribute": 0, "feature": 0, "lstm_state": 2}

    def __init__(
        self,
        config: ModelConfig,
        feature_outputs: Sequence[Output],
        attribute_outputs: Sequence[Output],
        addi_outputs: Sequence[Output],
        max_length: int,
        sample_len: int,
        lengths: LengthRule = LengthRule(),
        *,
        kernels: Kernels = Kernels(),
        synchronized_batch_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        flagged = bool(feature_outputs) and feature_outputs[-1].is_gen_flag
        if flagged == (lengths.fixed is not None):
            raise ValueError("feature_outputs must end with the generation-flag output unless the length is fixed, "
                             "and only then")
        self.config = config
        self.lengths = lengths
        #: One row group's rollout as a function: traced once per group shape, not once per group.
        self._group_rollout = tf.function(self._rollout, autograph=False)
        self.feature_outputs = list(feature_outputs)
        self.attribute_outputs = list(attribute_outputs)
        self.addi_outputs = list(addi_outputs)
        self.max_length = max_length
        self.sample_len = sample_len
        self.kernels = kernels
        self.synchronized_batch_norm = synchronized_batch_norm
        self.num_rollouts = max_length // sample_len
        self.feature_dim = total_dim(self.feature_outputs)
        seed = config.seed
        mlp = dict(
            batch_norm=(config.batch_norm_momentum, config.batch_norm_epsilon),
            synchronized_batch_norm=synchronized_batch_norm, dtype=self.dtype_policy,
        )
        if self.attribute_outputs:
            self.attribute_mlp = MLP(
                config.attribute_hidden_layers, config.attribute_hidden_units,
                derive_seed(seed, "attribute_mlp"), **mlp,
            )
            self.attribute_heads = OutputHeads(
                self.attribute_outputs, derive_seed(seed, "attribute_heads"), chained=config.chained_attributes,
                dtype=self.dtype_policy,
            )
        if self.addi_outputs:
            self.addi_mlp = MLP(
                config.attribute_hidden_layers, config.attribute_hidden_units,
                derive_seed(seed, "addi_mlp"), **mlp,
            )
            self.addi_heads = OutputHeads(
                self.addi_outputs, derive_seed(seed, "addi_heads"), dtype=self.dtype_policy
            )
        for i in range(config.feature_lstm_layers):  # named, not a list: see MLP
            setattr(self, f"lstm_{i}", TF1LSTM(
                config.feature_lstm_units, derive_seed(seed, "lstm", i), fused=kernels.fused_lstm,
                batch_splits=kernels.batch_splits, dtype=self.dtype_policy,
            ))
        self.feature_heads = OutputHeads(
            self.feature_outputs, derive_seed(seed, "feature_heads"), repeats=sample_len,
            dtype=self.dtype_policy,
        )
        if config.lstm_initial_state == "learned":
            self.learned_state = self.add_weight(
                name="learned_state",
                shape=(config.feature_lstm_layers, 2, config.feature_lstm_units),
                initializer=keras.initializers.RandomNormal(
                    stddev=0.02, seed=derive_seed(seed, "learned_state")
                ),
            )

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments as JSON values (:meth:`from_config` rebuilds the same network)."""
        return {
            **super().get_config(),
            "config": self.config.to_dict(),
            "feature_outputs": [o.to_dict() for o in self.feature_outputs],
            "attribute_outputs": [o.to_dict() for o in self.attribute_outputs],
            "addi_outputs": [o.to_dict() for o in self.addi_outputs],
            "max_length": self.max_length,
            "sample_len": self.sample_len,
            "lengths": dataclasses.asdict(self.lengths),
            "kernels": dataclasses.asdict(self.kernels),
            "synchronized_batch_norm": self.synchronized_batch_norm,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Generator":
        outputs = {name: [Output.from_dict(o) for o in config[name]]
                   for name in ("feature_outputs", "attribute_outputs", "addi_outputs")}
        return cls(**{**config, **outputs, "config": ModelConfig(**config["config"]),
                      "lengths": LengthRule(**config["lengths"]), "kernels": Kernels(**config["kernels"])})

    def sample_noise(self, rng: tf.random.Generator, batch_size: int | tf.Tensor) -> dict[str, tf.Tensor]:
        """Draw every noise input of one forward pass from ``rng`` (all N(0, 1)).

        Returns:
            ``attribute`` [B, attribute_noise_dim], ``addi_attribute``
            [B, addi_attribute_noise_dim], ``feature`` [B, T, feature_noise_dim]
            (one vector per pass, shared by its S records) and, for the random
            initial state, ``lstm_state`` [layers, 2, B, units] (h and c).
        """
        c = self.config
        noise = {
            "attribute": rng.normal([batch_size, c.attribute_noise_dim]),
            "addi_attribute": rng.normal([batch_size, c.addi_attribute_noise_dim]),
            "feature": rng.normal([batch_size, self.num_rollouts, c.feature_noise_dim]),
        }
        if c.lstm_initial_state == "random":
            noise["lstm_state"] = rng.normal([c.feature_lstm_layers, 2, batch_size, c.feature_lstm_units])
        return noise

    def _initial_states(self, noise, batch_size):
        c = self.config
        if c.lstm_initial_state == "random":
            states = noise["lstm_state"]
        elif c.lstm_initial_state == "zero":
            states = tf.zeros([c.feature_lstm_layers, 2, batch_size, c.feature_lstm_units])
        else:
            states = tf.tile(self.learned_state[:, :, None, :], [1, 1, batch_size, 1])
        return [[states[i, 0], states[i, 1]] for i in range(c.feature_lstm_layers)]

    def _attributes(self, noise, attributes, training):
        """(soft, hard) attributes [B, A]: what the critics see, what conditions the LSTM."""
        batch_size = static_size(noise["feature"])
        if attributes is not None:
            real_soft = real_hard = tf.cast(attributes, tf.float32)
        elif self.attribute_outputs:
            hidden = self.attribute_mlp(noise["attribute"], training=training)
            real_soft = tf.cast(self.attribute_heads(hidden), tf.float32)
            real_hard = tf.stop_gradient(discretize(real_soft, self.attribute_outputs))
        else:
            real_soft = real_hard = tf.zeros([batch_size, 0])
        if not self.addi_outputs:
            return real_soft, real_hard
        hidden = self.addi_mlp(tf.concat([noise["addi_attribute"], real_hard], axis=-1), training=training)
        addi = tf.cast(self.addi_heads(hidden), tf.float32)
        if self.config.self_norm_within_range:
            addi = self._within_range(addi)
        return tf.concat([real_soft, addi], axis=-1), tf.concat([real_hard, tf.stop_gradient(addi)], axis=-1)

    def sample_attributes(self, attribute_noise: tf.Tensor) -> tf.Tensor:
        """Real attributes alone, as generation draws them: float32 [B, A_real] (discrete outputs one-hot).

        Args:
            attribute_noise: [B, attribute_noise_dim] (``sample_noise(...)["attribute"]``).

        The attribute MLP in inference mode, nothing else (no min/max, no
        LSTM): cheap draws from the learned attribute distribution
        (:mod:`dg_tf.conditioning`).
        """
        hidden = self.attribute_mlp(attribute_noise, training=False)
        return discretize(tf.cast(self.attribute_heads(hidden), tf.float32), self.attribute_outputs)

    def one_hot_attributes(self, attributes: tf.Tensor) -> tf.Tensor:
        """Generated attributes as generation outputs them, for a critic: float32 [B, A] -> [B, A].

        ``attributes``: :meth:`call`'s (real, then min/max), or the real ones
        alone [B, A_real]. Discrete outputs become one-hot in the forward pass
        and keep the gradient of their probabilities
        (:func:`~dg_tf.models.layers.straight_through`); the other columns
        are unchanged. What the auxiliary critic scores with
        ``aux_critic_straight_through``.
        """
        width = total_dim(self.attribute_outputs)
        real = straight_through(attributes[:, :width], self.attribute_outputs)
        return tf.concat([real, attributes[:, width:]], axis=-1)

    def _within_range(self, addi: tf.Tensor) -> tf.Tensor:
        """(mid, half) pairs [B, 2C] with each half scaled by the room its mid leaves inside the feature's bounds.

        The head's half h in (0, 1) becomes ``h * min(mid - low, high - mid)``,
        so ``[mid - half, mid + half]`` lies inside the feature's declared
        range and so does every rescaled value. Real pairs satisfy this (up to
        ``self_norm_eps``), so no real range is out of reach.
        """
        low, high = (tf.constant([o.normalization.bounds[i] for o in self.addi_outputs[0::2]], tf.float32)
                     for i in (0, 1))
        mid, half = addi[:, 0::2], addi[:, 1::2]
        half = half * tf.minimum(mid - low, high - mid)
        return tf.reshape(tf.stack([mid, half], axis=-1), tf.shape(addi))

    def build_weights(self) -> None:
        """Create every weight from the known widths, without a forward pass (fast; the same initial values)."""
        with keras.name_scope(self.name):  # variable paths "generator/...", as a call builds them
            self._build_sublayers()
        self.built = True

    def _build_sublayers(self) -> None:
        c = self.config
        hidden = c.attribute_hidden_units if c.attribute_hidden_layers else None
        real_width, addi_width = total_dim(self.attribute_outputs), total_dim(self.addi_outputs)
        if self.attribute_outputs:
            self.attribute_mlp.build((None, c.attribute_noise_dim))
            self.attribute_heads.build((None, hidden or c.attribute_noise_dim))
        if self.addi_outputs:
            self.addi_mlp.build((None, c.addi_attribute_noise_dim + real_width))
            self.addi_heads.build((None, hidden or c.addi_attribute_noise_dim + real_width))
        inputs = real_width + addi_width + c.feature_noise_dim  # the hard attributes, then the pass's noise
        for i in range(c.feature_lstm_layers):
            getattr(self, f"lstm_{i}").build((self.num_rollouts, None, inputs))
            inputs = c.feature_lstm_units
        self.feature_heads.build((None, c.feature_lstm_units))

    def update_batch_norm_statistics(self, noise: dict[str, tf.Tensor]) -> None:
        """Move the BatchNorm moving statistics as one more training-mode forward pass on ``noise`` would.

        Runs only the attribute and min/max MLPs (the LSTM has no BatchNorm).
        The trainer reuses one forward pass for several updates in which the
        generator's weights do not change; calling this once per reuse keeps
        the moving statistics those updates' own forward passes would give.
        """
        self._attributes(noise, None, training=True)

    @property
    def batch_norms(self) -> list[keras.layers.BatchNormalization]:
        """Every BatchNorm layer: the attribute MLP's, then the min/max MLP's."""
        return [layer for name in ("attribute_mlp", "addi_mlp") if hasattr(self, name)
                for layer in getattr(self, name).batch_norms]

    def call(self, noise: dict[str, tf.Tensor], attributes: tf.Tensor | None = None, training: bool = False):
        """One forward pass over all T passes.

        Args:
            noise: from :meth:`sample_noise`.
            attributes: float32 [B, A_real] given real attributes (conditional
                generation, one-hot for discrete outputs); ``None`` to generate them.
            training: BatchNorm in training mode (batch statistics, updates).

        Returns:
            dict with ``features`` float32 [B, L, D] (flag channels last, none
            with a fixed length; feature channels zero after each series' end,
            flag channels zero from the pass after the end), ``attributes`` float32 [B, A] (real then
            additional, discrete ones as probabilities: what the critics see),
            ``gen_flags`` float32 [B, L] and ``lengths`` int32 [B].
        """
        return self._rollout(noise, attributes, training, [self.num_rollouts], early_exit=False)

    def generate(
        self, noise: dict[str, tf.Tensor], attributes: tf.Tensor | None = None, *, early_exit: bool = True
    ) -> dict[str, tf.Tensor]:
        """Inference-mode forward pass (BatchNorm moving statistics) for generation.

        The passes run in about :data:`GENERATION_CHUNKS` chunks; with
        ``early_exit`` the chunks after every series of a row group has ended
        are skipped (their output is the zeros they would be masked to).

        With ``kernels.inference_lstm`` (CPUs, float32), generation runs
        the batch as ``kernels.row_groups`` groups of rows
        (:func:`~dg_tf.models.layers.row_split_sizes`), each a whole forward
        pass with its own early exit, and the LSTM as
        :meth:`~dg_tf.models.layers.TF1LSTM.run_inference`, with the
        attributes' part of its input projected once per series rather than
        once per pass. TensorFlow runs the groups concurrently with no
        synchronisation between chunks. Each group is one call of a
        ``tf.function``, traced once per group shape rather than once per
        group (a fresh process's first ``generate`` traced four copies
        before). Rows never interact, so this is the
        training forward pass in inference mode up to float rounding (tested;
        measured faster in ``benchmarks/``).

        Args and returns: as :meth:`call` (with ``training=False``); the
        output is bitwise the same with and without ``early_exit``.
        """
        per_chunk = math.ceil(self.num_rollouts / GENERATION_CHUNKS)
        chunks = [per_chunk] * (self.num_rollouts // per_chunk)
        if self.num_rollouts % per_chunk:
            chunks.append(self.num_rollouts % per_chunk)
        projected = self.kernels.inference_lstm
        sizes = row_split_sizes(noise["feature"].shape[0], self.kernels.row_groups) if projected else None
        if sizes is None:
            return self._rollout(noise, attributes, False, chunks, early_exit, projected)
        noise_parts = {name: tf.split(value, sizes, axis=self.NOISE_BATCH_AXES[name]) for name, value in noise.items()}
        attribute_parts = [None] * len(sizes) if attributes is None else tf.split(attributes, sizes)
        groups = [
            self._group_rollout({name: parts[i] for name, parts in noise_parts.items()}, attribute_parts[i], False,
                                tuple(chunks), early_exit, projected)
            for i in range(len(sizes))
        ]
        return {name: tf.concat([group[name] for group in groups], axis=0) for name in groups[0]}

    def _rollout(self, noise, attributes, training, chunks: list[int], early_exit: bool, projected: bool = False):
        """The forward pass with the T passes run in ``chunks`` (pass counts summing to T).

        ``projected``: run the LSTM layers as
        :meth:`~dg_tf.models.layers.TF1LSTM.run_inference` (inference only),
        the first layer's attribute columns projected once per series.
        """
        # float32 between the layers (Keras casts a mixed-precision call's inputs; the layers cast their own)
        noise = {name: tf.cast(value, tf.float32) for name, value in noise.items()}
        feature_noise = noise["feature"]
        batch_size = static_size(feature_noise)
        all_soft, all_hard = self._attributes(noise, attributes, training)
        passes_noise = tf.transpose(feature_noise, [1, 0, 2])  # time-major [T, B, noise]
        if projected:  # the first layer's attribute columns, projected once; only the noise varies
            per_pass = passes_noise
            constant_gates = [getattr(self, f"lstm_{i}").constant_gate_inputs(all_hard if i == 0 else None)
                              for i in range(self.config.feature_lstm_layers)]
        else:  # the LSTM input [T, B, A + noise]: the hard attributes at every pass, then the pass's noise
            per_pass = tf.concat([tf.tile(all_hard[None], [self.num_rollouts, 1, 1]), passes_noise], axis=-1)
            constant_gates = None
        states = self._initial_states(noise, batch_size)
        alive = tf.ones([batch_size], tf.bool)  # the series has not ended before the chunk
        parts = []
        start = 0
        for length in chunks:
            inputs = per_pass[start:start + length]
            ended = self._ended_before(start) if early_exit and start > 0 else False
            if ended is not False:  # what a skipped chunk gives: the zeros the full rollout masks it to
                empty = (tf.zeros([batch_size, length * self.sample_len, self.feature_dim]),
                         tf.zeros([batch_size, length * self.sample_len]), alive, states)
            if ended is True:
                part = empty
            elif ended is None:
                part = tf.cond(
                    tf.reduce_any(alive),
                    lambda inputs=inputs, states=states, alive=alive, start=start: self._chunk(
                        inputs, states, alive, training, constant_gates, start * self.sample_len),
                    lambda empty=empty: empty,
                )
            else:
                part = self._chunk(inputs, states, alive, training, constant_gates, start * self.sample_len)
            features, flags, alive, states = part
            parts.append((features, flags))
            start += length
        features = tf.concat([p[0] for p in parts], axis=1) if len(parts) > 1 else parts[0][0]
        gen_flags = tf.concat([p[1] for p in parts], axis=1) if len(parts) > 1 else parts[0][1]
        return {
            "features": features,
            "attributes": all_soft,
            "gen_flags": gen_flags,
            "lengths": tf.cast(tf.reduce_sum(gen_flags, axis=1), tf.int32),
        }

    def _ended_before(self, start: int) -> bool | None:
        """Whether every series has ended before pass ``start``: known when tracing with a fixed length
        (no ``tf.cond`` to build, trace and run then), ``None`` (decided at run time) otherwise."""
        if self.lengths.fixed is None:
            return None
        return start * self.sample_len >= self.lengths.fixed

    def _chunk(self, inputs, states, alive, training, constant_gates, first_step: int):
        """Run P passes from ``states``.

        Args:
            inputs: float32 [P, B, A + noise] the passes' LSTM inputs, or
                [P, B, noise] with ``constant_gates``.
            states: per LSTM layer ``[h, c]`` before the chunk.
            alive: bool [B], the series has not ended before the chunk.
            training: differentiable masking (a product with the mask) instead
                of a select.
            constant_gates: per LSTM layer, its
                :meth:`~dg_tf.models.layers.TF1LSTM.constant_gate_inputs` (the
                first layer's from the attributes) to run the layers as
                ``run_inference``; ``None``: as ``call``.
            first_step: index of the chunk's first step in the series.

        Returns:
            features [B, P*S, D] (masked), gen_flags [B, P*S], alive after the
            chunk and the LSTM states after it.
        """
        hidden = inputs
        new_states = []
        for i, state in enumerate(states):
            layer = getattr(self, f"lstm_{i}")
            if constant_gates is not None:
                hidden, state = layer.run_inference(hidden, constant_gates[i], state)
            else:
                hidden, state = layer(hidden, initial_state=state)
            new_states.append(state)
        records = tf.cast(self.feature_heads(hidden), tf.float32)  # [P, B, S * D]
        if not training:  # TensorFlow's own ops: an XLA call here costs more than the work (measured, benchmarks/)
            features, gen_flags, alive = masked_steps(records, alive, self.sample_len, first_step, self.lengths.fixed,
                                                      self.lengths.minimum)
            return features, gen_flags, alive, new_states
        xla = self.kernels.xla_helpers
        # a tensor: one trace and XLA compilation of the helper for all chunks of a shape, not one per chunk
        rule = (self.sample_len, tf.constant(first_step, tf.int32) if xla else first_step, self.lengths.fixed,
                self.lengths.minimum)
        # The length floor applies when generating only: training sees the flags as the original does
        # (the floor in training too gave worse length distributions, benchmarks/README.md).
        rule = rule[:3] + (1,)
        mask, gen_flags, alive = (xla_step_mask if xla else step_mask)(tf.stop_gradient(records), alive, *rule)
        return steps_of(records, self.sample_len) * mask, gen_flags, alive, new_states
