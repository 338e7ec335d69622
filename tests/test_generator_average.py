"""The generator's weight average (``generator_ema``): what generation uses, and what a checkpoint holds."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from dg_tf import ConfigError, DGConfig, DoppelGANger

from conftest import TINY, make_toy_dataset

MOMENTUM = 0.8  # reached after 35 updates: the warm-up and the cap both show in 40 steps


class WeightsAfterEachStep(keras.callbacks.Callback):
    """Copies of ``variables()`` after every step (``steps_per_execution=1``: one step per batch end)."""

    def __init__(self, variables):
        super().__init__()
        self.variables = variables
        self.seen: list[list[np.ndarray]] = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append([v.numpy().copy() for v in self.variables()])


def _average(seen: list[list[np.ndarray]], momentum: float) -> list[np.ndarray]:
    """a_1 = w_1, a_k = m_k a_(k-1) + (1 - m_k) w_k with m_k = min(momentum, k / (9 + k)), in float64.

    TF1's ``ExponentialMovingAverage(momentum, num_updates=k - 1)``: ``(1 + n) / (10 + n)``.
    """
    average = [w.astype(np.float64) for w in seen[0]]
    for k, weights in enumerate(seen[1:], start=2):
        m = min(momentum, k / (9 + k))
        average = [m * a + (1 - m) * w for a, w in zip(average, weights)]
    return average


@pytest.mark.parametrize("momentum", [MOMENTUM, None])
def test_training_ends_with_the_moving_average_of_the_generator_weights(momentum):
    dataset = make_toy_dataset()
    config = DGConfig(**{**TINY, "epochs": 2, "steps_per_execution": 1, "generator_ema": momentum})
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    record = WeightsAfterEachStep(lambda: model.generator.trainable_variables)
    model.fit(dataset, callbacks=[record])
    assert len(record.seen) == 2 * (dataset.num_samples // config.batch_size)
    final = [v.numpy() for v in model.generator.trainable_variables]
    last = record.seen[-1]
    if momentum is None:
        for f, w in zip(final, last):
            np.testing.assert_array_equal(f, w)
        return
    for f, a in zip(final, _average(record.seen, momentum)):
        np.testing.assert_allclose(f, a, rtol=1e-5, atol=1e-6)
    assert max(np.abs(f - w).max() for f, w in zip(final, last)) > 1e-4  # the average is not the last weights


def test_retraining_the_attributes_ends_with_their_average():
    dataset = make_toy_dataset()
    config = DGConfig(**{**TINY, "epochs": 1, "steps_per_execution": 1, "generator_ema": MOMENTUM})
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)

    def attribute_variables():
        g = model.generator
        return [*g.attribute_mlp.trainable_variables, *g.attribute_heads.trainable_variables]

    retrained = {id(v) for v in attribute_variables()}
    others = [v for v in model.generator.trainable_variables if id(v) not in retrained]
    frozen = [v.numpy().copy() for v in others]
    assert others

    record = WeightsAfterEachStep(attribute_variables)
    model.retrain_attributes(dataset.attributes[::-1].copy(), 2, seed=3, callbacks=[record])
    assert len(record.seen) == 2 * (dataset.num_samples // config.batch_size)
    for f, a in zip(attribute_variables(), _average(record.seen, MOMENTUM)):
        np.testing.assert_allclose(f.numpy(), a, rtol=1e-5, atol=1e-6)
    for v, w in zip(others, frozen):
        np.testing.assert_array_equal(v.numpy(), w)


def test_resume_with_the_average_equals_an_uninterrupted_run(tmp_path):
    dataset = make_toy_dataset()
    config = DGConfig(**{**TINY, "epochs": 3, "checkpoint_every": 1, "generator_ema": MOMENTUM})
    straight = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(
        dataset, run_dir=tmp_path / "straight")
    DoppelGANger(config.replace(epochs=2), dataset.feature_outputs, dataset.attribute_outputs).fit(
        dataset, run_dir=tmp_path / "split")
    resumed = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(
        dataset, run_dir=tmp_path / "split", resume=True)
    for x, y in zip(straight.generator.variables, resumed.generator.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)
    # the last checkpoint holds the average (the model's final weights) among the generator optimizer's state
    checkpoint = str(tmp_path / "split" / "checkpoints" / "ckpt-3")
    reader = tf.train.load_checkpoint(checkpoint)
    state = [reader.get_tensor(name) for name, _ in tf.train.list_variables(checkpoint)
             if name.startswith("generator_optimizer/_variables/")]
    for v in resumed.generator.trainable_variables:
        assert sum(s.shape == v.shape and np.array_equal(s, v.numpy()) for s in state) == 1, v.path
    with pytest.raises(ConfigError, match=r"--resume cannot change generator_ema \(0.8 -> None\)"):
        DoppelGANger(config.replace(epochs=4, generator_ema=None), dataset.feature_outputs,
                     dataset.attribute_outputs).fit(dataset, run_dir=tmp_path / "split", resume=True)


def test_momentum_outside_0_1_is_refused():
    for bad in (1.0, -0.1):
        with pytest.raises(ConfigError, match="generator_ema"):
            DGConfig(generator_ema=bad)
