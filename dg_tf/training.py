"""The DoppelGANger training loop (paper §4.3, appendix B; original ``train``).

One step (a compiled ``tf.function``, no Python side effects):
1. draw ``batch_size * num_packing`` real samples *with replacement* and all
   noise from the run's seeded ``tf.random.Generator``;
2. ``critic_rounds`` times: generate (BatchNorm in training mode), then update
   the critic on ``D(fake) - D(real) + lambda * GP`` and the auxiliary critic
   on the same loss over attributes only, each with its own interpolation
   coefficients;
3. ``generator_rounds`` times: update the generator on
   ``-D(fake) - alpha * D_attr(fake)``.
Every round of a step reuses the same real batch and noise, as the original.

Around it, :class:`Trainer` keeps Adam per network, writes TensorBoard scalars
under the original names and figures, saves ``tf.train.CheckpointManager``
checkpoints (weights, optimizer state, RNG state, epoch) and resumes from them,
and stops with :class:`~dg_tf.errors.TrainingDivergedError` on NaN/Inf
without overwriting the last good checkpoint.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.errors import TrainingDivergedError
from dg_tf.losses import (
    gradient_penalty,
    interpolate,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from dg_tf.models import AttributeCritic, Critic, Generator
from dg_tf.seeding import derive_seed

__all__ = ["Progress", "Trainer", "pack"]

logger = logging.getLogger(__name__)

#: An image for TensorBoard: uint8 [height, width, channels].
FigureFn = Callable[[int], np.ndarray]


def pack(x: tf.Tensor, num_packing: int) -> tf.Tensor:
    """PacGAN packing: [B * k, d1, ...] -> [B, k * d1, ...].

    Consecutive groups of k examples are concatenated along the first
    non-batch axis (time for features, columns for attributes), as the original.
    """
    if num_packing == 1:
        return x
    shape = tf.shape(x)
    return tf.reshape(x, tf.concat([[shape[0] // num_packing, num_packing * shape[1]], shape[2:]], 0))


class Progress:
    """Receives training progress; the CLI's progress bar subclasses it. Methods do nothing here."""

    def on_train_begin(self, start_epoch: int, epochs: int, steps_per_epoch: int) -> None:
        """Training runs epochs ``start_epoch + 1 .. epochs``."""

    def on_step_end(self, epoch: int, step: int) -> None:
        """``step`` (1-based, within the epoch) of ``epoch`` (1-based) finished."""

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        """``epoch`` finished; ``metrics`` are its mean losses under the TensorBoard names."""


class Trainer:
    """Optimizers, the compiled step, checkpoints and logs of one training run.

    Args:
        config: hyperparameters.
        generator, critic, aux_critic: the networks, already built (variables
            created); ``aux_critic`` is ``None`` when ``config.use_aux_critic`` is off.
        features: float32 [N, L, D] encoded real features (flag channels last).
        attributes: float32 [N, A] encoded real attributes (real, then min/max).
        checkpoint_dir: where checkpoints go; ``None`` keeps none.
        logdir: TensorBoard folder; ``None`` writes no summaries.
        figure_fn: ``epoch -> image`` of a few generated series, logged every
            ``config.figure_every`` epochs.
    """

    def __init__(
        self,
        config: DGConfig,
        generator: Generator,
        critic: Critic,
        aux_critic: AttributeCritic | None,
        features: np.ndarray,
        attributes: np.ndarray,
        *,
        checkpoint_dir: str | Path | None = None,
        logdir: str | Path | None = None,
        figure_fn: FigureFn | None = None,
    ):
        self.config = config
        self.generator = generator
        self.critic = critic
        self.aux_critic = aux_critic
        self.num_samples = int(features.shape[0])
        self.steps_per_epoch = max(1, self.num_samples // config.batch_size)
        self.real_features = tf.constant(features, tf.float32)
        self.real_attributes = tf.constant(attributes, tf.float32)
        self.rng = tf.random.Generator.from_seed(derive_seed(config.seed, "training"))
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.generator_optimizer = self._adam(config.generator_lr, generator)
        self.critic_optimizer = self._adam(config.critic_lr, critic)
        trackables = dict(
            generator=generator,
            critic=critic,
            generator_optimizer=self.generator_optimizer,
            critic_optimizer=self.critic_optimizer,
            rng=self.rng,
            epoch=self.epoch,
        )
        if aux_critic is not None:
            self.aux_critic_optimizer = self._adam(config.aux_critic_lr, aux_critic)
            trackables.update(aux_critic=aux_critic, aux_critic_optimizer=self.aux_critic_optimizer)
        self.checkpoint = tf.train.Checkpoint(**trackables)
        self.manager = (
            tf.train.CheckpointManager(
                self.checkpoint, str(checkpoint_dir), max_to_keep=config.checkpoints_to_keep,
                checkpoint_name="ckpt",
            )
            if checkpoint_dir is not None
            else None
        )
        self.writer = tf.summary.create_file_writer(str(logdir)) if logdir is not None else None
        self.figure_fn = figure_fn
        self.figure_dir = Path(logdir) / "figures" if logdir is not None else None
        self._step = tf.function(self._train_step)

    def _adam(self, learning_rate: float, model: keras.Model) -> keras.optimizers.Optimizer:
        c = self.config
        optimizer = keras.optimizers.Adam(
            learning_rate=learning_rate, beta_1=c.adam_beta1, beta_2=c.adam_beta2, epsilon=c.adam_epsilon
        )
        optimizer.build(model.trainable_variables)
        return optimizer

    # ------------------------------------------------------------------ step
    def _critic_update(self, critic, optimizer, real, fake, penalty_weight, prefix):
        """One WGAN-GP update of ``critic`` on input tuples ``real`` / ``fake``."""
        alpha = self.rng.uniform([tf.shape(real[0])[0]])
        with tf.GradientTape() as tape:
            real_scores = critic(*real)
            fake_scores = critic(*fake)
            penalty = gradient_penalty(critic, interpolate(real, fake, alpha))
            loss = wasserstein_critic_loss(real_scores, fake_scores) + penalty_weight * penalty
        grads = tape.gradient(loss, critic.trainable_variables)
        optimizer.apply_gradients(zip(grads, critic.trainable_variables))
        real_mean = tf.reduce_mean(real_scores)
        fake_mean = tf.reduce_mean(fake_scores)
        return {
            f"loss/{prefix}": loss,
            f"loss/{prefix}/fake": fake_mean,
            f"loss/{prefix}/real": -real_mean,
            f"loss/{prefix}/gp": penalty,
            f"{prefix}/fake": fake_mean,
            f"{prefix}/real": real_mean,
        }

    def _train_step(self) -> dict[str, tf.Tensor]:
        c = self.config
        k = c.num_packing
        batch = c.batch_size * k
        index = self.rng.uniform([batch], 0, self.num_samples, dtype=tf.int64)
        real_features = pack(tf.gather(self.real_features, index), k)
        real_attributes = pack(tf.gather(self.real_attributes, index), k)
        noise = self.generator.sample_noise(self.rng, batch)
        metrics: dict[str, tf.Tensor] = {}
        for _ in range(c.critic_rounds):
            fake = self.generator(noise, training=True)
            fake_features = pack(fake["features"], k)
            fake_attributes = pack(fake["attributes"], k)
            metrics.update(self._critic_update(
                self.critic, self.critic_optimizer,
                (real_features, real_attributes), (fake_features, fake_attributes),
                c.gradient_penalty_weight, "d",
            ))
            if self.aux_critic is not None:
                metrics.update(self._critic_update(
                    self.aux_critic, self.aux_critic_optimizer,
                    (real_attributes,), (fake_attributes,),
                    c.aux_gradient_penalty_weight, "attr_d",
                ))
        variables = self.generator.trainable_variables
        for _ in range(c.generator_rounds):
            with tf.GradientTape() as tape:
                fake = self.generator(noise, training=True)
                fake_attributes = pack(fake["attributes"], k)
                loss_d = wasserstein_generator_loss(
                    self.critic(pack(fake["features"], k), fake_attributes)
                )
                loss = loss_d
                if self.aux_critic is not None:
                    loss_attr_d = wasserstein_generator_loss(self.aux_critic(fake_attributes))
                    loss = loss + c.aux_critic_weight * loss_attr_d
                    metrics["loss/g/attr_d"] = loss_attr_d
            grads = tape.gradient(loss, variables)
            self.generator_optimizer.apply_gradients(
                [(g, v) for g, v in zip(grads, variables) if g is not None]
            )
            metrics["loss/g/d"] = loss_d
            metrics["loss/g"] = loss
        return metrics

    # ------------------------------------------------------------------ loop
    def restore(self) -> int:
        """Restore the latest checkpoint, if any; returns the epochs it had completed."""
        if self.manager is None or self.manager.latest_checkpoint is None:
            return 0
        self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
        logger.info("resumed from %s (epoch %d)", self.manager.latest_checkpoint, int(self.epoch))
        return int(self.epoch.numpy())

    def train(self, epochs: int, progress: Progress | None = None) -> dict[str, float]:
        """Train until ``epochs`` epochs are complete (counting restored ones).

        Returns:
            The mean losses of the last epoch run (empty if none ran).

        Raises:
            TrainingDivergedError: a loss became NaN or Inf; nothing of that
                epoch is saved.
        """
        progress = progress or Progress()
        start = int(self.epoch.numpy())
        progress.on_train_begin(start, epochs, self.steps_per_epoch)
        metrics: dict[str, float] = {}
        for epoch in range(start + 1, epochs + 1):
            began = time.perf_counter()
            totals: dict[str, tf.Tensor] = {}
            for step in range(1, self.steps_per_epoch + 1):
                for name, value in self._step().items():
                    totals[name] = totals[name] + value if name in totals else value
                progress.on_step_end(epoch, step)
            metrics = {name: float(v) / self.steps_per_epoch for name, v in totals.items()}
            bad = sorted(name for name, v in metrics.items() if not math.isfinite(v))
            if bad:
                last = self.manager.latest_checkpoint if self.manager is not None else None
                raise TrainingDivergedError(
                    f"{', '.join(bad)} became {metrics[bad[0]]} in epoch {epoch}; "
                    f"the last good checkpoint is {last or 'none (no checkpoint saved yet)'}. "
                    "Resume from it with a lower learning rate or a larger batch."
                )
            self.epoch.assign(epoch)
            metrics["time/epoch_seconds"] = time.perf_counter() - began
            self._log(epoch, metrics)
            if self.manager is not None and (epoch % self.config.checkpoint_every == 0 or epoch == epochs):
                self.manager.save(checkpoint_number=epoch)
            progress.on_epoch_end(epoch, metrics)
        return metrics

    def _log(self, epoch: int, metrics: dict[str, float]) -> None:
        logger.debug("epoch %d: %s", epoch, metrics)
        if self.writer is None:
            return
        global_step = epoch * self.steps_per_epoch
        with self.writer.as_default(step=global_step):
            for name, value in metrics.items():
                tf.summary.scalar(name, value)
            every = self.config.figure_every
            if self.figure_fn is not None and every and (epoch % every == 0 or epoch == 1):
                image = self.figure_fn(epoch)
                tf.summary.image("generated_series", image[None], max_outputs=1)
                self.figure_dir.mkdir(parents=True, exist_ok=True)
                tf.io.write_file(
                    str(self.figure_dir / f"epoch_{epoch:05d}.png"), tf.io.encode_png(image)
                )
        self.writer.flush()
