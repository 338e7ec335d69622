"""What the critics see of the attributes: the auxiliary critic the probabilities (the original), the one-hot
vectors (``aux_critic_straight_through``) or both side by side (``aux_critic_probabilities_and_one_hot``); the
critic of features and attributes the probabilities (the original) or both (``critic_probabilities_and_one_hot``)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from dg_tf import ConfigError, DGConfig, DoppelGANger, Normalization, Output, OutputType
from dg_tf.encoding import Encoding
from dg_tf.models.build import build_networks
from dg_tf.models.layers import straight_through
from dg_tf.training.step import aux_critic_view, critic_attribute_view

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


#: Both critics see the probabilities alone, as in the original.
ORIGINAL_VIEWS = {"aux_critic_straight_through": False, "aux_critic_probabilities_and_one_hot": False,
                  "critic_probabilities_and_one_hot": False}


def _one_step(dataset, **view: bool) -> DoppelGANger:
    """A model after exactly one training step (batch = the whole toy set, one epoch), last weights; its critics
    see the probabilities (the original) unless ``view`` says otherwise."""
    config = DGConfig(**{**TINY, "batch_size": dataset.num_samples, "epochs": 1, "generator_ema": None,
                         "standing_statistics": False, **ORIGINAL_VIEWS, **view})
    return DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)


def _differ(a: list[tf.Variable], b: list[tf.Variable]) -> bool:
    return any(not np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a, b))


def test_only_the_auxiliary_critic_sees_one_hot_attributes():
    # One step updates the critic, then the auxiliary critic, then the generator, from the same draws either way:
    # the critic (which sees probabilities either way) must come out bitwise the same, the auxiliary critic not.
    dataset = make_toy_dataset()
    soft, one_hot = _one_step(dataset), _one_step(dataset, aux_critic_straight_through=True)
    assert not _differ(soft.critic.weights, one_hot.critic.weights)
    assert _differ(soft.aux_critic.weights, one_hot.aux_critic.weights)
    assert _differ(soft.generator.trainable_variables, one_hot.generator.trainable_variables)


def test_attribute_retraining_follows_the_setting():
    dataset = make_toy_dataset()
    soft, one_hot = _one_step(dataset), _one_step(dataset)
    one_hot.config = one_hot.config.replace(aux_critic_straight_through=True)
    for model in (soft, one_hot):
        model.retrain_attributes(dataset.attributes, epochs=1, seed=3)
    mlp = lambda m: m.generator.attribute_mlp.trainable_variables + m.generator.attribute_heads.trainable_variables
    assert _differ(mlp(soft), mlp(one_hot))


def _first_kernel(critic) -> np.ndarray:
    """A critic's first dense kernel [input width, units]."""
    return next(v for v in critic.trainable_variables if len(v.shape) == 2).numpy()


def _first_kernel_rows(critic) -> int:
    """Input width of a critic: rows of its first dense kernel."""
    return _first_kernel(critic).shape[0]


@pytest.mark.parametrize("view,field", [(aux_critic_view, "aux_critic_probabilities_and_one_hot"),
                                        (critic_attribute_view, "critic_probabilities_and_one_hot")])
def test_both_views_are_the_probabilities_then_the_one_hot_real_attributes(view, field):
    # The toy attributes: a 3-way label and a [0, 1] value (A_real = 4), then 4 min/max columns (A = 8).
    dataset = make_toy_dataset()
    model = _one_step(dataset, **{field: True})
    rng = np.random.default_rng(1)
    probabilities, value, addi = rng.dirichlet(np.ones(3), size=5), rng.uniform(size=(5, 1)), rng.uniform(size=(5, 4))
    generated = tf.Variable(np.concatenate([probabilities, value, addi], axis=1).astype(np.float32))
    weights = rng.normal(size=(5, 12)).astype(np.float32)
    with tf.GradientTape() as tape:
        seen = view(model.config, model.generator, generated)
        loss = tf.reduce_sum(seen * weights)
    expected = np.concatenate([generated.numpy(), np.eye(3)[probabilities.argmax(1)], value], axis=1)
    np.testing.assert_allclose(seen.numpy(), expected, atol=1e-7)
    gradient = weights[:, :8].copy()
    gradient[:, :4] += weights[:, 8:]  # the one-hot part passes its gradient to the probabilities (straight through)
    np.testing.assert_allclose(tape.gradient(loss, generated).numpy(), gradient, rtol=1e-6)
    real = np.concatenate([dataset.attributes[:5], addi], axis=1).astype(np.float32)
    np.testing.assert_array_equal(view(model.config, model.generator, tf.constant(real)).numpy(),
                                  np.concatenate([real, real[:, :4]], axis=1))
    np.testing.assert_array_equal(view(model.config.replace(**ORIGINAL_VIEWS), model.generator, generated).numpy(),
                                  generated.numpy())  # the original: the attributes as they are


def test_with_both_views_only_the_auxiliary_critic_changes_and_its_input_is_wider():
    dataset = make_toy_dataset()
    soft, both = _one_step(dataset), _one_step(dataset, aux_critic_probabilities_and_one_hot=True)
    assert not _differ(soft.critic.weights, both.critic.weights)
    assert (_first_kernel_rows(soft.aux_critic), _first_kernel_rows(both.aux_critic)) == (8, 12)
    assert _differ(soft.generator.trainable_variables, both.generator.trainable_variables)
    both.retrain_attributes(dataset.attributes, epochs=1, seed=3)  # its attribute critic is built as wide
    np.testing.assert_array_equal(both.generate(20, seed=0).attributes[:, :3].sum(1), 1.0)


def test_with_both_views_for_the_critic_only_its_input_is_wider():
    # Both views add the 4 real attribute columns to the critic's input (the series, then the attributes).
    dataset = make_toy_dataset()
    soft, both = _one_step(dataset), _one_step(dataset, critic_probabilities_and_one_hot=True)
    assert _first_kernel_rows(both.critic) == _first_kernel_rows(soft.critic) + 4
    assert not _differ(soft.aux_critic.weights, both.aux_critic.weights)  # its inputs do not depend on the critic
    assert _differ(soft.generator.trainable_variables, both.generator.trainable_variables)
    features, attributes = both.encoding.encode(dataset)
    seen = np.concatenate([attributes, dataset.attributes], axis=1)  # real rows: [attributes, their real part]
    np.testing.assert_allclose(both.critic_scores(dataset), both.critic(tf.constant(features), tf.constant(seen))
                               .numpy()[:, 0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("field,critic", [("aux_critic_probabilities_and_one_hot", "aux_critic"),
                                          ("critic_probabilities_and_one_hot", "critic")])
def test_both_views_with_differential_privacy_train_the_wider_critic(field, critic):
    dataset = make_toy_dataset()
    config = DGConfig(**{**TINY, "epochs": 1, "dp_noise_multiplier": 0.5, **ORIGINAL_VIEWS, field: True})
    def untrained(config):  # the networks a model of ``config`` starts from (the same seeded initial weights)
        networks = build_networks(config, Encoding.for_dataset(dataset, config))
        return dict(zip(("generator", "critic", "aux_critic"), networks))
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)
    trained_kernel, initial_kernel = _first_kernel(getattr(model, critic)), _first_kernel(untrained(config)[critic])
    assert trained_kernel.shape[0] == _first_kernel_rows(untrained(config.replace(**{field: False}))[critic]) + 4
    assert np.abs(trained_kernel[-4:] - initial_kernel[-4:]).max() > 1e-4  # the one-hot part learns


def test_straight_through_takes_precedence_over_both_views():
    assert DGConfig().training.aux_critic_input == "both"  # the default
    assert DGConfig(aux_critic_straight_through=True).training.aux_critic_input == "one_hot"
    dataset = make_toy_dataset()
    alone = _one_step(dataset, aux_critic_straight_through=True)
    with_both = _one_step(dataset, aux_critic_straight_through=True, aux_critic_probabilities_and_one_hot=True)
    assert _first_kernel_rows(with_both.aux_critic) == 8
    assert not _differ(alone.aux_critic.weights, with_both.aux_critic.weights)
    assert not _differ(alone.generator.trainable_variables, with_both.generator.trainable_variables)


@pytest.mark.parametrize("field", ["aux_critic_probabilities_and_one_hot", "aux_critic_straight_through",
                                   "critic_probabilities_and_one_hot"])
def test_what_the_critics_see_is_fixed_on_resume(field):
    with pytest.raises(ConfigError, match=rf"--resume cannot change {field}"):
        DGConfig().resumed_with({field: not getattr(DGConfig(), field)})
