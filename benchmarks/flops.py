"""Analytic model FLOPs of one DoppelGANger training sample and one generated sample.

Counts matrix multiplies only (2 FLOPs per multiply-add; biases, activations,
BatchNorm and the LSTM's element-wise gate math are ignored), for dg_tf's
networks (paper appendix B):

- attribute MLP ``mlp(z, A)``: noise z -> real attributes A;
- min/max MLP ``mlp(z + A, Aa)``: Aa = 2 per continuous feature column (auto-normalization);
- LSTM: T = L/S passes of ``4u(in + u)`` multiply-adds, in = A + Aa + z for the
  first layer; heads ``u x S*D`` per pass, D = K + 2 (the generation flag;
  D = K when every training series has the same length: no flag then);
- critic ``mlp(L*D + A + Aa, 1)`` and auxiliary critic ``mlp(A + Aa, 1)``.

with ``mlp(i, o) = i*h + (layers-1)*h*h + h*o`` multiply-adds.

One training step per sample (dg_tf's step, ``dg_tf/training/step.py``: one
critic round and one generator round on a single generator forward pass):

- the generator: one forward G (the critic round runs on the generator
  round's forward pass) and its backward, weights and inputs (2 G): 3 G. The
  fused LSTM kernel computes its input gradients whether needed or not, so
  they are counted. Replaying the BatchNorm statistics of the forward pass
  the critic round saves runs the attribute and min/max MLPs once more
  (G_attr, their share of G);
- per critic (forward F, its first layer's share F1): 3 forwards (real, fake,
  interpolated); the penalty's input gradient (F); the weight gradients of the
  real and fake terms (2 F) and their input gradients below the first layer
  (2 (F - F1): neither the real batch nor the generated one, at which the
  critic update stops, needs one); the penalty's double backward (2 F); and
  in the generator round a forward and an input gradient (2 F):
  12 F - 2 F1.

    train = 3 G + G_attr + (12 C - 2 C1) + (12 C_aux - 2 C_aux1),        generate = G.

These are the model's useful FLOPs, an estimate: what TensorFlow executes can be more.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from benchmarks.common import Architecture

__all__ = ["Shape", "critic_training_flops", "generation_flops", "training_flops"]


@dataclasses.dataclass(frozen=True)
class Shape:
    """Sizes that fix the networks' widths.

    Attributes:
        length: L, padded series length.
        sample_len: S.
        feature_width: K, encoded feature columns (one-hot widths included, no flag).
        continuous_features: feature columns that get a min/max pair.
        attribute_width: A, encoded real attribute columns.
        fixed_length: every training series has the same length: the
            generator then has no generation-flag channels.
    """

    length: int
    sample_len: int
    feature_width: int
    continuous_features: int
    attribute_width: int
    fixed_length: bool = False

    @property
    def step_width(self) -> int:
        """D, the generator's outputs per time step: K, plus the 2 flag channels for variable lengths."""
        return self.feature_width + (0 if self.fixed_length else 2)

    @property
    def addi_width(self) -> int:
        """Aa, the min/max attributes: 2 per continuous feature column."""
        return 2 * self.continuous_features

    @classmethod
    def of(cls, length: int, sample_len: int, feature_outputs: Sequence[dict[str, Any]],
           attribute_outputs: Sequence[dict[str, Any]], fixed_length: bool = False) -> "Shape":
        """The shape of data with these spec dicts (``type``, ``dim``)."""
        return cls(
            length, sample_len,
            feature_width=sum(o["dim"] for o in feature_outputs),
            continuous_features=sum(o["dim"] for o in feature_outputs if o["type"] == "CONTINUOUS"),
            attribute_width=sum(o["dim"] for o in attribute_outputs),
            fixed_length=fixed_length,
        )


def _mlp_layers(inputs: int, layers: int, units: int, outputs: int) -> list[int]:
    """Multiply-adds of each Dense layer of ``layers`` hidden Dense(units) then Dense(outputs), first first."""
    widths = [inputs] + [units] * layers + [outputs]
    return [a * b for a, b in zip(widths, widths[1:])]


def _mlp(inputs: int, layers: int, units: int, outputs: int) -> int:
    """Multiply-adds of ``layers`` hidden Dense(units) then Dense(outputs)."""
    return sum(_mlp_layers(inputs, layers, units, outputs))


def _attribute_macs(shape: Shape, arch: Architecture) -> int:
    """Multiply-adds of the attribute MLP and the min/max MLP for one sample."""
    a, aa, z = shape.attribute_width, shape.addi_width, arch.attribute_noise_dim
    macs = _mlp(z, arch.attribute_layers, arch.attribute_units, a) if a else 0
    if aa:
        macs += _mlp(z + a, arch.attribute_layers, arch.attribute_units, aa)
    return macs


def generation_flops(shape: Shape, arch: Architecture) -> float:
    """FLOPs of one generator forward pass for one sample (G)."""
    passes = shape.length // shape.sample_len
    u = arch.lstm_units
    lstm_in = shape.attribute_width + shape.addi_width + arch.feature_noise_dim
    macs = _attribute_macs(shape, arch)
    for _ in range(arch.lstm_layers):
        macs += passes * 4 * u * (lstm_in + u)
        lstm_in = u
    macs += u * shape.step_width * shape.length  # heads: u x S*D per pass
    return 2.0 * macs


def critic_training_flops(layers: Sequence[int]) -> float:
    """FLOPs of one critic in one training step, per sample: ``12 F - 2 F1``.

    Args:
        layers: multiply-adds of each of its Dense layers, the first first.
    """
    forward, first = 2.0 * sum(layers), 2.0 * layers[0]
    critic_round = 3 * forward + forward + 2 * forward + 2 * (forward - first) + 2 * forward
    generator_round = 2 * forward
    return critic_round + generator_round


def training_flops(shape: Shape, arch: Architecture) -> float:
    """FLOPs of one training step per sample: ``3 G + G_attr + (12 C - 2 C1) + (12 C_aux - 2 C_aux1)``."""
    attrs = shape.attribute_width + shape.addi_width
    critic = _mlp_layers(shape.length * shape.step_width + attrs, arch.critic_layers, arch.critic_units, 1)
    total = 3 * generation_flops(shape, arch) + 2.0 * _attribute_macs(shape, arch) + critic_training_flops(critic)
    if attrs:
        total += critic_training_flops(_mlp_layers(attrs, arch.critic_layers, arch.critic_units, 1))
    return total
