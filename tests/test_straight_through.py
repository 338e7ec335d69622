"""``aux_critic_straight_through``: the auxiliary critic scores generated discrete attributes as one-hot vectors."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dg_tf import DGConfig, DoppelGANger, Normalization, Output, OutputType
from dg_tf.models.layers import straight_through

from conftest import TINY, make_toy_dataset

OUTPUTS = [Output(OutputType.DISCRETE, 3), Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
           Output(OutputType.DISCRETE, 2)]


def test_forward_is_the_one_hot_argmax_and_the_gradient_the_identity():
    rng = np.random.default_rng(0)
    values = rng.uniform(size=(6, 6)).astype(np.float32)
    expected = values.copy()
    expected[:, :3] = np.eye(3)[values[:, :3].argmax(1)]
    expected[:, 4:] = np.eye(2)[values[:, 4:].argmax(1)]
    weights = rng.normal(size=(6, 6)).astype(np.float32)
    x = tf.Variable(values)
    with tf.GradientTape() as tape:
        out = straight_through(x, OUTPUTS)
        loss = tf.reduce_sum(out * weights)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-7)
    np.testing.assert_array_equal(out.numpy()[:, 3], values[:, 3])  # continuous: untouched
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), weights, rtol=1e-6)


def _one_step(dataset, straight: bool) -> DoppelGANger:
    """A model after exactly one training step (batch = the whole toy set, one epoch), last weights."""
    config = DGConfig(**{**TINY, "batch_size": dataset.num_samples, "epochs": 1, "generator_ema": None,
                         "standing_statistics": False, "aux_critic_straight_through": straight})
    return DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)


def _differ(a: list[tf.Variable], b: list[tf.Variable]) -> bool:
    return any(not np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a, b))


def test_only_the_auxiliary_critic_sees_one_hot_attributes():
    # One step updates the critic, then the auxiliary critic, then the generator, from the same draws either way:
    # the critic (which sees probabilities either way) must come out bitwise the same, the auxiliary critic not.
    dataset = make_toy_dataset()
    soft, one_hot = _one_step(dataset, False), _one_step(dataset, True)
    assert not _differ(soft.critic.weights, one_hot.critic.weights)
    assert _differ(soft.aux_critic.weights, one_hot.aux_critic.weights)
    assert _differ(soft.generator.trainable_variables, one_hot.generator.trainable_variables)


def test_attribute_retraining_follows_the_setting():
    dataset = make_toy_dataset()
    soft, one_hot = _one_step(dataset, False), _one_step(dataset, False)
    one_hot.config = one_hot.config.replace(aux_critic_straight_through=True)
    for model in (soft, one_hot):
        model.retrain_attributes(dataset.attributes, epochs=1, seed=3)
    mlp = lambda m: m.generator.attribute_mlp.trainable_variables + m.generator.attribute_heads.trainable_variables
    assert _differ(mlp(soft), mlp(one_hot))
