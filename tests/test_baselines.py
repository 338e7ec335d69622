"""The paper's baselines (experiments/baselines, paper §5.1.2 and appendix B): HMM, AR, RNN, naive GAN."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import REPO, make_toy_dataset
from dg_tf import Dataset, DGError, Normalization, Output, OutputType, load_npz, save_dataset
from dg_tf.cli import run_main
from dg_tf.data.validation import validate_dataset

# experiments/ is a repository-root package (python -m experiments.baselines.run), not part of dg_tf.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from experiments.baselines import BASELINES, ARBaseline, HMMBaseline, RNNBaseline  # noqa: E402
from experiments.baselines import run  # noqa: E402
from experiments.baselines.common import AttributeSampler, GaussianRecord, record_encoding  # noqa: E402

#: Tiny versions of each baseline (the paper's sizes are the class defaults).
TINY = {
    "hmm": dict(num_states=3, epochs=10),
    "ar": dict(hidden_layers=2, hidden_units=16, epochs=2, batch_size=32),
    "rnn": dict(units=8, epochs=2, batch_size=16),
    "naive_gan": dict(hidden_layers=2, hidden_units=16, noise_dim=8, epochs=2, batch_size=16),
}


def _fit(name: str, dataset: Dataset, seed: int = 1, **overrides):
    return BASELINES[name](seed=seed, **{**TINY[name], **overrides}).fit(dataset)


@pytest.fixture(scope="module")
def toy() -> Dataset:
    return make_toy_dataset(48, seed=0, variable_length=True)


@pytest.fixture(scope="module")
def fitted(toy):
    """``fitted(name)``: the tiny baseline ``name`` trained on ``toy`` with seed 1 (trained once)."""
    models = {}

    def get(name: str):
        if name not in models:
            models[name] = _fit(name, toy)
        return models[name]

    return get


def _same(a: Dataset, b: Dataset) -> bool:
    return all(np.array_equal(x, y) for x, y in
               ((a.features, b.features), (a.attributes, b.attributes), (a.gen_flags, b.gen_flags)))


@pytest.mark.parametrize("name", sorted(TINY))
def test_generates_valid_datasets_deterministically(name, fitted, toy):
    model = fitted(name)
    synthetic = model.generate(25, seed=3)
    validate_dataset(synthetic, name)  # ranges, one-hot, flags 1..1 0..0, zeros after the end
    assert synthetic.features.shape == (25, toy.max_length, toy.features.shape[2])
    assert synthetic.attributes.shape == (25, toy.attributes.shape[1])
    assert synthetic.feature_outputs == toy.feature_outputs
    assert synthetic.attribute_outputs == toy.attribute_outputs
    assert _same(synthetic, model.generate(25, seed=3))
    assert not _same(synthetic, model.generate(25, seed=4))


@pytest.mark.parametrize("name", sorted(TINY))
def test_training_is_deterministic(name, fitted, toy):
    assert _same(_fit(name, toy).generate(10, seed=0), fitted(name).generate(10, seed=0))


@pytest.mark.parametrize("name", ["hmm", "ar", "rnn"])
def test_metadata_follow_the_training_multinomial(name, fitted, toy):
    n = 3000
    synthetic = fitted(name).generate(n, seed=11)
    expected = toy.attributes[:, :3].mean(axis=0)
    observed = synthetic.attributes[:, :3].mean(axis=0)
    tolerance = 4 * np.sqrt(expected * (1 - expected) / n)
    np.testing.assert_array_less(np.abs(observed - expected), tolerance)
    training_rows = {tuple(row) for row in toy.attributes}
    assert all(tuple(row) in training_rows for row in synthetic.attributes)  # joint, not marginals


def test_attribute_sampler_draws_training_rows_with_their_frequencies():
    attributes = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], np.float32)
    draws = AttributeSampler(attributes).sample(4000, np.random.default_rng(0))
    assert abs(draws[:, 0].mean() - 0.75) < 0.03
    assert set(map(tuple, draws)) == {(1.0, 0.0), (0.0, 1.0)}


def test_first_record_gaussian_is_valid_and_matches_the_mean(toy):
    encoding = record_encoding(toy)
    records, _ = encoding.encode(toy)
    gaussian = GaussianRecord(records[:, 0], encoding.model_feature_outputs)
    draws = gaussian.sample(2000, np.random.default_rng(0))
    assert draws.shape == (2000, records.shape[2])
    assert np.all((draws[:, 0] >= 0) & (draws[:, 0] <= 1)) and np.all(np.abs(draws[:, 1]) <= 1)
    np.testing.assert_array_equal(draws[:, 2:4].sum(axis=1), 1)  # the discrete feature is one-hot
    np.testing.assert_array_equal(draws[:, 4:6].sum(axis=1), 1)  # so is the generation flag
    assert abs(draws[:, 0].mean() - records[:, 0, 0].mean()) < 0.05


def _two_state_hmm_data(n: int = 40, length: int = 30, seed: int = 0) -> Dataset:
    """Series from a sticky 2-state Gaussian HMM with means 0.25 and 0.75 (std 0.04)."""
    rng = np.random.default_rng(seed)
    states = np.zeros((n, length), int)
    states[:, 0] = rng.integers(0, 2, n)
    for t in range(1, length):
        switch = rng.random(n) < 0.1
        states[:, t] = np.where(switch, 1 - states[:, t - 1], states[:, t - 1])
    values = np.clip(np.array([0.25, 0.75])[states] + 0.04 * rng.standard_normal((n, length)), 0, 1)
    return Dataset(
        features=values[..., None].astype(np.float32),
        attributes=np.eye(2, dtype=np.float32)[rng.integers(0, 2, n)],
        gen_flags=np.ones((n, length), np.float32),
        feature_outputs=[Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)],
        attribute_outputs=[Output(OutputType.DISCRETE, 2)],
    )


def test_hmm_recovers_the_means_of_a_two_state_hmm():
    model = HMMBaseline(num_states=2, epochs=50, length="empirical", seed=0).fit(_two_state_hmm_data())
    np.testing.assert_allclose(np.sort(model.hmm.means_[:, 0]), [0.25, 0.75], atol=0.03)
    synthetic = model.generate(200, seed=1)
    values = synthetic.features[:, :, 0][synthetic.gen_flags > 0]
    near_a_mean = np.minimum(np.abs(values - 0.25), np.abs(values - 0.75)) < 0.15
    assert near_a_mean.mean() > 0.95
    assert 0.3 < (values > 0.5).mean() < 0.7
    np.testing.assert_array_equal(synthetic.lengths, 30)  # fixed-length data stays fixed-length


def test_hmm_empirical_lengths_follow_the_training_lengths(toy):
    synthetic = _fit("hmm", toy, length="empirical").generate(3000, seed=0)
    validate_dataset(synthetic, "hmm")
    expected = np.bincount(toy.lengths, minlength=toy.max_length + 1) / toy.num_samples
    observed = np.bincount(synthetic.lengths, minlength=toy.max_length + 1) / 3000
    np.testing.assert_array_less(np.abs(observed - expected), 4 * np.sqrt(expected * (1 - expected) / 3000) + 1e-9)


def test_hmm_rejects_an_unknown_length_model():
    with pytest.raises(DGError, match="length='poisson'"):
        HMMBaseline(length="poisson")


def _deterministic_series(n: int = 32, length: int = 10) -> Dataset:
    """Every series is the same noiseless wave 0.5 + 0.4 sin(0.8 t), full length."""
    wave = 0.5 + 0.4 * np.sin(0.8 * np.arange(length))
    rng = np.random.default_rng(0)
    return Dataset(
        features=np.tile(wave, (n, 1))[..., None].astype(np.float32),
        attributes=np.eye(2, dtype=np.float32)[rng.integers(0, 2, n)],
        gen_flags=np.ones((n, length), np.float32),
        feature_outputs=[Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)],
        attribute_outputs=[Output(OutputType.DISCRETE, 2)],
    )


@pytest.mark.parametrize(
    "model",
    [
        ARBaseline(hidden_layers=2, hidden_units=32, learning_rate=1e-2, epochs=120, seed=0),
        RNNBaseline(units=16, learning_rate=2e-2, batch_size=32, epochs=150, seed=0),
    ],
    ids=["ar", "rnn"],
)
def test_reproduces_a_noiseless_deterministic_series(model):
    real = _deterministic_series()
    synthetic = model.fit(real).generate(8, seed=0)
    np.testing.assert_array_equal(synthetic.lengths, real.max_length)
    np.testing.assert_allclose(synthetic.features, real.features[:8], atol=0.05)
    assert model.history[-1]["loss"] < model.history[0]["loss"] / 10


def test_generate_needs_a_trained_model_and_a_positive_n(toy):
    with pytest.raises(DGError, match="not trained"):
        HMMBaseline().generate(5)
    with pytest.raises(DGError, match="n=0"):
        _fit("hmm", toy).generate(0)


@pytest.mark.parametrize("name", sorted(TINY))
def test_cli_writes_a_loadable_npz(name, tmp_path, toy):
    save_dataset(tmp_path / "data", toy, "train")
    out = tmp_path / f"{name}.npz"
    argv = ["--model", name, "--data", str(tmp_path / "data"), "--out", str(out),
            "--epochs", "1", "--seed", "2", "--num", "12"]
    assert run_main(run.main, argv) == 0
    loaded = load_npz(out, toy.feature_outputs, toy.attribute_outputs)  # validates
    assert loaded.features.shape == (12, toy.max_length, toy.features.shape[2])


def test_cli_passes_constructor_options(tmp_path, toy):
    save_dataset(tmp_path / "data", toy, "train")
    out = tmp_path / "hmm.npz"
    argv = ["--model", "hmm", "--data", str(tmp_path / "data"), "--out", str(out), "--epochs", "3",
            "--set", "num_states=2", "--set", "length=empirical"]
    assert run_main(run.main, argv) == 0
    loaded = load_npz(out, toy.feature_outputs, toy.attribute_outputs)
    assert loaded.num_samples == toy.num_samples  # --num defaults to the training size
    assert set(loaded.lengths) <= set(toy.lengths)  # empirical lengths


@pytest.mark.parametrize(
    "extra, message",
    [(["--num", "0"], "--num 0"), (["--set", "num_layers=2"], "num_layers: not an argument of HMMBaseline"),
     (["--set", "states"], "must be NAME=VALUE")],
)
def test_cli_rejects_bad_arguments(extra, message, tmp_path, toy, capsys):
    save_dataset(tmp_path / "data", toy, "train")
    argv = ["--model", "hmm", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "x.npz"), *extra]
    assert run_main(run.main, argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
