"""Standing BatchNorm statistics for the trained generator (``TrainingConfig.standing_statistics``).

In training, each BatchNorm of the attribute and min/max MLPs normalises with
the statistics of its own batch; generation uses the moving averages instead,
which with momentum 0.9 mostly weigh the last ten or so batches, drawn while
the weights were still changing. :func:`set_standing_statistics` replaces
them, once training is over, with the *standing statistics* of BigGAN (Brock
et al., ICLR 2019, appendix C.1): the mean over many training-mode forward
passes, at the final weights, of each layer's batch mean and batch variance.
Generation then sees the average of what the critics saw in training.

It draws only generator noise (no data, so a DP model's guarantee is
unchanged) from its own seeded stream, so it is deterministic and a resumed
run ends with the same statistics as an uninterrupted one.
"""

from __future__ import annotations

import logging

import tensorflow as tf

from dg_tf.models.generator import Generator
from dg_tf.seeding import derive_seed
from dg_tf.training.distribute import Replicas

__all__ = ["STANDING_PASSES", "set_standing_statistics"]

logger = logging.getLogger(__name__)

#: Training-mode forward passes (of ``batch_size`` rows each) averaged into the standing statistics.
STANDING_PASSES = 100


def set_standing_statistics(generator: Generator, *, seed: int, batch_size: int, strategy: str = "default",
                            passes: int = STANDING_PASSES, attributes_only: bool = False) -> None:
    """Set the generator's BatchNorm moving statistics to their standing values.

    Each of ``passes`` passes draws fresh noise for ``batch_size`` rows and runs
    the attribute and min/max MLPs in training mode (the min/max MLP on that
    pass's own generated attributes, as in training); each layer's moving mean
    and variance become the mean of its ``passes`` batch means and batch
    variances. Does nothing for a generator without BatchNorm.

    Args:
        generator: the trained generator.
        seed: seeds the noise (the model's seed; the stream is derived from it).
        batch_size: rows per pass: the training batch, so each pass's
            statistics are those a training step normalised with.
        strategy: ``RuntimeConfig.strategy``; the passes run on its replicas
            (synchronised BatchNorm: the global batch's statistics).
        passes: how many passes are averaged.
        attributes_only: set the attribute MLP's statistics only and keep the
            min/max MLP's (after attribute retraining, which must leave the
            series generated for given attributes unchanged).
    """
    layers = generator.attribute_mlp.batch_norms if attributes_only else generator.batch_norms
    if not layers:
        return
    replicas = Replicas(strategy)
    rng = tf.random.Generator.from_seed(derive_seed(seed, "standing_statistics"))
    momenta = [layer.momentum for layer in layers]

    @tf.function(autograph=False)
    def batch_statistics():
        """Each layer's (mean, variance) of one training-mode pass: with momentum 0 the update sets them."""
        noise = generator.sample_noise(rng, batch_size)

        def on_replica(noise):
            if attributes_only:  # the min/max MLP's statistics are not moved
                generator.attribute_mlp(noise["attribute"], training=True)
            else:
                generator.update_batch_norm_statistics(noise)
            return {f"{i}/{kind}": tf.identity(getattr(layer, f"moving_{kind}"))
                    for i, layer in enumerate(layers) for kind in ("mean", "variance")}

        return replicas.run(on_replica, (noise,), (Generator.NOISE_BATCH_AXES,))

    try:
        for layer in layers:
            layer.momentum = 0.0  # read when the pass is traced: each pass sets the moving statistics to its own
        totals: dict[str, tf.Tensor] = {}
        for _ in range(passes):
            for name, value in batch_statistics().items():
                totals[name] = totals[name] + value if name in totals else value
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    for i, layer in enumerate(layers):
        for kind in ("mean", "variance"):
            getattr(layer, f"moving_{kind}").assign(totals[f"{i}/{kind}"] / passes)
    logger.info("BatchNorm standing statistics set from %d passes of %d rows", passes, batch_size)
