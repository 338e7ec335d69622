"""Running a training step on several devices with ``tf.distribute`` (``RuntimeConfig.strategy``).

Every worker draws the same global batch from the same generator;
:class:`Replicas` gives each replica an even, consecutive share of it
(:func:`replica_slice`), weights each replica's losses by 1 / replicas so
that the summed gradients are those of the global batch, and averages the
replicas' logs. BatchNorm statistics are synchronized by the networks
(``synchronized_batch_norm``). One replica gives the one-device result.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from typing import Callable

import keras
import tensorflow as tf

from dg_tf.errors import ConfigError

__all__ = ["Replicas", "distribution_strategy", "is_chief", "replica_slice", "strategy_scope"]


@functools.cache
def distribution_strategy(name: str) -> tf.distribute.Strategy | None:
    """The ``tf.distribute`` strategy of ``RuntimeConfig.strategy``; ``None`` for "default".

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


def replica_slice(x: tf.Tensor, axis: int) -> tf.Tensor:
    """This replica's even share of ``x`` along ``axis`` (replicas take consecutive blocks)."""
    context = tf.distribute.get_replica_context()
    size = x.shape[axis] // context.num_replicas_in_sync
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * size
    return tf.gather(x, tf.range(start, start + size), axis=axis)


class Replicas:
    """The replicas a step runs on: this device alone, or those of a ``tf.distribute`` strategy.

    Args:
        strategy: ``RuntimeConfig.strategy``.
        xla: compile each replica's update with XLA (the whole step is
            compiled only without a strategy).
    """

    def __init__(self, strategy: str, xla: bool = False):
        self.strategy = distribution_strategy(strategy)
        self.name = strategy
        self.xla = xla

    @property
    def count(self) -> int:
        return 1 if self.strategy is None else self.strategy.num_replicas_in_sync

    def scope(self) -> contextlib.AbstractContextManager:
        """Context in which variables (networks, optimizers) must be created."""
        return strategy_scope(self.name)

    def check_batch_split(self, batch_size: int) -> None:
        """Raise :class:`ConfigError` unless ``batch_size`` splits evenly across the replicas."""
        if batch_size % self.count:
            raise ConfigError(f"batch_size={batch_size} must divide evenly across the {self.count} replicas "
                              f"of strategy={self.name!r}")

    def scale_loss(self, loss: tf.Tensor, optimizer: keras.optimizers.Optimizer) -> tf.Tensor:
        """What to differentiate for ``loss``: weighted 1 / replicas, then scaled by the optimizer (mixed precision)."""
        return optimizer.scale_loss(loss if self.count == 1 else loss / self.count)

    def run(self, update: Callable[..., dict[str, tf.Tensor]], args: tuple, batch_axes: tuple) -> dict[str, tf.Tensor]:
        """``update(*args)``: directly, or on every replica with its share of each tensor, logs averaged.

        ``batch_axes`` mirrors ``args`` with the batch axis of each tensor.
        """
        if self.strategy is None:
            return update(*args)
        if self.xla:
            update = tf.function(update, jit_compile=True)

        def on_replica(*args):
            return update(*tf.nest.map_structure(replica_slice, args, batch_axes))

        per_replica = self.strategy.run(on_replica, args)
        return {name: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                for name, value in per_replica.items()}
