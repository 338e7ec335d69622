"""Analytic model FLOPs of one DoppelGANger training sample and one generated sample.

Counts matrix multiplies only (2 FLOPs per multiply-add; biases, activations,
BatchNorm and the LSTM's element-wise gate math are ignored), for dg_tf's
networks (paper appendix B):

- attribute MLP ``mlp(z, A)``: noise z -> real attributes A;
- min/max MLP ``mlp(z + A, Aa)``: Aa = 2 per continuous feature column (auto-normalization);
- LSTM: T = L/S passes of ``4u(in + u)`` multiply-adds, in = A + Aa + z for the
  first layer; heads ``u x S*D`` per pass, D = K + 2 (the generation flag);
- critic ``mlp(L*D + A + Aa, 1)`` and auxiliary critic ``mlp(A + Aa, 1)``.

with ``mlp(i, o) = i*h + (layers-1)*h*h + h*o`` multiply-adds.

One training step per sample (one critic round, one generator round, as the paper):

- critic round: a generator forward G; per critic 3 forwards (real, fake,
  interpolated), 2 x 2 for the backward of the real and fake terms (weights and
  inputs), 1 for the penalty's input gradient and 2 for its double backward:
  10 C;
- generator round: forward and backward of the generator (3 G), forward and
  input-gradient of each critic (2 C).

    train = 4 G + 12 C + 12 C_aux,        generate = G.

These are the model's useful FLOPs, an estimate: what TensorFlow executes can be more.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from benchmarks.common import Architecture

__all__ = ["Shape", "generation_flops", "training_flops"]


@dataclasses.dataclass(frozen=True)
class Shape:
    """Sizes that fix the networks' widths.

    Attributes:
        length: L, padded series length.
        sample_len: S.
        feature_width: K, encoded feature columns (one-hot widths included, no flag).
        continuous_features: feature columns that get a min/max pair.
        attribute_width: A, encoded real attribute columns.
    """

    length: int
    sample_len: int
    feature_width: int
    continuous_features: int
    attribute_width: int

    @property
    def addi_width(self) -> int:
        """Aa, the min/max attributes: 2 per continuous feature column."""
        return 2 * self.continuous_features

    @classmethod
    def of(cls, length: int, sample_len: int, feature_outputs: Sequence[dict[str, Any]],
           attribute_outputs: Sequence[dict[str, Any]]) -> "Shape":
        """The shape of data with these spec dicts (``type``, ``dim``)."""
        return cls(
            length, sample_len,
            feature_width=sum(o["dim"] for o in feature_outputs),
            continuous_features=sum(o["dim"] for o in feature_outputs if o["type"] == "CONTINUOUS"),
            attribute_width=sum(o["dim"] for o in attribute_outputs),
        )


def _mlp(inputs: int, layers: int, units: int, outputs: int) -> int:
    """Multiply-adds of ``layers`` hidden Dense(units) then Dense(outputs)."""
    if layers == 0:
        return inputs * outputs
    return inputs * units + (layers - 1) * units * units + units * outputs


def generation_flops(shape: Shape, arch: Architecture) -> float:
    """FLOPs of one generator forward pass for one sample."""
    a, aa, z = shape.attribute_width, shape.addi_width, arch.noise_dim
    macs = 0
    if a:
        macs += _mlp(z, arch.attribute_layers, arch.attribute_units, a)
    if aa:
        macs += _mlp(z + a, arch.attribute_layers, arch.attribute_units, aa)
    passes = shape.length // shape.sample_len
    u = arch.lstm_units
    lstm_in = a + aa + z
    for _ in range(arch.lstm_layers):
        macs += passes * 4 * u * (lstm_in + u)
        lstm_in = u
    macs += u * (shape.feature_width + 2) * shape.length  # heads: u x S*D per pass
    return 2.0 * macs


def _critic_flops(shape: Shape, arch: Architecture) -> tuple[float, float]:
    attrs = shape.attribute_width + shape.addi_width
    critic = _mlp(shape.length * (shape.feature_width + 2) + attrs, arch.critic_layers, arch.critic_units, 1)
    aux = _mlp(attrs, arch.critic_layers, arch.critic_units, 1) if attrs else 0
    return 2.0 * critic, 2.0 * aux


def training_flops(shape: Shape, arch: Architecture) -> float:
    """FLOPs of one training step per sample: ``4 G + 12 C + 12 C_aux``."""
    critic, aux = _critic_flops(shape, arch)
    return 4 * generation_flops(shape, arch) + 12 * critic + 12 * aux
