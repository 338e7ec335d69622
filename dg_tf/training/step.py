"""One training step of DoppelGANger (paper §4.3, appendix B; the original's ``train``).

:meth:`GANStep.train_step` is the algorithm, WGAN-GP (Gulrajani et al.) with
an auxiliary critic:

1. the critic loop: ``critic_rounds`` times, update the critic on
   ``mean D(fake) - mean D(real) + lambda * GP`` (:func:`critic_gradients`)
   and the auxiliary critic on the same loss over attributes only, each with
   its own interpolation coefficients (with differential privacy, both on
   one Poisson sample instead: :class:`~dg_tf.training.dp.DPCriticUpdate`);
2. the generator loop: ``generator_rounds`` times, update the generator on
   ``-D(fake) - alpha * D_attr(fake)``.

Every round of a step reuses the same real batch and noise, as the original.
:meth:`GANStep.__call__` draws them first, in a fixed order, from the run's
seeded ``tf.random.Generator`` (real rows with replacement, noise, penalty
coefficients), so a resumed run draws what an uninterrupted one would.

One generator forward per step: the original ran the generator again for
every round, but critic updates change nothing in the generator, so those
passes all equal the first. The critic loop therefore runs on the forward
pass of generator round 0 (outside its tape), and
:meth:`~dg_tf.models.generator.Generator.update_batch_norm_statistics` replays
the BatchNorm moving-statistics updates of the skipped passes: the weights are
bitwise the original's (tested), one forward cheaper.

Symbols: B batch_size, k num_packing, L length, D feature width, A attribute width.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.data.specs import total_dim
from dg_tf.losses import gradient_penalty, interpolate, wasserstein_critic_loss, wasserstein_generator_loss
from dg_tf.models import AttributeCritic, Critic, Generator, pack
from dg_tf.training.distribute import Replicas
from dg_tf.training.dp import DPCriticUpdate
from dg_tf.training.standing import set_standing_statistics

__all__ = ["AveragingAdam", "CriticSlot", "GANStep", "adam", "aux_critic_view", "critic_attribute_view", "critic_gradients",
           "finish_generator"]

logger = logging.getLogger(__name__)


class AveragingAdam(keras.optimizers.Adam):
    """Adam whose moving average of the weights (``use_ema``) warms up as TF1's ``ExponentialMovingAverage``.

    The first update sets the average to the weights; after ``n`` earlier
    updates the momentum is ``min(ema_momentum, (1 + n) / (10 + n))``, as
    ``tf.train.ExponentialMovingAverage(decay, num_updates)``. So a short run
    averages roughly its own last tenth of steps instead of reaching back to
    its start, and a long one (``n`` > 890 at momentum 0.99) averages with
    ``ema_momentum``. Keras's own average uses ``ema_momentum`` from the
    second update on. Checkpointed as Keras's: the average is optimizer state.
    It replaces Keras's private ``_update_model_variables_moving_average``
    (called by ``apply_gradients``; ``tests/test_generator_average.py``
    checks the result against a NumPy oracle, so a change in Keras shows).
    """

    def _update_model_variables_moving_average(self, trainable_variables):
        if not self.use_ema:
            return
        done = tf.cast(self.iterations, tf.float32)  # updates before this one
        momentum = tf.where(done > 0, tf.minimum(self.ema_momentum, (1.0 + done) / (10.0 + done)), 0.0)
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                m = tf.cast(momentum, var.dtype)
                average.assign(m * average + (1 - m) * var)


def adam(config: DGConfig, learning_rate: float, variables: list[tf.Variable], *,
         averaged: bool = False) -> keras.optimizers.Optimizer:
    """Adam over ``variables`` with the config's betas and epsilon (dynamic loss scaling under ``mixed_float16``).

    ``averaged``: the generator's optimizer, which keeps the moving average
    of ``variables`` when ``generator_ema`` is set (:class:`AveragingAdam`).
    """
    ema = config.generator_ema if averaged else None
    optimizer = AveragingAdam(
        learning_rate=learning_rate, beta_1=config.adam_beta1, beta_2=config.adam_beta2,
        epsilon=config.adam_epsilon, **({} if ema is None else {"use_ema": True, "ema_momentum": ema}),
    )
    if config.precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(variables)
    return optimizer


def finish_generator(config: DGConfig, generator: Generator, optimizer: keras.optimizers.Optimizer,
                     variables: list[tf.Variable], *, attributes_only: bool = False) -> None:
    """After the last step of a run that trained ``variables`` of ``generator`` with ``optimizer``.

    ``variables`` (those ``optimizer`` was built on, in order) take its moving
    average, if it keeps one (``generator_ema``); then, with
    ``standing_statistics``, the generator's BatchNorm statistics become those
    of the final weights (the attribute MLP's only, with ``attributes_only``).
    """
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # under LossScaleOptimizer
    if inner.use_ema:
        inner.finalize_variable_values(variables)
        logger.info("the generator takes the moving average of its weights (momentum %g)", inner.ema_momentum)
    if config.standing_statistics:
        set_standing_statistics(generator, seed=config.seed, batch_size=config.batch_size, strategy=config.strategy,
                                attributes_only=attributes_only)


@dataclasses.dataclass
class CriticSlot:
    """A critic and what it is trained with.

    Attributes:
        network: the critic.
        optimizer: its Adam.
        penalty_weight: lambda of its gradient penalty.
        prefix: its TensorBoard names, ``loss/<prefix>``, ... ("d", "attr_d").
        sees_features: it scores (features, attributes); otherwise attributes only.
    """

    network: keras.Model
    optimizer: keras.optimizers.Optimizer
    penalty_weight: float
    prefix: str
    sees_features: bool = True

    def inputs(self, data: tuple[tf.Tensor, ...]) -> tuple[tf.Tensor, ...]:
        """This critic's inputs from real or generated (features, attributes, attributes as the auxiliary
        critic sees them: :meth:`GANStep.critic_inputs`)."""
        return data[:2] if self.sees_features else data[-1:]

    def logs(self, loss, real_mean, fake_mean, penalty) -> dict[str, tf.Tensor]:
        """An update's scalars under the original TensorBoard names."""
        p = self.prefix
        return {f"loss/{p}": loss, f"loss/{p}/fake": fake_mean, f"loss/{p}/real": -real_mean, f"loss/{p}/gp": penalty,
                f"{p}/fake": fake_mean, f"{p}/real": real_mean}


def _with_one_hot(generator: Generator, attributes: tf.Tensor) -> tf.Tensor:
    """``[attributes, one-hot view of the real attributes]`` float32 [B, A + A_real] from attributes [B, A].

    The one-hot view is :meth:`~dg_tf.models.generator.Generator.one_hot_attributes`
    (the labels generation outputs, with the straight-through gradient). Real
    discrete attributes are one-hot already, and the one-hot view of a one-hot
    vector is that vector exactly, so real rows go through the same function.
    """
    real = attributes[:, :total_dim(generator.attribute_outputs)]
    return tf.concat([attributes, generator.one_hot_attributes(real)], axis=-1)


def critic_attribute_view(config: DGConfig, generator: Generator, attributes: tf.Tensor) -> tf.Tensor:
    """Attributes float32 [B, A] (real or generated) as the critic of features and attributes scores them.

    The attributes as they are (the original), or with
    ``config.critic_probabilities_and_one_hot`` the one-hot view of the real
    ones beside them (:func:`_with_one_hot`), [B, A + A_real].
    """
    return _with_one_hot(generator, attributes) if config.critic_probabilities_and_one_hot else attributes


def aux_critic_view(config: DGConfig, generator: Generator, attributes: tf.Tensor) -> tf.Tensor:
    """Attributes float32 [B, A] (real or generated) as the auxiliary (or retraining's attribute) critic scores them.

    By ``config.training.aux_critic_input``: ``"probabilities"``, the
    attributes as they are (the original); ``"one_hot"``, the one-hot vectors
    generation outputs (:meth:`~dg_tf.models.generator.Generator.one_hot_attributes`),
    [B, A]; ``"both"``, ``[attributes, one-hot view of the real attributes]``
    (:func:`_with_one_hot`), [B, A + A_real].
    """
    seen = config.training.aux_critic_input
    if seen == "both":
        return _with_one_hot(generator, attributes)
    return generator.one_hot_attributes(attributes) if seen == "one_hot" else attributes


def critic_gradients(
    critic: keras.Model,
    real: tuple[tf.Tensor, ...],
    fake: tuple[tf.Tensor, ...],
    alpha: tf.Tensor,
    penalty_weight: float,
    scale_loss: Callable[[tf.Tensor], tf.Tensor] | None = None,
) -> tuple[list[tf.Tensor], tuple[tf.Tensor, ...]]:
    """Gradients of the batch WGAN-GP critic loss ``mean D(fake) - mean D(real) + lambda GP``.

    Args:
        critic: the critic; ``real`` / ``fake`` are its input tuples, each [B, ...].
        alpha: float32 [B] interpolation coefficients of the penalty.
        penalty_weight: lambda.
        scale_loss: applied to the loss before differentiating (replica
            weighting, mixed-precision loss scaling); ``None`` for none.

    Returns:
        One gradient per ``critic.trainable_variables`` and the scalars
        (loss, mean D(real), mean D(fake), mean GP).
    """
    with tf.GradientTape() as tape:
        real_scores = critic(*real)
        fake_scores = critic(*fake)
        penalty = gradient_penalty(critic, interpolate(real, fake, alpha))
        loss = wasserstein_critic_loss(real_scores, fake_scores) + penalty_weight * penalty
        scaled = loss if scale_loss is None else scale_loss(loss)
    grads = tape.gradient(scaled, critic.trainable_variables)
    return grads, (loss, tf.reduce_mean(real_scores), tf.reduce_mean(fake_scores), penalty)


class GANStep:
    """DoppelGANger's training step, its optimizers and its random stream.

    Args:
        config: the run's settings.
        generator: the generator, built under ``replicas``' scope.
        critics: the critic and, with ``use_aux_critic``, the auxiliary
            critic, built likewise.
        data: the encoded real rows: features float32 [N, L, D] (flag
            channels last) and attributes float32 [N, A] (real, then min/max).
        replicas: where the step runs.
        seed: seeds :attr:`rng`.

    Attributes:
        rng: the run's ``tf.random.Generator`` (checkpointed with the weights).
        critics: the critic, then the auxiliary critic (if any), as :class:`CriticSlot`.
        dp: the DP-SGD critic update, or ``None`` without differential privacy.
        dp_real_rows: with DP, all real rows as the critics see them (features,
            :func:`critic_attribute_view` and :func:`aux_critic_view` of the
            attributes), which its Poisson samples draw from.

    Raises:
        ConfigError: ``batch_size`` does not split evenly across the replicas.
    """

    def __init__(self, config: DGConfig, generator: Generator, critics: Sequence[Critic | AttributeCritic],
                 data: tuple[np.ndarray, np.ndarray], *, replicas: Replicas, seed: int):
        self.config = config
        self.generator = generator
        critic, aux_critic = (*critics, None)[:2]
        self.critic, self.aux_critic = critic, aux_critic
        self.real_features, self.real_attributes = (tf.constant(x, tf.float32) for x in data)
        self.num_samples = int(data[0].shape[0])
        self.seed = seed
        self.rng = tf.random.Generator.from_seed(seed)
        self.replicas = replicas
        replicas.check_batch_split(config.batch_size)
        with replicas.scope():
            self.generator_optimizer = adam(config, config.generator_lr, generator.trainable_variables, averaged=True)
            self.critic_optimizer = adam(config, config.critic_lr, critic.trainable_variables)
            self.critics = [CriticSlot(critic, self.critic_optimizer, config.gradient_penalty_weight, "d")]
            if aux_critic is not None:
                self.aux_critic_optimizer = adam(config, config.aux_critic_lr, aux_critic.trainable_variables)
                self.critics.append(CriticSlot(aux_critic, self.aux_critic_optimizer,
                                               config.aux_gradient_penalty_weight, "attr_d", sees_features=False))
        self.dp = DPCriticUpdate(config, self.num_samples) if config.training.differentially_private else None
        if self.dp is not None:  # each DP critic round samples all rows, as the critics see them (computed once)
            self.dp_real_rows = (self.real_features, critic_attribute_view(config, generator, self.real_attributes),
                                 aux_critic_view(config, generator, self.real_attributes))

    # ------------------------------------------------------------ the algorithm
    def train_step(self, real, noise, alphas) -> dict[str, tf.Tensor]:
        """One step: the critic loop, then the generator loop (see the module docstring).

        Args:
            real: (features [B*k, L, D], attributes [B*k, A]) real rows, or
                ``None`` with DP (each DP critic round draws its own sample).
            noise: the generator's noise for B*k series (:meth:`Generator.sample_noise`).
            alphas: per critic round, per critic, float32 [B] penalty
                interpolation coefficients (``None`` with DP).

        Returns:
            The step's losses under the original TensorBoard names.
        """
        c, k = self.config, self.config.num_packing
        real = None if real is None else self.critic_inputs(real[0], real[1])
        logs: dict[str, tf.Tensor] = {}
        for generator_round in range(c.generator_rounds):
            with tf.GradientTape() as tape:
                fake = self.generated_inputs(self.generator(noise, training=True))
                if generator_round == 0:
                    with tape.stop_recording():  # 1. the critic loop, on this forward pass
                        for critic_round in range(c.critic_rounds):
                            if self.dp is not None:
                                logs.update(self.dp(self.critics, self.dp_real_rows, fake, self.rng))
                            else:
                                for critic, alpha in zip(self.critics, alphas[critic_round]):
                                    grads, terms = critic_gradients(
                                        critic.network, critic.inputs(real), critic.inputs(fake), alpha,
                                        critic.penalty_weight, lambda loss: self.replicas.scale_loss(
                                            loss, critic.optimizer))
                                    critic.optimizer.apply_gradients(
                                        zip(grads, critic.network.trainable_variables))
                                    logs.update(critic.logs(*terms))
                            self.generator.update_batch_norm_statistics(noise)  # as the skipped forward would
                # 2. the generator update: -D(fake) - alpha * D_attr(fake), against the critics as updated
                loss_d = wasserstein_generator_loss(self.critic(*self.critics[0].inputs(fake)))
                loss = loss_d
                if self.aux_critic is not None:
                    loss_attr_d = wasserstein_generator_loss(self.aux_critic(*self.critics[1].inputs(fake)))
                    loss = loss + c.aux_critic_weight * loss_attr_d
                    logs["loss/g/attr_d"] = loss_attr_d
                scaled = self.replicas.scale_loss(loss, self.generator_optimizer)
            variables = self.generator.trainable_variables
            grads = tape.gradient(scaled, variables)
            self.generator_optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
            logs["loss/g/d"] = loss_d
            logs["loss/g"] = loss
        return logs

    def generated_inputs(self, generated: dict[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """The critics' view of a forward pass (:meth:`critic_inputs`)."""
        return self.critic_inputs(generated["features"], generated["attributes"])

    def critic_inputs(self, features: tf.Tensor, attributes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Real or generated rows as the critics see them: packed (features, :func:`critic_attribute_view` and
        :func:`aux_critic_view` of the attributes), from features [B*k, L, D] and attributes [B*k, A]."""
        k = self.config.num_packing
        seen_by_critic = critic_attribute_view(self.config, self.generator, attributes)
        seen_by_aux_critic = aux_critic_view(self.config, self.generator, attributes)
        return pack(features, k), pack(seen_by_critic, k), pack(seen_by_aux_critic, k)

    # ------------------------------------------------------------ its inputs
    def __call__(self, real: tuple[tf.Tensor, tf.Tensor] | None = None) -> dict[str, tf.Tensor]:
        """Draw a step's inputs from :attr:`rng` and run :meth:`train_step` (on every replica).

        Args:
            real: this step's real rows from the ``tf.data`` pipeline; ``None``
                draws them here (with replacement).
        """
        c = self.config
        if self.dp is not None:
            return self.train_step(None, self.generator.sample_noise(self.rng, c.batch_size), None)
        if real is None:
            real = self.draw_rows(self.batch_size)
        noise = self.generator.sample_noise(self.rng, self.batch_size)
        alphas = [[self.rng.uniform([c.batch_size]) for _ in self.critics] for _ in range(c.critic_rounds)]
        batch_axes = (
            (0, 0),
            {name: Generator.NOISE_BATCH_AXES[name] for name in noise},
            tf.nest.map_structure(lambda _: 0, alphas),
        )
        return self.replicas.run(self.train_step, (real, noise, alphas), batch_axes)

    @property
    def batch_size(self) -> int:
        """Real rows per step: ``batch_size * num_packing``."""
        return self.config.batch_size * self.config.num_packing

    def data(self) -> tuple[tf.Tensor, ...]:
        """The arrays whose rows make a real batch, each [N, ...] (read when the step is traced)."""
        return self.real_features, self.real_attributes

    def draw_rows(self, count: int) -> tuple[tf.Tensor, ...]:
        """``count`` real rows drawn with replacement, indices from :attr:`rng`."""
        index = self.rng.uniform([count], 0, self.num_samples, dtype=tf.int64)
        return tuple(tf.gather(x, index) for x in self.data())

    def finish(self) -> None:
        """After the last step: the generator's weight average and standing statistics (:func:`finish_generator`)."""
        finish_generator(self.config, self.generator, self.generator_optimizer, self.generator.trainable_variables)

    # ------------------------------------------------------------ its state
    @property
    def trackables(self) -> dict[str, object]:
        """What a checkpoint holds besides the RNG and the epoch: networks and optimizers."""
        state = dict(generator=self.generator, critic=self.critic, generator_optimizer=self.generator_optimizer,
                     critic_optimizer=self.critic_optimizer)
        if self.aux_critic is not None:
            state.update(aux_critic=self.aux_critic, aux_critic_optimizer=self.aux_critic_optimizer)
        return state

    def learning_rates(self) -> list[tuple[keras.optimizers.Optimizer, float]]:
        """Each optimizer with its learning rate in the config (set again after a restore)."""
        c = self.config
        rates = [(self.generator_optimizer, c.generator_lr), (self.critic_optimizer, c.critic_lr)]
        if self.aux_critic is not None:
            rates.append((self.aux_critic_optimizer, c.aux_critic_lr))
        return rates
