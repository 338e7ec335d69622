"""DP-SGD for the critics (paper §6.2; Abadi et al. 2016): the differentially private critic update.

:class:`DPCriticUpdate` is the variant of a critic round that
:class:`~dg_tf.training.step.GANStep` runs when ``dp_noise_multiplier`` is
set: both critics are updated on one Poisson sample of the real data. The
original applied TensorFlow Privacy's ``DPAdamGaussianOptimizer`` to both
critics with one example per microbatch. Here, per critic round:

1. :func:`poisson_sample`: every real example joins the batch independently
   with probability q (a variable batch size, as the accountant assumes).
2. The sampled examples are processed in chunks of a fixed number of slots
   (:func:`chunk_size`), padded slots masked out, so every tensor keeps a
   static shape inside the compiled step while any batch size stays exact.
3. :func:`per_example_critic_gradients`: each example's loss
   ``D(fake_i) - D(real_i) + lambda * GP_i`` and its gradient, through
   ``tf.vectorized_map`` over the batch: example i is scored alone, and its
   gradient penalty is taken at ``real_i + alpha_i (fake_i - real_i)``, so the
   penalty's dependence on ``real_i`` lies inside the clipped gradient.
   ``fake_i`` is a generated series paired with example i (drawn uniformly
   from the step's generated batch): it depends on no real
   data, and since the pairs are i.i.d. the sum below has the usual
   one-example sensitivity.
4. :func:`clip_per_example`: each example's gradient (over all of that
   critic's variables) is scaled to L2 norm at most C.
5. :func:`noisy_average`: the masked sum of clipped gradients plus
   N(0, (sigma C)^2) noise per coordinate, divided by the *expected* batch
   size qN (not the realised one, which would itself leak).

The generator is trained as usual: it only sees the critics' outputs on
generated data (post-processing). Accounting: :mod:`dg_tf.privacy_accounting`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Sequence

import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.losses import gradient_penalty_per_example, interpolate
from dg_tf.privacy_accounting import sampling_probability

if TYPE_CHECKING:
    from dg_tf.training.step import CriticSlot

__all__ = [
    "DPCriticUpdate",
    "chunk_size",
    "clip_per_example",
    "masked_sum",
    "noisy_average",
    "per_example_critic_gradients",
    "poisson_sample",
]

#: Floor of a gradient norm when dividing by it (a zero gradient stays zero).
_MIN_NORM = 1e-12


def chunk_size(expected_batch_size: float, sampling_probability: float, num_examples: int) -> int:
    """Slots processed at once: the expected batch size plus 3 standard deviations, at most N.

    A Poisson batch above it takes more than one chunk (rare), so the result
    is exact for any batch size.
    """
    spread = 3.0 * math.sqrt(expected_batch_size * (1.0 - sampling_probability))
    return max(1, min(num_examples, math.ceil(expected_batch_size + spread)))


def poisson_sample(rng: tf.random.Generator, num_examples: int, sampling_probability: float) -> tf.Tensor:
    """Indices of a Poisson sample: each of ``num_examples`` kept with the given probability.

    Returns:
        int64 [B], increasing, B ~ Binomial(num_examples, sampling_probability).
    """
    keep = rng.uniform([num_examples]) < sampling_probability
    return tf.where(keep)[:, 0]


def per_example_critic_gradients(
    critic: Callable[..., tf.Tensor],
    variables: Sequence[tf.Variable],
    real: Sequence[tf.Tensor],
    fake: Sequence[tf.Tensor],
    alpha: tf.Tensor,
    penalty_weight: float,
) -> tuple[list[tf.Tensor], tf.Tensor]:
    """Per-example WGAN-GP critic losses and their gradients.

    Args:
        critic: maps input tensors [M, ...] to scores [M, 1], examples independent.
        variables: the critic's trainable variables.
        real: the critic's inputs on M real examples, each [M, ...].
        fake: the inputs on the M generated examples paired with them.
        alpha: float32 [M] interpolation coefficients of the gradient penalty.
        penalty_weight: lambda.

    Returns:
        The gradient of each example's loss ``D(fake_i) - D(real_i) + lambda GP_i``,
        one [M, *variable.shape] tensor per variable, and float32 [M, 3] terms
        (``D(real_i)``, ``D(fake_i)``, ``GP_i``) per example.
    """

    def one_example(args):
        real_row, fake_row, a = args
        real_one = [x[None] for x in real_row]
        fake_one = [x[None] for x in fake_row]
        with tf.GradientTape() as tape:
            real_score = critic(*real_one)[0, 0]
            fake_score = critic(*fake_one)[0, 0]
            penalty = gradient_penalty_per_example(critic, interpolate(real_one, fake_one, a[None]))[0]
            loss = fake_score - real_score + penalty_weight * penalty
        return tape.gradient(loss, variables), tf.stack([real_score, fake_score, penalty])

    grads, terms = tf.vectorized_map(one_example, (tuple(real), tuple(fake), alpha), fallback_to_while_loop=False)
    return list(grads), terms


def clip_per_example(grads: Sequence[tf.Tensor], l2_clip: float) -> tuple[list[tf.Tensor], tf.Tensor]:
    """Scale each example's gradient to L2 norm at most ``l2_clip``.

    Args:
        grads: per-example gradients, one [M, ...] tensor per variable; an
            example's norm is taken jointly over all of them.
        l2_clip: C > 0.

    Returns:
        The clipped gradients (examples already within C are unchanged) and
        float32 [M] the norms before clipping.
    """
    squared = tf.add_n([tf.reduce_sum(tf.reshape(tf.square(g), [tf.shape(g)[0], -1]), axis=1) for g in grads])
    norms = tf.sqrt(squared)
    scale = tf.minimum(1.0, l2_clip / tf.maximum(norms, _MIN_NORM))
    return [g * tf.reshape(scale, [-1] + [1] * (g.shape.rank - 1)) for g in grads], norms


def masked_sum(per_example: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """``sum_i mask_i * per_example[i]`` over the first axis (padded slots have mask 0)."""
    return tf.tensordot(mask, per_example, axes=1)


def noisy_average(
    summed: Sequence[tf.Tensor],
    rng: tf.random.Generator,
    noise_multiplier: float,
    l2_clip: float,
    expected_batch_size: float,
) -> list[tf.Tensor]:
    """``(sum + N(0, (sigma C)^2)) / expected_batch_size`` for each summed clipped gradient."""
    stddev = noise_multiplier * l2_clip
    return [(s + stddev * rng.normal(tf.shape(s))) / expected_batch_size for s in summed]


class DPCriticUpdate:
    """One DP-SGD update of each critic, both on the same Poisson sample (a critic round with DP).

    Args:
        config: ``batch_size`` (the expected sample size), ``dp_noise_multiplier``, ``dp_l2_clip``.
        num_examples: N, the real rows.

    Attributes:
        sampling_probability: q = batch_size / N.
        expected_batch_size: q N, the divisor of the noisy sum.
        chunk_size: slots processed at once (:func:`chunk_size`).
    """

    def __init__(self, config: DGConfig, num_examples: int):
        self.config = config
        self.num_examples = num_examples
        self.sampling_probability = sampling_probability(config.batch_size, num_examples)
        self.expected_batch_size = self.sampling_probability * num_examples
        self.chunk_size = chunk_size(self.expected_batch_size, self.sampling_probability, num_examples)

    def __call__(
        self,
        critics: Sequence["CriticSlot"],
        real_data: tuple[tf.Tensor, tf.Tensor],
        fake: tuple[tf.Tensor, ...],
        rng: tf.random.Generator,
    ) -> dict[str, tf.Tensor]:
        """Update every critic on one Poisson sample of ``real_data``; returns their logs.

        The sample is processed in chunks of :attr:`chunk_size` slots (a
        ``tf.while_loop``; padded slots masked), each real example paired
        with a generated one drawn uniformly from ``fake``.

        Args:
            critics: the critics and their optimizers.
            real_data: all real rows as the critics see them, features float32
                [N, L, D], attributes [N, A] and the auxiliary critic's view of
                them (:func:`~dg_tf.training.step.aux_critic_view`).
            fake: the step's generated inputs, each [batch_size, ...]
                (:meth:`~dg_tf.training.step.GANStep.generated_inputs`).
            rng: the run's generator (sample, pairing, penalty mixing, noise).
        """
        c = self.config
        index = poisson_sample(rng, self.num_examples, self.sampling_probability)
        count = tf.shape(index, out_type=tf.int64)[0]
        slots = self.chunk_size
        num_chunks = (count + slots - 1) // slots

        def chunk_sums(chunk, grad_sums, term_sums):
            slot = chunk * slots + tf.range(slots, dtype=tf.int64)
            mask = tf.cast(slot < count, tf.float32)
            rows = tf.gather(index, tf.minimum(slot, count - 1))
            partners = rng.uniform([slots], 0, c.batch_size, dtype=tf.int64)
            real = tuple(tf.gather(x, rows) for x in real_data)
            fake_rows = tuple(tf.gather(x, partners) for x in fake)
            new_grad_sums, new_term_sums = [], []
            for critic, grad_sum, term_sum in zip(critics, grad_sums, term_sums):
                grads, terms = per_example_critic_gradients(
                    critic.network, critic.network.trainable_variables, critic.inputs(real), critic.inputs(fake_rows),
                    rng.uniform([slots]), critic.penalty_weight,
                )
                clipped, _ = clip_per_example(grads, c.dp_l2_clip)
                new_grad_sums.append([s + masked_sum(g, mask) for s, g in zip(grad_sum, clipped)])
                new_term_sums.append(term_sum + masked_sum(terms, mask))
            return chunk + 1, new_grad_sums, new_term_sums

        start = (
            tf.constant(0, tf.int64),
            [[tf.zeros_like(v) for v in critic.network.trainable_variables] for critic in critics],
            [tf.zeros([3]) for _ in critics],
        )
        _, grad_sums, term_sums = tf.while_loop(lambda chunk, *_: chunk < num_chunks, chunk_sums, start)
        sampled = tf.maximum(tf.cast(count, tf.float32), 1.0)
        logs: dict[str, tf.Tensor] = {}
        for critic, grad_sum, term_sum in zip(critics, grad_sums, term_sums):
            grads = noisy_average(grad_sum, rng, c.dp_noise_multiplier, c.dp_l2_clip, self.expected_batch_size)
            critic.optimizer.apply_gradients(zip(grads, critic.network.trainable_variables))
            real_mean, fake_mean, penalty = tf.unstack(term_sum / sampled)
            loss = fake_mean - real_mean + critic.penalty_weight * penalty
            logs.update(critic.logs(loss, real_mean, fake_mean, penalty))
        return logs
