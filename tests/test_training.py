"""Training: the compiled step learns, resumes exactly, logs, and stops on NaN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dg_tf import DoppelGANger, TrainingDivergedError
from dg_tf.encoding import Encoding
from dg_tf.models import pack
from dg_tf.models.layers import straight_through
from dg_tf.training import Trainer

from conftest import make_toy_dataset


def _model(config, dataset):
    return DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)


def _trainer(config, dataset, **kwargs):
    model = _model(config, dataset)
    encoding = Encoding.for_dataset(dataset, config)
    model._build(encoding)
    features, attributes = encoding.encode(dataset)
    return model, Trainer(config, model.generator, model.critic, model.aux_critic, features, attributes, **kwargs)


def test_one_epoch_lowers_the_critic_loss(tiny_config):
    dataset = make_toy_dataset(n=320)
    _, trainer = _trainer(tiny_config, dataset)
    losses = [float(trainer._step()["loss/d"]) for _ in range(trainer.steps_per_epoch)]
    assert trainer.steps_per_epoch == 20
    assert np.mean(losses[-5:]) < losses[0] - 0.5, losses


def test_step_is_traced_once(tiny_config, toy_dataset):
    _, trainer = _trainer(tiny_config, toy_dataset)
    trainer.train(2)
    assert trainer._step.experimental_get_tracing_count() == 1


def test_resume_equals_uninterrupted_run(tmp_path, tiny_config, toy_dataset):
    config = tiny_config.replace(epochs=3, checkpoint_every=1)
    straight = _model(config, toy_dataset).fit(toy_dataset, run_dir=tmp_path / "straight")

    _model(config.replace(epochs=2), toy_dataset).fit(toy_dataset, run_dir=tmp_path / "split")
    resumed = _model(config, toy_dataset).fit(toy_dataset, run_dir=tmp_path / "split", resume=True)

    for network in ("generator", "critic", "aux_critic"):
        a, b = getattr(straight, network).variables, getattr(resumed, network).variables
        assert len(a) == len(b) > 0
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
    s1, s2 = straight.generate(20, seed=5), resumed.generate(20, seed=5)
    np.testing.assert_array_equal(s1.features, s2.features)
    np.testing.assert_array_equal(s1.attributes, s2.attributes)


def test_checkpoint_holds_optimizer_rng_and_epoch(tmp_path, tiny_config, toy_dataset):
    config = tiny_config.replace(epochs=2, checkpoint_every=1)
    _model(config, toy_dataset).fit(toy_dataset, run_dir=tmp_path / "run")
    names = [name for name, _ in tf.train.list_variables(str(tmp_path / "run" / "checkpoints" / "ckpt-2"))]
    assert any(n.startswith("generator_optimizer/_iterations") for n in names)
    assert any(n.startswith("critic_optimizer/") for n in names)
    assert any(n.startswith("aux_critic_optimizer/") for n in names)
    assert any(n.startswith("rng/") for n in names) and any(n.startswith("epoch/") for n in names)
    reader = tf.train.load_checkpoint(str(tmp_path / "run" / "checkpoints" / "ckpt-2"))
    assert reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE") == 2
    steps = 2 * (toy_dataset.num_samples // config.batch_size)
    assert reader.get_tensor("generator_optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE") == steps


def test_tensorboard_scalars_use_original_names(tmp_path, tiny_config, toy_dataset):
    config = tiny_config.replace(epochs=1, figure_every=1)
    _model(config, toy_dataset).fit(toy_dataset, run_dir=tmp_path / "run")
    tags = set()
    for event_file in (tmp_path / "run" / "logs").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(value.tag for value in event.summary.value)
    expected = {"loss/d", "loss/d/gp", "loss/d/fake", "loss/d/real", "d/fake", "d/real", "loss/g",
                "loss/g/d", "loss/g/attr_d", "loss/attr_d", "loss/attr_d/gp", "generated_series"}
    assert expected <= tags, expected - tags
    assert (tmp_path / "run" / "logs" / "figures" / "epoch_00001.png").stat().st_size > 1000


def test_nan_stops_training_and_keeps_last_checkpoint(tmp_path, tiny_config, toy_dataset):
    config = tiny_config.replace(epochs=1, checkpoint_every=1)
    _model(config, toy_dataset).fit(toy_dataset, run_dir=tmp_path / "run")
    checkpoint = tmp_path / "run" / "checkpoints" / "ckpt-1.index"
    before = checkpoint.read_bytes()
    model, trainer = _trainer(config.replace(epochs=3), toy_dataset, checkpoint_dir=tmp_path / "run" / "checkpoints")
    assert trainer.restore() == 1
    trainer.step.real_features = tf.fill(trainer.step.real_features.shape, np.nan)
    with pytest.raises(TrainingDivergedError, match=r"became NaN or Inf by step 3 of epoch 2.*finite\) checkpoint is .*ckpt-1"):
        trainer.train(3)
    assert checkpoint.read_bytes() == before
    assert sorted(p.name for p in checkpoint.parent.glob("ckpt-*.index")) == ["ckpt-1.index"]


class _InfiniteLastStep(keras.callbacks.Callback):
    """Sets the generator's learning rate to +inf after the second-to-last step of ``epoch`` (1-based).

    The last step's losses are computed before its update, so they stay
    finite; only the weights that update writes are not.
    """

    def __init__(self, trainer, epoch):
        super().__init__()
        self.trainer, self.epoch = trainer, epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch + 1 == self.trainer.steps_per_epoch - 1:
            self.trainer.step.generator_optimizer.learning_rate = float("inf")


def _finite(path):
    reader = tf.train.load_checkpoint(str(path))
    return all(np.isfinite(reader.get_tensor(name)).all()
               for name, dtype in reader.get_variable_to_dtype_map().items() if dtype.is_floating)


def test_nan_made_by_the_last_step_is_never_checkpointed_and_resume_takes_a_lower_rate(tmp_path, tiny_config,
                                                                                       toy_dataset):
    config = tiny_config.replace(epochs=2, checkpoint_every=1, steps_per_execution=1)
    checkpoints = tmp_path / "run" / "checkpoints"
    model, trainer = _trainer(config, toy_dataset, checkpoint_dir=checkpoints)
    assert trainer.steps_per_epoch == 3
    with pytest.raises(TrainingDivergedError, match=r"by step 3 of epoch 2, e\.g\. generator/.*checkpoint is .*ckpt-1\. "
                                                    r"Resume from it with lower learning rates .*--generator-lr 0\.0005"):
        trainer.train(2, [_InfiniteLastStep(trainer, epoch=2)])
    assert not np.isfinite(model.generator.trainable_variables[0].numpy()).all()  # the last step did diverge
    assert sorted(p.name for p in checkpoints.glob("ckpt-*.index")) == ["ckpt-1.index"]
    assert _finite(checkpoints / "ckpt-1")

    lower = config.replace(epochs=3, generator_lr=2e-4, critic_lr=3e-4)
    resumed, trainer = _trainer(lower, toy_dataset, checkpoint_dir=checkpoints)
    assert trainer.restore() == 1
    assert float(trainer.step.generator_optimizer.learning_rate.numpy()) == pytest.approx(2e-4)
    assert float(trainer.step.critic_optimizer.learning_rate.numpy()) == pytest.approx(3e-4)
    trainer.train(3)
    reader = tf.train.load_checkpoint(str(checkpoints / "ckpt-3"))
    assert reader.get_tensor("generator_optimizer/_learning_rate/.ATTRIBUTES/VARIABLE_VALUE") == pytest.approx(2e-4)
    assert reader.get_tensor("critic_optimizer/_learning_rate/.ATTRIBUTES/VARIABLE_VALUE") == pytest.approx(3e-4)
    assert all(_finite(checkpoints / f"ckpt-{i}") for i in (1, 2, 3))


def test_a_non_finite_checkpoint_of_an_older_version_is_skipped_and_never_named(tmp_path, tiny_config, toy_dataset):
    config = tiny_config.replace(epochs=2, checkpoint_every=1)
    checkpoints = tmp_path / "run" / "checkpoints"
    model, trainer = _trainer(config, toy_dataset, checkpoint_dir=checkpoints)
    trainer.train(2)
    model.critic.trainable_variables[0].assign(tf.fill(model.critic.trainable_variables[0].shape, np.nan))
    trainer.epoch.assign(3)
    trainer.checkpoints.manager.save(checkpoint_number=3)  # what the old NaN check could leave behind
    assert not _finite(checkpoints / "ckpt-3")

    _, trainer = _trainer(config.replace(epochs=4), toy_dataset, checkpoint_dir=checkpoints)
    assert trainer.restore() == 2
    assert np.isfinite(trainer.step.critic.trainable_variables[0].numpy()).all()
    trainer.step.real_features = tf.fill(trainer.step.real_features.shape, np.nan)
    with pytest.raises(TrainingDivergedError, match=r"finite\) checkpoint is .*ckpt-2\. "):
        trainer.train(4)


@pytest.mark.parametrize(
    "changes",
    [
        {"num_packing": 2},
        {"critic_rounds": 2, "generator_rounds": 2},
        {"use_aux_critic": False},
        {"self_norm": False},
        {"lstm_initial_state": "learned"},
    ],
)
def test_options_train_and_generate(tiny_config, toy_dataset, changes):
    config = tiny_config.replace(epochs=1, **changes)
    model = _model(config, toy_dataset).fit(toy_dataset)
    assert (model.aux_critic is None) == (not config.use_aux_critic)
    sample = model.generate(10, seed=0)
    assert sample.features.shape == (10, 8, 4) and sample.attributes.shape == (10, 4)
    assert np.isfinite(sample.features).all()


def test_pack_concatenates_consecutive_examples():
    x = tf.reshape(tf.range(2 * 2 * 3), [4, 3])
    np.testing.assert_array_equal(pack(x, 2).numpy(), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    features = tf.reshape(tf.range(4 * 2), [4, 2, 1])
    assert pack(features, 2).shape == (2, 4, 1)


@pytest.mark.parametrize("aux_weight", [1.0, 3.0])
def test_generator_update_descends_minus_critic_minus_alpha_aux_critic(tiny_config, toy_dataset, aux_weight):
    """One step's generator update is Adam's first step on ``-D(G(z)) - alpha * D_attr(G(z))``.

    The expected gradient is taken here with a plain tape against the critics
    as the step left them (the generator update follows the critic loop). On
    its first step Adam moves every weight by ``-lr * g / (|g| + eps)``, so the
    update's sign pattern is the gradient's: a flipped sign of either term, or
    the auxiliary term dropped, changes it.
    """
    config = tiny_config.replace(aux_critic_weight=aux_weight)
    _, trainer = _trainer(config, toy_dataset)
    step = trainer.step
    rng = tf.random.Generator.from_seed(11)
    real = step.draw_rows(config.batch_size)
    noise = step.generator.sample_noise(rng, config.batch_size)
    alphas = [[rng.uniform([config.batch_size]) for _ in step.critics]]
    variables = step.generator.trainable_variables
    before = [v.numpy() for v in variables]
    step.train_step(real, noise, alphas)
    after = [v.numpy() for v in variables]

    for variable, value in zip(variables, before):
        variable.assign(value)
    with tf.GradientTape() as tape:
        fake = step.generator(noise, training=True)
        critic_term = -tf.reduce_mean(step.critic(fake["features"], fake["attributes"]))
        # the auxiliary critic's default view: [attributes, one-hot of the real ones, straight through]
        real_width = sum(o.dim for o in toy_dataset.attribute_outputs)
        one_hot = straight_through(fake["attributes"][:, :real_width], toy_dataset.attribute_outputs)
        aux_term = -tf.reduce_mean(step.aux_critic(tf.concat([fake["attributes"], one_hot], axis=-1)))
        loss = critic_term + aux_weight * aux_term
    expected = tape.gradient(loss, variables)

    compared = flipped_by_aux = 0
    for variable, old, new, grad in zip(variables, before, after, expected):
        if grad is None:
            continue
        grad = grad.numpy()
        clear = np.abs(grad) > 1e-4  # far above Adam's epsilon and float noise
        np.testing.assert_allclose((new - old)[clear], -config.generator_lr * np.sign(grad[clear]), rtol=1e-2,
                                   err_msg=variable.path)
        compared += int(clear.sum())
    # the auxiliary term matters for the comparison: without it many signs would differ
    with tf.GradientTape() as tape:
        fake = step.generator(noise, training=True)
        critic_only = -tf.reduce_mean(step.critic(fake["features"], fake["attributes"]))
    for grad, other in zip(expected, tape.gradient(critic_only, variables)):
        if grad is not None and other is not None:
            flipped_by_aux += int((np.sign(grad.numpy()) != np.sign(other.numpy()))[np.abs(grad.numpy()) > 1e-4].sum())
    assert compared > 500 and flipped_by_aux > 20, (compared, flipped_by_aux)
