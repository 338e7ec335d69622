"""Tampered run folders: every kind of damage gets one clear error naming the file and field.

One trained tiny model is saved once; each case copies its folder, damages
one thing, and ``DoppelGANger.load`` must raise a :class:`DGError` that names
the damaged file and field. The undamaged copy must load and generate exactly
what the original generates (the round trip the damage breaks).
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from conftest import TINY, make_toy_dataset
from dg_tf import ConfigError, DataFormatError, DGConfig, DGError, DoppelGANger


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    dataset = make_toy_dataset()
    model = DoppelGANger(DGConfig(**{**TINY, "epochs": 1}), dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset)
    folder = tmp_path_factory.mktemp("saved") / "model"
    model.save(folder)
    return model, folder


def _edit_json(name, edit):
    def damage(folder):
        data = json.loads((folder / name).read_text())
        edit(data)
        (folder / name).write_text(json.dumps(data))
    return damage


def _write(name, content):
    def damage(folder):
        (folder / name).write_bytes(content)
    return damage


def _truncate(suffix):
    def damage(folder):
        (file,) = (folder / "weights").glob("weights." + suffix)
        file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    return damage


def _fifo(folder):
    (file,) = (folder / "weights").glob("weights.data-*")
    file.unlink()
    os.mkfifo(file)


def _nan_weights(folder):
    model = DoppelGANger.load(folder)
    kernel = model.critic.trainable_variables[0]
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    model.save(folder)


#: damage -> (error class, file name it must name, field (DataFormatError.array) or None, message fragment)
DAMAGE = {
    "model.json not UTF-8": (_write("model.json", b"\xff\xfe{garbage"), DataFormatError, "model.json", "json",
                             "is not UTF-8 text"),
    "model.json not JSON": (_write("model.json", b'{"format": '), DataFormatError, "model.json", "json",
                            "is not valid JSON"),
    "model.json nested 100k deep": (_write("model.json", b"[" * 100_000), DataFormatError, "model.json", "json",
                                    "levels of JSON nesting is over the limit of 100"),
    "model.json of another program": (_write("model.json", b'{"format": "keras"}'), DataFormatError,
                                      "model.json", "format", "must be 'dg_tf-model-1'"),
    "missing key": (_edit_json("model.json", lambda d: d["encoding"].pop("max_length")), DataFormatError,
                    "model.json", "encoding.max_length", "missing"),
    "sample_len 0": (_edit_json("model.json", lambda d: d["encoding"].update(sample_len=0)), DataFormatError,
                     "model.json", "encoding.sample_len", "must be a positive int"),
    "sample_len not dividing": (_edit_json("model.json", lambda d: d["encoding"].update(sample_len=3)),
                                DataFormatError, "model.json", "sample_len", "must divide max_length=8"),
    "min_length beyond max_length": (_edit_json("model.json", lambda d: d["encoding"].update(min_length=9)),
                                     DataFormatError, "model.json", "encoding.min_length", "exceeds max_length=8"),
    "fixed_length a string": (_edit_json("model.json", lambda d: d["encoding"].update(fixed_length="8")),
                              DataFormatError, "model.json", "encoding.fixed_length", "got '8'"),
    "fixed_length set on a variable-length model": (
        _edit_json("model.json", lambda d: d["encoding"].update(fixed_length=8, min_length=8)),
        DataFormatError, "weights.index", "weights", "do not match the sizes"),
    "max_length a string": (_edit_json("model.json", lambda d: d["encoding"].update(max_length="8")),
                            DataFormatError, "model.json", "encoding.max_length", "got '8'"),
    "output spec garbage": (_edit_json("model.json", lambda d: d["encoding"]["feature_outputs"].__setitem__(1, 7)),
                            DataFormatError, "model.json", "encoding.feature_outputs", "not an output spec"),
    "output dim over the limit": (
        _edit_json("model.json", lambda d: d["encoding"]["feature_outputs"][2].update(dim=10**9)),
        DataFormatError, "model.json", "encoding.feature_outputs", "columns of one output spec is over the limit"),
    "edited max_length": (_edit_json("model.json", lambda d: d["encoding"].update(max_length=16)),
                          DataFormatError, "weights.index", "weights", "do not match the sizes"),
    "edited output dim": (_edit_json("model.json", lambda d: d["encoding"]["feature_outputs"][2].update(dim=3)),
                          DataFormatError, "weights.index", "weights", "do not match the sizes"),
    "max_length beyond memory": (_edit_json("model.json", lambda d: d["encoding"].update(max_length=2**30)),
                                 ConfigError, "model.json", None, "would need about"),
    "edited config size": (_edit_json("config.json", lambda d: d.update(feature_lstm_units=9)), DataFormatError,
                           "weights.index", "weights", "do not match the sizes"),
    "config key missing": (_edit_json("config.json", lambda d: d.pop("critic_hidden_units")), DataFormatError,
                           "weights.index", "weights", "do not match the sizes"),
    "config.json not UTF-8": (_write("config.json", b'{"epochs": "\xff"}'), ConfigError, "config.json", None,
                              "is not UTF-8 text"),
    "config.json bad value": (_edit_json("config.json", lambda d: d.update(batch_size=10**12)), ConfigError,
                              "config.json", None, "batch_size=1000000000000 must be below 2\\*\\*31"),
    "config.json NaN": (_write("config.json", b'{"generator_lr": NaN}'), ConfigError, "config.json", None,
                        "NaN is not a JSON number"),
    "truncated weights data": (_truncate("data-*"), DataFormatError, "weights.index", "weights",
                               "cannot be read or do not match"),
    "truncated weights index": (_truncate("index"), DataFormatError, "weights.index", "weights",
                                "cannot be read or do not match"),
    "weights data a FIFO": (_fifo, DataFormatError, "weights.data-00000-of-00001", "file",
                            r"is a FIFO \(named pipe\)"),
    "NaN weights": (_nan_weights, DataFormatError, "weights.index", "weights", "critic/.* holds NaN or Inf"),
    "model.json missing": (lambda folder: (folder / "model.json").unlink(), DGError, "model", None,
                           "missing model.json"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_tampered_run_folder_gets_one_clear_error(saved, tmp_path, damage):
    _, original = saved
    mutate, error, file, field, message = DAMAGE[damage]
    folder = tmp_path / "model"
    shutil.copytree(original, folder)
    mutate(folder)
    with pytest.raises(error, match=message) as info:
        DoppelGANger.load(folder)
    text = str(info.value)
    assert "\n" not in text and len(text) < 600, text
    assert file in text, text
    if field is not None:
        assert isinstance(info.value, DataFormatError) and info.value.array == field
        assert info.value.file.endswith(file)


def test_undamaged_copy_round_trips(saved, tmp_path):
    model, original = saved
    folder = tmp_path / "model"
    shutil.copytree(original, folder)
    loaded = DoppelGANger.load(folder)
    assert loaded.config == model.config.replace(strategy="default") and loaded.encoding == model.encoding
    a, b = model.generate(30, seed=4), loaded.generate(30, seed=4)
    for name in ("features", "attributes", "gen_flags"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_a_model_fit_on_a_table_gives_the_table_back_after_save_and_load(tmp_path):
    """Python API alone: from_dataframe -> fit(table_schema=...) -> save -> load -> to_dataframe."""
    from dg_tf import from_dataframe, to_dataframe
    from test_table_cli import _hand_made_table

    frame = _hand_made_table()
    data, schema = from_dataframe(frame, id_column="host", time_column="day", attribute_columns=["site", "wired"],
                                  feature_columns=["requests", "latency_ms"], sample_len="auto")
    assert schema.sample_len == 1 and data.max_length == 11  # about 50 passes: S = round(11 / 50) -> 1
    config = DGConfig(**{**TINY, "sample_len": schema.sample_len, "epochs": 1})
    model = DoppelGANger(config, data.feature_outputs, data.attribute_outputs).fit(data, table_schema=schema)
    model.save(tmp_path / "model")
    assert (tmp_path / "model" / "table_schema.json").is_file()
    loaded = DoppelGANger.load(tmp_path / "model")
    assert loaded.table_schema == schema
    table = to_dataframe(loaded.generate(6, seed=1), loaded.table_schema)
    assert list(table.columns) == list(frame.columns)
    assert table["site"].isin(["paris", "lyon", "nice"]).all() and table["requests"].dtype == frame["requests"].dtype
    loaded.table_schema = None
    loaded.save(tmp_path / "model")  # a model without a table leaves no schema behind (it would be a false claim)
    assert not (tmp_path / "model" / "table_schema.json").exists()


def test_load_takes_runtime_settings_not_model_ones(saved):
    _, folder = saved
    loaded = DoppelGANger.load(folder, runtime={"generate_batch_size": 7, "jit_compile": "off"})
    assert (loaded.config.generate_batch_size, loaded.config.jit_compile) == (7, "off")
    assert not loaded.generator.kernels.xla_helpers  # the kernels follow the runtime given
    with pytest.raises(ConfigError, match="feature_lstm_units: not a runtime setting"):
        DoppelGANger.load(folder, runtime={"feature_lstm_units": 9})


def test_resuming_with_other_model_settings_is_refused_before_anything_is_written(tmp_path):
    dataset = make_toy_dataset()
    config = DGConfig(**{**TINY, "epochs": 1})
    DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset, run_dir=tmp_path / "run")
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    changed = DoppelGANger(config.replace(epochs=2, seed=8), dataset.feature_outputs, dataset.attribute_outputs)
    with pytest.raises(ConfigError, match=r"--resume cannot change seed \(7 -> 8\)"):
        changed.fit(dataset, run_dir=tmp_path / "run", resume=True)
    assert {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()} == before


def test_a_folder_saved_before_chained_attributes_existed_loads_unchained(tmp_path):
    dataset = make_toy_dataset()
    assert len(dataset.attribute_outputs) >= 2  # so that chaining would add weights
    model = DoppelGANger(DGConfig(**{**TINY, "epochs": 1, "chained_attributes": False}),
                         dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)
    model.save(tmp_path / "model")
    _edit_json("config.json", lambda data: data.pop("chained_attributes"))(tmp_path / "model")
    loaded = DoppelGANger.load(tmp_path / "model")
    assert loaded.config.chained_attributes is False
    a, b = model.generate(30, seed=4), loaded.generate(30, seed=4)
    for name in ("features", "attributes", "gen_flags"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert DGConfig.from_dict({}).chained_attributes is True  # a new config chains


def test_a_folder_saved_before_the_critics_saw_one_hot_labels_loads_with_their_original_inputs(tmp_path):
    views = ("aux_critic_straight_through", "aux_critic_probabilities_and_one_hot", "critic_probabilities_and_one_hot")
    dataset = make_toy_dataset()
    model = DoppelGANger(DGConfig(**{**TINY, "epochs": 1, **dict.fromkeys(views, False)}),
                         dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)
    model.save(tmp_path / "model")
    _edit_json("config.json", lambda data: [data.pop(field) for field in views])(tmp_path / "model")
    loaded = DoppelGANger.load(tmp_path / "model")  # the critics' weights restore at their original widths
    assert [getattr(loaded.config, field) for field in views] == [False, False, False]
    for auxiliary in (False, True):
        np.testing.assert_array_equal(loaded.critic_scores(dataset, auxiliary=auxiliary),
                                      model.critic_scores(dataset, auxiliary=auxiliary))
