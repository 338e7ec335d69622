"""Between a :class:`~dg_tf.data.Dataset` and what the networks see.

The model works on an *encoded* representation (paper §4.2, appendix B):

- features [N, L, D]: the dataset's features, auto-normalized per sample when
  ``self_norm`` is on, plus the 2 generation-flag channels (D = K + 2);
- attributes [N, A]: the real attributes, then the additional (min/max)
  attributes when ``self_norm`` is on.

:class:`Encoding` remembers the specs and sizes fitted on the training data
and converts both ways. Decoding generated data also rounds discrete outputs
to one-hot, masks every step after the end and clips continuous values to
their declared range (rescaled values may overshoot it slightly).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from dg_tf.config import DGConfig
from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import Output, gen_flag_output, total_dim
from dg_tf.data.validation import check_sample_len
from dg_tf.errors import DataFormatError
from dg_tf.limits import brief, label
from dg_tf.transforms import (
    add_gen_flag_channels,
    additional_outputs,
    clip_to_ranges,
    discrete_to_one_hot,
    mask_after_end,
    normalize_per_sample,
    renormalize_per_sample,
)

__all__ = ["Encoding", "LengthRule"]


@dataclasses.dataclass(frozen=True)
class LengthRule:
    """How the generator decides series lengths (paper appendix B, and what the training data allows).

    Attributes:
        fixed: every training series has this many steps: the generation flag
            carries no information, so the generator has none and every
            series has exactly this length (``None``: lengths vary).
        minimum: the shortest training series: a stop flag on an earlier step
            is ignored, so no series is shorter (1: any length).
    """

    fixed: int | None = None
    minimum: int = 1

    @property
    def flags(self) -> bool:
        """Whether the generator has the generation-flag channels (lengths vary)."""
        return self.fixed is None

    @classmethod
    def of(cls, lengths: np.ndarray, floor: bool = True) -> "LengthRule":
        """The rule of training series of these ``lengths`` (int [N], N >= 1); ``floor``: keep the minimum."""
        lengths = np.asarray(lengths)
        shortest = int(lengths.min())
        if (lengths == shortest).all():
            return cls(fixed=shortest, minimum=shortest)
        return cls(minimum=max(shortest, 1) if floor else 1)


@dataclasses.dataclass(frozen=True)
class Encoding:
    """Specs and sizes of the encoded representation.

    Attributes:
        feature_outputs: the dataset's feature specs (no generation flag).
        attribute_outputs: the dataset's (real) attribute specs.
        max_length: L.
        sample_len: S, dividing L.
        self_norm: auto-normalization on.
        self_norm_eps: widening of the per-sample ranges.
        lengths: how generated lengths are decided (from the training
            lengths; the default, flags and any length, is a model saved
            before lengths were learned from the data).
    """

    feature_outputs: tuple[Output, ...]
    attribute_outputs: tuple[Output, ...]
    max_length: int
    sample_len: int
    self_norm: bool
    self_norm_eps: float
    lengths: LengthRule = LengthRule()

    @classmethod
    def for_dataset(cls, dataset: Dataset, config: DGConfig, source: str = "<dataset>") -> "Encoding":
        """The encoding of ``dataset`` under ``config`` (resolves the automatic sample_len)."""
        sample_len = config.resolved_sample_len(dataset.max_length)
        check_sample_len(dataset.max_length, sample_len, source)
        return cls(
            tuple(dataset.feature_outputs),
            tuple(dataset.attribute_outputs),
            dataset.max_length,
            sample_len,
            config.self_norm,
            config.self_norm_eps,
            LengthRule.of(dataset.lengths, config.length_floor),
        )

    @property
    def addi_outputs(self) -> list[Output]:
        """Specs of the additional (min/max) attributes; empty without self_norm."""
        return additional_outputs(self.feature_outputs) if self.self_norm else []

    @property
    def model_feature_outputs(self) -> list[Output]:
        """Feature specs the generator emits: the dataset's plus the generation flag (none with a fixed length)."""
        flag = [gen_flag_output()] if self.lengths.flags else []
        return [*self.feature_outputs, *flag]

    @property
    def num_real_attributes(self) -> int:
        """Width of the real attribute columns (A_real)."""
        return total_dim(self.attribute_outputs)

    def encode(self, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
        """Encode a (validated) dataset.

        Returns:
            features float32 [N, L, K + 2] (K without flags for a fixed length)
            and attributes float32 [N, A_real + A_addi].
        """
        features = dataset.features
        attributes = dataset.attributes.astype(np.float32)
        if self.self_norm:
            features, addi, _ = normalize_per_sample(
                features, dataset.gen_flags, self.feature_outputs, self.self_norm_eps
            )
            attributes = np.concatenate([attributes, addi], axis=1)
        if self.lengths.flags:
            features = add_gen_flag_channels(features, dataset.gen_flags, self.sample_len)
        return features.astype(np.float32), attributes

    def decode(
        self,
        features: np.ndarray,
        attributes: np.ndarray,
        gen_flags: np.ndarray,
        *,
        attribute_probabilities: bool = False,
    ) -> Dataset:
        """Turn generated encoded data back into a dataset in the input's scale.

        Args:
            features: float32 [N, L, K + 2] generator output (flag channels
                last; [N, L, K] for a fixed length).
            attributes: float32 [N, A_real + A_addi] generator output.
            gen_flags: float32 [N, L] generated flags (1 through the end step).
            attribute_probabilities: keep discrete attributes as the generator's
                probabilities instead of one-hot.

        Returns:
            A :class:`Dataset` with features [N, L, K], attributes [N, A_real]
            and the flags; features are zero after each series' end.

        The reference inverse of :meth:`encode`, in NumPy float64.
        :func:`dg_tf.graph_decoding.decode_graph` repeats these steps in
        TensorFlow ops, and generation (``DoppelGANger.generate`` and exported
        models) runs that twin inside its compiled batches: a change here must
        be made there too (``tests/test_export.py`` checks that the two agree bitwise).
        """
        real_width = self.num_real_attributes
        values = features[..., :total_dim(self.feature_outputs)]  # without the flag channels
        values = discrete_to_one_hot(values, self.feature_outputs)
        if self.self_norm:
            values = renormalize_per_sample(
                values, attributes[:, real_width:], gen_flags, self.feature_outputs
            )
        values = mask_after_end(clip_to_ranges(values, self.feature_outputs), gen_flags)
        real = attributes[:, :real_width]
        if not attribute_probabilities:
            real = discrete_to_one_hot(real, self.attribute_outputs)
        return Dataset(
            features=values.astype(np.float32),
            attributes=clip_to_ranges(real, self.attribute_outputs).astype(np.float32),
            gen_flags=gen_flags.astype(np.float32),
            feature_outputs=list(self.feature_outputs),
            attribute_outputs=list(self.attribute_outputs),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_outputs": [o.to_dict() for o in self.feature_outputs],
            "attribute_outputs": [o.to_dict() for o in self.attribute_outputs],
            "max_length": self.max_length,
            "sample_len": self.sample_len,
            "self_norm": self.self_norm,
            "self_norm_eps": self.self_norm_eps,
            "fixed_length": self.lengths.fixed,
            "min_length": self.lengths.minimum,
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "<encoding>", prefix: str = "") -> "Encoding":
        """The encoding :meth:`to_dict` wrote, every field checked.

        ``fixed_length`` and ``min_length`` may be absent (a model saved before
        lengths were learned from the data: flags, any length).

        Raises:
            DataFormatError: a field is missing or invalid; the message names
                ``source`` and the field (``prefix`` + its name, and the index
                of a bad output spec).
        """
        if not isinstance(data, dict):
            raise DataFormatError(source, prefix.rstrip(".") or "encoding", None,
                                  f"must be a JSON object, got {brief(data)}")

        def field(name: str, kind: type, optional: bool = False) -> Any:
            if name not in data:
                if optional:
                    return None
                raise DataFormatError(source, f"{prefix}{name}", None, "missing")
            value = data[name]
            if kind in (bool, list):
                valid, wanted = isinstance(value, kind), f"a JSON {kind.__name__}"
            else:
                number = isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool)
                valid, wanted = number and 0 < value < 2**31, f"a positive {kind.__name__} below 2**31"
            if optional and value is None:
                return None
            if not valid:
                raise DataFormatError(source, f"{prefix}{name}", None, f"must be {wanted}, got {brief(value)}")
            return value

        outputs = {}
        for name in ("feature_outputs", "attribute_outputs"):
            outputs[name] = []
            for i, item in enumerate(field(name, list)):
                try:
                    outputs[name].append(Output.from_dict(item))
                except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
                    detail = f"missing key {err}" if isinstance(err, KeyError) else str(err)
                    raise DataFormatError(source, f"{prefix}{name}", i,
                                          f"not an output spec: {label(detail, 200)}") from None
        max_length, sample_len = field("max_length", int), field("sample_len", int)
        check_sample_len(max_length, sample_len, source)
        fixed, minimum = field("fixed_length", int, optional=True), field("min_length", int, optional=True) or 1
        for name, value in (("fixed_length", fixed), ("min_length", minimum)):
            if value is not None and value > max_length:
                raise DataFormatError(source, f"{prefix}{name}", None, f"{value} exceeds max_length={max_length}")
        return cls(
            tuple(outputs["feature_outputs"]),
            tuple(outputs["attribute_outputs"]),
            max_length,
            sample_len,
            field("self_norm", bool),
            float(field("self_norm_eps", float)),
            LengthRule(fixed, minimum),
        )
