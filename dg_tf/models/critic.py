"""The critics (paper §4.3, appendix B): MLPs returning one score per example, and PacGAN packing.

Both are ``hidden_layers x (Dense(units) -> ReLU)`` then ``Dense(1)``, with no
normalization layer, so each example's score depends on that example alone
(required by the per-example gradient penalty). The ReLU is
:func:`~dg_tf.models.layers.piecewise_linear_relu`, which keeps the penalty's
double backward from propagating ReLU's zero second derivative.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from dg_tf.models.layers import MLP
from dg_tf.seeding import derive_seed

__all__ = ["Critic", "AttributeCritic", "pack"]


def pack(x: tf.Tensor, num_packing: int) -> tf.Tensor:
    """PacGAN packing of a critic input: [B * k, d1, ...] -> [B, k * d1, ...].

    Consecutive groups of k examples are concatenated along the first
    non-batch axis (time for features, columns for attributes), as the original.
    """
    if num_packing == 1:
        return x
    shape = tf.shape(x)
    return tf.reshape(x, tf.concat([[shape[0] // num_packing, num_packing * shape[1]], shape[2:]], 0))


class _MLPCritic(keras.Model):
    """The shared MLP; ``dtype`` (a Keras dtype policy) reaches every layer, scores are float32.

    Args:
        hidden_layers / hidden_units: the MLP's hidden Dense+ReLU layers.
        seed: seeds every kernel.
    """

    def __init__(self, hidden_layers: int, hidden_units: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.hidden_layers = hidden_layers
        self.hidden_units = hidden_units
        self.seed = seed
        self.hidden = MLP(
            hidden_layers, hidden_units, seed, activation="piecewise_linear_relu", dtype=self.dtype_policy
        )
        self.score = keras.layers.Dense(
            1, kernel_initializer=keras.initializers.GlorotUniform(seed=derive_seed(seed, "score")),
            dtype=self.dtype_policy,
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "hidden_layers": self.hidden_layers, "hidden_units": self.hidden_units,
                "seed": self.seed}

    def build_for_width(self, width: int) -> None:
        """Create the weights for inputs of ``width`` columns (no forward pass)."""
        with keras.name_scope(self.name):  # variable paths "critic/...", as a call builds them
            self.hidden.build((None, width))
            self.score.build((None, self.hidden_units if self.hidden_layers else width))
        self.built = True

    def _score(self, x: tf.Tensor) -> tf.Tensor:
        return tf.cast(self.score(self.hidden(x)), tf.float32)


class Critic(_MLPCritic):
    """Scores (features, all attributes) pairs.

    Call: ``features`` float32 [B, L, D] (flag channels included; with PacGAN
    packing [B, k*L, D]) and ``attributes`` float32 [B, A] ([B, k*A]) ->
    scores float32 [B, 1].
    """

    def call(self, features: tf.Tensor, attributes: tf.Tensor) -> tf.Tensor:
        flat = tf.reshape(features, [features.shape[0] or tf.shape(features)[0], -1])
        return self._score(tf.concat([flat, attributes], axis=-1))


class AttributeCritic(_MLPCritic):
    """The auxiliary critic: scores all attributes (real and min/max) alone.

    Call: ``attributes`` float32 [B, A] ([B, k*A] packed) -> scores float32 [B, 1].
    """

    def call(self, attributes: tf.Tensor) -> tf.Tensor:
        return self._score(attributes)
