"""Pieces shared by the paper's baselines (§5.1.2 and appendix B of Lin et al., IMC 2020).

- **Records.** Every baseline models a series as records ``R_t``: the feature
  columns of step t followed by DoppelGANger's two generation-flag channels
  (appendix B, "Generation flag for variable length": ``[1, 0]`` the series
  continues after this step, ``[0, 1]`` it ends here). This is dg_tf's own
  :class:`~dg_tf.encoding.Encoding` with ``sample_len = 1`` and no
  auto-normalization. Generated records are decoded as DG decodes its
  generator's output: the series stops after the first step whose flag says
  "ends" (:func:`~dg_tf.models.generation_flags`), discrete blocks become
  one-hot (argmax), continuous values are clipped to their declared range and
  everything after the end is zero.
- **Metadata** of the HMM, AR and RNN baselines is "randomly drawn from the
  multinomial distribution on training data, independently of the time
  series" (§5.1.2): :class:`AttributeSampler`.
- **First record** of the AR and RNN baselines is "drawn [from] a Gaussian
  distribution learned from training data" (§5.1.2): :class:`GaussianRecord`.
- The per-record loss and the epoch loop of the neural baselines.

Shape symbols: N series, L max length, K feature columns, D = K + 2 columns
per record (flag channels last), A attribute columns, B a batch.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
import math
from typing import Callable, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Output
from dg_tf.data.validation import validate_dataset
from dg_tf.encoding import Encoding, LengthRule
from dg_tf.errors import DGError, TrainingDivergedError
from dg_tf.models import generation_flags
from dg_tf.seeding import derive_seed
from dg_tf.transforms import clip_to_ranges, discrete_to_one_hot

__all__ = [
    "record_encoding",
    "decode_records",
    "project_records",
    "AttributeSampler",
    "GaussianRecord",
    "record_loss",
    "masked_mean",
    "make_supervised_step",
    "train_epochs",
    "Baseline",
    "MetadataFromMultinomial",
]

logger = logging.getLogger(__name__)

#: Floor of a predicted probability inside the cross-entropy (log 0 guard).
_PROBABILITY_FLOOR = 1e-7


# --------------------------------------------------------------------------- records


def record_encoding(dataset: Dataset, source: str = "<dataset>") -> Encoding:
    """DG's encoding of ``dataset`` with one record per step and no auto-normalization.

    ``encoding.encode(dataset)[0]`` is float32 [N, L, D]: the features, then the
    two generation-flag channels (paper appendix B), which the paper's
    baselines model on fixed-length data too (§5.2: their lengths are part of
    what they get wrong); ``encoding.model_feature_outputs`` are the specs of
    those D columns.
    """
    encoding = Encoding.for_dataset(dataset, DGConfig(sample_len=1, self_norm=False), source)
    return dataclasses.replace(encoding, lengths=LengthRule())


def project_records(records: np.ndarray, outputs: Sequence[Output]) -> np.ndarray:
    """Make generated records valid inputs: one-hot (argmax) discrete blocks, clipped continuous ones.

    Args:
        records: float [..., D], D = ``total_dim(outputs)``.
        outputs: specs of the D columns (``encoding.model_feature_outputs``).

    Returns:
        float32 [..., D].
    """
    return clip_to_ranges(discrete_to_one_hot(records, outputs), outputs).astype(np.float32)


def decode_records(encoding: Encoding, records: np.ndarray, attributes: np.ndarray) -> Dataset:
    """Generated records and attributes -> a valid :class:`Dataset` (as DG decodes its output).

    Args:
        encoding: from :func:`record_encoding` on the training data.
        records: float [N, L, D] generated records, flag channels last (any
            values; discrete blocks are rounded by argmax).
        attributes: float [N, A] generated attributes.

    Returns:
        Dataset with features [N, L, K], attributes [N, A] and gen flags [N, L]
        that are 1 up to and including the first step whose flag says "ends".
    """
    records = np.asarray(records, np.float32)
    flags = generation_flags(tf.constant(records[..., -2:])).numpy()
    return encoding.decode(records, np.asarray(attributes, np.float32), flags)


# --------------------------------------------------------------------------- samplers


class AttributeSampler:
    """Metadata from "the multinomial distribution on training data" (paper §5.1.2).

    The multinomial over the training attribute combinations puts mass
    ``count / N`` on each distinct row, so drawing from it is drawing training
    rows uniformly with replacement; continuous attributes, if any, are
    resampled jointly with the discrete ones.

    Args:
        attributes: float32 [N, A] training attributes (A may be 0).
    """

    def __init__(self, attributes: np.ndarray):
        self.attributes = np.asarray(attributes, np.float32).copy()
        if self.attributes.ndim != 2 or len(self.attributes) == 0:
            raise ValueError(f"attributes must have shape [N, A] with N > 0, got {self.attributes.shape}")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """float32 [n, A]: n rows drawn independently from the training multinomial."""
        return self.attributes[rng.integers(0, len(self.attributes), n)]


class GaussianRecord:
    """Multivariate Gaussian of the first record ``R_1`` (paper §5.1.2, AR and RNN).

    Fitted by the sample mean and covariance of the training first records
    (flag channels included); samples are projected to valid records with
    :func:`project_records`, so a sample's flag may already say "ends".

    Args:
        first_records: float [N, D], record 0 of every training series.
        outputs: specs of the D columns.
    """

    def __init__(self, first_records: np.ndarray, outputs: Sequence[Output]):
        x = np.asarray(first_records, np.float64)
        self.outputs = list(outputs)
        self.mean = x.mean(axis=0)
        self.cov = np.atleast_2d(np.cov(x, rowvar=False)) if len(x) > 1 else np.zeros((x.shape[1],) * 2)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """float32 [n, D] valid first records."""
        draws = rng.multivariate_normal(self.mean, self.cov, size=n, method="eigh")
        return project_records(draws, self.outputs)


# --------------------------------------------------------------------------- training


def record_loss(predicted: tf.Tensor, target: tf.Tensor, outputs: Sequence[Output]) -> tf.Tensor:
    """Loss of predicted records: cross-entropy per discrete block plus squared error per continuous column.

    The paper does not state the AR/RNN losses (appendix B); these are the
    usual likelihood losses for softmax and sigmoid/tanh outputs.

    Args:
        predicted: float32 [..., D], activated network outputs
            (:class:`~dg_tf.models.layers.OutputHeads`).
        target: float32 [..., D], true records.
        outputs: specs of the D columns.

    Returns:
        float32 [...], the summed loss of each record.
    """
    dims = [o.dim for o in outputs]
    terms = []
    for p, t, output in zip(tf.split(predicted, dims, -1), tf.split(target, dims, -1), outputs):
        if output.is_discrete:
            terms.append(-tf.reduce_sum(t * tf.math.log(tf.maximum(p, _PROBABILITY_FLOOR)), axis=-1))
        else:
            terms.append(tf.reduce_sum(tf.square(p - t), axis=-1))
    return tf.add_n(terms)


def masked_mean(values: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Mean of ``values`` over the entries where ``mask`` is 1 (0 if none); same shapes."""
    return tf.reduce_sum(values * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def make_supervised_step(
    model: keras.Model, outputs: Sequence[Output], learning_rate: float
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, tf.Tensor]]:
    """One Adam step on :func:`record_loss` of ``model(inputs)`` against ``targets``.

    Args:
        model: maps inputs [B, ..., in] to activated records [B, ..., D].
        outputs: specs of the D columns.
        learning_rate: of Adam (paper appendix B: 0.001 for AR and RNN).

    Returns:
        ``step(inputs, targets [B, ..., D], mask [B, ...]) -> {"loss": scalar}``,
        the mean loss over the records where ``mask`` is 1.
    """
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    outputs = list(outputs)

    @tf.function(reduce_retracing=True)
    def step(inputs, targets, mask):
        with tf.GradientTape() as tape:
            loss = masked_mean(record_loss(model(inputs, training=True), targets, outputs), mask)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return {"loss": loss}

    return lambda inputs, targets, mask: step(
        tf.constant(inputs, tf.float32), tf.constant(targets, tf.float32), tf.constant(mask, tf.float32)
    )


def train_epochs(
    step: Callable[[np.ndarray], Mapping[str, tf.Tensor]],
    num_items: int,
    batch_size: int,
    epochs: int,
    rng: np.random.Generator,
    name: str,
) -> list[dict[str, float]]:
    """Run ``epochs`` passes over ``num_items`` training items in shuffled mini-batches.

    Args:
        step: trains on the items of one batch (an int index array [B]) and
            returns its losses.
        num_items: number of training items (series or (series, step) pairs).
        batch_size: items per step (paper appendix B: 100); the last batch of
            an epoch may be smaller.
        epochs: number of passes.
        rng: shuffles every epoch.
        name: the model, for log lines and errors.

    Returns:
        Per epoch, the mean of each loss over its batches.

    Raises:
        TrainingDivergedError: a loss became NaN or Inf.
    """
    history: list[dict[str, float]] = []
    log_every = max(1, epochs // 20)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(num_items)
        sums: dict[str, float] = {}
        batches = 0
        for start in range(0, num_items, batch_size):
            for key, value in step(order[start:start + batch_size]).items():
                sums[key] = sums.get(key, 0.0) + float(value)
            batches += 1
        means = {key: total / batches for key, total in sums.items()}
        bad = [f"{key}={value}" for key, value in means.items() if not math.isfinite(value)]
        if bad:
            raise TrainingDivergedError(f"{name}: {', '.join(bad)} at epoch {epoch}")
        history.append(means)
        if epoch % log_every == 0 or epoch == epochs:
            shown = ", ".join(f"{key} {value:.4f}" for key, value in means.items())
            logger.info("%s epoch %d/%d: %s", name, epoch, epochs, shown)
    return history


# --------------------------------------------------------------------------- base classes


class Baseline(abc.ABC):
    """A generative model with DG's user contract: ``fit(dataset)``, ``generate(n, seed)``.

    Args:
        seed: seeds every random draw of training (weights, shuffling, noise)
            and is the default seed of :meth:`generate`. No global random
            state is read or written.
    """

    #: Short name used in logs and by the CLI.
    name: str = "baseline"

    def __init__(self, seed: int = 0):
        self.seed = int(seed)
        self.encoding: Encoding | None = None

    def fit(self, dataset: Dataset, source: str = "<dataset>") -> "Baseline":
        """Train on ``dataset`` (validated first); returns ``self``.

        Raises:
            DataFormatError: the data breaks the DoppelGANger format.
        """
        validate_dataset(dataset, source)
        self.encoding = record_encoding(dataset, source)
        records, _ = self.encoding.encode(dataset)
        logger.info("%s: training on %d series of length %d", self.name, dataset.num_samples, dataset.max_length)
        self._fit(records, dataset.attributes.astype(np.float32), dataset.gen_flags.astype(np.float32))
        return self

    def generate(self, n: int, seed: int | None = None) -> Dataset:
        """Generate ``n`` series with their attributes, in the training data's layout.

        Args:
            n: number of series.
            seed: seeds every draw; ``None`` uses the model's seed. The same
                seed gives the same output.

        Returns:
            A valid :class:`Dataset`: features [n, L, K], attributes [n, A],
            gen flags [n, L].

        Raises:
            DGError: the model is not trained or ``n`` is not a positive integer.
        """
        if self.encoding is None:
            raise DGError(f"{self.name}: the model is not trained; call fit() first")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise DGError(f"n={n!r} must be a positive integer")
        rng = np.random.default_rng(derive_seed(self.seed if seed is None else seed, self.name, "generate"))
        records, attributes = self._generate(int(n), rng)
        return decode_records(self.encoding, records, attributes)

    def _training_rng(self, purpose: str) -> np.random.Generator:
        """A generator for one training purpose (shuffling, noise), derived from the seed."""
        return np.random.default_rng(derive_seed(self.seed, self.name, purpose))

    @abc.abstractmethod
    def _fit(self, records: np.ndarray, attributes: np.ndarray, gen_flags: np.ndarray) -> None:
        """Train on records float32 [N, L, D], attributes [N, A] and gen flags [N, L]."""

    @abc.abstractmethod
    def _generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Records [n, L, D] (any values, decoded afterwards) and attributes [n, A]."""


class MetadataFromMultinomial(Baseline):
    """A baseline whose metadata are drawn from the training multinomial (paper §5.1.2).

    The HMM, AR and RNN baselines model only the series; their attributes come
    from :class:`AttributeSampler`. Subclasses implement
    :meth:`_fit_series` and :meth:`_generate_series` (given the attributes).
    """

    def __init__(self, seed: int = 0):
        super().__init__(seed)
        self.attribute_sampler: AttributeSampler | None = None

    def _fit(self, records: np.ndarray, attributes: np.ndarray, gen_flags: np.ndarray) -> None:
        self.attribute_sampler = AttributeSampler(attributes)
        self._fit_series(records, attributes, gen_flags)

    def _generate(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        attributes = self.attribute_sampler.sample(n, rng)
        return self._generate_series(attributes, rng), attributes

    @abc.abstractmethod
    def _fit_series(self, records: np.ndarray, attributes: np.ndarray, gen_flags: np.ndarray) -> None:
        """Train the series model on records [N, L, D] (attributes [N, A] may be inputs)."""

    @abc.abstractmethod
    def _generate_series(self, attributes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Records float [n, L, D] for the given attributes [n, A]."""
