"""Wasserstein losses and the joint gradient penalty (WGAN-GP), as pure functions.

Naming follows TF-GAN: ``wasserstein_<role>_loss``. Scores are critic outputs,
float32 [B, 1] or [B]; every loss returns a scalar mean over the batch, and the
``*_per_example`` variants return [B] (needed for per-example DP clipping).

Paper §4.3 and appendix B (eq. 1): both critics are trained with the WGAN-GP
loss of Gulrajani et al. (2017); the generator minimises
``-D(G(z)) - alpha * D_attr(G(z))``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import tensorflow as tf

__all__ = [
    "GP_EPSILON",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
    "interpolate",
    "gradient_penalty_per_example",
    "gradient_penalty",
]

#: Added under the square root of the gradient norm, as the original DG: the
#: norm's own gradient is infinite at 0, which a critic with zero gradient would hit.
GP_EPSILON = 1e-8


def wasserstein_critic_loss(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """Critic loss ``mean D(fake) - mean D(real)`` (scalar), to be minimised."""
    return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)


def wasserstein_generator_loss(fake_scores: tf.Tensor) -> tf.Tensor:
    """Generator loss ``-mean D(fake)`` (scalar), to be minimised."""
    return -tf.reduce_mean(fake_scores)


def interpolate(
    real: Sequence[tf.Tensor], fake: Sequence[tf.Tensor], alpha: tf.Tensor
) -> list[tf.Tensor]:
    """Mix each real input with its fake counterpart: ``real + alpha * (fake - real)``.

    Args:
        real: the critic's inputs on real data, each [B, ...].
        fake: the same on generated data, same shapes.
        alpha: float32 [B] in [0, 1], one coefficient per example shared by
            every input (features and attributes move together, as the original).

    Returns:
        The interpolated inputs, same shapes as ``real``.
    """
    mixed = []
    for r, f in zip(real, fake):
        a = tf.reshape(alpha, [-1] + [1] * (r.shape.rank - 1))
        mixed.append(r + a * (f - r))
    return mixed


def gradient_penalty_per_example(
    critic: Callable[..., tf.Tensor], inputs: Sequence[tf.Tensor]
) -> tf.Tensor:
    """``(||grad_x D(x)|| - 1)^2`` per example, the norm joint over all inputs.

    Args:
        critic: maps ``*inputs`` to scores [B, 1] or [B]; examples must not
            interact (no batch statistics), so each score depends on its own row.
        inputs: the (interpolated) critic inputs, each [B, ...] with a known rank.

    Returns:
        float32 [B]: the squared distance of each example's gradient norm from 1,
        where the norm is ``sqrt(sum over every input and non-batch axis of grad^2 + 1e-8)``.

    Raises:
        ValueError: an input has unknown rank.
    """
    for i, x in enumerate(inputs):
        if x.shape.rank is None:
            raise ValueError(f"inputs[{i}] has unknown rank; the penalty sums over its non-batch axes")
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        scores = critic(*inputs)
    grads = tape.gradient(scores, list(inputs))
    squared = tf.add_n(
        [tf.reduce_sum(tf.square(g), axis=list(range(1, g.shape.rank))) for g in grads]
    )
    norm = tf.sqrt(squared + GP_EPSILON)
    return tf.square(norm - 1.0)


def gradient_penalty(critic: Callable[..., tf.Tensor], inputs: Sequence[tf.Tensor]) -> tf.Tensor:
    """Batch mean of :func:`gradient_penalty_per_example` (scalar)."""
    return tf.reduce_mean(gradient_penalty_per_example(critic, inputs))
