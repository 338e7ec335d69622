"""The RNN baseline (paper §2.2, §5.1.2 "Recurrent neural networks", appendix B "RNN").

§5.1.2: "we train an RNN via teacher forcing by feeding in the true time
series at every time step and predicting the value of the time series at the
next time step. Once trained, the RNN can be used to generate the time series
by using its predicted output as the input for the next time step. ... We
design an extended RNN [that] takes metadata A as an additional input. During
generation, A is randomly drawn from the multinomial distribution on training
data, and the first record R_1 is drawn [from] a Gaussian distribution
learned from training data." Appendix B: one LSTM layer of 100 units; Adam,
learning rate 0.001, batch size 100.

Details the paper leaves open, chosen here:

- the input at step t is ``[A, R_t]`` and the output is ``R_{t+1}``, where a
  record is the features plus DG's two generation-flag channels
  (:mod:`.common`); generation stops at the first record whose predicted flag
  says "ends";
- the LSTM is DG's own cell (:class:`~dg_tf.models.layers.TF1LSTMCell`) and
  the outputs use DG's activations and :func:`.common.record_loss`, averaged
  over the active target steps;
- generation is deterministic given A and R_1 (the paper feeds back "its
  predicted output"; no sampling): each prediction is made a valid record
  (one-hot argmax for discrete blocks) and fed back;
- one epoch is one pass over all training series.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dg_tf.data.specs import Output
from dg_tf.errors import DGError
from dg_tf.models.layers import OutputHeads
from dg_tf.models.lstm import TF1LSTMCell
from dg_tf.seeding import derive_seed
from experiments.baselines.common import (
    GaussianRecord,
    MetadataFromMultinomial,
    make_supervised_step,
    project_records,
    train_epochs,
)

__all__ = ["RNNBaseline", "NextRecordLSTM"]


class NextRecordLSTM(keras.Model):
    """One LSTM layer and per-output heads: ``[A, R_t] -> R_{t+1}``.

    Call: ``inputs`` float32 [B, T, A + D] -> float32 [B, T, D] (zero initial state).
    :meth:`step` runs one step for generation.
    """

    def __init__(self, units: int, outputs: list[Output], seed: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.cell = TF1LSTMCell(units, derive_seed(seed, "lstm"))
        self.rnn = keras.layers.RNN(self.cell, return_sequences=True)
        self.heads = OutputHeads(outputs, derive_seed(seed, "heads"))

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        return self.heads(self.rnn(inputs))

    def initial_state(self, batch_size: int) -> list[tf.Tensor]:
        """Zero ``[h, c]``, each float32 [B, units]."""
        return [tf.zeros((batch_size, self.units)), tf.zeros((batch_size, self.units))]

    def step(self, inputs: tf.Tensor, state: list[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """One step: inputs [B, A + D] and state -> next record [B, D] and new state."""
        hidden, state = self.cell(inputs, state)
        return self.heads(hidden), state


class RNNBaseline(MetadataFromMultinomial):
    """LSTM with metadata input at every step, teacher-forced; metadata from the training multinomial.

    Args:
        units: LSTM units (appendix B: 100).
        learning_rate: Adam's (appendix B: 0.001).
        batch_size: series per step (appendix B: 100).
        epochs: passes over the training series (not given by the paper).
        seed: seeds weights, shuffling and generation.
    """

    name = "rnn"

    def __init__(
        self,
        units: int = 100,
        learning_rate: float = 1e-3,
        batch_size: int = 100,
        epochs: int = 100,
        seed: int = 0,
    ):
        super().__init__(seed)
        self.units = units
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.network: NextRecordLSTM | None = None
        self.first_record: GaussianRecord | None = None
        self.history: list[dict[str, float]] = []

    @staticmethod
    def _inputs(attributes: np.ndarray, records: np.ndarray) -> np.ndarray:
        """float32 [B, T, A + D]: the attributes [B, A] next to every record of [B, T, D]."""
        tiled = np.repeat(attributes[:, None, :], records.shape[1], axis=1)
        return np.concatenate([tiled, records], axis=2).astype(np.float32)

    def _fit_series(self, records: np.ndarray, attributes: np.ndarray, gen_flags: np.ndarray) -> None:
        if records.shape[1] < 2:
            raise DGError("rnn: series of max length 1 have no next record to predict")
        outputs = self.encoding.model_feature_outputs
        self.first_record = GaussianRecord(records[:, 0], outputs)
        self.network = NextRecordLSTM(self.units, outputs, derive_seed(self.seed, self.name, "network"))
        step = make_supervised_step(self.network, outputs, self.learning_rate)

        def train_batch(batch: np.ndarray) -> dict[str, tf.Tensor]:
            # Teacher forcing: the true R_t is the input, the true R_{t+1} the target.
            return step(self._inputs(attributes[batch], records[batch, :-1]),
                        records[batch, 1:], gen_flags[batch, 1:])

        self.history = train_epochs(train_batch, len(records), self.batch_size, self.epochs,
                                    self._training_rng("shuffle"), self.name)

    def _generate_series(self, attributes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        outputs = self.encoding.model_feature_outputs
        n, length = len(attributes), self.encoding.max_length
        records = np.zeros((n, length, self.first_record.mean.shape[0]), np.float32)
        records[:, 0] = self.first_record.sample(n, rng)
        state = self.network.initial_state(n)
        for t in range(1, length):
            inputs = self._inputs(attributes, records[:, t - 1 : t])[:, 0]
            predicted, state = self.network.step(tf.constant(inputs), state)
            records[:, t] = project_records(predicted.numpy(), outputs)
        return records
