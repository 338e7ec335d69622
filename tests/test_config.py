"""DGConfig: paper defaults, validation and JSON round trip."""

import json

import pytest

from dg_tf import ConfigError, DGConfig
from dg_tf.config import auto_sample_len


def test_paper_defaults():
    c = DGConfig()
    assert (c.batch_size, c.generator_lr, c.adam_beta1, c.gradient_penalty_weight) == (100, 1e-3, 0.5, 10.0)
    assert (c.attribute_noise_dim, c.feature_noise_dim, c.attribute_hidden_units) == (5, 5, 100)
    assert (c.feature_lstm_layers, c.feature_lstm_units) == (1, 100)
    assert (c.critic_hidden_layers, c.critic_hidden_units) == (4, 200)
    assert (c.batch_norm_momentum, c.batch_norm_epsilon) == (0.9, 1e-5)
    assert c.use_aux_critic and c.self_norm and c.aux_critic_weight == 1.0


def test_json_round_trip(tmp_path):
    c = DGConfig(sample_len=4, lstm_initial_state="learned", self_norm=False, generator_lr=2e-4)
    assert DGConfig.from_json(c.to_json()) == c
    path = tmp_path / "c.json"
    path.write_text(c.to_json())
    assert DGConfig.from_file(path) == c


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"batch_size": 0}, "batch_size=0"),
        ({"batch_size": 1.5}, "batch_size=1.5"),
        ({"self_norm": 1}, "self_norm=1"),
        ({"lstm_initial_state": "ones"}, "lstm_initial_state='ones'"),
        ({"adam_beta1": 1.0}, "adam_beta1=1.0"),
        ({"sample_len": 0}, "sample_len=0"),
        ({"no_such_field": 3}, "no_such_field"),
    ],
)
def test_invalid_values_name_the_field(changes, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        DGConfig.from_dict(changes)


def test_bad_file_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"epochs": -1}))
    with pytest.raises(ConfigError, match="broken.json.*epochs=-1"):
        DGConfig.from_file(path)


@pytest.mark.parametrize("length, expected", [(56, 1), (550, 11), (500, 10), (1460, 20), (53, 1), (7, 1)])
def test_auto_sample_len_targets_50_passes(length, expected):
    assert auto_sample_len(length) == expected
    assert DGConfig().resolved_sample_len(length) == expected
    assert DGConfig(sample_len=2).resolved_sample_len(length) == 2
