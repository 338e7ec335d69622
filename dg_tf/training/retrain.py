"""Retraining the attribute generator alone towards new attributes (paper §6.1).

Only the generator's attribute MLP and heads learn (Adam with
``generator_lr``); the min/max and feature generators are neither run nor
changed, so the conditional distribution of series given attributes stays as
trained. Their adversary is a fresh attribute critic on the *real* attribute
columns only (the min/max attributes are outputs of the frozen min/max
generator and have no target), trained with WGAN-GP (Adam with
``aux_critic_lr``, penalty ``aux_gradient_penalty_weight``). Batches of
``batch_size`` rows are drawn with replacement, ``critic_rounds`` critic and
``generator_rounds`` generator updates per step. The attribute MLP's
BatchNorm runs in training mode, so its moving statistics follow the new
distribution. (The original retrained both original critics on zeroed
features instead.) Runs on one device (the attribute MLP is small), its
optimizers created where the model's variables live.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.losses import wasserstein_generator_loss
from dg_tf.models import AttributeCritic, Generator, choose_kernels
from dg_tf.seeding import derive_seed
from dg_tf.training.distribute import strategy_scope
from dg_tf.training.loop import TrainingLoop
from dg_tf.training.step import CriticSlot, adam, aux_critic_view, critic_gradients, finish_generator

__all__ = ["AttributeStep", "AttributeTrainer"]


class AttributeStep:
    """One step of attribute retraining: critic rounds, then generator rounds, on one batch and noise.

    Args:
        config: the model's settings (batch, rounds, rates, noise width, penalty).
        generator: the trained generator (with attribute outputs).
        critic: a new, built attribute critic for inputs [B, A_real].
        attributes: float32 [N, A_real] target attributes in the encoded layout
            (discrete one-hot, continuous in range).
        seed: seeds :attr:`rng` (batches, noise, penalty mixing).
    """

    def __init__(self, config: DGConfig, generator: Generator, critic: AttributeCritic, attributes: np.ndarray, *,
                 seed: int):
        self.config = config
        self.generator = generator
        self.real_attributes = tf.constant(attributes, tf.float32)
        self.num_samples = int(attributes.shape[0])
        self.seed = seed
        self.rng = tf.random.Generator.from_seed(seed)
        self.variables = [*generator.attribute_mlp.trainable_variables,
                          *generator.attribute_heads.trainable_variables]
        with strategy_scope(config.strategy):  # where the model's variables live
            self.generator_optimizer = adam(config, config.generator_lr, self.variables, averaged=True)
            self.critic = CriticSlot(critic, adam(config, config.aux_critic_lr, critic.trainable_variables),
                                     config.aux_gradient_penalty_weight, "attr_d")

    def generate(self, noise: tf.Tensor) -> tf.Tensor:
        """Real attributes from attribute noise [B, noise], as the critic sees them (:func:`aux_critic_view`,
        as the auxiliary critic sees them in training): [B, A_real], or [B, 2 * A_real] when
        ``config.training.aux_critic_input`` is ``"both"``."""
        hidden = self.generator.attribute_mlp(noise, training=True)
        return aux_critic_view(self.config, self.generator, tf.cast(self.generator.attribute_heads(hidden), tf.float32))

    def __call__(self, real: tuple[tf.Tensor] | None = None) -> dict[str, tf.Tensor]:
        """One step on ``real`` rows ([B, A_real], from the ``tf.data`` pipeline) or rows drawn here."""
        c = self.config
        (real,) = self.draw_rows(c.batch_size) if real is None else real
        noise = self.rng.normal([c.batch_size, c.attribute_noise_dim])
        logs: dict[str, tf.Tensor] = {}
        critic = self.critic
        seen_real = aux_critic_view(c, self.generator, real)  # the same rows every critic round
        for _ in range(c.critic_rounds):
            alpha = self.rng.uniform([c.batch_size])
            grads, terms = critic_gradients(critic.network, (seen_real,), (self.generate(noise),), alpha,
                                            critic.penalty_weight, critic.optimizer.scale_loss)
            critic.optimizer.apply_gradients(zip(grads, critic.network.trainable_variables))
            logs.update(critic.logs(*terms))
        for _ in range(c.generator_rounds):
            with tf.GradientTape() as tape:
                loss = wasserstein_generator_loss(critic.network(self.generate(noise)))
                scaled = self.generator_optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, self.variables)
            self.generator_optimizer.apply_gradients(zip(grads, self.variables))
            logs["loss/g"] = loss
        return logs

    @property
    def batch_size(self) -> int:
        return self.config.batch_size

    def data(self) -> tuple[tf.Tensor, ...]:
        return (self.real_attributes,)

    def draw_rows(self, count: int) -> tuple[tf.Tensor, ...]:
        """``count`` rows drawn with replacement, indices from :attr:`rng`."""
        index = self.rng.uniform([count], 0, self.num_samples, dtype=tf.int64)
        return (tf.gather(self.real_attributes, index),)

    def finish(self) -> None:
        """After the last step: the attribute generator's weight average and standing statistics (the
        min/max MLP's statistics stay, so series for given attributes are unchanged)."""
        finish_generator(self.config, self.generator, self.generator_optimizer, self.variables, attributes_only=True)

    @property
    def trackables(self) -> dict[str, object]:
        return dict(critic=self.critic.network, generator_optimizer=self.generator_optimizer,
                    critic_optimizer=self.critic.optimizer)

    def learning_rates(self) -> list[tuple[keras.optimizers.Optimizer, float]]:
        return [(self.generator_optimizer, self.config.generator_lr), (self.critic.optimizer, self.config.aux_critic_lr)]


class AttributeTrainer(TrainingLoop):
    """:class:`AttributeStep` in a :class:`TrainingLoop` (no checkpoints; TensorBoard with ``logdir``).

    Args:
        config: the model's settings.
        generator: the trained generator (with attribute outputs).
        critic: a new, built attribute critic for inputs [B, A_real].
        attributes: float32 [N, A_real] target attributes.
        seed: seeds batches, noise and penalty mixing.
        logdir: TensorBoard folder; ``None`` writes no summaries.
    """

    def __init__(self, config: DGConfig, generator: Generator, critic: AttributeCritic, attributes: np.ndarray, *,
                 seed: int, logdir: str | Path | None = None):
        step = AttributeStep(config, generator, critic, attributes, seed=derive_seed(seed, "retrain_attributes"))
        super().__init__(step, config, xla=choose_kernels(config).xla, logdir=logdir, watch=step.variables)
