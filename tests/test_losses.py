"""The Wasserstein losses and the joint gradient penalty against hand-computed values."""

import numpy as np
import tensorflow as tf

from dg_tf.losses import (
    GP_EPSILON,
    gradient_penalty,
    gradient_penalty_per_example,
    interpolate,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)


def test_wasserstein_losses():
    real = tf.constant([[1.0], [3.0]])  # mean 2
    fake = tf.constant([[0.5], [1.0]])  # mean 0.75: a loss of 0 or of the wrong sign fails
    assert float(wasserstein_critic_loss(real, fake)) == 0.75 - 2.0
    assert float(wasserstein_generator_loss(fake)) == -0.75
    assert float(wasserstein_generator_loss(tf.constant([-2.0, 0.0, -1.0]))) == 1.0


def test_penalty_of_linear_critic_uses_joint_norm():
    w_features = tf.fill([2, 2], 0.5)  # sum of squares 1
    w_attributes = tf.constant([1.0, 2.0])  # sum of squares 5

    def critic(features, attributes):
        return tf.reduce_sum(features * w_features, axis=[1, 2]) + tf.reduce_sum(attributes * w_attributes, axis=1)

    features = tf.random.stateless_normal([3, 2, 2], seed=[1, 2])
    attributes = tf.random.stateless_normal([3, 2], seed=[3, 4])
    expected = (np.sqrt(6.0 + GP_EPSILON) - 1.0) ** 2
    per_example = gradient_penalty_per_example(critic, [features, attributes]).numpy()
    np.testing.assert_allclose(per_example, [expected] * 3, rtol=1e-6)
    # Separate norms would give (1-1)^2 + (sqrt(5)-1)^2 instead.
    assert abs(expected - (np.sqrt(5.0) - 1.0) ** 2) > 0.1


def test_penalty_is_per_example():
    def critic(x):
        return tf.reduce_sum(tf.square(x), axis=1)  # gradient 2x, norm 2|x|

    x = tf.constant([[0.3, 0.4], [1.0, 0.0], [0.0, 0.0]])
    expected = [(np.sqrt(1.0 + GP_EPSILON) - 1) ** 2, (np.sqrt(4.0 + GP_EPSILON) - 1) ** 2,
                (np.sqrt(GP_EPSILON) - 1) ** 2]
    np.testing.assert_allclose(gradient_penalty_per_example(critic, [x]).numpy(), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(float(gradient_penalty(critic, [x])), np.mean(expected), rtol=1e-5)


def test_interpolation_shares_alpha_across_inputs():
    real = [tf.zeros([2, 3, 1]), tf.zeros([2, 2])]
    fake = [tf.ones([2, 3, 1]) * 10, tf.ones([2, 2]) * 4]
    mixed = interpolate(real, fake, tf.constant([0.25, 1.0]))
    np.testing.assert_allclose(mixed[0].numpy()[:, :, 0], [[2.5] * 3, [10.0] * 3])
    np.testing.assert_allclose(mixed[1].numpy(), [[1.0, 1.0], [4.0, 4.0]])
