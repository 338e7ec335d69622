"""The one choice of how the networks run (dg_tf.models.lstm.choose_kernels), and jit_compile="off" meaning no XLA."""

import os
import subprocess
import sys
import textwrap

import pytest

from dg_tf import DGConfig
from dg_tf.models import Kernels, choose_kernels

from conftest import REPO


@pytest.mark.parametrize("settings, expected", [
    # CPU, float32: the fused training LSTM, the inference LSTM in row groups, XLA only for the small helpers
    ({}, Kernels(xla=False, xla_helpers=True, fused_lstm=True, inference_lstm=True, batch_splits=2)),
    ({"jit_compile": "off"}, Kernels(xla=False, xla_helpers=False, fused_lstm=True, inference_lstm=True)),
    ({"jit_compile": "on"}, Kernels(xla=True, xla_helpers=True, fused_lstm=False, inference_lstm=False)),
    ({"precision": "mixed_bfloat16"}, Kernels(fused_lstm=False, inference_lstm=False)),  # BlockLSTM has no bf16
    ({"precision": "mixed_float16"}, Kernels(fused_lstm=True, inference_lstm=False)),
    ({"dp_noise_multiplier": 1.0}, Kernels()),
    ({"lstm_batch_splits": 1, "jit_compile": "off"}, Kernels(xla_helpers=False, batch_splits=1)),
])
def test_each_kernel_choice_on_a_cpu(settings, expected, monkeypatch):
    import dg_tf.models.lstm as lstm

    monkeypatch.setattr(lstm, "available_cores", lambda: 2)  # the 2-core machine the defaults were measured on
    assert choose_kernels(DGConfig(**settings), gpu=False) == expected


def test_training_splits_and_generation_groups_are_one_per_core_unless_told(monkeypatch):
    import dg_tf.models.lstm as lstm

    monkeypatch.setattr(lstm, "available_cores", lambda: 7)
    default = choose_kernels(DGConfig(), gpu=False)
    assert (default.batch_splits, default.row_groups) == (7, 7)
    told = choose_kernels(DGConfig(lstm_batch_splits=5, generate_row_groups=3), gpu=False)
    assert (told.batch_splits, told.row_groups) == (5, 3)


def test_a_gpu_compiles_whole_steps_unless_told_otherwise_or_private():
    assert choose_kernels(DGConfig(), gpu=True) == Kernels(xla=True, fused_lstm=False, inference_lstm=False)
    assert choose_kernels(DGConfig(jit_compile="off"), gpu=True).xla is False
    assert choose_kernels(DGConfig(dp_noise_multiplier=1.0), gpu=True).xla is False


def test_the_networks_run_the_chosen_kernels(tiny_config, toy_dataset):
    from dg_tf.encoding import Encoding
    from dg_tf.models.build import build_networks

    config = tiny_config.replace(jit_compile="off", lstm_batch_splits=3)
    generator, _, _ = build_networks(config, Encoding.for_dataset(toy_dataset, config))
    assert generator.kernels == choose_kernels(config)
    assert generator.lstm_0.fused and generator.lstm_0.batch_splits == 3


#: Trains and generates with the given jit_compile; TensorFlow logs its first XLA compilation.
XLA_PROBE = textwrap.dedent("""
    import sys
    sys.path.insert(0, "tests")
    from conftest import TINY, make_toy_dataset
    from dg_tf import DGConfig, DoppelGANger
    dataset = make_toy_dataset()
    config = DGConfig(**TINY).replace(epochs=1, jit_compile=sys.argv[1])
    DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset).generate(10, seed=0)
""")


@pytest.mark.parametrize("jit_compile, compiles", [("off", False), ("auto", True)])
def test_jit_compile_off_compiles_nothing_with_xla(jit_compile, compiles):
    """On a CPU "auto" XLA-compiles the small helpers (the control); "off" compiles nothing, in training or generation."""
    done = subprocess.run([sys.executable, "-c", XLA_PROBE, jit_compile], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0", "CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("Compiled cluster using XLA" in done.stderr) == compiles
