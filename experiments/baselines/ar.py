"""The nonlinear auto-regressive baseline (paper §2.2, §5.1.2 "Nonlinear AR", appendix B "AR").

§5.1.2: "we learn a function f such that R_t = f(A, R_{t-1}, ..., R_{t-p}) ...
we use a multi-layer perceptron version of f. During generation, A is
randomly drawn from the multinomial distribution on training data, and the
first record R_1 is drawn [from] a Gaussian distribution learned from
training data." Appendix B: p = 3; an MLP with 4 hidden layers of 200 units;
Adam, learning rate 0.001, batch size 100.

Details the paper leaves open, chosen here:

- a record R_t is the features plus DG's two generation-flag channels
  (:mod:`.common`), so f also predicts whether the series ends at t; generation
  stops at the first record whose predicted flag says "ends";
- the history before the first record is zero records (a real record always
  has one flag channel at 1, so zeros are distinguishable);
- f's outputs use DG's activations (softmax per discrete block, sigmoid /
  tanh per continuous range) and are trained with :func:`.common.record_loss`;
- generation is deterministic given A and R_1, as in the paper (no noise is
  added; the paper attributes the AR model's simplified length distribution
  to "too little randomness", §5.2): each prediction is made a valid record
  (one-hot argmax for discrete blocks) and fed back;
- one epoch is one pass over all (series, step) pairs with t >= 2 active.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dg_tf.errors import DGError
from dg_tf.models.layers import MLP, OutputHeads
from dg_tf.seeding import derive_seed
from experiments.baselines.common import (
    GaussianRecord,
    MetadataFromMultinomial,
    make_supervised_step,
    project_records,
    train_epochs,
)

__all__ = ["ARBaseline"]


class ARBaseline(MetadataFromMultinomial):
    """MLP ``R_t = f(A, R_{t-1}, ..., R_{t-p})`` with metadata from the training multinomial.

    Args:
        order: p, the number of past records (appendix B: 3).
        hidden_layers / hidden_units: the MLP (appendix B: 4 x 200).
        learning_rate: Adam's (appendix B: 0.001).
        batch_size: (series, step) pairs per step (appendix B: 100).
        epochs: passes over all pairs (not given by the paper).
        seed: seeds weights, shuffling and generation.
    """

    name = "ar"

    def __init__(
        self,
        order: int = 3,
        hidden_layers: int = 4,
        hidden_units: int = 200,
        learning_rate: float = 1e-3,
        batch_size: int = 100,
        epochs: int = 100,
        seed: int = 0,
    ):
        super().__init__(seed)
        if order < 1:
            raise DGError(f"order={order!r} must be >= 1")
        self.order = order
        self.hidden_layers = hidden_layers
        self.hidden_units = hidden_units
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.network: keras.Model | None = None
        self.first_record: GaussianRecord | None = None
        self.history: list[dict[str, float]] = []

    @staticmethod
    def _inputs(attributes: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """Network input float32 [B, A + p*D] from attributes [B, A] and past records [B, p, D]."""
        return np.concatenate([attributes, windows.reshape(len(windows), -1)], axis=1).astype(np.float32)

    def _fit_series(self, records: np.ndarray, attributes: np.ndarray, gen_flags: np.ndarray) -> None:
        outputs = self.encoding.model_feature_outputs
        self.first_record = GaussianRecord(records[:, 0], outputs)
        self.network = keras.Sequential([
            MLP(self.hidden_layers, self.hidden_units, derive_seed(self.seed, self.name, "mlp")),
            OutputHeads(outputs, derive_seed(self.seed, self.name, "heads")),
        ])
        padded = np.concatenate([np.zeros_like(records[:, : self.order]), records], axis=1)
        series, steps = np.nonzero(gen_flags[:, 1:] > 0.5)
        steps = steps + 1  # targets R_t, t >= 1 (0-based), each with its p predecessors
        if len(series) == 0:
            raise DGError("ar: every training series has length 1; nothing to predict")
        window = np.arange(self.order)
        step = make_supervised_step(self.network, outputs, self.learning_rate)

        def train_batch(batch: np.ndarray) -> dict[str, tf.Tensor]:
            i, t = series[batch], steps[batch]
            inputs = self._inputs(attributes[i], padded[i[:, None], t[:, None] + window])
            return step(inputs, records[i, t], np.ones(len(batch), np.float32))

        self.history = train_epochs(train_batch, len(series), self.batch_size, self.epochs,
                                    self._training_rng("shuffle"), self.name)

    def _generate_series(self, attributes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        outputs = self.encoding.model_feature_outputs
        n, length = len(attributes), self.encoding.max_length
        padded = np.zeros((n, self.order + length, self.first_record.mean.shape[0]), np.float32)
        padded[:, self.order] = self.first_record.sample(n, rng)
        for t in range(1, length):
            inputs = self._inputs(attributes, padded[:, t : t + self.order])
            predicted = self.network(tf.constant(inputs), training=False).numpy()
            padded[:, t + self.order] = project_records(predicted, outputs)
        return padded[:, self.order :]
