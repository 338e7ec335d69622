"""DGConfig: paper defaults, validation and JSON round trip."""

import dataclasses
import json

import pytest

from dg_tf import ConfigError, DGConfig
from dg_tf.config import auto_sample_len


def test_paper_defaults():
    """The paper's (appendix B), but a feature noise of 20 per LSTM pass (README, "Design and defaults")."""
    c = DGConfig()
    assert (c.batch_size, c.generator_lr, c.adam_beta1, c.gradient_penalty_weight) == (100, 1e-3, 0.5, 10.0)
    assert (c.attribute_noise_dim, c.feature_noise_dim, c.attribute_hidden_units) == (5, 20, 100)
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


# ------------------------------------------------------------------ groups
def test_flat_and_grouped_construction_are_one_config():
    from dg_tf import ModelConfig, RuntimeConfig, TrainingConfig

    flat = DGConfig(sample_len=4, epochs=7, jit_compile="off")
    grouped = DGConfig(model=ModelConfig(sample_len=4), training=TrainingConfig(epochs=7),
                       runtime=RuntimeConfig(jit_compile="off"))
    assert flat == grouped and hash(flat) == hash(grouped)
    assert (flat.model.sample_len, flat.training.epochs, flat.runtime.jit_compile) == (4, 7, "off")
    assert (flat.sample_len, flat.epochs, flat.jit_compile) == (4, 7, "off")
    assert flat.replace(model=ModelConfig(seed=3)).model == ModelConfig(seed=3)
    assert DGConfig(model=ModelConfig(sample_len=4), sample_len=5).sample_len == 5  # flat fields win
    with pytest.raises(dataclasses.FrozenInstanceError):
        flat.epochs = 3


def test_every_field_is_in_exactly_one_group_and_config_json_is_flat():
    from dg_tf.config import GROUPS

    names = [f.name for group in GROUPS.values() for f in dataclasses.fields(group)]
    assert len(names) == len(set(names)) == len(DGConfig.field_names())
    assert sorted(json.loads(DGConfig().to_json())) == sorted(names)


def test_a_config_json_of_an_earlier_run_loads(tmp_path):
    """The flat file issue 15's runs wrote (every field at the top level, sorted), and one with groups."""
    old = {**{name: getattr(DGConfig(), name) for name in DGConfig.field_names()}, "epochs": 3, "sample_len": 8}
    (tmp_path / "config.json").write_text(json.dumps(old, sort_keys=True))
    assert DGConfig.from_file(tmp_path / "config.json") == DGConfig(epochs=3, sample_len=8)
    assert DGConfig.from_dict({"model": {"sample_len": 8}, "training": {"epochs": 3}}) == DGConfig(epochs=3, sample_len=8)
    with pytest.raises(ConfigError, match="model: unknown ModelConfig field.*epochs"):
        DGConfig.from_dict({"model": {"epochs": 3}})


def test_differential_privacy_rules_span_the_groups():
    with pytest.raises(ConfigError, match="precision='mixed_bfloat16' is not supported with dp_noise_multiplier"):
        DGConfig(dp_noise_multiplier=1.0, precision="mixed_bfloat16")
    with pytest.raises(ConfigError, match="input_pipeline='tf_data'"):
        DGConfig(input_pipeline="tf_data").replace(dp_noise_multiplier=1.0)


def test_resume_may_change_training_and_runtime_not_the_model(caplog):
    saved = DGConfig(epochs=2, feature_lstm_units=8)
    with caplog.at_level("INFO", logger="dg_tf.config"):
        resumed = saved.resumed_with({"epochs": 4, "critic_lr": 5e-4, "jit_compile": "off", "steps_per_execution": 1,
                                      "figure_every": 2})
    assert (resumed.epochs, resumed.critic_lr, resumed.jit_compile, resumed.figure_every) == (4, 5e-4, "off", 2)
    assert "resume: jit_compile changed from 'auto' to 'off'" in caplog.text
    for change in ({"feature_lstm_units": 9}, {"seed": 1}, {"precision": "mixed_bfloat16"}, {"self_norm": False},
                   {"dp_noise_multiplier": 1.0}):
        with pytest.raises(ConfigError, match=f"--resume cannot change {next(iter(change))} "):
            saved.resumed_with(change)
    private = DGConfig(dp_noise_multiplier=1.0)
    private.resumed_with({"epochs": 9, "dp_delta": 1e-6})  # the delta only reports
    for change in ({"batch_size": 50}, {"critic_rounds": 2}, {"dp_l2_clip": 2.0}):
        with pytest.raises(ConfigError, match="privacy accounting"):
            private.resumed_with(change)


def test_a_loaded_model_runs_on_one_device_with_runtime_overrides():
    saved = DGConfig(strategy="mirrored", generate_batch_size=64, epochs=5)
    assert saved.loaded_with() == saved.replace(strategy="default")
    assert saved.loaded_with({"generate_batch_size": 7}).generate_batch_size == 7
    assert saved.loaded_with({"strategy": "mirrored"}).strategy == "mirrored"
    from dg_tf import RuntimeConfig

    assert saved.loaded_with(RuntimeConfig(jit_compile="off")).runtime == RuntimeConfig(jit_compile="off")
    with pytest.raises(ConfigError, match="feature_lstm_units, seed: not a runtime setting"):
        saved.loaded_with({"seed": 1, "feature_lstm_units": 3})
