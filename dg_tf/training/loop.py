"""The epoch loop: a training step run in compiled chunks, with Keras callbacks and checkpointable state.

An epoch, or ``steps_per_execution`` steps, runs as one ``tf.function``: a
``tf.while_loop`` over the step with the losses summed on the device, so
nothing returns to Python inside it; it is traced once per run
(:attr:`TrainingLoop.traces`). After each chunk the callbacks'
``on_train_batch_end(last step of the chunk, running mean losses)`` fire (as
Keras does with ``steps_per_execution``), and after each epoch
``on_epoch_end(epoch, mean losses)``: checkpoints, TensorBoard, the NaN stop
and the privacy epsilon are such callbacks (:mod:`dg_tf.training.callbacks`),
and a user's own Keras callbacks and a ``History`` work alike. Epochs and
steps are 0-based in callbacks, as in Keras.

``input_pipeline="tf_data"`` feeds the same step from a prefetching
``tf.data`` pipeline whose row indices depend only on (seed, step), so a
resumed run draws the same batches without checkpointing the pipeline.

The state a checkpoint holds is the step's networks and optimizers, its
random generator and the epoch counter: a resumed run continues bitwise as
an uninterrupted one.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Protocol, Sequence

import keras
import numpy as np
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.errors import DGError
from dg_tf.run import CHECKPOINT_ERRORS, newest_finite_checkpoint
from dg_tf.seeding import derive_seed
from dg_tf.training.callbacks import Checkpoints, NaNStop, TensorBoard, TrainingFigures

__all__ = ["FigureFn", "TrainingLoop", "TrainingStep"]

logger = logging.getLogger(__name__)

#: Epochs done -> an image for TensorBoard: uint8 [height, width, channels].
FigureFn = Callable[[int], np.ndarray]


class TrainingStep(Protocol):
    """What :class:`TrainingLoop` runs (:class:`~dg_tf.training.step.GANStep`, the attribute retraining step)."""

    rng: tf.random.Generator
    seed: int
    num_samples: int
    batch_size: int
    trackables: dict[str, object]

    def __call__(self, real: tuple[tf.Tensor, ...] | None = None) -> dict[str, tf.Tensor]: ...

    def data(self) -> tuple[tf.Tensor, ...]: ...

    def learning_rates(self) -> list[tuple[keras.optimizers.Optimizer, float]]: ...

    def finish(self) -> None:
        """After the last step (and the last checkpoint): e.g. the generator's weight average and its statistics."""


class TrainingLoop:
    """Runs ``step`` for whole epochs with its standard callbacks.

    Args:
        step: the training step; its ``trackables``, ``rng`` and the epoch
            counter are the checkpointed state.
        config: ``batch_size`` (steps per epoch = N // batch_size),
            ``steps_per_execution``, ``input_pipeline``, ``checkpoint_every``,
            ``checkpoints_to_keep``, ``figure_every``.
        xla: compile the step with XLA.
        checkpoint_dir: where checkpoints go; ``None`` keeps none.
        logdir: TensorBoard folder; ``None`` writes no summaries.
        figure_fn: ``epoch -> uint8 image [H, W, 3]`` of a few generated
            series, logged every ``figure_every`` epochs (needs ``logdir``).
        hparams: logged to TensorBoard's hparams dashboard.
        divergence_advice: the NaN stop's advice after the last good checkpoint's name.
        watch: more variables the NaN stop checks (besides those of the trackables).
        callbacks: further built-in callbacks, run after the NaN stop.

    Attributes:
        traces: how many times the chunk function was traced (1 per run).
        epoch: int64 variable, the epochs completed.
        checkpoints: the :class:`Checkpoints` callback, or ``None``.
    """

    def __init__(
        self,
        step: TrainingStep,
        config: DGConfig,
        *,
        xla: bool,
        checkpoint_dir: str | Path | None = None,
        logdir: str | Path | None = None,
        figure_fn: FigureFn | None = None,
        hparams: dict | None = None,
        divergence_advice: str = "Retry with a lower learning rate or a larger batch.",
        watch: Sequence[tf.Variable] = (),
        callbacks: Sequence[keras.callbacks.Callback] = (),
    ):
        self.step = step
        self.config = config
        self.steps_per_epoch = max(1, step.num_samples // config.batch_size)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.checkpoint = tf.train.Checkpoint(**step.trackables, rng=step.rng, epoch=self.epoch)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.traces = 0
        self.xla = xla
        self._step = tf.function(step.__call__, jit_compile=xla)
        self._steps = tf.function(self._run_steps)
        self.checkpoints = (Checkpoints(self.checkpoint, self.checkpoint_dir, config.checkpoints_to_keep,
                                        config.checkpoint_every) if checkpoint_dir is not None else None)
        variables = [*(v for t in step.trackables.values() for v in t.variables), *watch]
        self.callbacks: list[keras.callbacks.Callback] = [
            NaNStop(variables, self.last_good_checkpoint, divergence_advice), *callbacks]
        if logdir is not None:
            self.callbacks.append(TensorBoard(logdir, self.steps_per_epoch, hparams))
            if figure_fn is not None and config.figure_every:
                self.callbacks.append(TrainingFigures(figure_fn, logdir, self.steps_per_epoch, config.figure_every))
        if self.checkpoints is not None:
            self.callbacks.append(self.checkpoints)

    # ---------------------------------------------------------------- input
    def pipeline(self, first_step: int) -> tf.data.Dataset:
        """Gathered real batches for steps ``first_step, first_step + 1, ...`` (``input_pipeline="tf_data"``).

        Step s's row indices are ``stateless_uniform(seed=(pipeline seed, s))``:
        a function of the step alone, so a resumed run gets the same batches
        without saving the pipeline's state; prefetched on the host while the
        previous step runs.
        """
        data = self.step.data()
        count = self.step.batch_size
        key = derive_seed(self.step.seed, "tf.data batches")
        num_samples = self.step.num_samples

        def batch(step):
            index = tf.random.stateless_uniform(
                [count], seed=tf.stack([tf.constant(key, tf.int64), step]),
                minval=0, maxval=num_samples, dtype=tf.int64,
            )
            return tuple(tf.gather(x, index) for x in data)

        return tf.data.Dataset.counter(first_step).map(batch).prefetch(tf.data.AUTOTUNE)

    # ---------------------------------------------------------------- chunks
    def _run_steps(self, num_steps: tf.Tensor, batches: tf.data.Iterator | None = None) -> dict[str, tf.Tensor]:
        """``num_steps`` steps in a ``tf.while_loop``; returns each loss summed over them."""
        self.traces += 1  # Python side effect: runs once per trace only
        specs = () if batches is None else (batches.element_spec,)
        outputs = self._step.get_concrete_function(*specs).structured_outputs
        totals = {name: tf.zeros(t.shape, t.dtype) for name, t in outputs.items()}

        def body(step, totals):
            args = () if batches is None else (batches.get_next(),)
            logs = self._step(*args)
            return step + 1, {name: totals[name] + logs[name] for name in totals}

        _, totals = tf.while_loop(
            lambda step, _: step < num_steps, body, (tf.constant(0, tf.int32), totals), parallel_iterations=1
        )
        return totals

    # ---------------------------------------------------------------- state
    def last_good_checkpoint(self) -> str | None:
        """The newest checkpoint of this run whose tensors are all finite, or ``None``."""
        return newest_finite_checkpoint(self.checkpoint_dir) if self.checkpoint_dir is not None else None

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
        directory = checkpoint_dir if checkpoint_dir is not None else self.checkpoint_dir
        latest = newest_finite_checkpoint(directory) if directory is not None else None
        if latest is None:
            return 0
        try:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
        except CHECKPOINT_ERRORS as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise DGError(f"{latest}: the checkpoint does not match the model built from the run's config "
                          f"({first[:200]}); a resumed run must keep the networks it started with") from None
        for optimizer, rate in self.step.learning_rates():
            optimizer.learning_rate = rate
        logger.info("resumed from %s (epoch %d)", latest, int(self.epoch))
        return int(self.epoch.numpy())

    # ---------------------------------------------------------------- epochs
    def train(self, epochs: int, callbacks: Sequence[keras.callbacks.Callback] = (), model=None) -> dict[str, float]:
        """Train until ``epochs`` epochs are complete (counting restored ones), then ``step.finish()``.

        Args:
            epochs: the total number of epochs.
            callbacks: more Keras callbacks, run after the standard ones
                (``self.model`` is ``model``; setting its ``stop_training``
                ends training after the current chunk).
            model: what the callbacks see as their model (and where the
                ``History`` goes, as ``model.history``); default this loop.

        Returns:
            The mean losses of the last epoch run (empty if none ran).

        Raises:
            TrainingDivergedError: a variable or a loss became NaN or Inf
                (the NaN stop); nothing of that epoch is saved.
        """
        model = self if model is None else model
        start = int(self.epoch.numpy())
        history = keras.callbacks.History()
        callback_list = keras.callbacks.CallbackList(
            [*self.callbacks, *callbacks, history], model=model, epochs=epochs, steps=self.steps_per_epoch,
            initial_epoch=start, verbose=0,
        )
        model.stop_training = False
        chunk = self.config.steps_per_execution or self.steps_per_epoch
        batches = None
        if self.config.input_pipeline == "tf_data" and start < epochs:
            batches = iter(self.pipeline(start * self.steps_per_epoch))
        logs: dict[str, float] = {}
        callback_list.on_train_begin()
        for epoch in range(start, epochs):
            began = time.perf_counter()
            callback_list.on_epoch_begin(epoch)
            totals: dict[str, tf.Tensor] = {}
            done = 0
            while done < self.steps_per_epoch and not model.stop_training:
                count = min(chunk, self.steps_per_epoch - done)
                callback_list.on_train_batch_begin(done)
                args = (tf.constant(count, tf.int32),) + (() if batches is None else (batches,))
                for name, value in self._steps(*args).items():
                    totals[name] = totals[name] + value if name in totals else value
                done += count
                callback_list.on_train_batch_end(done - 1, {name: float(v) / done for name, v in totals.items()})
            logs = {name: float(v) / done for name, v in totals.items()}
            if done < self.steps_per_epoch:  # stopped inside the epoch: it does not count as done
                break
            self.epoch.assign(epoch + 1)
            logs["time/epoch_seconds"] = time.perf_counter() - began
            callback_list.on_epoch_end(epoch, logs)
            logs = {name: values[-1] for name, values in history.history.items()}  # with what callbacks added
            logger.debug("epoch %d: %s", epoch + 1, logs)
            if model.stop_training:
                break
        self.step.finish()  # after the last checkpoint, before on_train_end (as Keras's fit)
        callback_list.on_train_end(logs)
        self.history = history
        return logs
