"""``python -m dg_tf.export``: the SavedModel generates exactly what ``DoppelGANger.generate`` does, without dg_tf."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from dg_tf import DGConfig, DoppelGANger
from dg_tf.encoding import Encoding
from dg_tf.models.noise import DRAW_PART_VALUES, CounterNoise
from dg_tf.graph_decoding import decode_graph
from dg_tf.serving import LAYOUT_FILE, export_saved_model

from conftest import TINY, make_toy_dataset

#: The exported functions' output names and the Dataset fields they hold.
FIELDS = {"data_feature": "features", "data_attribute": "attributes", "data_gen_flag": "gen_flags"}
#: Series counts below, at and above TINY's generate_batch_size (32).
COUNTS = (5, 32, 70)


def _dataset(kind: str):
    """A small training set: "variable" lengths with a discrete and a continuous attribute, or "fixed" lengths
    with only the continuous attribute."""
    dataset = make_toy_dataset(n=32, variable_length=kind == "variable")
    if kind == "fixed":  # drop the 3-way discrete attribute, keep the ZERO_ONE one
        dataset = dataclasses.replace(dataset, attributes=dataset.attributes[:, 3:],
                                      attribute_outputs=dataset.attribute_outputs[1:])
    return dataset


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """kind -> (model trained 1 epoch on ``_dataset(kind)``, auto-normalization on for "variable" only, the
    dataset, its export loaded back with tf.saved_model.load, the export folder); each kind trained and
    exported once, when first asked for."""
    done = {}

    def export(kind):
        if kind not in done:
            dataset = _dataset(kind)
            config = DGConfig(**{**TINY, "epochs": 1, "self_norm": kind == "variable"})
            model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)
            assert (model.encoding.lengths.fixed is not None) == (kind == "fixed")
            out = tmp_path_factory.mktemp(kind) / "export"
            export_saved_model(model, out)
            done[kind] = model, dataset, tf.saved_model.load(str(out)), out
        return done[kind]

    return export


@pytest.fixture(params=["variable", "fixed"])
def exported(request, exports):
    return exports(request.param)


def _assert_same(result, dataset):
    assert set(result) == set(FIELDS)
    for name, field in FIELDS.items():
        np.testing.assert_array_equal(np.asarray(result[name]), getattr(dataset, field), err_msg=name)


def test_generate_equals_the_models_generate(exported):
    model, _, loaded, _ = exported
    for n, seed in zip(COUNTS, (3, 0, 2**40 + 1)):
        expected = model.generate(n, seed=seed)
        _assert_same(loaded.generate(tf.constant(n, tf.int64), tf.constant(seed, tf.int64)), expected)
    other = loaded.generate(tf.constant(5, tf.int64), tf.constant(4, tf.int64))["data_feature"].numpy()
    assert not np.array_equal(other, model.generate(5, seed=3).features)  # the seed matters


def test_generate_conditional_equals_the_models_conditional_generate(exported):
    model, dataset, loaded, _ = exported
    for n in COUNTS:
        given = np.resize(dataset.attributes, (n, dataset.attributes.shape[1]))
        expected = model.generate(n, attributes=given, seed=n)
        _assert_same(loaded.generate_conditional(tf.constant(given), tf.constant(n, tf.int64)), expected)
        np.testing.assert_array_equal(expected.attributes, given)


def test_generate_refuses_a_non_positive_n(exported):
    _, _, loaded, _ = exported
    with pytest.raises(tf.errors.InvalidArgumentError, match="n must be a positive integer"):
        loaded.generate(tf.constant(0, tf.int64), tf.constant(1, tf.int64))


def _assert_same_normals(ours: np.ndarray, generators: np.ndarray) -> None:
    """The generator's numbers up to the last bit of log/sin/cos (vectorised here, one by one in its kernel)."""
    np.testing.assert_allclose(ours, generators, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 5, -1, -(2**63), 2**63 - 1])
def test_counter_noise_draws_the_numbers_of_a_reset_generator(seed):
    generator = tf.random.Generator.from_seed(0)
    generator.reset_from_seed(seed)
    noise = CounterNoise.from_seed(tf.constant(seed, tf.int64))
    # odd sizes end inside a Box-Muller pair; -1: the counter's low word wraps into the high one
    for shape in ([3, 5], [2, 7, 3], [1, 2, 4, 3], [1]):
        _assert_same_normals(noise.normal(shape).numpy(), generator.normal(shape).numpy())


def test_counter_noise_splits_a_large_draw_into_parts_with_the_same_numbers():
    """A draw over DRAW_PART_VALUES values runs as several ops (each from its own counter): the generator's numbers,
    also when the low counter word wraps inside the draw; then the numbers after it."""
    generator = tf.random.Generator.from_seed(0)
    generator.reset_from_seed(-1)  # counter (2**64 - 1, 2**64 - 1): the second part's counter wraps
    noise = CounterNoise.from_seed(tf.constant(-1, tf.int64))
    shape = [3, 2, DRAW_PART_VALUES // 5 + 1]  # two parts, the second one short
    ours, theirs = noise.normal(shape).numpy(), generator.normal(shape).numpy()
    _assert_same_normals(ours, theirs)
    assert (ours == theirs).mean() > 0.5  # most bitwise: the same uniforms, pairs and formula
    _assert_same_normals(noise.normal([7]).numpy(), generator.normal([7]).numpy())


@pytest.mark.parametrize("kind, self_norm", [("variable", True), ("variable", False), ("fixed", True)])
def test_decode_graph_agrees_with_encoding_decode(kind, self_norm):
    """The TF twin of Encoding.decode, on raw values that need every step: argmax, rescaling, clipping, masking."""
    dataset = _dataset(kind)
    encoding = Encoding.for_dataset(dataset, DGConfig(**{**TINY, "self_norm": self_norm}))
    features, attributes = encoding.encode(dataset)
    rng = np.random.default_rng(0)
    features = rng.normal(0.3, 0.8, features.shape).astype(np.float32)
    attributes = rng.normal(0.5, 0.6, attributes.shape).astype(np.float32)
    expected = encoding.decode(features, attributes, dataset.gen_flags)
    _assert_same(decode_graph(encoding, tf.constant(features), tf.constant(attributes),
                              tf.constant(dataset.gen_flags)), expected)
    assert (expected.features != 0).any() and (expected.features == 0).any()


#: Loads the export with plain TensorFlow, dg_tf made unimportable, and writes both functions' arrays.
PLAIN_TF = """
import sys
sys.modules["dg_tf"] = None  # any import of dg_tf fails
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
attributes = np.load("given.npy")
plain = loaded.signatures["generate"](n=tf.constant(70, tf.int64), seed=tf.constant(8, tf.int64))
given = loaded.signatures["generate_conditional"](attributes=tf.constant(attributes), seed=tf.constant(9, tf.int64))
np.savez("out.npz", **{"plain_" + k: v.numpy() for k, v in plain.items()},
         **{"given_" + k: v.numpy() for k, v in given.items()})
"""


def test_plain_tensorflow_loads_it_without_dg_tf(exports, tmp_path):
    model, dataset, _, out = exports("variable")
    given = np.resize(dataset.attributes, (40, dataset.attributes.shape[1]))
    np.save(tmp_path / "given.npy", given)
    done = subprocess.run([sys.executable, "-c", PLAIN_TF, str(out)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(tmp_path / "out.npz") as arrays:
        _assert_same({name: arrays["plain_" + name] for name in FIELDS}, model.generate(70, seed=8))
        _assert_same({name: arrays["given_" + name] for name in FIELDS},
                     model.generate(40, attributes=given, seed=9))


def test_cli_writes_the_folder_and_refuses_a_non_empty_out(exports, tmp_path, capsys):
    from dg_tf.cli import run_main
    from dg_tf.cli.export import main

    model = exports("variable")[0]
    model.save(tmp_path / "run")
    out = tmp_path / "served"
    out.mkdir()  # an empty folder is taken
    assert run_main(main, ["--run", str(tmp_path / "run"), "--out", str(out)]) == 0
    assert (out / "saved_model.pb").is_file()
    layout = json.loads((out / LAYOUT_FILE).read_text())
    assert set(layout["signatures"]) == {"generate", "generate_conditional"}
    assert layout["outputs"]["data_feature"]["shape"] == ["n", 8, 4]
    assert layout["outputs"]["data_attribute"]["shape"] == ["n", 4]
    assert [o["columns"] for o in layout["feature_outputs"]] == [[0, 1], [1, 2], [2, 4]]
    assert layout["generate_batch_size"] == model.config.generate_batch_size

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    capsys.readouterr()
    assert run_main(main, ["--run", str(tmp_path / "run"), "--out", str(taken)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "not empty" in error and str(taken) in error and "\n" not in error
    assert [p.name for p in taken.iterdir()] == ["keep.txt"] and (taken / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "served", "taken"]  # no staging folder left
