"""Keras callbacks around training: a user's own callbacks, the History, stop_training, TensorBoard's hparams."""

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from dg_tf import DoppelGANger


class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("begin", self.params["epochs"], self.params["steps"], self.params["initial_epoch"]))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch", batch, np.isfinite(logs["loss/g"])))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch", epoch, logs["loss/d"], self.model.generator is not None))

    def on_train_end(self, logs=None):
        self.events.append(("end",))


def test_user_callbacks_see_the_model_and_fit_keeps_a_history(tiny_config, toy_dataset):
    recorder = _Recorder()
    model = DoppelGANger(tiny_config.replace(epochs=3, steps_per_execution=2), toy_dataset.feature_outputs,
                         toy_dataset.attribute_outputs)
    assert model.fit(toy_dataset, callbacks=[recorder, keras.callbacks.TerminateOnNaN()]) is model
    history = model.history.history
    assert model.history.epoch == [0, 1, 2]
    assert {"loss/d", "loss/d/gp", "loss/attr_d", "loss/g", "time/epoch_seconds"} <= history.keys()
    assert all(len(values) == 3 and np.isfinite(values).all() for values in history.values())
    assert recorder.events[0] == ("begin", 3, 3, 0)  # 48 series / batch 16: 3 steps, chunks of 2 + 1
    epochs = [e for e in recorder.events if e[0] == "epoch"]
    assert [e[1] for e in epochs] == [0, 1, 2] and [e[2] for e in epochs] == history["loss/d"] and epochs[0][3]
    assert [e[1:] for e in recorder.events if e[0] == "batch"] == [(1, True), (2, True)] * 3
    assert recorder.events[-1] == ("end",)


def test_a_callback_stops_training_like_keras_early_stopping(tmp_path, tiny_config, toy_dataset):
    stop = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(stop.model, "stop_training", True))
    model = DoppelGANger(tiny_config.replace(epochs=5, checkpoint_every=1), toy_dataset.feature_outputs,
                         toy_dataset.attribute_outputs)
    model.fit(toy_dataset, run_dir=tmp_path / "run", callbacks=[stop])
    assert model.history.epoch == [0]
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("*.index")) == ["ckpt-1.index"]


def test_tensorboard_gets_the_run_hparams(tmp_path, tiny_config, toy_dataset):
    from tensorboard.plugins.hparams import plugin_data_pb2

    DoppelGANger(tiny_config.replace(epochs=1), toy_dataset.feature_outputs, toy_dataset.attribute_outputs).fit(
        toy_dataset, run_dir=tmp_path / "run")
    hparams = {}
    for event_file in (tmp_path / "run" / "logs").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                if value.tag == "_hparams_/session_start_info":
                    data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
                    hparams = {k: v for k, v in data.session_start_info.hparams.items()}
    assert hparams["batch_size"].number_value == 16 and hparams["jit_compile"].string_value == "auto"
    assert hparams["dp_noise_multiplier"].string_value == "None" and hparams["use_aux_critic"].bool_value


def test_keras_csv_logger_and_early_stopping_work_as_in_keras(tmp_path, tiny_config, toy_dataset):
    log = tmp_path / "losses.csv"
    # min_delta larger than any loss change: epoch 1 is no improvement on epoch 0, so patience 0 stops there
    stop = keras.callbacks.EarlyStopping(monitor="loss/d", mode="min", min_delta=1e9, patience=0)
    model = DoppelGANger(tiny_config.replace(epochs=6), toy_dataset.feature_outputs, toy_dataset.attribute_outputs)
    model.fit(toy_dataset, callbacks=[keras.callbacks.CSVLogger(str(log)), stop])
    assert model.history.epoch == [0, 1] and stop.stopped_epoch == 1
    rows = pd.read_csv(log)
    assert list(rows["epoch"]) == [0, 1]
    np.testing.assert_allclose(rows["loss/g"], model.history.history["loss/g"], rtol=1e-6)
