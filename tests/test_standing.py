"""Standing BatchNorm statistics (dg_tf.training.standing): the mean batch statistics of training-mode passes."""

from __future__ import annotations

import numpy as np
import pytest

from dg_tf import DGConfig, DoppelGANger
from dg_tf.encoding import Encoding
from dg_tf.models.build import build_networks
from dg_tf.training.standing import set_standing_statistics

from conftest import TINY


@pytest.fixture
def generator(toy_dataset):
    config = DGConfig(**TINY)
    built, _, _ = build_networks(config, Encoding.for_dataset(toy_dataset, config))
    return built


def test_first_layer_statistics_match_an_independent_monte_carlo(generator):
    """The first BatchNorm sees relu(z W + b), z ~ N(0, I): its standing mean is E[relu], its variance the
    expected *batch* variance (B - 1) / B * Var (what a training batch of B rows normalises with)."""
    rows, passes = 4, 1000
    set_standing_statistics(generator, seed=3, batch_size=rows, passes=passes)
    dense = generator.attribute_mlp.dense_0
    kernel, bias = dense.kernel.numpy().astype(np.float64), dense.bias.numpy().astype(np.float64)
    z = np.random.default_rng(0).standard_normal((400_000, kernel.shape[0]))
    hidden = np.maximum(z @ kernel + bias, 0.0)
    samples = rows * passes
    layer = generator.attribute_mlp.batch_norms[0]
    mean, variance = layer.moving_mean.numpy(), layer.moving_variance.numpy()
    live = hidden.std(0) > 1e-3  # units that are not dead at initialisation
    assert live.sum() >= 4
    standard_error = hidden.std(0) / np.sqrt(samples)
    np.testing.assert_array_less(np.abs(mean - hidden.mean(0))[live], 5 * standard_error[live])
    expected = hidden.var(0) * (rows - 1) / rows
    # 25% below the population variance: the tolerance (12%) tells the two apart
    np.testing.assert_allclose(variance[live], expected[live], rtol=0.12)
    assert np.all(np.abs(variance[live] / hidden.var(0)[live] - 1) > 0.12)


def test_seeded_and_leaves_the_momentum(generator):
    layers = generator.batch_norms
    assert len(layers) == 2 * TINY.get("attribute_hidden_layers", 2)  # attribute and min/max MLPs
    momenta = [layer.momentum for layer in layers]
    values = []
    for seed in (5, 5, 6):
        set_standing_statistics(generator, seed=seed, batch_size=8, passes=3)
        values.append(np.concatenate([layer.moving_variance.numpy() for layer in layers]))
    np.testing.assert_array_equal(values[0], values[1])
    assert not np.allclose(values[0], values[2])
    assert [layer.momentum for layer in layers] == momenta


def test_fit_sets_them_only_when_asked(toy_dataset):
    """With ``standing_statistics`` the trained model holds the statistics of its final weights (setting
    them again changes nothing); without, the moving averages of training stay."""
    for standing in (True, False):
        config = DGConfig(**{**TINY, "epochs": 1, "standing_statistics": standing})
        model = DoppelGANger(config, toy_dataset.feature_outputs, toy_dataset.attribute_outputs).fit(toy_dataset)
        layers = model.generator.batch_norms
        trained = [layer.moving_mean.numpy() for layer in layers]
        set_standing_statistics(model.generator, seed=config.seed, batch_size=config.batch_size)
        again = [layer.moving_mean.numpy() for layer in layers]
        same = all(np.array_equal(a, b) for a, b in zip(trained, again))
        assert same == standing
