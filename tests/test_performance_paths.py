"""The fast paths give the original's results: one trace per run, the compiled epoch loop,
the reused generator forward, the fused LSTM, early-exit generation, tf.data input, XLA, mixed precision."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from dg_tf import ConfigError, DGConfig, DoppelGANger
from dg_tf.encoding import Encoding
from dg_tf.losses import wasserstein_generator_loss
from dg_tf.models import choose_kernels
from dg_tf.models.lstm import TF1LSTM, UNROLLED_STEPS, row_split_sizes
from dg_tf.training import Trainer
from dg_tf.training.loop import TrainingLoop
from dg_tf.training.step import critic_gradients

from conftest import REPO, make_toy_dataset


def _trainer(config, dataset, **kwargs):
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    encoding = Encoding.for_dataset(dataset, config)
    model._build(encoding)
    features, attributes = encoding.encode(dataset)
    return model, Trainer(config, model.generator, model.critic, model.aux_critic, features, attributes, **kwargs)


def _weights(model):
    return [v.numpy() for net in (model.generator, model.critic, model.aux_critic) for v in net.variables]


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert len(wa) == len(wb) > 0
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------ the compiled epoch loop
class _Steps(keras.callbacks.Callback):
    """Records (epoch, step) of every on_train_batch_end, 1-based."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append((self.epoch + 1, batch + 1))


@pytest.mark.parametrize("steps_per_execution", [None, 2])
def test_several_epochs_are_traced_once_and_report_every_chunk(tiny_config, steps_per_execution):
    dataset = make_toy_dataset(n=48)  # 3 steps per epoch: one call, or chunks of 2 + 1
    model, trainer = _trainer(tiny_config.replace(steps_per_execution=steps_per_execution), dataset)
    progress = _Steps()
    metrics = trainer.train(3, [progress])
    assert trainer.traces == 1
    assert trainer._step.experimental_get_tracing_count() == 1
    chunk_ends = (3,) if steps_per_execution is None else (2, 3)
    assert progress.steps == [(e, s) for e in (1, 2, 3) for s in chunk_ends]
    assert int(trainer.step.generator_optimizer.iterations.numpy()) == 9
    assert np.isfinite(metrics["loss/d"]) and np.isfinite(metrics["loss/g"])


def test_compiled_loop_equals_one_call_per_step(tiny_config):
    dataset = make_toy_dataset(n=48)
    looped, trainer = _trainer(tiny_config, dataset)
    trainer.train(2)
    stepped, reference = _trainer(tiny_config, dataset)
    for _ in range(2 * reference.steps_per_epoch):
        reference._step()
    reference.step.finish()  # as train ends: the weight average, then standing statistics
    _assert_same_weights(looped, stepped)


def _original_step(trainer):
    """The step as the original runs it: a fresh generator forward for each critic and generator round.

    Rows as the critics see them (packed features, attributes, the auxiliary critic's view) come from
    ``critic_inputs``, whose view is checked against NumPy in ``test_straight_through.py``.
    """
    c = trainer.config
    batch = c.batch_size * c.num_packing
    index = trainer.rng.uniform([batch], 0, trainer.num_samples, dtype=tf.int64)
    real = trainer.critic_inputs(tf.gather(trainer.real_features, index), tf.gather(trainer.real_attributes, index))
    noise = trainer.generator.sample_noise(trainer.rng, batch)
    for _ in range(c.critic_rounds):
        fake = trainer.generated_inputs(trainer.generator(noise, training=True))
        for critic, optimizer, weight, sees_features in (
            (trainer.critic, trainer.critic_optimizer, c.gradient_penalty_weight, True),
            (trainer.aux_critic, trainer.aux_critic_optimizer, c.aux_gradient_penalty_weight, False),
        ):
            alpha = trainer.rng.uniform([c.batch_size])
            grads, _ = critic_gradients(critic, real[:2] if sees_features else real[2:],
                                        fake[:2] if sees_features else fake[2:], alpha, weight)
            optimizer.apply_gradients(zip(grads, critic.trainable_variables))
    variables = trainer.generator.trainable_variables
    for _ in range(c.generator_rounds):
        with tf.GradientTape() as tape:
            features, attributes, seen = trainer.generated_inputs(trainer.generator(noise, training=True))
            loss = (wasserstein_generator_loss(trainer.critic(features, attributes))
                    + c.aux_critic_weight * wasserstein_generator_loss(trainer.aux_critic(seen)))
        grads = tape.gradient(loss, variables)
        trainer.generator_optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])


@pytest.mark.parametrize("rounds", [{}, {"critic_rounds": 2, "generator_rounds": 2, "num_packing": 2}])
def test_reused_generator_forward_gives_the_original_step(tiny_config, rounds):
    """One forward for the critic rounds and the first generator round, BatchNorm updates replayed:
    weights and BatchNorm moving statistics are bitwise those of the original's separate forward passes."""
    config = tiny_config.replace(**rounds)
    dataset = make_toy_dataset(n=48)
    fast, trainer = _trainer(config, dataset)
    original, reference = _trainer(config, dataset)
    original_step = tf.function(_original_step)
    for _ in range(2):
        trainer._step()
        original_step(reference.step)
    moving = [v for v in fast.generator.non_trainable_variables if "moving" in v.path]
    assert len(moving) == 8  # 2 MLPs x 2 BatchNorm layers x (mean, variance)
    for a, b in zip(_weights(fast), _weights(original)):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_replay_equals_another_training_forward(tiny_config, toy_dataset):
    (a, _), (b, _) = _trainer(tiny_config, toy_dataset), _trainer(tiny_config, toy_dataset)
    noise = a.generator.sample_noise(tf.random.Generator.from_seed(3), 16)
    a.generator(noise, training=True)
    a.generator(noise, training=True)
    b.generator(noise, training=True)
    b.generator.update_batch_norm_statistics(noise)
    for x, y in zip(a.generator.non_trainable_variables, b.generator.non_trainable_variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


# ------------------------------------------------------------------ LSTM and generation
def test_fused_lstm_equals_the_cell_loop():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(6, 4, 3)).astype(np.float32))  # [T, B, I]
    state = [tf.constant(rng.normal(size=(4, 5)).astype(np.float32)) for _ in range(2)]
    fused, looped = TF1LSTM(5, seed=1, fused=True), TF1LSTM(5, seed=1, fused=False)
    results = []
    for layer in (fused, looped):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out, (h, c) = layer(x, initial_state=state)
            loss = tf.reduce_sum(out * tf.range(5, dtype=tf.float32)) + tf.reduce_sum(c)
        results.append([out, h, c, *tape.gradient(loss, [x, *layer.trainable_variables])])
    np.testing.assert_array_equal(fused.cell.kernel.numpy(), looped.cell.kernel.numpy())
    for a, b in zip(*results):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(results[0][1].numpy(), results[0][0].numpy()[-1])


@pytest.mark.parametrize("batch, splits, sizes", [(7, 4, [2, 2, 2, 1]), (8, 2, [4, 4]), (3, 4, [1, 1, 1]), (5, 1, None)])
def test_batch_split_lstm_equals_one_kernel(batch, splits, sizes):
    """The LSTM run as independent kernels over parts of the batch: the same outputs, final state and
    gradients as one kernel (rows never interact; only the weight gradient's summation order differs)."""
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(6, batch, 3)).astype(np.float32))
    state = [tf.constant(rng.normal(size=(batch, 5)).astype(np.float32)) for _ in range(2)]
    whole, split = TF1LSTM(5, seed=2), TF1LSTM(5, seed=2, batch_splits=splits)
    assert row_split_sizes(batch, splits) == sizes and row_split_sizes(batch, 1) is None
    results = []
    for layer in (whole, split):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out, (h, c) = layer(x, initial_state=state)
            loss = tf.reduce_sum(out * tf.range(5, dtype=tf.float32)) + tf.reduce_sum(c * c)
        results.append([out, h, c, *tape.gradient(loss, [x, *layer.trainable_variables])])
    assert results[1][0].shape == (6, batch, 5)
    for a, b in zip(*results):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("steps", [3, UNROLLED_STEPS + 4])  # unrolled, tf.while_loop
def test_inference_lstm_equals_the_layer(steps):
    """run_inference (constant columns projected once, tanh-form gates) = the fused layer, with a
    non-zero bias, with and without constant input columns."""
    rng = np.random.default_rng(4)
    constant = tf.constant(rng.normal(size=(7, 2)).astype(np.float32))
    varying = tf.constant(rng.normal(size=(steps, 7, 3)).astype(np.float32))
    state = [tf.constant(rng.normal(size=(7, 5)).astype(np.float32)) for _ in range(2)]
    inputs = tf.concat([tf.tile(constant[None], [steps, 1, 1]), varying], axis=-1)
    layer = TF1LSTM(5, seed=3)
    layer(inputs, initial_state=state)  # builds
    layer.cell.bias.assign(rng.normal(size=20).astype(np.float32))
    expected, expected_state = layer(inputs, initial_state=state)
    for given, constant_inputs in ((varying, constant), (inputs, None)):
        out, final = layer.run_inference(given, layer.constant_gate_inputs(constant_inputs), state)
        assert out.shape == (steps, 7, 5)
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=2e-6)
        for a, b in zip(final, expected_state):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=2e-6)


def test_cpu_threads_are_one_per_op_and_fixed_once_the_runtime_runs():
    script = textwrap.dedent("""
        import logging, tensorflow as tf
        from dg_tf.runtime import configure_cpu_threads
        logging.basicConfig(level=logging.WARNING)
        first = configure_cpu_threads(3)
        print(first, tf.config.threading.get_intra_op_parallelism_threads(),
              tf.config.threading.get_inter_op_parallelism_threads())
        tf.constant(1.0) + 1.0  # starts the runtime
        print(configure_cpu_threads(5), tf.config.threading.get_inter_op_parallelism_threads())
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "1", "3", "False", "3"]
    assert "CPU threads left as they are" in done.stderr


def test_evaluate_keeps_tensorflow_threads_the_model_commands_set_them(tmp_path):
    script = textwrap.dedent(f"""
        import runpy, sys
        import tensorflow as tf
        from dg_tf.cli import run_main
        from dg_tf.generate import main as generate_main
        threads = tf.config.threading
        sys.argv = ["evaluate", "--real", "{tmp_path}/none", "--synthetic", "{tmp_path}/none.npz", "--out", "{tmp_path}/r"]
        try:
            runpy.run_module("dg_tf.evaluate", run_name="__main__")
        except SystemExit as done:
            print(done.code)
        print(threads.get_intra_op_parallelism_threads(), threads.get_inter_op_parallelism_threads())
        # generate (as train) sets them once its flags are parsed, then fails on the missing run
        print(run_main(generate_main, ["--run", "{tmp_path}/none", "--num", "1", "--out", "{tmp_path}/x.npz"]))
        print(threads.get_intra_op_parallelism_threads(), threads.get_inter_op_parallelism_threads() > 0)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["2", "0", "0", "2", "1", "True"]  # evaluate failed cleanly, TF's defaults kept


@pytest.mark.parametrize("stop_bias", [5.0, 0.0, -5.0])
def test_early_exit_generation_is_bitwise_the_full_rollout(tiny_config, stop_bias):
    """Series that all stop at once (bias towards "stop"), a mix, or none stopping early."""
    dataset = make_toy_dataset(n=32, length=16)
    model, _ = _trainer(tiny_config.replace(sample_len=1), dataset)  # 16 passes: 8 chunks of 2
    heads = model.generator.feature_heads
    bias = heads.bias.numpy()
    bias[5::6] += stop_bias  # the "stop" logit of every record (D = 6: 4 feature + 2 flag channels)
    heads.bias.assign(bias)
    noise = model.generator.sample_noise(tf.random.Generator.from_seed(1), 64)
    fast = model.generator.generate(noise, early_exit=True)
    full = model.generator.generate(noise, early_exit=False)
    for name in ("features", "attributes", "gen_flags", "lengths"):
        assert fast[name].numpy().tobytes() == full[name].numpy().tobytes(), name
    lengths = full["lengths"].numpy()
    if stop_bias > 0:
        assert lengths.max() <= 2  # everything ended in the first chunk: the other 7 were skipped
    np.testing.assert_array_equal(full["features"].numpy()[full["gen_flags"].numpy() == 0][..., :-2], 0)


def test_generation_in_row_groups_equals_one_group(tiny_config):
    """Generation as 3 independent row groups (each its own early exit): the one-group output up to float
    rounding, also when one group has ended while the others go on (its skipped chunks are zeros)."""
    dataset = make_toy_dataset(n=32, length=16)
    # the paper's feature noise width: with it, noise seed 3 makes one group end in its first chunk
    config = tiny_config.replace(sample_len=1, feature_noise_dim=5)
    models = [_trainer(config.replace(generate_row_groups=k), dataset)[0] for k in (1, 3)]
    noise = models[0].generator.sample_noise(tf.random.Generator.from_seed(3), 30)
    given = tf.constant(dataset.attributes[:30])
    for attributes in (None, given):
        one, three = (m.generator.generate(noise, attributes) for m in models)
        assert three["features"].shape == one["features"].shape == (30, 16, 6)
        np.testing.assert_array_equal(three["lengths"].numpy(), one["lengths"].numpy())
        for name in ("features", "attributes", "gen_flags"):
            np.testing.assert_allclose(three[name].numpy(), one[name].numpy(), rtol=1e-5, atol=1e-6)
    group_ends = one["lengths"].numpy().reshape(3, 10).max(axis=1)
    assert group_ends.min() <= 2 < group_ends.max()  # a group ends in the first chunk (of 2 passes), one does not


def test_several_batches_per_call_give_the_batches_one_by_one(tiny_config):
    """Batches run several per compiled call are the batches run one per call, bitwise (n not a multiple of the
    batch: with 4 per call, calls of 4, 2 and 1 batches, the last one cut short), with and without given
    attributes."""
    dataset = make_toy_dataset(n=32, length=16)
    model, _ = _trainer(tiny_config.replace(sample_len=1, generate_batch_size=8), dataset)
    n = 6 * 8 + 3
    given = np.resize(dataset.attributes, (n, dataset.attributes.shape[1]))
    for attributes in (None, given):
        outputs = []
        for per_call in (1, 4):
            model.config = model.config.replace(generate_batches_per_call=per_call)
            outputs.append(model.generate(n, attributes, seed=11))
        one, four = outputs
        assert one.features.shape == (n, 16, 4)
        for name in ("features", "attributes", "gen_flags"):
            assert getattr(four, name).tobytes() == getattr(one, name).tobytes(), name
    assert not np.array_equal(one.features[:8], one.features[8:16])  # each batch its own noise


@pytest.mark.parametrize("lstm_layers", [1, 2])
def test_generation_is_the_training_forward_in_inference_mode(tiny_config, toy_dataset, lstm_layers):
    model, _ = _trainer(tiny_config.replace(feature_lstm_layers=lstm_layers), toy_dataset)
    noise = model.generator.sample_noise(tf.random.Generator.from_seed(2), 20)
    a = model.generator(noise, training=False)
    b = model.generator.generate(noise, early_exit=False)
    for name in ("features", "attributes", "gen_flags"):
        np.testing.assert_allclose(a[name].numpy(), b[name].numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ tf.data input
def test_tf_data_batches_are_a_function_of_the_step(tiny_config, toy_dataset):
    _, trainer = _trainer(tiny_config.replace(input_pipeline="tf_data"), toy_dataset)
    from_4 = [tuple(x.numpy() for x in batch) for batch in trainer.pipeline(4).take(2)]
    from_5 = [tuple(x.numpy() for x in batch) for batch in trainer.pipeline(5).take(1)]
    np.testing.assert_array_equal(from_4[1][0], from_5[0][0])
    assert not np.array_equal(from_4[0][0], from_4[1][0])
    assert from_4[0][0].shape == (16, 8, 6) and from_4[0][1].shape == (16, 8)


# ------------------------------------------------------------------ XLA, precision, config
def test_xla_choice():
    assert choose_kernels(DGConfig()).xla == bool(tf.config.list_physical_devices("GPU"))
    assert choose_kernels(DGConfig(jit_compile="on")).xla and not choose_kernels(DGConfig(jit_compile="off")).xla
    assert not choose_kernels(DGConfig(dp_noise_multiplier=1.0)).xla
    with pytest.raises(ConfigError, match="jit_compile='on'"):
        DGConfig(dp_noise_multiplier=1.0, jit_compile="on")
    with pytest.raises(ConfigError, match="steps_per_execution=0"):
        DGConfig(steps_per_execution=0)
    with pytest.raises(ConfigError, match="lstm_batch_splits=0"):
        DGConfig(lstm_batch_splits=0)


def test_mixed_bfloat16_trains_with_float32_variables(tiny_config, toy_dataset):
    model, trainer = _trainer(tiny_config.replace(precision="mixed_bfloat16"), toy_dataset)
    assert model.generator.lstm_0.cell.compute_dtype == "bfloat16"
    metrics = trainer.train(2)
    assert all(np.isfinite(v) for v in metrics.values()), metrics
    for net in (model.generator, model.critic, model.aux_critic):
        assert {v.dtype for v in net.variables} == {"float32"}
    sample = model.generate(10, seed=0)
    assert sample.features.dtype == np.float32 and np.isfinite(sample.features).all()


# ------------------------------------------------------------------ fast checks of the GPU-default paths
#: Fewer layers than TINY: each trace of the training step costs about a third less.
SMALL = dict(attribute_hidden_layers=1, critic_hidden_layers=1, aux_critic_hidden_layers=1)


def _update_matches(before, expected, got, tolerance):
    """Each variable's update in ``got`` is that of ``expected`` within ``tolerance`` x its largest entry;
    returns how many variables moved."""
    moved = 0
    for start, x, y in zip(before, expected, got):
        update, other = x - start, y - start
        scale = np.abs(update).max()
        if scale == 0:  # e.g. BatchNorm statistics of an MLP this update leaves alone
            np.testing.assert_array_equal(other, 0)
            continue
        moved += 1
        np.testing.assert_allclose(other, update, atol=tolerance * scale + 4 * np.spacing(np.abs(start).max()))
    return moved


def test_xla_training_loop_step_equals_the_fused_step(tiny_config):
    """A whole XLA training step as the trainer runs it (its compiled epoch loop: the step's own random
    draws, then the update) = the fused step on those same inputs: losses and weight updates.

    XLA draws other normal/uniform numbers than TensorFlow's kernels from the same generator state, so
    the step's inputs are drawn by the step's own code compiled with XLA from a copy of its generator;
    a step that is not XLA-compiled therefore fails here too. Adam's epsilon is 1, so that an update is
    proportional to its gradient (with 1e-8 every weight moves by about the learning rate)."""
    dataset = make_toy_dataset(n=16)  # one step per epoch
    config = tiny_config.replace(adam_epsilon=1.0, **SMALL)
    fused, a = _trainer(config.replace(jit_compile="off"), dataset)
    xla, b = _trainer(config.replace(jit_compile="on"), dataset)
    assert b.xla and not a.xla and a.step.generator.lstm_0.fused and not b.step.generator.lstm_0.fused
    before = _weights(xla)
    for x, y in zip(_weights(fused), before):
        np.testing.assert_array_equal(x, y)

    rng = b.step.rng
    a.step.rng = tf.random.Generator.from_state(rng.state.read_value(), rng.algorithm)
    a.step.train_step = lambda real, noise, alphas: (real, noise, alphas)  # __call__ then returns its draws
    real, noise, alphas = tf.function(a.step.__call__, jit_compile=True)()
    del a.step.train_step
    expected = a.step.train_step(real, noise, alphas)  # eagerly: no trace to wait for
    a.step.finish()  # as train ends: the weight average, then standing statistics

    logs = b.train(1)  # one step, XLA-compiled inside the epoch loop
    assert b.traces == 1 and b._step.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(rng.state.numpy(), a.step.rng.state.numpy())  # the same draws consumed
    for name, value in expected.items():
        np.testing.assert_allclose(logs[name], value.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    assert _update_matches(before, _weights(fused), _weights(xla), 1e-3) >= 20


def test_tf_data_resume_equals_uninterrupted_run(tmp_path, tiny_config, monkeypatch):
    """input_pipeline="tf_data": fit 1 epoch with a checkpoint, then fit(resume=True) to 2 = 2 epochs
    straight, bitwise; the resumed run asks the pipeline for the batches of step 2 onwards, and the rows
    of every step came from the pipeline."""
    dataset = make_toy_dataset(n=32)  # two steps per epoch
    config = tiny_config.replace(input_pipeline="tf_data", epochs=2, checkpoint_every=1, **SMALL)
    first_steps = []
    pipeline = TrainingLoop.pipeline
    monkeypatch.setattr(TrainingLoop, "pipeline", lambda self, first: first_steps.append(first) or pipeline(self, first))
    straight, trainer = _trainer(config, dataset)
    trainer.train(2)
    # the pipeline fed its rows: the step's generator gave only noise and penalty coefficients, no row indices
    step, drawn = trainer.step, trainer.step.rng.state.numpy()
    step.rng, step.train_step = tf.random.Generator.from_seed(step.seed), lambda real, noise, alphas: noise
    for _ in range(4):
        step(real=("rows", "from the pipeline"))
    np.testing.assert_array_equal(step.rng.state.numpy(), drawn)
    outputs = dataset.feature_outputs, dataset.attribute_outputs
    DoppelGANger(config.replace(epochs=1), *outputs).fit(dataset, run_dir=tmp_path / "split")
    resumed = DoppelGANger(config, *outputs).fit(dataset, run_dir=tmp_path / "split", resume=True)
    assert first_steps == [0, 0, 2]
    assert len(resumed.history.history["loss/g"]) == 1  # only epoch 2 ran after the resume
    _assert_same_weights(straight, resumed)


def test_mixed_float16_step_is_the_float32_step(tiny_config, toy_dataset):
    """precision="mixed_float16": float32 variables, float16 compute, dynamic loss scaling. One step on
    the same inputs moves every weight as the float32 step does (within float16 rounding; a loss scale
    not undone, or not applied, would be off by its factor); training and generation stay finite."""
    config = tiny_config.replace(adam_epsilon=1.0, **SMALL)
    half, h = _trainer(config.replace(precision="mixed_float16"), toy_dataset)
    full, f = _trainer(config, toy_dataset)
    assert half.generator.lstm_0.cell.compute_dtype == "float16"
    assert half.critic.compute_dtype == half.aux_critic.compute_dtype == "float16"
    for net in (half.generator, half.critic, half.aux_critic):
        assert {v.dtype for v in net.variables} == {"float32"}
    optimizers = (h.step.generator_optimizer, h.step.critic_optimizer, h.step.aux_critic_optimizer)
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in optimizers)
    before = _weights(half)
    for x, y in zip(_weights(full), before):
        np.testing.assert_array_equal(x, y)

    # The initial scale, 2**15, overflows the critic's first (gradient-penalty) gradients in float16:
    # that step is skipped and the scale halved, as dynamic loss scaling does. Compared at 2**8.
    for o in optimizers:
        o.dynamic_scale.assign(2.0 ** 8)
    rng = tf.random.Generator.from_seed(0)
    real = f.step.draw_rows(16)
    noise = f.step.generator.sample_noise(rng, 16)
    alphas = [[rng.uniform([16]), rng.uniform([16])]]
    expected = f.step.train_step(real, noise, alphas)  # eagerly: the compiled loop runs below
    got = h.step.train_step(real, noise, alphas)
    assert [float(o.dynamic_scale) for o in optimizers] == [2.0 ** 8] * 3  # every update applied, none skipped
    for name, value in expected.items():
        np.testing.assert_allclose(float(got[name]), float(value), rtol=1e-2, atol=1e-3, err_msg=name)
    assert _update_matches(before, _weights(full), _weights(half), 0.05) >= 24

    trained = _weights(half)
    metrics = h.train(2)
    assert all(np.isfinite(v) for v in metrics.values()), metrics
    assert all(not np.array_equal(x, y) for x, y in zip(trained, _weights(half)) if x.size > 1)
    sample = half.generate(10, seed=0)
    assert sample.features.dtype == np.float32 and np.isfinite(sample.features).all()
