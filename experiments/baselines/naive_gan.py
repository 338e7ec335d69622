"""The naive GAN baseline (paper §3.3.2 footnote 2, §5.1.2 "Naive GAN", appendix B "Naive GAN").

Footnote 2: "(1) a dense multilayer perceptron (MLP) which generates
measurements and metadata jointly, (2) an MLP discriminator, and (3)
Wasserstein loss". Appendix B: generator and discriminator are MLPs with 4
hidden layers of 200 units; gradient penalty weight 10.0; Adam, learning
rate 0.001, batch size 100 for both.

One MLP maps noise to the flattened ``[attributes, R_1, ..., R_L]``, where a
record is the features plus DG's two generation-flag channels (:mod:`.common`).
Details the paper leaves open, chosen here as in dg_tf's DoppelGANger so that
the comparison isolates the architecture:

- output activations per output (softmax per discrete block, sigmoid / tanh
  per continuous range; :class:`~dg_tf.models.layers.OutputHeads`);
- every step after the first "ends" flag is zeroed (flags by
  :func:`~dg_tf.models.generation_flags`, no gradient through them), as DG's
  generator does: real padding is all zeros, which a softmax cannot emit;
- the critic is DG's :class:`~dg_tf.models.Critic` (flattened features next
  to the attributes); WGAN-GP with one uniform mixing coefficient per example
  and the joint per-example penalty of :mod:`dg_tf.losses`;
- one critic step then one generator step per batch, both on the same noise
  (DG's defaults); Adam beta1 = 0.5 as DG (:class:`~dg_tf.config.DGConfig`);
  standard normal noise of width 100; no batch normalization;
- one epoch is one pass over the training series in shuffled batches.
Generation decodes as DG: argmax one-hot for discrete blocks, range
activations for continuous ones (:func:`.common.decode_records`).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.data.specs import Output, total_dim
from dg_tf.losses import gradient_penalty, interpolate, wasserstein_critic_loss, wasserstein_generator_loss
from dg_tf.models import Critic, generation_flags
from dg_tf.models.layers import MLP, OutputHeads
from dg_tf.seeding import derive_seed
from experiments.baselines.common import Baseline, train_epochs

__all__ = ["NaiveGANBaseline", "FlatGenerator"]

#: Series generated per generator call in :meth:`NaiveGANBaseline.generate`.
_GENERATE_BATCH = 1000


class FlatGenerator(keras.Model):
    """MLP from noise to attributes and records, jointly.

    Call: ``noise`` float32 [B, noise_dim] -> ``(attributes [B, A], records [B, L, D])``,
    activated per output, records zero after the first step whose flag says "ends".
    """

    def __init__(
        self,
        hidden_layers: int,
        hidden_units: int,
        attribute_outputs: list[Output],
        record_outputs: list[Output],
        max_length: int,
        seed: int,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.attribute_width = total_dim(attribute_outputs)
        self.record_width = total_dim(record_outputs)
        self.max_length = max_length
        self.hidden = MLP(hidden_layers, hidden_units, derive_seed(seed, "mlp"))
        self.heads = OutputHeads(attribute_outputs + record_outputs * max_length, derive_seed(seed, "heads"))

    def call(self, noise: tf.Tensor, training: bool | None = None) -> tuple[tf.Tensor, tf.Tensor]:
        flat = self.heads(self.hidden(noise))
        attributes = flat[:, : self.attribute_width]
        records = tf.reshape(flat[:, self.attribute_width :], [-1, self.max_length, self.record_width])
        flags = tf.stop_gradient(generation_flags(records[..., -2:]))
        return attributes, records * flags[..., None]


class NaiveGANBaseline(Baseline):
    """WGAN-GP with an MLP generator of metadata and measurements jointly, and an MLP critic.

    Args:
        hidden_layers / hidden_units: both MLPs (appendix B: 4 x 200).
        noise_dim: width of the generator's noise (not given by the paper).
        gp_weight: gradient penalty weight (appendix B: 10.0).
        learning_rate: Adam's, both networks (appendix B: 0.001).
        batch_size: series per step (appendix B: 100).
        epochs: passes over the training series (not given by the paper).
        seed: seeds weights, batches, noise and generation.
    """

    name = "naive_gan"

    def __init__(
        self,
        hidden_layers: int = 4,
        hidden_units: int = 200,
        noise_dim: int = 100,
        gp_weight: float = 10.0,
        learning_rate: float = 1e-3,
        batch_size: int = 100,
        epochs: int = 400,
        seed: int = 0,
    ):
        super().__init__(seed)
        self.hidden_layers = hidden_layers
        self.hidden_units = hidden_units
        self.noise_dim = noise_dim
        self.gp_weight = gp_weight
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.generator: FlatGenerator | None = None
        self.critic: Critic | None = None
        self.history: list[dict[str, float]] = []

    def _optimizer(self) -> keras.optimizers.Optimizer:
        dg = DGConfig()
        return keras.optimizers.Adam(self.learning_rate, beta_1=dg.adam_beta1, beta_2=dg.adam_beta2,
                                     epsilon=dg.adam_epsilon)

    def _fit(self, records: np.ndarray, attributes: np.ndarray, gen_flags: np.ndarray) -> None:
        encoding = self.encoding
        self.generator = FlatGenerator(
            self.hidden_layers, self.hidden_units, list(encoding.attribute_outputs),
            encoding.model_feature_outputs, encoding.max_length, derive_seed(self.seed, self.name, "generator"),
        )
        self.critic = Critic(self.hidden_layers, self.hidden_units, derive_seed(self.seed, self.name, "critic"))
        generator, critic = self.generator, self.critic
        g_optimizer, d_optimizer = self._optimizer(), self._optimizer()
        gp_weight = self.gp_weight

        @tf.function(reduce_retracing=True)
        def train_step(real_records, real_attributes, noise, alpha):
            with tf.GradientTape() as tape:
                fake_attributes, fake_records = generator(noise, training=True)
                d_loss = wasserstein_critic_loss(critic(real_records, real_attributes),
                                                 critic(fake_records, fake_attributes))
                mixed = interpolate([real_records, real_attributes], [fake_records, fake_attributes], alpha)
                gp = gradient_penalty(critic, mixed)
                d_total = d_loss + gp_weight * gp
            grads = tape.gradient(d_total, critic.trainable_variables)
            d_optimizer.apply_gradients(zip(grads, critic.trainable_variables))
            with tf.GradientTape() as tape:
                fake_attributes, fake_records = generator(noise, training=True)
                g_loss = wasserstein_generator_loss(critic(fake_records, fake_attributes))
            grads = tape.gradient(g_loss, generator.trainable_variables)
            g_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
            return {"loss/d": d_total, "loss/d/gp": gp, "loss/g": g_loss}

        noise_rng = self._training_rng("noise")

        def train_batch(batch: np.ndarray) -> dict[str, tf.Tensor]:
            noise = noise_rng.standard_normal((len(batch), self.noise_dim)).astype(np.float32)
            alpha = noise_rng.random(len(batch)).astype(np.float32)
            return train_step(tf.constant(records[batch]), tf.constant(attributes[batch]),
                              tf.constant(noise), tf.constant(alpha))

        self.history = train_epochs(train_batch, len(records), self.batch_size, self.epochs,
                                    self._training_rng("shuffle"), self.name)

    def _generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        noise = rng.standard_normal((n, self.noise_dim)).astype(np.float32)
        parts = [self.generator(tf.constant(noise[start:start + _GENERATE_BATCH]), training=False)
                 for start in range(0, n, _GENERATE_BATCH)]
        attributes = np.concatenate([a.numpy() for a, _ in parts])
        records = np.concatenate([r.numpy() for _, r in parts])
        return records, attributes
