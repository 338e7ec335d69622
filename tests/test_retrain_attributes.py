"""Attribute retraining (paper §6.1): new attribute marginals, unchanged series given attributes."""

import re

import numpy as np
import pytest

from dg_tf import DataFormatError, DGConfig, DGError, DoppelGANger, load_npz, save_dataset
from dg_tf.cli import run_main
from dg_tf.retrain_attributes import main as retrain_main

from conftest import TINY, make_toy_dataset

#: The toy dataset's 3-way attribute is uniform; retraining moves it here.
TARGET = np.array([0.8, 0.1, 0.1])
#: Settings under which the tiny attribute GAN converges in a few epochs
#: (two critic updates per step, a wider attribute MLP and critic, batch 100).
RETRAIN = dict(batch_size=100, attribute_hidden_units=32, aux_critic_hidden_units=64, critic_rounds=2, epochs=1)


def skewed_attributes(n: int, seed: int = 0) -> np.ndarray:
    """[n, 4] toy attributes: category exactly 80/10/10 (shuffled), level U[0, 1]."""
    rng = np.random.default_rng(seed)
    category = rng.permutation(np.repeat([0, 1, 2], [n - 2 * (n // 10), n // 10, n // 10]))
    attributes = np.zeros((n, 4), np.float32)
    attributes[np.arange(n), category] = 1.0
    attributes[:, 3] = rng.uniform(0, 1, n)
    return attributes


def _weights(model):
    """Every variable's value, keyed by (network, index) since Keras paths repeat ("mlp", ...)."""
    networks = {"generator": model.generator, "critic": model.critic, "aux_critic": model.aux_critic}
    return {(name, i): v.numpy() for name, net in networks.items() for i, v in enumerate(net.variables)}


@pytest.fixture(scope="module")
def retrained():
    dataset = make_toy_dataset()
    model = DoppelGANger(DGConfig(**TINY).replace(**RETRAIN), dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset)
    given = skewed_attributes(40, seed=1)
    before = model.generate(40, attributes=given, seed=3)
    unconditional_before = model.generate(40, seed=3)
    weights_before = _weights(model)
    model.retrain_attributes(skewed_attributes(3000), 5)
    return dict(model=model, given=given, before=before, unconditional_before=unconditional_before,
                weights_before=weights_before)


def test_generated_marginals_follow_the_new_distribution(retrained):
    attributes = retrained["model"].generate(4000, seed=11).attributes
    marginal = attributes[:, :3].mean(axis=0)
    total_variation = 0.5 * np.abs(marginal - TARGET).sum()
    assert total_variation < 0.05, marginal
    assert abs(attributes[:, 3].mean() - 0.5) < 0.1  # the continuous attribute follows U[0, 1] too


def test_series_for_given_attributes_are_bit_identical(retrained):
    after = retrained["model"].generate(40, attributes=retrained["given"], seed=3)
    before = retrained["before"]
    np.testing.assert_array_equal(after.features, before.features)
    np.testing.assert_array_equal(after.attributes, before.attributes)
    np.testing.assert_array_equal(after.gen_flags, before.gen_flags)
    unconditional = retrained["model"].generate(40, seed=3)
    assert not np.array_equal(unconditional.attributes, retrained["unconditional_before"].attributes)


def test_only_the_attribute_generator_changed(retrained):
    model = retrained["model"]
    before, after = retrained["weights_before"], _weights(model)
    assert before.keys() == after.keys()
    changed = {key for key in before if not np.array_equal(before[key], after[key])}
    generator = model.generator
    attribute_part = {id(v) for v in [*generator.attribute_mlp.variables, *generator.attribute_heads.variables]}
    expected = {("generator", i) for i, v in enumerate(generator.variables) if id(v) in attribute_part}
    # every attribute-generator variable moved (weights, and BatchNorm statistics that follow the
    # new data); nothing else did: not the min/max or feature generators, not the critics
    assert changed == expected


def test_misuse_is_a_clear_error(retrained):
    model = retrained["model"]
    with pytest.raises(DataFormatError, match="new.npz: data_attribute.*expected shape"):
        model.retrain_attributes(np.zeros((10, 3), np.float32), 1, source="new.npz")
    with pytest.raises(DataFormatError, match="one-hot"):
        model.retrain_attributes(np.full((10, 4), 0.5, np.float32), 1)
    with pytest.raises(DGError, match="epochs=0"):
        model.retrain_attributes(skewed_attributes(10), 0)
    untrained = DoppelGANger(DGConfig(**TINY), model.feature_outputs, model.attribute_outputs)
    with pytest.raises(DGError, match="not trained"):
        untrained.retrain_attributes(skewed_attributes(10), 1)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("retrain_cli")
    dataset = make_toy_dataset()
    save_dataset(root / "data", dataset)
    model = DoppelGANger(DGConfig(**TINY).replace(epochs=1), dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset, run_dir=root / "run")
    np.savez(root / "skewed.npz", data_attribute=skewed_attributes(64))
    return root


def test_cli_writes_a_new_model_and_keeps_the_original(trained_run):
    root = trained_run
    original = {p: p.read_bytes() for p in (root / "run").rglob("*") if p.is_file()}
    code = run_main(retrain_main, ["--run", str(root / "run"), "--attributes", str(root / "skewed.npz"),
                                   "--out", str(root / "new"), "--epochs", "2"])
    assert code == 0
    assert {p: p.read_bytes() for p in (root / "run").rglob("*") if p.is_file()} == original
    old, new = DoppelGANger.load(root / "run"), DoppelGANger.load(root / "new")
    given = skewed_attributes(20, seed=2)
    a, b = old.generate(20, attributes=given, seed=4), new.generate(20, attributes=given, seed=4)
    np.testing.assert_array_equal(a.features, b.features)
    assert not np.array_equal(old.generate(20, seed=4).attributes, new.generate(20, seed=4).attributes)
    sample = new.generate(30, seed=0)
    dataset = make_toy_dataset()
    np.savez(root / "sample.npz", data_feature=sample.features, data_attribute=sample.attributes,
             data_gen_flag=sample.gen_flags)
    load_npz(root / "sample.npz", dataset.feature_outputs, dataset.attribute_outputs)  # validates


@pytest.mark.parametrize(
    "change, message",
    [
        ("missing_key", "bad.npz: data_attribute: missing array"),
        ("wrong_width", "bad.npz: data_attribute.*expected shape \\[N, 4\\]"),
        ("same_out", "--out must be a new folder"),
        ("zero_epochs", "--epochs 0 must be >= 1"),
    ],
)
def test_cli_errors_are_one_line(trained_run, capsys, change, message):
    root = trained_run
    attributes, out, epochs = root / "skewed.npz", root / f"out_{change}", "1"
    if change == "missing_key":
        np.savez(root / "bad.npz", other=np.zeros((4, 4)))
        attributes = root / "bad.npz"
    elif change == "wrong_width":
        np.savez(root / "bad.npz", data_attribute=np.zeros((4, 2)))
        attributes = root / "bad.npz"
    elif change == "same_out":
        out = root / "run"
    else:
        epochs = "0"
    code = run_main(retrain_main, ["--run", str(root / "run"), "--attributes", str(attributes),
                                   "--out", str(out), "--epochs", epochs])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1
    assert re.search(message, errors[0]), errors
    if change != "same_out":
        assert not (out / "config.json").exists()
