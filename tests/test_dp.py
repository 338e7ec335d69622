"""DP training (paper §6.2): clipping, Poisson sampling, noise, accounting, the DP step and the CLI."""

import argparse
import json
import math

import dp_accounting
import numpy as np
import pytest
import tensorflow as tf

from dg_tf import ConfigError, DGConfig, DoppelGANger, save_dataset
from dg_tf.cli import run_main
from dg_tf.cli.config_flags import add_config_flags, config_from_args
from dg_tf.training.dp import (
    DPCriticUpdate,
    chunk_size,
    clip_per_example,
    masked_sum,
    noisy_average,
    per_example_critic_gradients,
    poisson_sample,
)
from dg_tf.encoding import Encoding
from dg_tf.privacy_accounting import PrivacyReport, compute_epsilon, privacy_report
from dg_tf.run import PRIVACY_FILE
from dg_tf.train import main as train_main
from dg_tf.training import Trainer
from dg_tf.training.step import CriticSlot, critic_gradients

from conftest import TINY, make_toy_dataset

DP = dict(dp_noise_multiplier=1.0, dp_l2_clip=1.0)


def _trainer(config, dataset, **kwargs):
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    encoding = Encoding.for_dataset(dataset, config)
    model._build(encoding)
    features, attributes = encoding.encode(dataset)
    return Trainer(config, model.generator, model.critic, model.aux_critic, features, attributes, **kwargs)


# ------------------------------------------------------------------ clipping, sampling, noise
def test_clipping_bounds_each_example_and_keeps_small_ones():
    rng = np.random.default_rng(0)
    kernel = rng.normal(0, 0.1, (4, 3, 2)).astype(np.float32)
    bias = rng.normal(0, 0.1, (4, 2)).astype(np.float32)
    kernel[2] *= 1e4  # one example with a huge gradient
    clipped, norms = clip_per_example([tf.constant(kernel), tf.constant(bias)], 1.0)
    joint = np.sqrt((clipped[0].numpy() ** 2).sum((1, 2)) + (clipped[1].numpy() ** 2).sum(1))
    np.testing.assert_allclose(norms.numpy(), np.sqrt((kernel ** 2).sum((1, 2)) + (bias ** 2).sum(1)), rtol=1e-6)
    assert norms.numpy()[2] > 100 and joint[2] <= 1.0 + 1e-6 and joint[2] > 0.999
    small = [0, 1, 3]
    assert (norms.numpy()[small] < 1.0).all()
    np.testing.assert_array_equal(clipped[0].numpy()[small], kernel[small])
    np.testing.assert_array_equal(clipped[1].numpy()[small], bias[small])
    # the huge example keeps its direction
    np.testing.assert_allclose(clipped[0].numpy()[2] * norms.numpy()[2], kernel[2], rtol=1e-4)


def test_clipping_leaves_a_zero_gradient_zero():
    clipped, norms = clip_per_example([tf.zeros([2, 3])], 0.5)
    np.testing.assert_array_equal(clipped[0].numpy(), 0.0)
    np.testing.assert_array_equal(norms.numpy(), 0.0)


def test_poisson_sample_keeps_each_example_independently_with_probability_q():
    rng = tf.random.Generator.from_seed(1)
    n, q, draws = 500, 0.1, 400
    counts = np.zeros(n)
    sizes = []
    for _ in range(draws):
        index = poisson_sample(rng, n, q).numpy()
        assert (np.diff(index) > 0).all() and index.min(initial=0) >= 0 and index.max(initial=0) < n
        counts[index] += 1
        sizes.append(len(index))
    assert abs(np.mean(sizes) - n * q) < 1.5  # sd of the mean 0.34
    assert abs(np.var(sizes) / (n * q * (1 - q)) - 1) < 0.25  # Binomial variance, not a fixed size
    assert abs(counts.mean() / draws - q) < 0.005 and counts.std() / draws < 0.03
    np.testing.assert_array_equal(poisson_sample(rng, 7, 1.0).numpy(), np.arange(7))


def test_chunk_size_covers_the_expected_batch_with_margin():
    assert chunk_size(100, 0.01, 10_000) == 130  # 100 + 3 * sqrt(100 * 0.99) = 129.85
    assert chunk_size(16, 1.0, 16) == 16
    assert chunk_size(40, 0.5, 50) == 50


def test_noise_has_std_sigma_times_clip_over_expected_batch():
    rng = tf.random.Generator.from_seed(3)
    summed = [tf.fill([200, 100], 5.0), tf.zeros([1000])]
    noisy = noisy_average(summed, rng, noise_multiplier=2.0, l2_clip=0.5, expected_batch_size=4.0)
    first = noisy[0].numpy()
    assert abs(first.mean() - 5.0 / 4.0) < 0.01 and abs(first.std() - 2.0 * 0.5 / 4.0) < 0.01
    exact = noisy_average(summed, rng, noise_multiplier=0.0, l2_clip=0.5, expected_batch_size=4.0)
    np.testing.assert_array_equal(exact[0].numpy(), 1.25)


# ------------------------------------------------------------------ the DP gradient = the plain one
@pytest.mark.parametrize("which", ["critic", "aux_critic"])
def test_noise_free_unclipped_dp_gradient_equals_the_normal_gradient(tiny_config, toy_dataset, which):
    """sigma = 0 and a clip no gradient reaches: the DP path's gradient is the normal path's.

    Same real rows, paired fakes and penalty coefficients; the DP batch is
    padded with 5 masked slots (garbage rows) that must not count.
    """
    trainer = _trainer(tiny_config, toy_dataset).step
    batch, padding = 16, 5
    noise = trainer.generator.sample_noise(tf.random.Generator.from_seed(0), batch + padding)
    generated = trainer.generator(noise, training=True)
    rows = np.random.default_rng(0).integers(0, toy_dataset.num_samples, batch + padding)
    real_features = tf.gather(trainer.real_features, rows)
    real_attributes = tf.gather(trainer.real_attributes, rows)
    alpha = tf.random.stateless_uniform([batch + padding], seed=[1, 2])
    if which == "critic":
        critic, weight = trainer.critic, tiny_config.gradient_penalty_weight
        real, fake = (real_features, real_attributes), (generated["features"], generated["attributes"])
    else:
        critic, weight = trainer.aux_critic, tiny_config.aux_gradient_penalty_weight
        # its view of the rows (the default's two), as the step builds it (test_straight_through.py checks it)
        real, fake = (trainer.critic_inputs(real_features, real_attributes)[2],), (trainer.generated_inputs(generated)[2],)

    expected, (loss, real_mean, fake_mean, penalty) = critic_gradients(
        critic, tuple(x[:batch] for x in real), tuple(x[:batch] for x in fake), alpha[:batch], weight
    )
    grads, terms = per_example_critic_gradients(critic, critic.trainable_variables, real, fake, alpha, weight)
    clipped, norms = clip_per_example(grads, 1e9)
    assert float(tf.reduce_max(norms)) < 1e9
    mask = tf.constant([1.0] * batch + [0.0] * padding)
    summed = [masked_sum(g, mask) for g in clipped]
    dp = noisy_average(summed, tf.random.Generator.from_seed(4), 0.0, 1e9, float(batch))

    for got, want, variable in zip(dp, expected, critic.trainable_variables):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-6, err_msg=variable.path)
    mean_terms = masked_sum(terms, mask).numpy() / batch
    np.testing.assert_allclose(mean_terms, [real_mean, fake_mean, penalty], rtol=1e-5, atol=1e-6)
    assert float(tf.reduce_max(tf.abs(expected[0]))) > 0  # the comparison is not of zeros


# ------------------------------------------------------------------ accounting
def test_epsilon_equals_a_direct_dp_accounting_computation():
    sigma, q, steps, delta = 1.1, 256 / 60000, 14062, 1e-5
    accountant = dp_accounting.rdp.RdpAccountant()
    accountant.compose(dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps))
    assert compute_epsilon(sigma, q, steps, delta) == accountant.get_epsilon(delta)
    assert 2.4 < compute_epsilon(sigma, q, steps, delta) < 3.0  # Abadi et al.'s MNIST setting
    assert compute_epsilon(sigma, q, 0, delta) == 0.0
    assert compute_epsilon(0.0, q, 10, delta) == math.inf


@pytest.mark.parametrize("aux, sigma_eff", [(True, 2.0 / math.sqrt(2)), (False, 2.0)])
def test_report_accounts_both_critics_on_one_sample(aux, sigma_eff):
    config = DGConfig(batch_size=50, dp_noise_multiplier=2.0, dp_l2_clip=0.5, dp_delta=1e-6, use_aux_critic=aux)
    report = privacy_report(config, num_examples=1000, steps=300)
    assert report.sampling_probability == 0.05 and report.steps == 300 and report.l2_clip == 0.5
    assert report.effective_noise_multiplier == pytest.approx(sigma_eff)
    assert report.epsilon == compute_epsilon(sigma_eff, 0.05, 300, 1e-6)


def test_report_json_round_trip(tmp_path):
    report = privacy_report(DGConfig(dp_noise_multiplier=0.0), num_examples=100, steps=5)
    report.save(tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text())["epsilon"] is None  # inf: strict JSON has none
    assert PrivacyReport.load(tmp_path / "p.json") == report


# ------------------------------------------------------------------ config and flags
def test_config_fields_and_flags():
    assert DGConfig().dp_noise_multiplier is None
    assert DGConfig(dp_noise_multiplier=1).dp_noise_multiplier == 1.0
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    args = parser.parse_args(["--dp-noise-multiplier", "0.7", "--dp-l2-clip", "2", "--dp-delta", "1e-6"])
    assert (config_from_args(args).dp_noise_multiplier, config_from_args(args).dp_l2_clip) == (0.7, 2.0)
    assert config_from_args(parser.parse_args(["--dp-noise-multiplier", "none"])).dp_noise_multiplier is None
    for changes, message in [
        ({"dp_noise_multiplier": -1.0}, "dp_noise_multiplier=-1.0"),
        ({"dp_l2_clip": 0.0}, "dp_l2_clip=0.0"),
        ({"dp_delta": 1.0}, "dp_delta=1.0"),
        ({"dp_noise_multiplier": 1.0, "num_packing": 2}, "num_packing=2"),
    ]:
        with pytest.raises(ConfigError, match=message):
            DGConfig(**changes)


# ------------------------------------------------------------------ the DP training step
def test_dp_step_uses_the_dp_critic_update_and_is_traced_once(tiny_config, toy_dataset):
    plain = _trainer(tiny_config, toy_dataset)
    assert plain.step.dp is None
    trainer = _trainer(tiny_config.replace(**DP, critic_rounds=2), toy_dataset)
    assert trainer.step.dp is not None
    trainer.step.dp.chunk_size = 3  # a Poisson batch of ~16 takes ~6 passes of the chunk loop
    critic_before = [v.numpy() for v in trainer.step.critic.trainable_variables]
    metrics = trainer.train(2)
    assert trainer._step.experimental_get_tracing_count() == 1
    assert all(math.isfinite(v) for v in metrics.values()), metrics
    assert {"loss/d", "loss/d/gp", "loss/attr_d", "loss/g", "privacy/epsilon"} <= metrics.keys()
    steps = 2 * trainer.steps_per_epoch * 2  # epochs x steps x critic rounds
    assert metrics["privacy/epsilon"] == compute_epsilon(1 / math.sqrt(2), 16 / 48, steps, 1e-5)
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(critic_before, trainer.step.critic.trainable_variables))


class _Recorder:
    """Stands in for a critic's optimizer: keeps the gradient the DP update hands it."""

    def __init__(self, variables):
        self.gradients = [tf.Variable(tf.zeros_like(v)) for v in variables]

    def apply_gradients(self, pairs):
        for slot, (gradient, _) in zip(self.gradients, pairs):
            slot.assign(gradient)

    def flat(self) -> np.ndarray:
        return np.concatenate([g.numpy().ravel() for g in self.gradients])


def _dp_update(tiny_config, toy_dataset, rows, *, batch_size, sigma, clip, chunk=None):
    """The trainer's critic behind a DP update over ``rows`` real rows, all paired with one generated row.

    With the gradient penalty weighted 0, example i's loss is ``D(fake) - D(real_i)``.
    Returns ``run(rng)`` (one compiled update; the gradient it applies lands in
    the recorder), the recorder, the critic and the fake batch.
    """
    config = tiny_config.replace(batch_size=batch_size, dp_noise_multiplier=sigma, dp_l2_clip=clip)
    step = _trainer(tiny_config, toy_dataset).step
    real = (tf.constant(rows[0]), tf.constant(rows[1]))
    generated = step.generator(step.generator.sample_noise(tf.random.Generator.from_seed(1), 1))
    fake = (tf.repeat(generated["features"], batch_size, 0), tf.repeat(generated["attributes"], batch_size, 0))
    recorder = _Recorder(step.critic.trainable_variables)
    update = DPCriticUpdate(config, num_examples=len(rows[0]))
    if chunk is not None:
        update.chunk_size = chunk
    slot = CriticSlot(step.critic, recorder, penalty_weight=0.0, prefix="d")
    return tf.function(lambda rng: update([slot], real, fake, rng)), recorder, step.critic, fake


def test_dp_update_clips_each_example_to_c_and_divides_the_sum_by_the_expected_batch(tiny_config, toy_dataset):
    """q = 1 (every row sampled), sigma = 0: the update is exactly mean_i clip(grad_i, C), checked
    against per-example gradients taken here one at a time with a plain tape and clipped in NumPy."""
    trainer = _trainer(tiny_config, toy_dataset).step
    rows = (trainer.real_features.numpy()[:16], trainer.real_attributes.numpy()[:16])
    # sigma 0 still draws the noise (times 0), so the rng stream is the one the trainer uses
    run, recorder, critic, fake = _dp_update(tiny_config, toy_dataset, rows, batch_size=16, sigma=0.0, clip=1.0)
    per_example = []
    for i in range(16):
        with tf.GradientTape() as tape:
            loss = (critic(fake[0][:1], fake[1][:1])[0, 0]
                    - critic(rows[0][i:i + 1], rows[1][i:i + 1])[0, 0])
        per_example.append(np.concatenate([g.numpy().ravel() for g in tape.gradient(loss, critic.trainable_variables)]))
    per_example = np.array(per_example)
    norms = np.linalg.norm(per_example, axis=1)
    clip = float(np.median(norms))  # about half the examples are clipped, half kept as they are
    run, recorder, *_ = _dp_update(tiny_config, toy_dataset, rows, batch_size=16, sigma=0.0, clip=clip)
    run(tf.random.Generator.from_seed(5))
    expected = (per_example * np.minimum(1.0, clip / norms)[:, None]).sum(0) / 16
    np.testing.assert_allclose(recorder.flat(), expected, rtol=1e-4, atol=1e-7)
    assert np.linalg.norm(expected - per_example.mean(0)) > 0.05 * np.linalg.norm(expected)  # clipping mattered


def test_dp_update_adds_gaussian_noise_of_sigma_c_over_the_expected_batch(tiny_config, toy_dataset):
    """The same update with sigma = 2 and sigma = 0 from equally seeded rngs differs by exactly the
    noise: its standard deviation over every critic weight is sigma * C / E[B]."""
    trainer = _trainer(tiny_config, toy_dataset).step
    rows = (trainer.real_features.numpy()[:48], trainer.real_attributes.numpy()[:48])
    noisy, noisy_recorder, *_ = _dp_update(tiny_config, toy_dataset, rows, batch_size=12, sigma=2.0, clip=0.3)
    clean, clean_recorder, *_ = _dp_update(tiny_config, toy_dataset, rows, batch_size=12, sigma=0.0, clip=0.3)
    noisy(tf.random.Generator.from_seed(9))
    clean(tf.random.Generator.from_seed(9))
    noise = noisy_recorder.flat() - clean_recorder.flat()
    assert noise.size > 500
    expected_std = 2.0 * 0.3 / 12  # E[B] = q N = 12 / 48 * 48
    assert abs(noise.std() / expected_std - 1) < 0.1, noise.std() / expected_std  # rel. sd of the estimate < 3%
    assert abs(noise.mean()) < 4 * expected_std / math.sqrt(noise.size)


def test_dp_update_samples_poisson_batches_and_divides_by_the_expected_size(tiny_config, toy_dataset):
    """64 identical real rows, q = 1/8, sigma = 0 and a clip far below every gradient norm: each
    sampled example adds exactly C * u (one unit vector u), so the update's norm times E[B] / C is
    the realised batch size. Over 300 updates it is a whole number with Binomial(64, 1/8) mean and
    variance (8 and 7): variable batches summed whole across chunks, each example clipped to C, the
    divisor the expected size."""
    trainer = _trainer(tiny_config, toy_dataset).step
    rows = (np.repeat(trainer.real_features.numpy()[:1], 64, 0), np.repeat(trainer.real_attributes.numpy()[:1], 64, 0))
    clip = 1e-4
    run, recorder, critic, fake = _dp_update(tiny_config, toy_dataset, rows, batch_size=8, sigma=0.0, clip=clip,
                                             chunk=5)  # most batches take 2 or 3 chunks of slots
    with tf.GradientTape() as tape:
        loss = critic(fake[0][:1], fake[1][:1])[0, 0] - critic(rows[0][:1], rows[1][:1])[0, 0]
    norm = np.sqrt(sum(float(tf.reduce_sum(g * g)) for g in tape.gradient(loss, critic.trainable_variables)))
    assert norm > 100 * clip
    rng = tf.random.Generator.from_seed(21)
    sizes = []
    for _ in range(300):
        run(rng)
        sizes.append(np.linalg.norm(recorder.flat()) * 8 / clip)
    sizes = np.array(sizes)
    np.testing.assert_allclose(sizes, np.round(sizes), atol=1e-2)
    assert abs(sizes.mean() - 8) < 0.6  # sd of the mean 0.15
    assert abs(sizes.var() / 7 - 1) < 0.35  # sd of the ratio about 0.08; a fixed batch gives 0


def test_dp_training_via_the_cli_writes_privacy_json(tmp_path, caplog):
    dataset = make_toy_dataset()
    save_dataset(tmp_path / "data", dataset)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items() if k != "epochs"]
    with caplog.at_level("INFO"):
        code = run_main(train_main, ["--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
                                     "--epochs", "2", "--num-generate", "10", "--dp-noise-multiplier", "1.5",
                                     "--dp-l2-clip", "0.8", *flags])
    assert code == 0
    saved = json.loads((tmp_path / "run" / PRIVACY_FILE).read_text())
    steps = 2 * (dataset.num_samples // TINY["batch_size"])
    q = TINY["batch_size"] / dataset.num_samples
    assert saved["steps"] == steps and saved["sampling_probability"] == q and saved["l2_clip"] == 0.8
    assert saved["epsilon"] == compute_epsilon(1.5 / math.sqrt(2), q, steps, 1e-5)
    assert "rdp" in saved["accountant"].lower() and saved["delta"] == 1e-5
    assert any("privacy.json" in r.getMessage() and f"{saved['epsilon']:.4g}" in r.getMessage()
               for r in caplog.records)
    tags = set()
    for event_file in (tmp_path / "run" / "logs").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(value.tag for value in event.summary.value)
    assert "privacy/epsilon" in tags
    model = DoppelGANger.load(tmp_path / "run")
    assert model.privacy is not None and model.privacy.epsilon == saved["epsilon"]
    assert (tmp_path / "run" / "synthetic.npz").is_file()
