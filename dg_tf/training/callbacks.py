"""What happens around the training steps, as Keras callbacks (``keras.callbacks.Callback`` signatures).

:class:`~dg_tf.training.loop.TrainingLoop` calls them as Keras' ``fit`` does,
with 0-based epochs and steps: ``on_train_batch_end(step, logs)`` once per
compiled chunk of steps (``logs``: the epoch's mean losses so far), and
``on_epoch_end(epoch, logs)`` with the epoch's mean losses under the original
TensorBoard names. Their ``model`` is the :class:`~dg_tf.model.DoppelGANger`
being trained (or the loop itself). The loop runs them in this order, so the
NaN stop can veto a checkpoint and the epsilon reaches TensorBoard:

- :class:`NaNStop`: after every chunk checks every variable of the networks
  and optimizers, and after every epoch the losses; on NaN or Inf it raises
  :class:`~dg_tf.errors.TrainingDivergedError` naming the newest finite
  checkpoint, before anything of that epoch is saved;
- :class:`PrivacyEpsilon` (DP runs): adds ``privacy/epsilon``, the privacy
  spent so far (paper §6.2);
- :class:`TensorBoard`: the scalars and, at the start, the run's hparams;
- :class:`TrainingFigures`: a figure of generated series every few epochs;
- :class:`Checkpoints`: ``tf.train.CheckpointManager`` checkpoints;
- the caller's own callbacks, e.g. :class:`ProgressBar`, then a ``History``.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

from dg_tf.config import DGConfig
from dg_tf.errors import TrainingDivergedError
from dg_tf.limits import format_duration
from dg_tf.privacy_accounting import PrivacyReport, privacy_report
from dg_tf.run import CHECKPOINT_NAME

__all__ = ["Checkpoints", "NaNStop", "PrivacyEpsilon", "ProgressBar", "TensorBoard", "TrainingFigures"]

logger = logging.getLogger(__name__)

#: Subfolder of the TensorBoard folder with the training figures as PNG files.
FIGURES_DIR = "figures"


class NaNStop(keras.callbacks.Callback):
    """Raise :class:`TrainingDivergedError` as soon as a variable or a loss is NaN or Inf.

    Args:
        variables: checked after every chunk of steps (one compiled
            reduction); only the floating ones count.
        last_good: returns the newest finite checkpoint (or ``None``), named in the error.
        advice: what the error suggests after naming it.
    """

    def __init__(self, variables: Sequence[tf.Variable], last_good: Callable[[], str | None], advice: str):
        super().__init__()
        self.watched = [v for v in variables if tf.as_dtype(v.dtype).is_floating]
        self.last_good = last_good
        self.advice = advice
        self.epoch = 0
        self._nonfinite = tf.function(
            lambda: tf.stack([tf.logical_not(tf.reduce_all(tf.math.is_finite(v))) for v in self.watched])
        )

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = self._nonfinite().numpy()
        if bad.any():
            names = [getattr(self.watched[i], "path", self.watched[i].name) for i in np.flatnonzero(bad)]
            raise self._diverged(f"{len(names)} variable(s) became NaN or Inf by step {batch + 1} of epoch "
                                 f"{self.epoch + 1}, e.g. {names[0]}")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        bad = sorted(name for name, value in logs.items() if not math.isfinite(value))
        if bad:
            raise self._diverged(f"{', '.join(bad)} became {logs[bad[0]]} in epoch {epoch + 1}")

    def _diverged(self, what: str) -> TrainingDivergedError:
        last = self.last_good()
        return TrainingDivergedError(
            f"{what}; the last good (finite) checkpoint is "
            f"{last or 'none (no finite checkpoint saved yet)'}. {self.advice}"
        )


class Checkpoints(keras.callbacks.Callback):
    """Save ``checkpoint`` every ``every`` epochs and after the last one (``ckpt-<epochs done>``).

    Args:
        checkpoint: the training state (networks, optimizers, RNG, epoch).
        directory: the run's checkpoint folder.
        keep: checkpoints kept on disk (older ones are deleted).
        every: epochs between checkpoints.
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, directory: Path, keep: int, every: int):
        super().__init__()
        self.manager = tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=keep,
                                                  checkpoint_name=CHECKPOINT_NAME)
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every == 0 or done == self.params["epochs"]:
            self.manager.save(checkpoint_number=done)


class TensorBoard(keras.callbacks.Callback):
    """Every epoch's logs as TensorBoard scalars (at step epochs done x steps per epoch), and the hparams.

    Args:
        logdir: the TensorBoard folder.
        steps_per_epoch: the x axis unit.
        hparams: logged once at the start (values other than bool, int,
            float and str as text); ``None`` logs none.
    """

    def __init__(self, logdir: str | Path, steps_per_epoch: int, hparams: dict | None = None):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(logdir))
        self.steps_per_epoch = steps_per_epoch
        self.hparams = hparams

    def on_train_begin(self, logs=None):
        if self.hparams:
            with self.writer.as_default():
                hparams_api.hparams({name: value if isinstance(value, (bool, int, float, str)) else str(value)
                                     for name, value in self.hparams.items()})
            self.writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        with self.writer.as_default(step=(epoch + 1) * self.steps_per_epoch):
            for name, value in (logs or {}).items():
                tf.summary.scalar(name, value)
        self.writer.flush()


class TrainingFigures(keras.callbacks.Callback):
    """A figure of generated series after epoch 1 and every ``every`` epochs: TensorBoard image and PNG file.

    Args:
        figure_fn: ``epochs done -> uint8 [H, W, 3]``.
        logdir: the TensorBoard folder; the PNGs go to ``logdir/figures/epoch_NNNNN.png``.
        steps_per_epoch: the x axis unit.
        every: epochs between figures.
    """

    def __init__(self, figure_fn: Callable[[int], np.ndarray], logdir: str | Path, steps_per_epoch: int, every: int):
        super().__init__()
        self.figure_fn = figure_fn
        self.writer = tf.summary.create_file_writer(str(logdir))
        self.folder = Path(logdir) / FIGURES_DIR
        self.steps_per_epoch = steps_per_epoch
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != 1:
            return
        image = self.figure_fn(done)
        with self.writer.as_default(step=done * self.steps_per_epoch):
            tf.summary.image("generated_series", image[None], max_outputs=1)
        self.writer.flush()
        self.folder.mkdir(parents=True, exist_ok=True)
        tf.io.write_file(str(self.folder / f"epoch_{done:05d}.png"), tf.io.encode_png(image))


class PrivacyEpsilon(keras.callbacks.Callback):
    """Adds ``privacy/epsilon``, spent by the epochs done so far, to each epoch's logs (paper §6.2).

    Args:
        config: a differentially private config.
        num_examples: N, the training series.

    Attributes:
        report: the :class:`PrivacyReport` of the epochs done (set when training begins).
    """

    def __init__(self, config: DGConfig, num_examples: int):
        super().__init__()
        self.config = config
        self.num_examples = num_examples
        self.report: PrivacyReport | None = None

    def _spent(self, epochs: int) -> PrivacyReport:
        steps = epochs * self.params["steps"] * self.config.critic_rounds
        return privacy_report(self.config, self.num_examples, steps)

    def on_train_begin(self, logs=None):
        self.report = self._spent(self.params["initial_epoch"])

    def on_epoch_end(self, epoch, logs=None):
        self.report = self._spent(epoch + 1)
        if logs is not None:
            logs["privacy/epsilon"] = self.report.epsilon


class ProgressBar(keras.callbacks.Callback):
    """A one-line progress bar on stderr: epoch, step, losses, speed and ETA.

    On a terminal the line is redrawn after every compiled chunk; otherwise
    (logs, CI) one log line is written about every 5% of the epochs.
    """

    SHOWN = ("loss/d", "loss/attr_d", "loss/g")

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.logs: dict[str, float] = {}

    def on_train_begin(self, logs=None):
        self.start_epoch, self.epochs = self.params["initial_epoch"], self.params["epochs"]
        self.steps_per_epoch = self.params["steps"]
        self.total = (self.epochs - self.start_epoch) * self.steps_per_epoch
        self.done = 0
        self.began = time.perf_counter()
        self.log_every = max(1, (self.epochs - self.start_epoch) // 20)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.epoch_steps = 0

    def _line(self, epoch: int, step: int) -> str:
        elapsed = time.perf_counter() - self.began
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        losses = " ".join(f"{k} {self.logs[k]:+.4f}" for k in self.SHOWN if k in self.logs)
        return (f"epoch {epoch}/{self.epochs} step {step}/{self.steps_per_epoch} | {losses} | "
                f"{rate:.1f} steps/s ETA {format_duration(eta)}")

    def on_train_batch_end(self, batch, logs=None):
        self.done += batch + 1 - self.epoch_steps
        self.epoch_steps = batch + 1
        if self.tty:
            self.stream.write("\r" + self._line(self.epoch + 1, batch + 1).ljust(100))
            self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        self.logs = logs or {}
        done = epoch + 1
        if self.tty:
            self.stream.write("\r" + self._line(done, self.steps_per_epoch).ljust(100))
            if done == self.epochs:
                self.stream.write("\n")
            self.stream.flush()
        elif (done - self.start_epoch) % self.log_every == 0 or done == self.epochs:
            logger.info(self._line(done, self.steps_per_epoch))
