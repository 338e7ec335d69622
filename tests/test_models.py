"""Generator and critics: shapes, activations, flag/length logic, seeding, checkpoints."""

import math
import re

import numpy as np
import pytest
import tensorflow as tf

from dg_tf import DGConfig, Normalization, Output, OutputType
from dg_tf.data.specs import gen_flag_output
from dg_tf.encoding import LengthRule
from dg_tf.models import AttributeCritic, Critic, Generator, generation_flags
from dg_tf.models.layers import OutputHeads
from dg_tf.models.lstm import TF1LSTMCell

FEATURES = [
    Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
    Output(OutputType.CONTINUOUS, 1, Normalization.MINUSONE_ONE),
    Output(OutputType.DISCRETE, 3),
    gen_flag_output(),
]
ATTRIBUTES = [Output(OutputType.DISCRETE, 4), Output(OutputType.CONTINUOUS, 2, Normalization.MINUSONE_ONE)]
ADDI = [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE)] * 4
CONFIG = DGConfig(attribute_hidden_units=8, feature_lstm_units=8, seed=3)


def make_generator(config=CONFIG, max_length=12, sample_len=3):
    return Generator(config.model, FEATURES, ATTRIBUTES, ADDI, max_length=max_length, sample_len=sample_len)


def forward(generator, batch=6, seed=0, **kwargs):
    noise = generator.sample_noise(tf.random.Generator.from_seed(seed), batch)
    return noise, generator(noise, **kwargs)


def test_shapes_and_activations():
    _, out = forward(make_generator())
    features, attributes = out["features"].numpy(), out["attributes"].numpy()
    assert features.shape == (6, 12, 1 + 1 + 3 + 2)
    assert attributes.shape == (6, 4 + 2 + 4)
    assert out["gen_flags"].shape == (6, 12) and out["lengths"].dtype == tf.int32
    np.testing.assert_allclose(attributes[:, :4].sum(1), 1.0, rtol=1e-5)  # softmax
    assert np.all(np.abs(attributes[:, 4:6]) < 1) and np.all((attributes[:, 6:] > 0) & (attributes[:, 6:] < 1))
    flags = out["gen_flags"].numpy()
    active = flags[:, :, None] > 0
    values = np.where(active, features, np.nan)
    assert np.nanmin(values[..., 0]) > 0 and np.nanmax(values[..., 0]) < 1  # sigmoid
    assert np.nanmin(values[..., 1]) > -1 and np.nanmax(values[..., 1]) < 1  # tanh
    np.testing.assert_allclose(np.nansum(values[..., 2:5], -1)[flags > 0], 1.0, rtol=1e-5)
    # Feature channels are zero after each series' end.
    assert np.all(features[..., :-2][flags == 0] == 0)
    np.testing.assert_array_equal(out["lengths"].numpy(), flags.sum(1))


def test_generation_flags_record_the_stop_step():
    # argmax per step: continue, continue, stop, continue, stop
    probs = tf.constant([[[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3], [0.1, 0.9]]])
    np.testing.assert_array_equal(generation_flags(probs).numpy(), [[1, 1, 1, 0, 0]])
    first_stops = tf.constant([[[0.1, 0.9], [0.9, 0.1]]])
    np.testing.assert_array_equal(generation_flags(first_stops).numpy(), [[1, 0]])


def test_flag_channels_masked_per_pass():
    generator = make_generator(max_length=12, sample_len=3)
    _, out = forward(generator, batch=64, seed=1)
    flags = out["gen_flags"].numpy()
    flag_channels = out["features"].numpy()[..., -2:]
    for flag_row, channel_row in zip(flags, flag_channels):
        length = int(flag_row.sum())
        last_pass_end = math.ceil(length / 3) * 3
        assert np.all(channel_row[last_pass_end:] == 0)
        np.testing.assert_allclose(channel_row[:last_pass_end].sum(-1), 1.0, rtol=1e-5)


def test_conditional_generation_uses_given_attributes():
    generator = make_generator()
    forward(generator)  # builds every network, as DoppelGANger does
    given = np.zeros((6, 6), np.float32)
    given[np.arange(6), np.arange(6) % 4] = 1
    given[:, 4:] = 0.25
    _, out = forward(generator, attributes=tf.constant(given))
    np.testing.assert_array_equal(out["attributes"].numpy()[:, :6], given)


def test_same_seed_same_weights_and_output():
    a, b = make_generator(), make_generator()
    noise, out_a = forward(a)
    out_b = b(noise)
    np.testing.assert_array_equal(out_a["features"].numpy(), out_b["features"].numpy())
    c = make_generator(CONFIG.replace(seed=4))
    assert not np.array_equal(c(noise)["features"].numpy(), out_a["features"].numpy())


@pytest.mark.parametrize("initial_state, layers", [("zero", 1), ("learned", 2), ("random", 2)])
def test_initial_state_options(initial_state, layers):
    generator = make_generator(CONFIG.replace(lstm_initial_state=initial_state, feature_lstm_layers=layers))
    noise, out = forward(generator)
    assert ("lstm_state" in noise) == (initial_state == "random")
    assert out["features"].shape == (6, 12, 7)
    assert (len([v for v in generator.trainable_variables if "learned_state" in v.path]) == 1) == (initial_state == "learned")


def test_checkpoint_restores_every_variable(tmp_path):
    a = make_generator(CONFIG.replace(feature_lstm_layers=2))
    noise, _ = forward(a)
    for v in a.variables:
        v.assign(v + 1.0)
    path = tf.train.Checkpoint(g=a).write(str(tmp_path / "ck"))
    b = make_generator(CONFIG.replace(feature_lstm_layers=2))
    b(noise)
    tf.train.Checkpoint(g=b).read(path).assert_consumed()
    assert len(a.variables) == len(b.variables) > 20
    for x, y in zip(a.variables, b.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)


def test_output_heads_init_like_separate_dense_heads():
    outputs = [Output(OutputType.DISCRETE, 2), Output(OutputType.CONTINUOUS, 400, Normalization.ZERO_ONE)]
    heads = OutputHeads(outputs, seed=0)
    heads(tf.zeros([1, 100]))
    kernel = heads.kernel.numpy()
    first_limit, second_limit = math.sqrt(6 / 102), math.sqrt(6 / 500)
    assert np.abs(kernel[:, :2]).max() <= first_limit and np.abs(kernel[:, :2]).max() > 0.8 * first_limit
    assert np.abs(kernel[:, 2:]).max() <= second_limit
    np.testing.assert_allclose(kernel[:, 2:].std(), second_limit / math.sqrt(3), rtol=0.05)


CHAIN_OUTPUTS = [Output(OutputType.DISCRETE, 3), Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
                 Output(OutputType.DISCRETE, 2), Output(OutputType.DISCRETE, 4)]


def _numpy_chain(x, kernel, bias, chains):
    """Independent oracle of chained heads: head by head, each given the earlier heads' values."""
    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    logits = x @ kernel + bias
    starts = np.cumsum([0] + [o.dim for o in CHAIN_OUTPUTS])
    values, outputs = [], []
    for i, output in enumerate(CHAIN_OUTPUTS):
        block = logits[:, starts[i]:starts[i + 1]]
        if i:
            block = block + np.concatenate(values, axis=1) @ chains[i - 1]
        if output.is_discrete:
            outputs.append(softmax(block))
            values.append(np.eye(output.dim)[block.argmax(axis=1)])
        else:
            outputs.append(1 / (1 + np.exp(-block)))
            values.append(outputs[-1])
    return np.concatenate(outputs, axis=1)


def test_chained_heads_give_each_head_the_values_before_it():
    rng = np.random.default_rng(0)
    heads = OutputHeads(CHAIN_OUTPUTS, seed=0, chained=True)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    np.testing.assert_array_equal(heads(x).numpy(), OutputHeads(CHAIN_OUTPUTS, seed=0)(x).numpy())  # chains start at 0
    dims = [o.dim for o in CHAIN_OUTPUTS]
    chains = [rng.normal(0, 3, (sum(dims[:i]), dims[i])).astype(np.float32) for i in range(1, len(dims))]
    for i, chain in enumerate(chains, start=1):
        getattr(heads, f"chain_{i}").assign(chain)
    got = heads(x).numpy()
    np.testing.assert_allclose(got, _numpy_chain(x, heads.kernel.numpy(), heads.bias.numpy(), chains), atol=1e-5)
    unchained = OutputHeads(CHAIN_OUTPUTS, seed=0)(x).numpy()
    assert np.abs(got[:, :3] - unchained[:, :3]).max() < 1e-6  # the first head sees nothing before it
    assert np.abs(got[:, 3:] - unchained[:, 3:]).max() > 0.1
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(heads(x) * rng.normal(size=(64, sum(dims))))
    grads = tape.gradient(loss, [getattr(heads, f"chain_{i}") for i in range(1, 4)])
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
    with pytest.raises(ValueError, match="repeats"):
        OutputHeads(CHAIN_OUTPUTS, seed=0, repeats=2, chained=True)


def test_unchained_generator_has_no_chain_weights():
    counts = []
    for chained in (True, False):
        generator = make_generator(CONFIG.replace(chained_attributes=chained))
        forward(generator)
        counts.append(len([v for v in generator.variables if "chain_" in v.path]))
    assert counts == [len(ATTRIBUTES) - 1, 0]


def test_tf1_lstm_cell_matches_hand_computation():
    cell = TF1LSTMCell(2, seed=0)
    x = np.array([[0.5, -1.0, 2.0]], np.float32)
    h, c = np.array([[0.1, -0.2]], np.float32), np.array([[0.3, 0.4]], np.float32)
    new_h, (_, new_c) = cell(tf.constant(x), [tf.constant(h), tf.constant(c)])
    kernel = cell.kernel.numpy()
    z = np.concatenate([x, h], 1) @ kernel
    i, j, f, o = np.split(z, 4, axis=1)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    expected_c = c * sig(f + 1.0) + sig(i) * np.tanh(j)
    np.testing.assert_allclose(new_c.numpy(), expected_c, rtol=1e-5)
    np.testing.assert_allclose(new_h.numpy(), np.tanh(expected_c) * sig(o), rtol=1e-5)


def test_critics_score_each_example_independently():
    critic, aux = Critic(2, 16, seed=0), AttributeCritic(2, 16, seed=1)
    features = tf.random.stateless_normal([4, 5, 3], seed=[0, 1])
    attributes = tf.random.stateless_normal([4, 6], seed=[2, 3])
    scores = critic(features, attributes).numpy()
    assert scores.shape == (4, 1) and aux(attributes).shape == (4, 1)
    changed = tf.tensor_scatter_nd_update(features, [[3]], tf.ones([1, 5, 3]))
    after = critic(changed, attributes).numpy()
    np.testing.assert_array_equal(after[:3], scores[:3])
    assert after[3, 0] != scores[3, 0]


def _stop_everywhere(generator):
    """Make every record's flag say "stop" (the flag head's bias), after the networks are built."""
    heads = generator.feature_heads
    bias = heads.bias.numpy()
    width = bias.size // generator.sample_len
    for sub_step in range(generator.sample_len):  # per (sub-step, output) blocks; the flag is the last 2 columns
        bias[(sub_step + 1) * width - 2] = -50.0
        bias[(sub_step + 1) * width - 1] = 50.0
    heads.bias.assign(bias)


@pytest.mark.parametrize("minimum, expected", [(1, 1), (5, 5), (12, 12)])
def test_no_series_ends_before_the_length_floor(minimum, expected):
    generator = Generator(CONFIG.model, FEATURES, ATTRIBUTES, ADDI, max_length=12, sample_len=3,
                          lengths=LengthRule(minimum=minimum))
    forward(generator)
    _stop_everywhere(generator)
    noise = forward(generator, batch=8)[0]
    # Training sees the flags as the original does: every series ends at its first stop, step 1.
    np.testing.assert_array_equal(generator(noise, training=True)["lengths"].numpy(), [1] * 8)
    for out in (generator(noise), generator.generate(noise)):
        # Generating, every step says stop: each series ends at the first step it may, step `minimum` (1-based).
        np.testing.assert_array_equal(out["lengths"].numpy(), [expected] * 8)
        features = out["features"].numpy()
        assert np.all(features[:, expected:, :-2] == 0) and np.all(features[:, :expected, 0] > 0)
        last_pass_end = math.ceil(expected / 3) * 3
        assert np.all(features[:, last_pass_end:, -2:] == 0)
        np.testing.assert_allclose(features[:, :last_pass_end, -2:].sum(-1), 1.0, rtol=1e-5)


def test_fixed_length_has_no_flag_channels_and_every_series_that_length():
    features = FEATURES[:-1]  # no generation flag
    generator = Generator(CONFIG.model, features, ATTRIBUTES, ADDI, max_length=12, sample_len=3,
                          lengths=LengthRule(fixed=7, minimum=7))
    noise, out = forward(generator, batch=10)
    generated = generator.generate(noise)
    full = generator.generate(noise, early_exit=False)
    for result in (out, generated):
        assert result["features"].shape == (10, 12, 5)
        np.testing.assert_array_equal(result["lengths"].numpy(), [7] * 10)
        np.testing.assert_array_equal(result["gen_flags"].numpy(), np.repeat([[1] * 7 + [0] * 5], 10, axis=0))
        values = result["features"].numpy()
        assert np.all(values[:, 7:] == 0) and np.all(values[:, :7, 0] > 0)
    np.testing.assert_array_equal(generated["features"].numpy(), full["features"].numpy())
    np.testing.assert_allclose(generated["features"].numpy(), out["features"].numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="generation-flag"):
        Generator(CONFIG.model, FEATURES, ATTRIBUTES, ADDI, max_length=12, sample_len=3, lengths=LengthRule(fixed=7))
    with pytest.raises(ValueError, match="generation-flag"):
        Generator(CONFIG.model, features, ATTRIBUTES, ADDI, max_length=12, sample_len=3)


def test_length_rule_of_the_training_lengths():
    assert LengthRule.of(np.array([9, 9, 9])) == LengthRule(fixed=9, minimum=9)
    assert LengthRule.of(np.array([4, 9, 6])) == LengthRule(fixed=None, minimum=4)
    assert LengthRule.of(np.array([4, 9, 6]), floor=False) == LengthRule(fixed=None, minimum=1)


def test_every_network_rebuilds_from_its_config():
    """get_config/from_config of the generator, the critics and the layers: the same architecture and, from the
    same seeds, the same initial weights (the config is all a network is made of)."""
    from dg_tf.models import Kernels
    from dg_tf.models.layers import MLP
    from dg_tf.models.lstm import TF1LSTM

    generator = Generator(CONFIG.model, FEATURES, ATTRIBUTES, ADDI, max_length=12, sample_len=3,
                          lengths=LengthRule(minimum=4), kernels=Kernels(xla_helpers=False, batch_splits=2),
                          name="generator")
    rebuilt = Generator.from_config(generator.get_config())
    assert rebuilt.get_config() == generator.get_config()
    assert rebuilt.config == CONFIG.model and rebuilt.lengths == LengthRule(minimum=4) and rebuilt.kernels.batch_splits == 2
    noise = generator.sample_noise(tf.random.Generator.from_seed(0), 5)
    a, b = generator(noise), rebuilt(noise)
    np.testing.assert_array_equal(a["features"].numpy(), b["features"].numpy())
    for network in (Critic(2, 16, seed=0, name="c"), AttributeCritic(3, 8, seed=1)):
        copy = type(network).from_config(network.get_config())
        assert (copy.hidden_layers, copy.hidden_units, copy.seed, copy.name) == (
            network.hidden_layers, network.hidden_units, network.seed, network.name)
        x = tf.ones([2, 5])
        first, second = (n(tf.ones([2, 3, 1]), x) if isinstance(n, Critic) else n(x) for n in (network, copy))
        np.testing.assert_array_equal(first.numpy(), second.numpy())
    for layer in (OutputHeads(ATTRIBUTES, seed=2, repeats=2), MLP(2, 4, seed=3, batch_norm=(0.9, 1e-5)),
                  TF1LSTM(5, seed=4, fused=False, batch_splits=2)):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("settings", [{}, {"feature_lstm_layers": 2, "lstm_initial_state": "learned"},
                                      {"attribute_hidden_layers": 0, "critic_hidden_layers": 0}])
def test_weights_built_from_the_widths_are_those_a_forward_pass_builds(settings):
    """build_weights / build_for_width (what build_networks and load use, no forward pass) create the variables a
    first call would: the same paths, shapes and initial values, in the same order."""
    config = CONFIG.replace(num_packing=2, **settings)

    def networks():
        generator = Generator(config.model, FEATURES, ATTRIBUTES, ADDI, max_length=12, sample_len=3,
                              lengths=LengthRule(minimum=1), name="generator")
        return generator, Critic(config.critic_hidden_layers, 16, seed=5, name="critic")

    built, built_critic = networks()
    built.build_weights()
    attributes = 2 * (sum(o.dim for o in ATTRIBUTES) + sum(o.dim for o in ADDI))
    built_critic.build_for_width(2 * 12 * (sum(o.dim for o in FEATURES)) + attributes)
    called, called_critic = networks()
    fake = called(called.sample_noise(tf.random.Generator.from_seed(0), 2))
    called_critic(tf.reshape(fake["features"], [1, -1]), tf.reshape(fake["attributes"], [1, -1]))
    for mine, reference in ((built, called), (built_critic, called_critic)):
        # Keras numbers layer names globally (mlp, mlp_3, ...): compare the paths without those numbers
        assert [re.sub(r"_\d+(?=/|$)", "", v.path) for v in mine.weights] == [
            re.sub(r"_\d+(?=/|$)", "", v.path) for v in reference.weights]
        assert len(mine.weights) >= 2 and mine.weights[0].path.startswith(mine.name + "/")
        for a, b in zip(mine.weights, reference.weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
