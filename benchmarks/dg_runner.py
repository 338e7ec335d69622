"""One timed dg_tf run: ``python -m benchmarks.dg_runner JOB.json RESULT.json``.

Runs in dg_tf's environment, in its own process (the driver starts it), through
the public API only: ``DoppelGANger(DGConfig(...), ...).fit(dataset)`` then
``generate``, in its natural mode (a group of rows stops once all its series
have ended) and with full rollouts (``generate_early_exit=False``, what the
peer always does). It also times a dense float32 matmul under the same thread
settings, the machine's peak for the model-FLOP/s fraction, and saves the
model for the cold-start measurements. See :mod:`benchmarks.common` for the
protocol and the timing rules.

``python -m benchmarks.dg_runner --cold-start MODEL_DIR N THREADS LAUNCHED``
is the Python API's cold start, in a fresh process: import TensorFlow, import
dg_tf, load the model, generate N series; it prints the time of each stage as
JSON, in seconds since ``LAUNCHED`` (the driver's ``time.time()`` just before
it started the process).
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.common import (Architecture, Job, StepClock, generation_figures, peak_rss_mib, read_case, rss_mib,
                               run_measurements, write_json)


def matmul_flops(tf, size: int, threads: int, repeats: int = 5) -> float:
    """Best FLOP/s of ``threads`` concurrent ``size x size`` float32 ``tf.matmul`` (after one warm-up).

    Independent matmuls in one ``tf.function``, so that every core works
    whatever the thread settings (one thread per op and ``threads`` ops at a
    time, or every op across every thread).
    """
    pairs = [(tf.random.stateless_normal([size, size], seed=[1, i]), tf.random.stateless_normal([size, size], seed=[2, i]))
             for i in range(threads)]
    products = tf.function(lambda: tf.add_n([tf.reduce_sum(tf.matmul(a, b)) for a, b in pairs]))
    float(products())
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        float(products())
        best = min(best, time.perf_counter() - began)
    return threads * 2.0 * size**3 / best


def arch_config(arch: Architecture, **fields):
    """A ``DGConfig`` with ``arch``'s network sizes (same for the critic and the auxiliary critic), no
    training figures, and ``fields``."""
    from dg_tf import DGConfig

    return DGConfig(
        attribute_noise_dim=arch.attribute_noise_dim,
        addi_attribute_noise_dim=arch.attribute_noise_dim,
        feature_noise_dim=arch.feature_noise_dim,
        attribute_hidden_layers=arch.attribute_layers,
        attribute_hidden_units=arch.attribute_units,
        feature_lstm_layers=arch.lstm_layers,
        feature_lstm_units=arch.lstm_units,
        critic_hidden_layers=arch.critic_layers,
        critic_hidden_units=arch.critic_units,
        aux_critic_hidden_layers=arch.critic_layers,
        aux_critic_hidden_units=arch.critic_units,
        figure_every=0,
        **fields,
    )


def case_dataset(case_file: str):
    """The ``dg_tf.Dataset`` of a file written by :func:`benchmarks.common.write_case`."""
    from dg_tf import Dataset, Output

    case = read_case(case_file)
    return Dataset(
        case["features"], case["attributes"], case["gen_flags"],
        [Output.from_dict(o) for o in case["feature_outputs"]],
        [Output.from_dict(o) for o in case["attribute_outputs"]],
    )


def run(job: Job) -> dict:
    """Train and generate as ``job`` says; returns the measurements."""
    import keras
    import tensorflow as tf

    from dg_tf import DoppelGANger
    from dg_tf.runtime import configure_cpu_threads

    configure_cpu_threads(job.threads)  # as dg_tf's command line tools do

    dataset = case_dataset(job.case_file)
    baseline = rss_mib()  # framework loaded, data read, no model yet
    peak_flops = matmul_flops(tf, job.matmul_size, job.threads)
    config = arch_config(job.arch, sample_len=job.sample_len, batch_size=job.batch_size, epochs=job.epochs,
                         generate_batch_size=job.gen_batch, seed=job.seed)
    clock = StepClock()

    class Clocked(keras.callbacks.Callback):
        """A tick per training step (the steps of a compiled chunk are reported together when it ends);
        stops training at the first epoch end with a long enough timed window."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.steps = epoch, 0

        def on_train_batch_end(self, batch, logs=None):
            for _ in range(batch + 1 - self.steps):
                clock.tick(self.epoch)
            self.steps = batch + 1

        def on_epoch_end(self, epoch, logs=None):
            if clock.window_reached(job.min_train_steps, job.min_window_s):
                self.model.stop_training = True

    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset, callbacks=[Clocked()])  # no run_dir: no checkpoints or logs, like the peer
    training = clock.figures(job.batch_size)
    train_peak = peak_rss_mib()
    if job.model_dir is not None:
        model.save(job.model_dir)

    def generate() -> float:
        """One timed call; the mean generated length (steps)."""
        out = model.generate(job.gen_n, seed=job.seed + 2)
        assert out.num_samples == job.gen_n
        return float(out.lengths.mean())

    generation = {}
    for prefix, early_exit in (("generate_", True), ("generate_full_", False)):
        model.config = model.config.replace(generate_early_exit=early_exit)
        model.generate(job.gen_n, seed=job.seed + 1)  # warm-up: traces every sampling function the timed call runs
        generation.update(generation_figures(generate, job.gen_n, job.min_window_s, job.gen_calls, prefix))
    return {
        **run_measurements("dg_tf", training, generation, baseline, train_peak),
        "matmul_flops_per_s": peak_flops,
        "versions": {"tensorflow": tf.__version__},
    }


def cold_start(model_dir: str, n: int, threads: int, launched: float) -> dict[str, float]:
    """The Python API from a fresh process to its first output: import, load, generate ``n`` series.

    Returns:
        Seconds since ``launched`` (``time.time()``) at the end of each stage:
        ``started`` (this function entered), ``import_tensorflow``,
        ``import_dg_tf``, ``load`` and ``first_generate``.
    """
    stamps = {"started": time.time() - launched}
    import tensorflow  # noqa: F401  (timed: TensorFlow's own import)

    stamps["import_tensorflow"] = time.time() - launched
    from dg_tf import DoppelGANger
    from dg_tf.runtime import configure_cpu_threads

    configure_cpu_threads(threads)
    stamps["import_dg_tf"] = time.time() - launched
    model = DoppelGANger.load(model_dir)
    stamps["load"] = time.time() - launched
    model.generate(n, seed=1)
    stamps["first_generate"] = time.time() - launched
    return stamps


def main(argv: list[str]) -> None:
    if len(argv) == 5 and argv[0] == "--cold-start":
        print(json.dumps(cold_start(argv[1], int(argv[2]), int(argv[3]), float(argv[4]))))
        return
    if len(argv) != 2:
        raise SystemExit("usage: python -m benchmarks.dg_runner JOB.json RESULT.json\n"
                         "       python -m benchmarks.dg_runner --cold-start MODEL_DIR N THREADS LAUNCHED")
    write_json(argv[1], run(Job.from_file(argv[0])))


if __name__ == "__main__":
    main(sys.argv[1:])
