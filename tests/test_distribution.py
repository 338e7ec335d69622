"""Training under tf.distribute: mirrored over two logical CPU devices, multi-worker over two local
processes, one replica = one device; the strategy's checks.

Strategies need TensorFlow's devices configured before it starts, so the two-replica runs are
subprocesses. Adam's epsilon is set to 1 in the comparisons: with TF1's 1e-8, Adam's first
steps move every weight by about the learning rate whatever the size of its gradient, which
would amplify the rounding differences of summing over replicas into lr-sized ones.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dg_tf import ConfigError, DGConfig, DoppelGANger
from dg_tf.encoding import Encoding
from dg_tf.training import Trainer
from dg_tf.training.distribute import Replicas, distribution_strategy, is_chief

from conftest import REPO, TINY, make_toy_dataset

TESTS = Path(__file__).resolve().parent
SMOOTH_ADAM = dict(adam_epsilon=1.0, epochs=1)

#: Trains the toy model under each strategy given on the command line and saves every weight.
SCRIPT = textwrap.dedent("""
    import os
    import sys
    import numpy as np
    import tensorflow as tf
    devices = int(sys.argv[1])
    if devices > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
    sys.path.insert(0, {tests!r})
    from conftest import TINY, make_toy_dataset
    from dg_tf import DGConfig, DoppelGANger
    from dg_tf.training.distribute import distribution_strategy
    dataset = make_toy_dataset(n=48)
    arrays = {{}}
    for strategy in sys.argv[3:]:
        config = DGConfig(**TINY).replace(strategy=strategy, **{smooth!r})
        run_dir = os.environ.get("DG_TF_TEST_RUN_DIR")
        model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(
            dataset, run_dir=f"{{run_dir}}/{{strategy}}" if run_dir else None)
        for network in ("generator", "critic", "aux_critic"):
            for i, v in enumerate(getattr(model, network).variables):
                arrays[f"{{strategy}}/{{network}}/{{i}}"] = v.numpy()
        arrays[f"{{strategy}}/sample"] = model.generate(8, seed=3).features
        replicas = distribution_strategy(strategy)
        arrays[f"{{strategy}}/replicas"] = np.array(1 if replicas is None else replicas.num_replicas_in_sync)
    mirrored = distribution_strategy("mirrored") if "mirrored" in sys.argv[3:] else None
    if mirrored is not None:  # what each replica takes of a global batch
        from dg_tf.training.distribute import replica_slice
        shares = tf.function(lambda x: mirrored.run(lambda x: replica_slice(x, 0), (x,)))(tf.range(8))
        arrays["mirrored/shares"] = np.stack([t.numpy() for t in mirrored.experimental_local_results(shares)])
    np.savez(sys.argv[2], **arrays)
""").format(tests=str(TESTS), smooth=SMOOTH_ADAM)


def _run(tmp_path, devices, strategies, env=None, name="out"):
    out = tmp_path / f"{name}.npz"
    command = [sys.executable, "-c", SCRIPT, str(devices), str(out), *strategies]
    environment = {**os.environ, **(env or {})}
    return subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True), out


def _finish(process, out):
    log, _ = process.communicate(timeout=600)
    assert process.returncode == 0, log[-3000:]
    return dict(np.load(out))


def _assert_close(arrays, a, b, **tolerance):
    names = sorted(k[len(a) + 1:] for k in arrays
                   if k.startswith(a + "/") and k not in (f"{a}/replicas", f"{a}/shares"))
    assert len(names) > 20
    for name in names:
        np.testing.assert_allclose(arrays[f"{a}/{name}"], arrays[f"{b}/{name}"], err_msg=name, **tolerance)


def test_mirrored_on_two_cpu_devices_matches_one_device(tmp_path):
    arrays = _finish(*_run(tmp_path, 2, ["default", "mirrored"]))
    assert int(arrays["mirrored/replicas"]) == 2
    np.testing.assert_array_equal(arrays["mirrored/shares"], [[0, 1, 2, 3], [4, 5, 6, 7]])
    _assert_close(arrays, "mirrored", "default", rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_one_replica_is_the_one_device_run(tiny_config, toy_dataset):
    config = tiny_config.replace(**SMOOTH_ADAM)
    models = {}
    for strategy in ("default", "mirrored"):  # this process has one CPU device: one replica
        models[strategy] = DoppelGANger(config.replace(strategy=strategy), toy_dataset.feature_outputs,
                                        toy_dataset.attribute_outputs).fit(toy_dataset)
    assert distribution_strategy("mirrored").num_replicas_in_sync == 1
    for network in ("generator", "critic", "aux_critic"):
        pairs = zip(getattr(models["default"], network).variables, getattr(models["mirrored"], network).variables)
        for x, y in pairs:
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-5, atol=1e-7, err_msg=x.path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_multi_worker_on_two_local_processes(tmp_path):
    workers = [f"localhost:{_free_port()}" for _ in range(2)]
    run_dir = tmp_path / "run"  # one folder for both workers, as on a shared file system
    runs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {"TF_CONFIG": json.dumps(tf_config), "DG_TF_TEST_RUN_DIR": str(run_dir)}
        runs.append(_run(tmp_path, 1, ["multi-worker"], env, f"worker{index}"))
    results = [_finish(*run) for run in runs]
    reference = _finish(*_run(tmp_path, 1, ["default"], name="single"))
    assert int(results[0]["multi-worker/replicas"]) == 2
    for name, value in results[0].items():  # the workers hold the same model
        np.testing.assert_array_equal(value, results[1][name], err_msg=name)
    _assert_close({**results[0], **reference}, "multi-worker", "default", rtol=1e-4, atol=1e-6)
    # the chief (worker 0) wrote the run; it loads on one device and generates what the workers did
    written = run_dir / "multi-worker"
    assert sorted(p.name for p in written.iterdir()) == ["checkpoints", "config.json", "logs", "model.json", "weights"]
    assert json.loads((written / "config.json").read_text())["strategy"] == "multi-worker"
    loaded = DoppelGANger.load(written)
    assert loaded.config.strategy == "default"
    np.testing.assert_array_equal(loaded.generate(8, seed=3).features, results[0]["multi-worker/sample"])


#: One multi-worker task of the fast test: a small model, two steps, every weight saved.
WORKER = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from conftest import TINY, make_toy_dataset
    from dg_tf import DGConfig, DoppelGANger
    from dg_tf.training.distribute import distribution_strategy
    dataset = make_toy_dataset(n=32)
    config = DGConfig(**TINY).replace(strategy="multi-worker", **{fast!r})
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs).fit(dataset)
    arrays = {{f"{{net}}/{{i}}": v.numpy() for net in {networks!r}
              for i, v in enumerate(getattr(model, net).variables)}}
    arrays["replicas"] = np.array(distribution_strategy("multi-worker").num_replicas_in_sync)
    np.savez(sys.argv[1], **arrays)
""")
#: Fewer layers than TINY (a cheaper trace), epsilon 1, one epoch of two steps.
FAST = dict(SMOOTH_ADAM, attribute_hidden_layers=1, critic_hidden_layers=1, aux_critic_hidden_layers=1)
NETWORKS = ("generator", "critic", "aux_critic")


def test_multi_worker_two_local_processes_train_the_one_device_model(tmp_path):
    """Two MultiWorkerMirroredStrategy tasks (TF_CONFIG, localhost ports), each taking half of every
    batch: both end with bitwise the same weights, those of the one-device run up to float rounding
    (its steps, then the generator's weight average and standing statistics, as fit ends)."""
    workers = [f"localhost:{_free_port()}" for _ in range(2)]
    script = WORKER.format(tests=str(TESTS), fast=FAST, networks=NETWORKS)
    runs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        out = tmp_path / f"worker{index}.npz"
        process = subprocess.Popen([sys.executable, "-c", script, str(out)], cwd=REPO, text=True,
                                   env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        runs.append((process, out))
    results = [_finish(*run) for run in runs]  # before the reference: never more than two processes at work
    # the one-device reference: fit's model, networks and trainer, its two steps run eagerly (no trace)
    dataset = make_toy_dataset(n=32)
    config = DGConfig(**TINY).replace(**FAST)
    reference = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    encoding = Encoding.for_dataset(dataset, config)
    reference._build(encoding)
    trainer = Trainer(config, reference.generator, reference.critic, reference.aux_critic, *encoding.encode(dataset))
    assert trainer.steps_per_epoch == 2
    initial = {net: [v.numpy() for v in getattr(reference, net).variables] for net in NETWORKS}
    for _ in range(trainer.steps_per_epoch):
        trainer.step()
    trainer.step.finish()  # what train does after the last step: the weight average, then standing statistics

    assert int(results[0]["replicas"]) == int(results[1]["replicas"]) == 2
    names = sorted(k for k in results[0] if k != "replicas")
    assert len(names) > 20 and names == sorted(k for k in results[1] if k != "replicas")
    for name in names:  # the workers hold the same model
        np.testing.assert_array_equal(results[0][name], results[1][name], err_msg=name)
    moved = 0
    for net in NETWORKS:
        for i, v in enumerate(getattr(reference, net).variables):
            np.testing.assert_allclose(results[0][f"{net}/{i}"], v.numpy(), rtol=1e-4, atol=1e-6, err_msg=v.path)
            moved += not np.array_equal(v.numpy(), initial[net][i])
    assert moved > 20  # it trained


def test_batch_must_split_evenly_and_dp_runs_on_one_device(tiny_config, toy_dataset, monkeypatch):
    from dg_tf.encoding import Encoding
    from dg_tf.training import Trainer

    with pytest.raises(ConfigError, match="strategy='mirrored'"):
        DGConfig(dp_noise_multiplier=1.0, strategy="mirrored")

    class TwoReplicas:
        num_replicas_in_sync = 2

    config = tiny_config.replace(batch_size=15, strategy="mirrored")
    model = DoppelGANger(config, toy_dataset.feature_outputs, toy_dataset.attribute_outputs)
    model._build(Encoding.for_dataset(toy_dataset, config))
    monkeypatch.setattr(Replicas, "count", property(lambda self: TwoReplicas.num_replicas_in_sync))
    with pytest.raises(ConfigError, match="batch_size=15 must divide evenly across the 2 replicas"):
        Trainer(config, model.generator, model.critic, model.aux_critic, *Encoding.for_dataset(
            toy_dataset, config).encode(toy_dataset))


def test_chief_and_missing_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert is_chief()
    cluster = {"worker": ["a:1", "b:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    assert not is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert is_chief()
    monkeypatch.delenv("TF_CONFIG")
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        distribution_strategy.__wrapped__("multi-worker")
