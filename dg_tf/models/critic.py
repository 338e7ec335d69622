"""The critics (paper §4.3, appendix B): MLPs returning one score per example.

Both are ``hidden_layers x (Dense(units) -> ReLU)`` then ``Dense(1)``, with no
normalization layer, so each example's score depends on that example alone
(required by the per-example gradient penalty).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from dg_tf.models.layers import MLP
from dg_tf.seeding import derive_seed

__all__ = ["Critic", "AttributeCritic"]


class _MLPCritic(keras.Model):
    def __init__(self, hidden_layers: int, hidden_units: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.hidden = MLP(hidden_layers, hidden_units, seed)
        self.score = keras.layers.Dense(
            1, kernel_initializer=keras.initializers.GlorotUniform(seed=derive_seed(seed, "score"))
        )

    def _score(self, x: tf.Tensor) -> tf.Tensor:
        return self.score(self.hidden(x))


class Critic(_MLPCritic):
    """Scores (features, all attributes) pairs.

    Call: ``features`` float32 [B, L, D] (flag channels included; with PacGAN
    packing [B, k*L, D]) and ``attributes`` float32 [B, A] ([B, k*A]) ->
    scores float32 [B, 1].
    """

    def call(self, features: tf.Tensor, attributes: tf.Tensor) -> tf.Tensor:
        flat = tf.reshape(features, [tf.shape(features)[0], -1])
        return self._score(tf.concat([flat, attributes], axis=-1))


class AttributeCritic(_MLPCritic):
    """The auxiliary critic: scores all attributes (real and min/max) alone.

    Call: ``attributes`` float32 [B, A] ([B, k*A] packed) -> scores float32 [B, 1].
    """

    def call(self, attributes: tf.Tensor) -> tf.Tensor:
        return self._score(attributes)
