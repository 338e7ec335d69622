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

With ``config.dp_noise_multiplier`` set, the step is a different compiled
function (chosen once, at construction): both critics are trained with DP-SGD
on Poisson samples (paper §6.2, :mod:`dg_tf.dp_sgd`), the generator as usual,
and each epoch logs the epsilon spent so far as ``privacy/epsilon``
(:mod:`dg_tf.privacy_accounting`).

:class:`AttributeTrainer` retrains the attribute generator alone against a
fresh attribute critic (paper §6.1), with the same epoch loop.
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
from dg_tf.dp_sgd import (
    chunk_size,
    clip_per_example,
    masked_sum,
    noisy_average,
    per_example_critic_gradients,
    poisson_sample,
)
from dg_tf.errors import TrainingDivergedError
from dg_tf.losses import (
    gradient_penalty,
    interpolate,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from dg_tf.models import AttributeCritic, Critic, Generator
from dg_tf.privacy_accounting import PrivacyReport, privacy_report, sampling_probability
from dg_tf.seeding import derive_seed

__all__ = ["AttributeTrainer", "Progress", "Trainer", "critic_gradients", "pack"]

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


def critic_gradients(
    critic: keras.Model,
    real: tuple[tf.Tensor, ...],
    fake: tuple[tf.Tensor, ...],
    alpha: tf.Tensor,
    penalty_weight: float,
) -> tuple[list[tf.Tensor], tuple[tf.Tensor, ...]]:
    """Gradients of the batch WGAN-GP critic loss ``mean D(fake) - mean D(real) + lambda GP``.

    Args:
        critic: the critic; ``real`` / ``fake`` are its input tuples, each [B, ...].
        alpha: float32 [B] interpolation coefficients of the penalty.
        penalty_weight: lambda.

    Returns:
        One gradient per ``critic.trainable_variables`` and the scalars
        (loss, mean D(real), mean D(fake), mean GP).
    """
    with tf.GradientTape() as tape:
        real_scores = critic(*real)
        fake_scores = critic(*fake)
        penalty = gradient_penalty(critic, interpolate(real, fake, alpha))
        loss = wasserstein_critic_loss(real_scores, fake_scores) + penalty_weight * penalty
    grads = tape.gradient(loss, critic.trainable_variables)
    return grads, (loss, tf.reduce_mean(real_scores), tf.reduce_mean(fake_scores), penalty)


def _critic_metrics(prefix: str, loss, real_mean, fake_mean, penalty) -> dict[str, tf.Tensor]:
    """A critic update's scalars under the original TensorBoard names."""
    return {
        f"loss/{prefix}": loss,
        f"loss/{prefix}/fake": fake_mean,
        f"loss/{prefix}/real": -real_mean,
        f"loss/{prefix}/gp": penalty,
        f"{prefix}/fake": fake_mean,
        f"{prefix}/real": real_mean,
    }


def _adam(config: DGConfig, learning_rate: float, variables: list[tf.Variable]) -> keras.optimizers.Optimizer:
    optimizer = keras.optimizers.Adam(
        learning_rate=learning_rate, beta_1=config.adam_beta1, beta_2=config.adam_beta2,
        epsilon=config.adam_epsilon,
    )
    optimizer.build(variables)
    return optimizer


class Progress:
    """Receives training progress; the CLI's progress bar subclasses it. Methods do nothing here."""

    def on_train_begin(self, start_epoch: int, epochs: int, steps_per_epoch: int) -> None:
        """Training runs epochs ``start_epoch + 1 .. epochs``."""

    def on_step_end(self, epoch: int, step: int) -> None:
        """``step`` (1-based, within the epoch) of ``epoch`` (1-based) finished."""

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        """``epoch`` finished; ``metrics`` are its mean losses under the TensorBoard names."""


class _EpochLoop:
    """The epoch loop shared by the trainers: steps, checkpoints, TensorBoard, NaN check.

    Subclasses create their networks and optimizers, then call this
    ``__init__`` with them as ``trackables`` (checkpointed with the RNG and
    the epoch counter) and define ``_train_step`` (compiled here).
    """

    def __init__(
        self,
        config: DGConfig,
        num_samples: int,
        seed: int,
        trackables: dict[str, object],
        *,
        checkpoint_dir: str | Path | None = None,
        logdir: str | Path | None = None,
        figure_fn: FigureFn | None = None,
    ):
        self.config = config
        self.num_samples = num_samples
        self.steps_per_epoch = max(1, num_samples // config.batch_size)
        self.rng = tf.random.Generator.from_seed(seed)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.checkpoint = tf.train.Checkpoint(**trackables, rng=self.rng, epoch=self.epoch)
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

    def _train_step(self) -> dict[str, tf.Tensor]:
        raise NotImplementedError

    def _epoch_metrics(self, epoch: int) -> dict[str, float]:
        """Extra scalars logged after ``epoch`` (none here)."""
        return {}

    def _critic_update(self, critic, optimizer, real, fake, penalty_weight, prefix):
        """One WGAN-GP update of ``critic`` on input tuples ``real`` / ``fake``."""
        alpha = self.rng.uniform([tf.shape(real[0])[0]])
        grads, terms = critic_gradients(critic, real, fake, alpha, penalty_weight)
        optimizer.apply_gradients(zip(grads, critic.trainable_variables))
        return _critic_metrics(prefix, *terms)

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
            metrics.update(self._epoch_metrics(epoch))
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


class Trainer(_EpochLoop):
    """Optimizers, the compiled step, checkpoints and logs of one training run.

    Args:
        config: hyperparameters; ``dp_noise_multiplier`` selects the DP step.
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
        self.generator = generator
        self.critic = critic
        self.aux_critic = aux_critic
        self.real_features = tf.constant(features, tf.float32)
        self.real_attributes = tf.constant(attributes, tf.float32)
        self.generator_optimizer = _adam(config, config.generator_lr, generator.trainable_variables)
        self.critic_optimizer = _adam(config, config.critic_lr, critic.trainable_variables)
        trackables = dict(
            generator=generator,
            critic=critic,
            generator_optimizer=self.generator_optimizer,
            critic_optimizer=self.critic_optimizer,
        )
        if aux_critic is not None:
            self.aux_critic_optimizer = _adam(config, config.aux_critic_lr, aux_critic.trainable_variables)
            trackables.update(aux_critic=aux_critic, aux_critic_optimizer=self.aux_critic_optimizer)
        super().__init__(
            config, int(features.shape[0]), derive_seed(config.seed, "training"), trackables,
            checkpoint_dir=checkpoint_dir, logdir=logdir, figure_fn=figure_fn,
        )
        if config.dp_noise_multiplier is not None:
            self.dp_sampling_probability = sampling_probability(config.batch_size, self.num_samples)
            self.dp_expected_batch_size = self.dp_sampling_probability * self.num_samples
            self.dp_chunk_size = chunk_size(
                self.dp_expected_batch_size, self.dp_sampling_probability, self.num_samples
            )
            self._step = tf.function(self._dp_train_step)

    # ------------------------------------------------------------------ step
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
        metrics.update(self._generator_updates(noise))
        return metrics

    def _generator_updates(self, noise: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """``generator_rounds`` updates of the generator on ``-D(fake) - alpha D_attr(fake)``."""
        c = self.config
        k = c.num_packing
        metrics: dict[str, tf.Tensor] = {}
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

    # -------------------------------------------------------------- DP step
    def _dp_train_step(self) -> dict[str, tf.Tensor]:
        """The step with DP-SGD critics: a fresh Poisson sample per critic update (paper §6.2)."""
        c = self.config
        noise = self.generator.sample_noise(self.rng, c.batch_size)
        metrics: dict[str, tf.Tensor] = {}
        for _ in range(c.critic_rounds):
            fake = self.generator(noise, training=True)
            metrics.update(self._dp_critic_updates(fake["features"], fake["attributes"]))
        metrics.update(self._generator_updates(noise))
        return metrics

    def _dp_critic_updates(self, fake_features: tf.Tensor, fake_attributes: tf.Tensor) -> dict[str, tf.Tensor]:
        """One DP-SGD update of each critic, both on the same Poisson sample.

        The sample is processed in chunks of ``dp_chunk_size`` slots (a
        ``tf.while_loop``; padded slots masked), each real example paired
        with a generated one drawn uniformly from ``fake_*`` [batch_size, ...].
        """
        c = self.config
        # (critic, optimizer, penalty weight, TensorBoard prefix, whether it sees the features)
        critics = [(self.critic, self.critic_optimizer, c.gradient_penalty_weight, "d", True)]
        if self.aux_critic is not None:
            critics.append(
                (self.aux_critic, self.aux_critic_optimizer, c.aux_gradient_penalty_weight, "attr_d", False)
            )
        index = poisson_sample(self.rng, self.num_samples, self.dp_sampling_probability)
        count = tf.shape(index, out_type=tf.int64)[0]
        slots = self.dp_chunk_size
        num_chunks = (count + slots - 1) // slots

        def chunk_sums(chunk, grad_sums, term_sums):
            slot = chunk * slots + tf.range(slots, dtype=tf.int64)
            mask = tf.cast(slot < count, tf.float32)
            rows = tf.gather(index, tf.minimum(slot, count - 1))
            partners = self.rng.uniform([slots], 0, c.batch_size, dtype=tf.int64)
            real = (tf.gather(self.real_features, rows), tf.gather(self.real_attributes, rows))
            fake = (tf.gather(fake_features, partners), tf.gather(fake_attributes, partners))
            new_grad_sums, new_term_sums = [], []
            for (critic, _, weight, _, sees_features), grad_sum, term_sum in zip(critics, grad_sums, term_sums):
                grads, terms = per_example_critic_gradients(
                    critic, critic.trainable_variables,
                    real if sees_features else real[1:], fake if sees_features else fake[1:],
                    self.rng.uniform([slots]), weight,
                )
                clipped, _ = clip_per_example(grads, c.dp_l2_clip)
                new_grad_sums.append([s + masked_sum(g, mask) for s, g in zip(grad_sum, clipped)])
                new_term_sums.append(term_sum + masked_sum(terms, mask))
            return chunk + 1, new_grad_sums, new_term_sums

        start = (
            tf.constant(0, tf.int64),
            [[tf.zeros_like(v) for v in critic.trainable_variables] for critic, *_ in critics],
            [tf.zeros([3]) for _ in critics],
        )
        _, grad_sums, term_sums = tf.while_loop(lambda chunk, *_: chunk < num_chunks, chunk_sums, start)
        sampled = tf.maximum(tf.cast(count, tf.float32), 1.0)
        metrics: dict[str, tf.Tensor] = {}
        for (critic, optimizer, weight, prefix, _), grad_sum, term_sum in zip(critics, grad_sums, term_sums):
            grads = noisy_average(
                grad_sum, self.rng, c.dp_noise_multiplier, c.dp_l2_clip, self.dp_expected_batch_size
            )
            optimizer.apply_gradients(zip(grads, critic.trainable_variables))
            real_mean, fake_mean, penalty = tf.unstack(term_sum / sampled)
            loss = fake_mean - real_mean + weight * penalty
            metrics.update(_critic_metrics(prefix, loss, real_mean, fake_mean, penalty))
        return metrics

    def privacy_report(self) -> PrivacyReport | None:
        """The (epsilon, delta) spent by the epochs completed so far; ``None`` without DP."""
        if self.config.dp_noise_multiplier is None:
            return None
        steps = int(self.epoch.numpy()) * self.steps_per_epoch * self.config.critic_rounds
        return privacy_report(self.config, self.num_samples, steps)

    def _epoch_metrics(self, epoch: int) -> dict[str, float]:
        report = self.privacy_report()
        return {} if report is None else {"privacy/epsilon": report.epsilon}


class AttributeTrainer(_EpochLoop):
    """Retrains the attribute generator alone towards new attributes (paper §6.1).

    Only the generator's attribute MLP and heads learn (Adam with
    ``generator_lr``); the min/max and feature generators are neither run nor
    changed, so the conditional distribution of series given attributes stays
    as trained. Their adversary is a fresh attribute critic on the *real*
    attribute columns only (the min/max attributes are outputs of the frozen
    min/max generator and have no target), trained with WGAN-GP (Adam with
    ``aux_critic_lr``, penalty ``aux_gradient_penalty_weight``). Batches of
    ``batch_size`` rows are drawn with replacement, ``critic_rounds`` critic
    and ``generator_rounds`` generator updates per step. The attribute MLP's
    BatchNorm runs in training mode, so its moving statistics follow the new
    distribution. (The original retrained both original critics on zeroed
    features instead; ORIGINAL_DG_SPEC.md §7.)

    Args:
        config: the model's hyperparameters.
        generator: the trained generator (with attribute outputs).
        critic: a new, built attribute critic for inputs [B, A_real].
        attributes: float32 [N, A_real] target attributes in the encoded layout
            (discrete one-hot, continuous in range).
        seed: seeds batches, noise and penalty mixing.
        logdir: TensorBoard folder; ``None`` writes no summaries.
    """

    def __init__(
        self,
        config: DGConfig,
        generator: Generator,
        critic: AttributeCritic,
        attributes: np.ndarray,
        *,
        seed: int,
        logdir: str | Path | None = None,
    ):
        self.generator = generator
        self.critic = critic
        self.real_attributes = tf.constant(attributes, tf.float32)
        self.variables = [
            *generator.attribute_mlp.trainable_variables, *generator.attribute_heads.trainable_variables
        ]
        self.generator_optimizer = _adam(config, config.generator_lr, self.variables)
        self.critic_optimizer = _adam(config, config.aux_critic_lr, critic.trainable_variables)
        super().__init__(
            config, int(attributes.shape[0]), derive_seed(seed, "retrain_attributes"),
            dict(critic=critic, generator_optimizer=self.generator_optimizer,
                 critic_optimizer=self.critic_optimizer),
            logdir=logdir,
        )

    def _generate(self, noise: tf.Tensor) -> tf.Tensor:
        """Real attributes [B, A_real] (discrete ones as probabilities) from attribute noise."""
        return self.generator.attribute_heads(self.generator.attribute_mlp(noise, training=True))

    def _train_step(self) -> dict[str, tf.Tensor]:
        c = self.config
        index = self.rng.uniform([c.batch_size], 0, self.num_samples, dtype=tf.int64)
        real = tf.gather(self.real_attributes, index)
        noise = self.rng.normal([c.batch_size, c.attribute_noise_dim])
        metrics: dict[str, tf.Tensor] = {}
        for _ in range(c.critic_rounds):
            metrics.update(self._critic_update(
                self.critic, self.critic_optimizer, (real,), (self._generate(noise),),
                c.aux_gradient_penalty_weight, "attr_d",
            ))
        for _ in range(c.generator_rounds):
            with tf.GradientTape() as tape:
                loss = wasserstein_generator_loss(self.critic(self._generate(noise)))
            self.generator_optimizer.apply_gradients(zip(tape.gradient(loss, self.variables), self.variables))
            metrics["loss/g"] = loss
        return metrics
