"""DoppelGANger facade and the encoding: round trips, persistence, conditional generation."""

import numpy as np
import pytest

from dg_tf import DataFormatError, DGError, DoppelGANger, Normalization, Output, OutputType
from dg_tf.encoding import Encoding, LengthRule

from conftest import make_toy_dataset


@pytest.mark.parametrize("self_norm", [True, False])
def test_encode_decode_round_trip(tiny_config, self_norm):
    dataset = make_toy_dataset()
    encoding = Encoding.for_dataset(dataset, tiny_config.replace(self_norm=self_norm))
    features, attributes = encoding.encode(dataset)
    assert features.shape == (48, 8, 4 + 2)
    assert attributes.shape == (48, 4 + (4 if self_norm else 0))  # 2 continuous columns -> 4 addi
    decoded = encoding.decode(features, attributes, dataset.gen_flags)
    np.testing.assert_allclose(decoded.features, dataset.features, atol=1e-5)
    np.testing.assert_array_equal(decoded.attributes, dataset.attributes)
    np.testing.assert_array_equal(decoded.gen_flags, dataset.gen_flags)
    assert Encoding.from_dict(encoding.to_dict()) == encoding


def test_encoding_of_the_real_fcc_mba_data(fcc_mba):
    from dg_tf import DGConfig
    encoding = Encoding.for_dataset(fcc_mba, DGConfig(sample_len=8))
    # Every series has all 56 steps: no generation flag channels, every generated series 56 steps long.
    assert encoding.lengths == LengthRule(fixed=56, minimum=56)
    features, attributes = encoding.encode(fcc_mba)
    assert features.shape == (600, 56, 2) and attributes.shape == (600, 73 + 4)
    assert [o.is_gen_flag for o in encoding.model_feature_outputs] == [False, False]
    decoded = encoding.decode(features, attributes, fcc_mba.gen_flags)
    np.testing.assert_allclose(decoded.features, fcc_mba.features, atol=2e-6)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from conftest import TINY
    from dg_tf import DGConfig
    dataset = make_toy_dataset()
    model = DoppelGANger(DGConfig(**TINY), dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset)
    return model, dataset


def test_save_load_generates_the_same_series(tmp_path, trained):
    model, _ = trained
    model.save(tmp_path / "model")
    loaded = DoppelGANger.load(tmp_path / "model")
    assert loaded.config == model.config and loaded.encoding == model.encoding
    a, b = model.generate(40, seed=11), loaded.generate(40, seed=11)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.attributes, b.attributes)
    np.testing.assert_array_equal(a.gen_flags, b.gen_flags)
    assert not np.array_equal(a.features, model.generate(40, seed=12).features)


def test_generated_data_is_a_valid_dataset_in_input_scale(trained):
    from dg_tf.data import validate_dataset
    model, dataset = trained
    sample = model.generate(70, seed=0)  # more than one generation batch (32)
    validate_dataset(sample)
    assert sample.features.shape == (70, 8, 4) and sample.attributes.shape == (70, 4)
    np.testing.assert_array_equal(sample.lengths, sample.gen_flags.sum(1))
    prefix = model.generate(20, seed=0)
    np.testing.assert_array_equal(prefix.features, sample.features[:20])
    probs = model.generate(20, seed=0, attribute_probabilities=True)
    np.testing.assert_allclose(probs.attributes[:, :3].sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(probs.attributes[:, :3].argmax(1), prefix.attributes[:, :3].argmax(1))


def test_conditional_generation(trained):
    model, dataset = trained
    given = dataset.attributes[:40]
    sample = model.generate(40, attributes=given, seed=1)
    np.testing.assert_array_equal(sample.attributes, given)
    again = model.generate(40, attributes=given, seed=1)
    np.testing.assert_array_equal(sample.features, again.features)
    bad = given.copy()
    bad[3, :3] = [1, 1, 0]
    with pytest.raises(DataFormatError, match=r"index \(3,\).*not one-hot"):
        model.generate(40, attributes=bad)
    with pytest.raises(DataFormatError, match="expected shape"):
        model.generate(41, attributes=given)


def test_misuse_is_a_clear_error(trained, tmp_path):
    model, dataset = trained
    untrained = DoppelGANger(model.config, dataset.feature_outputs, dataset.attribute_outputs)
    with pytest.raises(DGError, match="not trained"):
        untrained.generate(3)
    other = DoppelGANger(model.config, [Output(OutputType.CONTINUOUS, 4, Normalization.ZERO_ONE)],
                         dataset.attribute_outputs)
    with pytest.raises(DataFormatError, match="specs differ"):
        other.fit(dataset)
    with pytest.raises(DGError, match="n=0"):
        model.generate(0)
    for seed in (2**63, -2**63 - 1, 1.5):
        with pytest.raises(DGError, match=rf"seed={seed}.*64-bit"):
            model.generate(3, seed=seed)
    assert model.generate(2, seed=2**63 - 1).features.shape[0] == 2  # the extremes are seeds
    with pytest.raises(DGError, match="missing config.json"):
        DoppelGANger.load(tmp_path)


def _edge_dataset(kind):
    dataset = make_toy_dataset(n=32)
    if kind == "no continuous feature":
        dataset.features = dataset.features[..., 2:]
        dataset.feature_outputs = dataset.feature_outputs[2:]
    elif kind == "constant series":
        dataset.features[:, :, 0] = 0.3 * dataset.gen_flags
    elif kind == "no attributes":
        dataset.attributes = dataset.attributes[:, :0]
        dataset.attribute_outputs = []
    return dataset


@pytest.mark.parametrize("kind", ["no continuous feature", "constant series", "no attributes"])
def test_edge_case_datasets_train_without_nan(tiny_config, kind):
    from dg_tf.data import validate_dataset
    dataset = _edge_dataset(kind)
    model = DoppelGANger(tiny_config.replace(epochs=1), dataset.feature_outputs, dataset.attribute_outputs)
    sample = model.fit(dataset).generate(16, seed=0)
    validate_dataset(sample)
    assert np.isfinite(sample.features).all()
    assert sample.features.shape[2] == dataset.features.shape[2]
    assert sample.attributes.shape == (16, dataset.attributes.shape[1])


def test_encoding_keeps_its_length_rule_and_reads_models_saved_before_it():
    from dg_tf import DGConfig
    dataset = make_toy_dataset()  # lengths 2..8
    encoding = Encoding.for_dataset(dataset, DGConfig(sample_len=2))
    assert encoding.lengths == LengthRule(minimum=int(dataset.lengths.min()))
    assert Encoding.from_dict(encoding.to_dict()) == encoding
    old = {k: v for k, v in encoding.to_dict().items() if k not in ("fixed_length", "min_length")}
    assert Encoding.from_dict(old).lengths == LengthRule()  # flags, any length: how such models were trained
    fixed = Encoding.for_dataset(make_toy_dataset(variable_length=False), DGConfig(sample_len=2))
    assert Encoding.from_dict(fixed.to_dict()).lengths == LengthRule(fixed=8, minimum=8)
