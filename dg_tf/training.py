"""The DoppelGANger training loop (paper §4.3, appendix B; original ``train``).

One step (a compiled ``tf.function``, no Python side effects):
1. draw ``batch_size * num_packing`` real samples *with replacement* and all
   noise and penalty coefficients from the run's seeded ``tf.random.Generator``;
2. generate once (BatchNorm in training mode) under the generator's tape;
3. ``critic_rounds`` times: update the critic on ``D(fake) - D(real) + lambda * GP``
   and the auxiliary critic on the same loss over attributes only, each with
   its own interpolation coefficients;
4. ``generator_rounds`` times: update the generator on
   ``-D(fake) - alpha * D_attr(fake)``.
Every round of a step reuses the same real batch and noise, as the original.
The original ran the generator forward again for every round; as critic
updates change nothing in the generator, those forward passes all equal the
first one, so the first generator round differentiates the pass of step 2
(with the critics as updated) and :meth:`Generator.update_batch_norm_statistics`
replays the BatchNorm moving-statistics updates of the skipped passes. The
result is the original's, one generator forward cheaper.

Execution (:class:`_EpochLoop`): an epoch, or ``steps_per_execution`` steps,
runs as one ``tf.function`` (a ``tf.while_loop`` over the compiled step, the
losses summed on the device), so nothing returns to Python inside it; it is
traced once per run (:attr:`_EpochLoop.traces` counts traces). Progress
callbacks fire after each call, and after each call every variable of the
networks and optimizers is checked to be finite (one compiled reduction), so
a NaN or Inf made by any step, the last one of an epoch included, stops
training before it can be checkpointed.
``config.jit_compile`` compiles the step with XLA ("auto": on GPUs only; on
CPUs XLA's transcendental functions make the LSTM several times slower, so
the LSTM runs as TensorFlow's fused ``BlockLSTM`` kernel instead).
``config.input_pipeline`` chooses between drawing row indices in the step
("in_graph", the default: the data is a device-resident constant and the
indices come from the checkpointed generator) and a prefetching ``tf.data``
pipeline of gathered batches whose indices depend only on (seed, step), so a
resumed run draws the same batches without checkpointing the pipeline.
``config.strategy`` runs the step under ``tf.distribute`` (mirrored on the
local devices or multi-worker from ``TF_CONFIG``): the global batch, drawn on
every worker from the same generator, is split evenly across replicas, each
replica's losses are scaled by 1 / replicas so that the summed gradients are
those of the global batch, and BatchNorm statistics are synchronized; one
replica gives the one-device result. ``config.precision`` selects Keras mixed
precision (float32 variables; ``mixed_float16`` adds dynamic loss scaling).

Around it, :class:`Trainer` keeps Adam per network, writes TensorBoard scalars
under the original names and figures, saves ``tf.train.CheckpointManager``
checkpoints (weights, optimizer state, RNG state, epoch) and resumes from them,
and stops with :class:`~dg_tf.errors.TrainingDivergedError` on NaN/Inf
without overwriting the last good checkpoint. Only finite checkpoints are
written; the error names the newest checkpoint on disk whose tensors are all
finite, and :meth:`_EpochLoop.restore` resumes from that one. A resumed run
takes its learning rates from its config, not from the checkpoint, so a
diverged run can be resumed with lower ones.

With ``config.dp_noise_multiplier`` set, the step is a different compiled
function (chosen once, at construction): both critics are trained with DP-SGD
on Poisson samples (paper §6.2, :mod:`dg_tf.dp_sgd`), the generator as usual,
and each epoch logs the epsilon spent so far as ``privacy/epsilon``
(:mod:`dg_tf.privacy_accounting`).

:class:`AttributeTrainer` retrains the attribute generator alone against a
fresh attribute critic (paper §6.1), with the same epoch loop.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Callable, Sequence

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
from dg_tf.errors import ConfigError, DGError, TrainingDivergedError
from dg_tf.losses import (
    gradient_penalty,
    interpolate,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from dg_tf.models import AttributeCritic, Critic, Generator
from dg_tf.privacy_accounting import PrivacyReport, privacy_report, sampling_probability
from dg_tf.seeding import derive_seed

__all__ = [
    "CHECKPOINT_ERRORS",
    "AttributeTrainer",
    "Progress",
    "Trainer",
    "checkpoint_problem",
    "critic_gradients",
    "distribution_strategy",
    "is_chief",
    "pack",
    "strategy_scope",
    "uses_xla",
]

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


def uses_xla(config: DGConfig) -> bool:
    """Whether the training step is XLA-compiled (``config.jit_compile``; "auto": on GPUs, never with DP)."""
    if config.jit_compile != "auto":
        return config.jit_compile == "on"
    return config.dp_noise_multiplier is None and bool(tf.config.list_physical_devices("GPU"))


@functools.cache
def distribution_strategy(name: str) -> tf.distribute.Strategy | None:
    """The ``tf.distribute`` strategy of ``config.strategy``; ``None`` for "default".

    Created once per process (TensorFlow allows one multi-worker strategy per
    process, made before the collective runtime starts; later calls return it).
    "mirrored" uses every local GPU, or every logical CPU device when there is
    no GPU; "multi-worker" reads the cluster from ``TF_CONFIG``.
    """
    if name == "default":
        return None
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        devices = devices or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("strategy='multi-worker' needs the TF_CONFIG environment variable "
                              "(cluster and task)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ConfigError(f"strategy={name!r} must be 'default', 'mirrored' or 'multi-worker'")


def strategy_scope(name: str) -> contextlib.AbstractContextManager:
    """The scope in which variables for strategy ``name`` must be created (a no-op for "default")."""
    strategy = distribution_strategy(name)
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def is_chief() -> bool:
    """Whether this process writes the run's files: always, except for non-chief multi-worker tasks.

    The chief is the ``chief`` task of ``TF_CONFIG`` or, without one, worker 0.
    """
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    if not task:
        return True
    cluster = json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
    if "chief" in cluster:
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0


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


#: What reading a damaged or mismatched checkpoint raises (TensorFlow reports a short file as IndexError).
CHECKPOINT_ERRORS = (AssertionError, ValueError, IndexError, KeyError, tf.errors.OpError)


def checkpoint_problem(path: str) -> str | None:
    """Why the checkpoint at ``path`` is unusable (a non-finite tensor, unreadable), or ``None``."""
    try:
        reader = tf.train.load_checkpoint(path)
        for name, dtype in sorted(reader.get_variable_to_dtype_map().items()):
            if dtype.is_floating and not np.isfinite(reader.get_tensor(name)).all():
                return f"tensor {name} holds NaN or Inf"
    except CHECKPOINT_ERRORS as err:
        return f"unreadable ({type(err).__name__})"
    return None


def _adam(config: DGConfig, learning_rate: float, variables: list[tf.Variable]) -> keras.optimizers.Optimizer:
    """Adam over ``variables`` (with dynamic loss scaling under ``mixed_float16``)."""
    optimizer = keras.optimizers.Adam(
        learning_rate=learning_rate, beta_1=config.adam_beta1, beta_2=config.adam_beta2,
        epsilon=config.adam_epsilon,
    )
    if config.precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(variables)
    return optimizer


def _shard(x: tf.Tensor, axis: int) -> tf.Tensor:
    """This replica's even share of ``x`` along ``axis`` (replicas take consecutive blocks)."""
    context = tf.distribute.get_replica_context()
    size = x.shape[axis] // context.num_replicas_in_sync
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * size
    return tf.gather(x, tf.range(start, start + size), axis=axis)


class Progress:
    """Receives training progress; the CLI's progress bar subclasses it. Methods do nothing here."""

    def on_train_begin(self, start_epoch: int, epochs: int, steps_per_epoch: int) -> None:
        """Training runs epochs ``start_epoch + 1 .. epochs``."""

    def on_step_end(self, epoch: int, step: int) -> None:
        """``step`` (1-based, within the epoch) of ``epoch`` (1-based) finished.

        Steps run in compiled chunks (``config.steps_per_execution``, default
        an epoch): the calls for a chunk's steps come together when it ends.
        """

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        """``epoch`` finished; ``metrics`` are its mean losses under the TensorBoard names."""


class _EpochLoop:
    """The epoch loop shared by the trainers: compiled chunks of steps, checkpoints, TensorBoard, NaN check.

    Subclasses create their networks and optimizers (inside
    :meth:`_scope`), then call this ``__init__`` with them as ``trackables``
    (checkpointed with the RNG and the epoch counter; their variables, and
    those of ``watch``, are checked to be finite after each chunk), and define
    ``_train_step(real=None)``: one step, sampling its real rows from
    :meth:`_real_rows` (``real`` is given by the ``tf.data`` pipeline).

    Attributes:
        traces: how many times the chunk function was traced (1 per run).
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
        watch: Sequence[tf.Variable] = (),
    ):
        self.config = config
        self.num_samples = num_samples
        self.steps_per_epoch = max(1, num_samples // config.batch_size)
        self.seed = seed
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
        self.traces = 0
        self.xla = uses_xla(config)
        self._step = tf.function(self._train_step, jit_compile=self.xla and self.strategy is None)
        self._steps = tf.function(self._run_steps)
        #: Every float variable of the networks and optimizers, checked after each compiled chunk.
        variables = [*(v for t in trackables.values() for v in t.variables), *watch]
        self._watched = [v for v in variables if tf.as_dtype(v.dtype).is_floating]
        self._nonfinite = tf.function(
            lambda: tf.stack([tf.logical_not(tf.reduce_all(tf.math.is_finite(v))) for v in self._watched])
        )

    # ---------------------------------------------------------- distribution
    @property
    def strategy(self) -> tf.distribute.Strategy | None:
        return distribution_strategy(self.config.strategy)

    @property
    def _scope(self) -> contextlib.AbstractContextManager:
        """Context in which variables (networks, optimizers) must be created."""
        return strategy_scope(self.config.strategy)

    def _replica_count(self) -> int:
        return 1 if self.strategy is None else self.strategy.num_replicas_in_sync

    def _check_batch_split(self, batch_size: int) -> None:
        replicas = self._replica_count()
        if batch_size % replicas:
            raise ConfigError(
                f"batch_size={batch_size} must divide evenly across the {replicas} replicas "
                f"of strategy={self.config.strategy!r}"
            )

    def _scale_loss(self, optimizer: keras.optimizers.Optimizer) -> Callable[[tf.Tensor], tf.Tensor]:
        """Loss -> what to differentiate: weighted 1 / replicas, then the optimizer's loss scale."""
        replicas = self._replica_count()
        if replicas == 1:
            return optimizer.scale_loss
        return lambda loss: optimizer.scale_loss(loss / replicas)

    def _replicate(
        self, update: Callable[..., dict[str, tf.Tensor]], args: tuple, axes: tuple
    ) -> dict[str, tf.Tensor]:
        """Run ``update(*args)``: directly, or on every replica with its share of each tensor.

        ``axes`` mirrors ``args`` with the batch axis of each tensor; the
        replicas' metrics are averaged.
        """
        strategy = self.strategy
        if strategy is None:
            return update(*args)
        if self.xla:
            update = tf.function(update, jit_compile=True)

        def on_replica(*args):
            return update(*tf.nest.map_structure(_shard, args, axes))

        per_replica = strategy.run(on_replica, args)
        return {name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                for name, value in per_replica.items()}

    # ---------------------------------------------------------------- input
    def _data(self) -> tuple[tf.Tensor, ...]:
        """The arrays whose rows make a real batch, each [N, ...] (read when the step is traced)."""
        raise NotImplementedError

    def _real_rows(self, count: int) -> tuple[tf.Tensor, ...]:
        """``count`` rows drawn with replacement, indices from :attr:`rng`."""
        index = self.rng.uniform([count], 0, self.num_samples, dtype=tf.int64)
        return tuple(tf.gather(x, index) for x in self._data())

    def _batch_size(self) -> int:
        """Rows per step."""
        return self.config.batch_size

    def _pipeline(self, first_step: int) -> tf.data.Dataset:
        """Gathered real batches for steps ``first_step, first_step + 1, ...`` (``input_pipeline="tf_data"``).

        Step s's row indices are ``stateless_uniform(seed=(pipeline seed, s))``:
        a function of the step alone, so a resumed run gets the same batches
        without saving the pipeline's state; prefetched on the host while the
        previous step runs.
        """
        data = self._data()
        count = self._batch_size()
        key = derive_seed(self.seed, "tf.data batches")

        def batch(step):
            index = tf.random.stateless_uniform(
                [count], seed=tf.stack([tf.constant(key, tf.int64), step]),
                minval=0, maxval=self.num_samples, dtype=tf.int64,
            )
            return tuple(tf.gather(x, index) for x in data)

        return tf.data.Dataset.counter(first_step).map(batch).prefetch(tf.data.AUTOTUNE)

    def _train_step(self, real: tuple[tf.Tensor, ...] | None = None) -> dict[str, tf.Tensor]:
        raise NotImplementedError

    def _epoch_metrics(self, epoch: int) -> dict[str, float]:
        """Extra scalars logged after ``epoch`` (none here)."""
        return {}

    def _critic_update(self, critic, optimizer, real, fake, alpha, penalty_weight, prefix):
        """One WGAN-GP update of ``critic`` on input tuples ``real`` / ``fake``."""
        grads, terms = critic_gradients(critic, real, fake, alpha, penalty_weight, self._scale_loss(optimizer))
        optimizer.apply_gradients(zip(grads, critic.trainable_variables))
        return _critic_metrics(prefix, *terms)

    # ------------------------------------------------------------------ loop
    def _run_steps(self, num_steps: tf.Tensor, batches: tf.data.Iterator | None = None) -> dict[str, tf.Tensor]:
        """``num_steps`` steps in a ``tf.while_loop``; returns each metric summed over them."""
        self.traces += 1  # Python side effect: runs once per trace only
        specs = () if batches is None else (batches.element_spec,)
        outputs = self._step.get_concrete_function(*specs).structured_outputs
        totals = {name: tf.zeros(t.shape, t.dtype) for name, t in outputs.items()}

        def body(step, totals):
            args = () if batches is None else (batches.get_next(),)
            metrics = self._step(*args)
            return step + 1, {name: totals[name] + metrics[name] for name in totals}

        _, totals = tf.while_loop(
            lambda step, _: step < num_steps, body, (tf.constant(0, tf.int32), totals), parallel_iterations=1
        )
        return totals

    def _learning_rates(self) -> list[tuple[keras.optimizers.Optimizer, float]]:
        """Each optimizer with the learning rate of the config (set again after a restore)."""
        return []

    def restore(self, checkpoint_dir: str | Path | None = None) -> int:
        """Restore the newest finite checkpoint, if any; returns the epochs it had completed.

        Newer checkpoints holding NaN or Inf (left by older versions) are
        skipped with a warning. The learning rates are then set from the
        config, so a resumed run may use other rates than the checkpoint's.

        Args:
            checkpoint_dir: where to look; default this loop's own checkpoint
                folder (a non-chief multi-worker task saves to a scratch
                folder but resumes from the chief's).

        Raises:
            DGError: the checkpoint does not match the networks built from
                the config (e.g. an edited ``config.json``) or is unreadable.
        """
        latest = self._finite_checkpoint(checkpoint_dir)
        if latest is None:
            return 0
        try:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
        except CHECKPOINT_ERRORS as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise DGError(f"{latest}: the checkpoint does not match the model built from the run's config "
                          f"({first[:200]}); a resumed run must keep the networks it started with") from None
        for optimizer, rate in self._learning_rates():
            optimizer.learning_rate = rate
        logger.info("resumed from %s (epoch %d)", latest, int(self.epoch))
        return int(self.epoch.numpy())

    def _checkpoints(self, checkpoint_dir: str | Path | None = None) -> list[str]:
        """The checkpoints on disk, oldest first (of ``checkpoint_dir``, default this loop's own)."""
        if checkpoint_dir is None:
            return list(self.manager.checkpoints) if self.manager is not None else []
        state = tf.train.get_checkpoint_state(str(checkpoint_dir))
        return list(state.all_model_checkpoint_paths) if state is not None else []

    def _finite_checkpoint(self, checkpoint_dir: str | Path | None = None) -> str | None:
        """The newest checkpoint whose float tensors are all finite, or ``None``."""
        for path in reversed(self._checkpoints(checkpoint_dir)):
            problem = checkpoint_problem(path)
            if problem is None:
                return path
            logger.warning("skipping checkpoint %s: %s", path, problem)
        return None

    def _diverged(self, what: str) -> TrainingDivergedError:
        """The error for a NaN/Inf found after ``what``, naming the newest finite checkpoint."""
        last = self._finite_checkpoint()
        return TrainingDivergedError(
            f"{what}; the last good (finite) checkpoint is "
            f"{last or 'none (no finite checkpoint saved yet)'}. {self._divergence_advice()}"
        )

    def _divergence_advice(self) -> str:
        return "Retry with a lower learning rate or a larger batch."

    def _check_weights(self, epoch: int, step: int) -> None:
        """Raise :meth:`_diverged` if any watched variable holds NaN or Inf after ``step`` of ``epoch``."""
        bad = self._nonfinite().numpy()
        if bad.any():
            names = [getattr(self._watched[i], "path", self._watched[i].name) for i in np.flatnonzero(bad)]
            raise self._diverged(
                f"{len(names)} variable(s) became NaN or Inf by step {step} of epoch {epoch}, e.g. {names[0]}"
            )

    def train(self, epochs: int, progress: Progress | None = None) -> dict[str, float]:
        """Train until ``epochs`` epochs are complete (counting restored ones).

        Returns:
            The mean losses of the last epoch run (empty if none ran).

        Raises:
            TrainingDivergedError: a variable or a loss became NaN or Inf;
                nothing of that epoch is saved.
        """
        progress = progress or Progress()
        start = int(self.epoch.numpy())
        progress.on_train_begin(start, epochs, self.steps_per_epoch)
        chunk = self.config.steps_per_execution or self.steps_per_epoch
        batches = None
        if self.config.input_pipeline == "tf_data" and start < epochs:
            batches = iter(self._pipeline(start * self.steps_per_epoch))
        metrics: dict[str, float] = {}
        for epoch in range(start + 1, epochs + 1):
            began = time.perf_counter()
            totals: dict[str, tf.Tensor] = {}
            done = 0
            while done < self.steps_per_epoch:
                count = min(chunk, self.steps_per_epoch - done)
                args = (tf.constant(count, tf.int32),) + (() if batches is None else (batches,))
                for name, value in self._steps(*args).items():
                    totals[name] = totals[name] + value if name in totals else value
                done += count
                self._check_weights(epoch, done)
                for step in range(done - count + 1, done + 1):
                    progress.on_step_end(epoch, step)
            metrics = {name: float(v) / self.steps_per_epoch for name, v in totals.items()}
            bad = sorted(name for name, v in metrics.items() if not math.isfinite(v))
            if bad:
                raise self._diverged(f"{', '.join(bad)} became {metrics[bad[0]]} in epoch {epoch}")
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
            created, under the strategy's scope); ``aux_critic`` is ``None``
            when ``config.use_aux_critic`` is off.
        features: float32 [N, L, D] encoded real features (flag channels last).
        attributes: float32 [N, A] encoded real attributes (real, then min/max).
        checkpoint_dir: where checkpoints go; ``None`` keeps none.
        logdir: TensorBoard folder; ``None`` writes no summaries.
        figure_fn: ``epoch -> image`` of a few generated series, logged every
            ``config.figure_every`` epochs.

    Raises:
        ConfigError: ``batch_size`` does not split evenly across the replicas.
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
        self.config = config
        self._check_batch_split(config.batch_size)
        with self._scope:
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

    def _data(self) -> tuple[tf.Tensor, ...]:
        return self.real_features, self.real_attributes

    def _learning_rates(self) -> list[tuple[keras.optimizers.Optimizer, float]]:
        c = self.config
        rates = [(self.generator_optimizer, c.generator_lr), (self.critic_optimizer, c.critic_lr)]
        if self.aux_critic is not None:
            rates.append((self.aux_critic_optimizer, c.aux_critic_lr))
        return rates

    def _divergence_advice(self) -> str:
        c = self.config
        flags = f"--generator-lr {c.generator_lr / 2:g} --critic-lr {c.critic_lr / 2:g}"
        if self.aux_critic is not None:
            flags += f" --aux-critic-lr {c.aux_critic_lr / 2:g}"
        return (f"Resume from it with lower learning rates (python -m dg_tf.train --out RUN --resume {flags}) "
                "or a larger --batch-size.")

    def _batch_size(self) -> int:
        return self.config.batch_size * self.config.num_packing

    def _critics(self) -> list[tuple[keras.Model, keras.optimizers.Optimizer, float, str, bool]]:
        """(critic, optimizer, penalty weight, TensorBoard prefix, whether it sees the features)."""
        c = self.config
        critics = [(self.critic, self.critic_optimizer, c.gradient_penalty_weight, "d", True)]
        if self.aux_critic is not None:
            critics.append(
                (self.aux_critic, self.aux_critic_optimizer, c.aux_gradient_penalty_weight, "attr_d", False)
            )
        return critics

    # ------------------------------------------------------------------ step
    def _train_step(self, real: tuple[tf.Tensor, tf.Tensor] | None = None) -> dict[str, tf.Tensor]:
        c = self.config
        batch = self._batch_size()
        if real is None:
            real = self._real_rows(batch)
        noise = self.generator.sample_noise(self.rng, batch)
        alphas = [[self.rng.uniform([c.batch_size]) for _ in self._critics()] for _ in range(c.critic_rounds)]
        axes = (
            (0, 0),
            {name: Generator.NOISE_BATCH_AXES[name] for name in noise},
            tf.nest.map_structure(lambda _: 0, alphas),
        )
        return self._replicate(self._update, (real, noise, alphas), axes)

    def _update(self, real, noise, alphas) -> dict[str, tf.Tensor]:
        """The critic and generator rounds of one step on (this replica's share of) the batch."""
        k = self.config.num_packing
        real = tuple(pack(x, k) for x in real)

        def critic_round(fake, round_alphas):
            metrics = {}
            for (critic, optimizer, weight, prefix, sees_features), alpha in zip(self._critics(), round_alphas):
                metrics.update(self._critic_update(
                    critic, optimizer, real if sees_features else real[1:],
                    fake if sees_features else fake[1:], alpha, weight, prefix,
                ))
            return metrics

        return self._gan_rounds(noise, [functools.partial(critic_round, round_alphas=a) for a in alphas])

    def _gan_rounds(self, noise: dict[str, tf.Tensor], critic_rounds: Sequence[Callable]) -> dict[str, tf.Tensor]:
        """Critic rounds on one generated batch, then ``generator_rounds`` generator updates.

        Each of ``critic_rounds`` maps the packed fake (features, attributes)
        to its metrics. The first generator round differentiates the forward
        pass the critics saw (see the module docstring); later rounds generate
        again, as the generator has changed.
        """
        c = self.config
        k = c.num_packing
        metrics: dict[str, tf.Tensor] = {}
        variables = self.generator.trainable_variables
        scale_loss = self._scale_loss(self.generator_optimizer)
        for round_ in range(c.generator_rounds):
            with tf.GradientTape() as tape:
                fake = self.generator(noise, training=True)
                fake_features, fake_attributes = pack(fake["features"], k), pack(fake["attributes"], k)
                if round_ == 0:
                    with tape.stop_recording():
                        for critic_round in critic_rounds:
                            metrics.update(critic_round((fake_features, fake_attributes)))
                            self.generator.update_batch_norm_statistics(noise)
                loss_d = wasserstein_generator_loss(self.critic(fake_features, fake_attributes))
                loss = loss_d
                if self.aux_critic is not None:
                    loss_attr_d = wasserstein_generator_loss(self.aux_critic(fake_attributes))
                    loss = loss + c.aux_critic_weight * loss_attr_d
                    metrics["loss/g/attr_d"] = loss_attr_d
                scaled = scale_loss(loss)
            grads = tape.gradient(scaled, variables)
            self.generator_optimizer.apply_gradients(
                [(g, v) for g, v in zip(grads, variables) if g is not None]
            )
            metrics["loss/g/d"] = loss_d
            metrics["loss/g"] = loss
        return metrics

    # -------------------------------------------------------------- DP step
    def _dp_train_step(self) -> dict[str, tf.Tensor]:
        """The step with DP-SGD critics: a fresh Poisson sample per critic update (paper §6.2)."""
        noise = self.generator.sample_noise(self.rng, self.config.batch_size)
        return self._gan_rounds(noise, [self._dp_critic_updates] * self.config.critic_rounds)

    def _dp_critic_updates(self, fake: tuple[tf.Tensor, tf.Tensor]) -> dict[str, tf.Tensor]:
        """One DP-SGD update of each critic, both on the same Poisson sample.

        The sample is processed in chunks of ``dp_chunk_size`` slots (a
        ``tf.while_loop``; padded slots masked), each real example paired
        with a generated one drawn uniformly from ``fake`` (features
        [batch_size, L, D], attributes [batch_size, A]).
        """
        c = self.config
        fake_features, fake_attributes = fake
        critics = self._critics()
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
    features instead; ORIGINAL_DG_SPEC.md §7.) Runs on one device (the
    attribute MLP is small), under the model's strategy scope if it has one.

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
        with strategy_scope(config.strategy):  # where the model's variables live
            self.generator_optimizer = _adam(config, config.generator_lr, self.variables)
            self.critic_optimizer = _adam(config, config.aux_critic_lr, critic.trainable_variables)
        config = config.replace(strategy="default")  # steps run on one device
        super().__init__(
            config, int(attributes.shape[0]), derive_seed(seed, "retrain_attributes"),
            dict(critic=critic, generator_optimizer=self.generator_optimizer,
                 critic_optimizer=self.critic_optimizer),
            logdir=logdir, watch=self.variables,
        )

    def _data(self) -> tuple[tf.Tensor, ...]:
        return (self.real_attributes,)

    def _generate(self, noise: tf.Tensor) -> tf.Tensor:
        """Real attributes [B, A_real] (discrete ones as probabilities) from attribute noise."""
        hidden = self.generator.attribute_mlp(noise, training=True)
        return tf.cast(self.generator.attribute_heads(hidden), tf.float32)

    def _train_step(self, real: tuple[tf.Tensor] | None = None) -> dict[str, tf.Tensor]:
        c = self.config
        (real,) = self._real_rows(c.batch_size) if real is None else real
        noise = self.rng.normal([c.batch_size, c.attribute_noise_dim])
        metrics: dict[str, tf.Tensor] = {}
        for _ in range(c.critic_rounds):
            alpha = self.rng.uniform([c.batch_size])
            metrics.update(self._critic_update(
                self.critic, self.critic_optimizer, (real,), (self._generate(noise),), alpha,
                c.aux_gradient_penalty_weight, "attr_d",
            ))
        for _ in range(c.generator_rounds):
            with tf.GradientTape() as tape:
                loss = wasserstein_generator_loss(self.critic(self._generate(noise)))
                scaled = self.generator_optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, self.variables)
            self.generator_optimizer.apply_gradients(zip(grads, self.variables))
            metrics["loss/g"] = loss
        return metrics
