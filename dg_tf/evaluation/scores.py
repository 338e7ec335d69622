"""TimeGAN's discriminative and predictive scores (Yoon, Jarrett & van der Schaar,
"Time-series Generative Adversarial Networks", NeurIPS 2019, §5.2 and the
reference code's ``metrics/discriminative_metrics.py`` and
``metrics/predictive_metrics.py``).

DoppelGANger's paper (IMC 2020) predates their common use; they are provided
so that dg_tf results compare with today's time-series GAN literature, next to
the paper's own fidelity (§5.1) and utility (§5.2, :mod:`dg_tf.evaluation.utility`)
metrics.

* **Discriminative score**: a post-hoc 1-layer GRU classifier is trained to
  tell real from synthetic series on 80 % of each and tested on the other
  20 %; the score is ``|test accuracy - 0.5|`` (0 is best: indistinguishable).
* **Predictive score** ("train on synthetic, test on real"): a 1-layer GRU is
  trained on the synthetic series to predict the next step and scored by its
  mean absolute error on the real series (lower is better).

Shared protocol, as in TimeGAN:

* both sets are min-max scaled per feature with the *real* data's range (TimeGAN
  scales to [0, 1] before training and evaluates the renormalised generated
  data in that scale), so scores do not depend on the data's units;
  ``normalize=False`` skips this;
* GRUs with tanh activation and Adam (learning rate 1e-3 by default, TF1's
  default); padded steps are masked (TimeGAN's ``sequence_length``), so
  variable-length series are handled exactly.

Deliberate differences from the TimeGAN code:

* the training budget is TimeGAN's by default (2000 Adam updates for the
  discriminator, 5000 for the predictor) so scores compare with published
  ones; on a 2-core CPU this takes about 20 s and 50 s for FCC MBA-sized data
  (600 series of 56 steps) and grows linearly with L. Pass a smaller
  ``iterations`` for quick checks (the tests use a few hundred). Mini-batches
  are drawn without replacement from seeded permutations, where TimeGAN draws
  each batch independently; the discriminator's batch of 256 is drawn from the
  mixed training set (TimeGAN: exactly 128 real and 128 synthetic);
* the hidden size defaults to TimeGAN's ``K // 2`` but never below 1 (TimeGAN
  builds a 0-unit GRU for univariate data);
* the discriminator's 80/20 split is one stratified split of the union
  (TimeGAN splits each set 80/20 separately: the same proportions); when the
  two sets differ in size, the larger is first subsampled to the size of the
  smaller, so 0.5 stays chance accuracy;
* for univariate data (K = 1), TimeGAN's predictive task (predict the last
  feature from the others) does not exist; ``target="next_step"`` predicts the
  whole next record ``x[t+1]`` from ``x[:t+1]`` instead (autoregressive), and
  is the default when K = 1;
* no global random state (``keras.utils.set_random_seed`` is never called):
  the layer initializers, the split and the batch order are seeded
  from ``seed``, so two calls with the same arguments give the same score.
"""

from __future__ import annotations

import logging
from typing import Literal

import keras
import numpy as np
from keras import ops
from sklearn.model_selection import train_test_split

from dg_tf.seeding import derive_seed
from dg_tf.transforms import flags_from_lengths

__all__ = [
    "DISCRIMINATOR_ITERATIONS",
    "PREDICTOR_ITERATIONS",
    "DISCRIMINATOR_BATCH_SIZE",
    "PREDICTOR_BATCH_SIZE",
    "LEARNING_RATE",
    "TEST_FRACTION",
    "discriminative_score",
    "predictive_score",
]

logger = logging.getLogger(__name__)

#: Adam updates of the discriminator and of the predictor (TimeGAN's).
DISCRIMINATOR_ITERATIONS = 2000
PREDICTOR_ITERATIONS = 5000
#: Mini-batch size of the predictor (TimeGAN's) and of the discriminator
#: (TimeGAN's 128 real + 128 synthetic).
PREDICTOR_BATCH_SIZE = 128
DISCRIMINATOR_BATCH_SIZE = 256
#: Adam learning rate (TimeGAN used TF1's default).
LEARNING_RATE = 1e-3
#: Fraction of real and synthetic series the discriminator is tested on (TimeGAN's).
TEST_FRACTION = 0.2
#: Added to the real range when min-max scaling (TimeGAN's MinMaxScaler).
_SCALE_EPSILON = 1e-7

Target = Literal["last_feature", "next_step"]


class _SeriesGRU(keras.Model):
    """One GRU layer over masked series and a dense head (TimeGAN's discriminator / predictor).

    Inputs ``(x [B, L, D], lengths [B])``; steps at and after ``lengths`` are
    masked. Output ``[B, out_dim]`` from the last active state, or
    ``[B, L, out_dim]`` per step when ``per_step``.
    """

    def __init__(self, hidden_units: int, out_dim: int, per_step: bool, activation: str | None, seed: int):
        super().__init__(name="series_gru")
        self.gru = keras.layers.GRU(
            hidden_units,
            return_sequences=per_step,
            kernel_initializer=keras.initializers.GlorotUniform(seed=derive_seed(seed, "gru", "kernel")),
            recurrent_initializer=keras.initializers.Orthogonal(seed=derive_seed(seed, "gru", "recurrent")),
        )
        self.head = keras.layers.Dense(
            out_dim,
            activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=derive_seed(seed, "head")),
        )

    def call(self, inputs):
        x, lengths = inputs
        mask = ops.arange(ops.shape(x)[1])[None, :] < ops.cast(lengths, "int32")[:, None]
        return self.head(self.gru(x, mask=mask))


def _check_pair(
    real: np.ndarray,
    real_lengths: np.ndarray,
    synthetic: np.ndarray,
    synthetic_lengths: np.ndarray,
    min_length: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated float32 / int copies; raise ValueError on bad shapes or lengths."""
    checked = []
    for name, x, lengths in (("real", real, real_lengths), ("synthetic", synthetic, synthetic_lengths)):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 3 or x.shape[0] == 0:
            raise ValueError(f"{name} must have shape [N, L, K] with N > 0, got shape {x.shape}")
        lengths = np.asarray(lengths)
        if lengths.shape != (x.shape[0],):
            raise ValueError(
                f"{name}_lengths must have shape [N] = ({x.shape[0]},), got shape {lengths.shape}"
            )
        flags = flags_from_lengths(lengths, x.shape[1])  # checks integers in [0, L]
        if (short := np.flatnonzero(lengths < min_length)).size:
            i = int(short[0])
            raise ValueError(f"{name}_lengths[{i}]={lengths[i].item()} must be at least {min_length}")
        checked += [x * flags[:, :, None], lengths.astype(np.int64)]
    if checked[0].shape[1:] != checked[2].shape[1:]:
        raise ValueError(
            f"real and synthetic must share [L, K]: {checked[0].shape[1:]} != {checked[2].shape[1:]}"
        )
    return tuple(checked)


def _min_max_scale(
    real: np.ndarray, real_lengths: np.ndarray, synthetic: np.ndarray, synthetic_lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Scale both sets per feature by the real active steps' range (TimeGAN's MinMaxScaler).

    Padding stays 0.
    """
    active = flags_from_lengths(real_lengths, real.shape[1]).astype(bool)
    low = real[active].min(axis=0)
    scale = real[active].max(axis=0) - low + _SCALE_EPSILON
    scaled = []
    for x, lengths in ((real, real_lengths), (synthetic, synthetic_lengths)):
        flags = flags_from_lengths(lengths, x.shape[1])[:, :, None]
        scaled.append(((x - low) / scale * flags).astype(np.float32))
    return scaled[0], scaled[1]


class _Batches(keras.utils.PyDataset):
    """``iterations`` full mini-batches drawn without replacement, reshuffled each pass (seeded)."""

    def __init__(self, arrays: tuple[np.ndarray, ...], iterations: int, batch_size: int, seed: int):
        super().__init__()
        self.arrays = arrays
        n = len(arrays[0])
        self.batch_size = min(batch_size, n)
        rng = np.random.default_rng(seed)
        passes = -(-iterations * self.batch_size // n)
        self.order = np.concatenate([rng.permutation(n) for _ in range(passes)])
        self.iterations = iterations

    def __len__(self) -> int:
        return self.iterations

    def __getitem__(self, index: int):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        inputs, lengths, targets, *weights = (a[rows] for a in self.arrays)
        return ((inputs, lengths), targets, *weights)


def _fit(
    model: keras.Model,
    arrays: tuple[np.ndarray, ...],
    iterations: int,
    batch_size: int,
    seed: int,
) -> None:
    """Train for ``iterations`` Adam updates on ``(inputs, lengths, targets[, sample_weight])``.

    Batches come from a seeded generator, never Keras' global shuffling.
    """
    batches = _Batches(arrays, iterations, batch_size, derive_seed(seed, "shuffle"))
    model.fit(batches, epochs=1, shuffle=False, verbose=0)  # fit would shuffle batches with `random`


def _check_training(hidden_units: int | None, iterations: int, batch_size: int, k: int) -> int:
    """The hidden size to use (TimeGAN's ``max(1, K // 2)`` by default); raise ValueError on bad values."""
    for name, value in (("iterations", iterations), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    if hidden_units is None:
        return max(1, k // 2)
    if isinstance(hidden_units, bool) or not isinstance(hidden_units, (int, np.integer)) or hidden_units < 1:
        raise ValueError(f"hidden_units={hidden_units!r} must be a positive integer or None")
    return int(hidden_units)


def discriminative_score(
    real: np.ndarray,
    real_lengths: np.ndarray,
    synthetic: np.ndarray,
    synthetic_lengths: np.ndarray,
    seed: int = 0,
    hidden_units: int | None = None,
    iterations: int = DISCRIMINATOR_ITERATIONS,
    batch_size: int = DISCRIMINATOR_BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    normalize: bool = True,
) -> float:
    """TimeGAN's discriminative score: ``|accuracy - 0.5|`` of a post-hoc GRU real/synthetic classifier.

    A 1-layer GRU (``hidden_units``, tanh) reads each masked series; a dense
    layer on its last active state gives the logit of "real"; it is trained
    with binary cross-entropy and Adam on a stratified 80 % of real ∪
    synthetic and tested on the other 20 % (accuracy at logit 0, i.e.
    probability 0.5).

    Args:
        real: float [N, L, K] real series (e.g. held-out test data).
        real_lengths: integer [N], each in [1, L].
        synthetic: float [M, L, K] generated series, same L and K.
        synthetic_lengths: integer [M], each in [1, L].
        seed: seeds the subsampling, the split, the initializers and the shuffling.
        hidden_units: GRU size; default ``max(1, K // 2)`` (TimeGAN's ``K / 2``).
        iterations: Adam updates (mini-batches); TimeGAN's 2000 by default.
        batch_size: mini-batch size.
        learning_rate: Adam's (TimeGAN: TF1's default 1e-3).
        normalize: min-max scale both sets with the real range first (TimeGAN).

    Returns:
        The score in [0, 0.5]; 0 means the classifier does no better than chance.

    Raises:
        ValueError: bad shapes, lengths, or training parameters (naming the
            argument), or fewer than 5 series in either set.
    """
    real, real_lengths, synthetic, synthetic_lengths = _check_pair(
        real, real_lengths, synthetic, synthetic_lengths, min_length=1
    )
    hidden = _check_training(hidden_units, iterations, batch_size, real.shape[2])
    if normalize:
        real, synthetic = _min_max_scale(real, real_lengths, synthetic, synthetic_lengths)
    n = min(len(real), len(synthetic))
    if n < 5:
        raise ValueError(f"discriminative_score needs at least 5 real and 5 synthetic series, got {n}")
    if len(real) != len(synthetic):
        logger.info("subsampling %d real and %d synthetic series to %d each", len(real), len(synthetic), n)
    rng = np.random.default_rng(derive_seed(seed, "subsample"))
    keep_real = np.sort(rng.permutation(len(real))[:n])
    keep_synthetic = np.sort(rng.permutation(len(synthetic))[:n])
    x = np.concatenate([real[keep_real], synthetic[keep_synthetic]])
    lengths = np.concatenate([real_lengths[keep_real], synthetic_lengths[keep_synthetic]]).astype(np.float32)
    labels = np.concatenate([np.ones(n), np.zeros(n)]).astype(np.float32)
    train, test = train_test_split(
        np.arange(2 * n), test_size=TEST_FRACTION, stratify=labels, random_state=derive_seed(seed, "split")
    )

    model = _SeriesGRU(hidden, 1, per_step=False, activation=None, seed=derive_seed(seed, "discriminator"))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    _fit(model, (x[train], lengths[train], labels[train]), iterations, batch_size, seed)
    logits = model.predict((x[test], lengths[test]), batch_size=batch_size, verbose=0)[:, 0]
    accuracy = float(np.mean((logits > 0) == (labels[test] == 1)))
    return abs(accuracy - 0.5)


def predictive_score(
    real: np.ndarray,
    real_lengths: np.ndarray,
    synthetic: np.ndarray,
    synthetic_lengths: np.ndarray,
    seed: int = 0,
    target: Target | None = None,
    hidden_units: int | None = None,
    iterations: int = PREDICTOR_ITERATIONS,
    batch_size: int = PREDICTOR_BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    normalize: bool = True,
) -> float:
    """TimeGAN's predictive score: MAE on real series of a next-step GRU trained on synthetic ones.

    A 1-layer GRU (``hidden_units``, tanh) reads steps ``0 .. t`` and a dense
    layer predicts step ``t + 1`` at every ``t < length - 1`` (sigmoid output
    when ``normalize``, as TimeGAN, else linear). It is trained with masked
    MAE and Adam on the synthetic series, then applied to every real series;
    the score is the mean over real series of each series' MAE over its
    predicted steps (and target columns).

    Args:
        real: float [N, L, K] real series.
        real_lengths: integer [N], each in [2, L].
        synthetic: float [M, L, K] generated series, same L and K.
        synthetic_lengths: integer [M], each in [2, L].
        seed: seeds the initializers and the shuffling.
        target: ``"last_feature"`` (TimeGAN: the last column at ``t + 1`` from
            the other K - 1 columns up to ``t``; needs K >= 2) or
            ``"next_step"`` (all K columns at ``t + 1`` from all K columns up to
            ``t``, the autoregressive variant for univariate data); default
            ``"last_feature"`` when K >= 2, ``"next_step"`` when K == 1.
        hidden_units: GRU size; default ``max(1, K // 2)`` (TimeGAN's ``K / 2``).
        iterations: Adam updates (mini-batches); TimeGAN's 5000 by default.
        batch_size: mini-batch size.
        learning_rate: Adam's (TimeGAN: TF1's default 1e-3).
        normalize: min-max scale both sets with the real range first (TimeGAN),
            so the MAE is in units of the real range.

    Returns:
        The mean absolute error (>= 0; lower is better).

    Raises:
        ValueError: bad shapes or lengths (a series shorter than 2 steps), an
            unknown ``target``, or ``"last_feature"`` with K == 1.
    """
    real, real_lengths, synthetic, synthetic_lengths = _check_pair(
        real, real_lengths, synthetic, synthetic_lengths, min_length=2
    )
    k = real.shape[2]
    target = target or ("next_step" if k == 1 else "last_feature")
    if target not in ("last_feature", "next_step"):
        raise ValueError(f"target={target!r} must be 'last_feature' or 'next_step'")
    if target == "last_feature" and k < 2:
        raise ValueError("target='last_feature' needs K >= 2 feature columns; use target='next_step'")
    hidden = _check_training(hidden_units, iterations, batch_size, k)
    if normalize:
        real, synthetic = _min_max_scale(real, real_lengths, synthetic, synthetic_lengths)

    def task(x: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(inputs [B, L-1, D], steps [B], targets [B, L-1, D'], weights [B, L-1]) of the chosen target."""
        if target == "last_feature":
            inputs, targets = x[:, :-1, :-1], x[:, 1:, -1:]
        else:
            inputs, targets = x[:, :-1], x[:, 1:]
        steps = lengths - 1
        return inputs, steps.astype(np.float32), targets, flags_from_lengths(steps, x.shape[1] - 1)

    train_x, train_steps, train_y, train_w = task(synthetic, synthetic_lengths)
    test_x, test_steps, test_y, test_w = task(real, real_lengths)
    model = _SeriesGRU(
        hidden,
        train_y.shape[2],
        per_step=True,
        activation="sigmoid" if normalize else None,
        seed=derive_seed(seed, "predictor"),
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=keras.losses.MeanAbsoluteError())
    _fit(model, (train_x, train_steps, train_y, train_w), iterations, batch_size, seed)
    predicted = model.predict((test_x, test_steps), batch_size=batch_size, verbose=0)
    errors = np.abs(predicted - test_y).mean(axis=2) * test_w
    return float(np.mean(errors.sum(axis=1) / test_w.sum(axis=1)))
