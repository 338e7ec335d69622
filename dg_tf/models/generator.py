"""The DoppelGANger generator (paper §4, Fig. 7, appendix B).

Three networks, run in order:
1. attribute MLP: noise -> real attributes (metadata);
2. min/max MLP: noise + discrete real attributes -> the "additional
   attributes" (max+min)/2 and (max-min)/2 per continuous feature column
   (auto-normalization, §4.2); built only when such outputs exist;
3. LSTM: at each of T = L/S passes, all attributes + fresh noise -> S records
   (batch generation, §4.1) through one head per (sub-step, output); the last
   output of every record is the 2-way generation flag that ends the series.

Symbols: B batch, L max length, S sample_len, T = L / S passes, D feature
width including the 2 flag channels, A width of all attributes.
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.data.specs import Output, total_dim
from dg_tf.models.layers import MLP, OutputHeads, TF1LSTMCell, discretize
from dg_tf.seeding import derive_seed

__all__ = ["Generator", "generation_flags"]


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
    keep_going = tf.cast(tf.equal(tf.argmax(flag_probs, axis=-1), 0), flag_probs.dtype)
    return tf.math.cumprod(keep_going, axis=1, exclusive=True)


class Generator(keras.Model):
    """Attributes, min/max and features from noise (or from given attributes).

    Args:
        config: the hyperparameters (noise widths, layer sizes, initial state, BatchNorm).
        feature_outputs: feature specs, the generation flag last.
        attribute_outputs: real attribute specs (may be empty).
        addi_outputs: additional (min/max) attribute specs (empty when
            auto-normalization is off).
        max_length: L.
        sample_len: S, dividing L.
    """

    def __init__(
        self,
        config: DGConfig,
        feature_outputs: Sequence[Output],
        attribute_outputs: Sequence[Output],
        addi_outputs: Sequence[Output],
        max_length: int,
        sample_len: int,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not feature_outputs or not feature_outputs[-1].is_gen_flag:
            raise ValueError("feature_outputs must end with the generation-flag output")
        self.config = config
        self.feature_outputs = list(feature_outputs)
        self.attribute_outputs = list(attribute_outputs)
        self.addi_outputs = list(addi_outputs)
        self.max_length = max_length
        self.sample_len = sample_len
        self.num_rollouts = max_length // sample_len
        self.feature_dim = total_dim(self.feature_outputs)
        seed = config.seed
        bn = (config.batch_norm_momentum, config.batch_norm_epsilon)
        if self.attribute_outputs:
            self.attribute_mlp = MLP(
                config.attribute_hidden_layers, config.attribute_hidden_units,
                derive_seed(seed, "attribute_mlp"), batch_norm=bn,
            )
            self.attribute_heads = OutputHeads(self.attribute_outputs, derive_seed(seed, "attribute_heads"))
        if self.addi_outputs:
            self.addi_mlp = MLP(
                config.attribute_hidden_layers, config.attribute_hidden_units,
                derive_seed(seed, "addi_mlp"), batch_norm=bn,
            )
            self.addi_heads = OutputHeads(self.addi_outputs, derive_seed(seed, "addi_heads"))
        for i in range(config.feature_lstm_layers):  # named, not a list: see MLP
            setattr(self, f"lstm_{i}", keras.layers.RNN(
                TF1LSTMCell(config.feature_lstm_units, derive_seed(seed, "lstm", i)),
                return_sequences=True,
            ))
        self.feature_heads = OutputHeads(
            self.feature_outputs * sample_len, derive_seed(seed, "feature_heads")
        )
        if config.lstm_initial_state == "learned":
            self.learned_state = self.add_weight(
                name="learned_state",
                shape=(config.feature_lstm_layers, 2, config.feature_lstm_units),
                initializer=keras.initializers.RandomNormal(
                    stddev=0.02, seed=derive_seed(seed, "learned_state")
                ),
            )

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

    def call(self, noise: dict[str, tf.Tensor], attributes: tf.Tensor | None = None, training: bool = False):
        """One forward pass.

        Args:
            noise: from :meth:`sample_noise`.
            attributes: float32 [B, A_real] given real attributes (conditional
                generation, one-hot for discrete outputs); ``None`` to generate them.
            training: BatchNorm in training mode (batch statistics, updates).

        Returns:
            dict with ``features`` float32 [B, L, D] (flag channels last; feature
            channels zero after each series' end, flag channels zero from the
            pass after the end), ``attributes`` float32 [B, A] (real then
            additional, discrete ones as probabilities: what the critics see),
            ``gen_flags`` float32 [B, L] and ``lengths`` int32 [B].
        """
        feature_noise = noise["feature"]
        batch_size = tf.shape(feature_noise)[0]
        if attributes is not None:
            real_soft = real_hard = tf.cast(attributes, tf.float32)
        elif self.attribute_outputs:
            hidden = self.attribute_mlp(noise["attribute"], training=training)
            real_soft = self.attribute_heads(hidden)
            real_hard = tf.stop_gradient(discretize(real_soft, self.attribute_outputs))
        else:
            real_soft = real_hard = tf.zeros([batch_size, 0])
        if self.addi_outputs:
            hidden = self.addi_mlp(
                tf.concat([noise["addi_attribute"], real_hard], axis=-1), training=training
            )
            addi = self.addi_heads(hidden)
            all_soft = tf.concat([real_soft, addi], axis=-1)
            all_hard = tf.concat([real_hard, tf.stop_gradient(addi)], axis=-1)
        else:
            all_soft, all_hard = real_soft, real_hard

        per_pass_attributes = tf.tile(all_hard[:, None, :], [1, self.num_rollouts, 1])
        hidden = tf.concat([per_pass_attributes, feature_noise], axis=-1)
        for i, state in enumerate(self._initial_states(noise, batch_size)):
            hidden = getattr(self, f"lstm_{i}")(hidden, initial_state=state, training=training)
        records = self.feature_heads(hidden)  # [B, T, S * D]
        features = tf.reshape(records, [batch_size, self.max_length, self.feature_dim])

        gen_flags = tf.stop_gradient(generation_flags(features[..., -2:]))
        pass_active = tf.reduce_sum(
            tf.reshape(gen_flags, [batch_size, self.num_rollouts, self.sample_len]), axis=-1
        ) > 0.5
        pass_mask = tf.repeat(tf.cast(pass_active, tf.float32), self.sample_len, axis=1)
        features = tf.concat(
            [features[..., :-2] * gen_flags[..., None], features[..., -2:] * pass_mask[..., None]],
            axis=-1,
        )
        return {
            "features": features,
            "attributes": all_soft,
            "gen_flags": gen_flags,
            "lengths": tf.cast(tf.reduce_sum(gen_flags, axis=1), tf.int32),
        }
