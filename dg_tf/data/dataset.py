"""The in-memory dataset: one split of the original DoppelGANger triple."""

from __future__ import annotations

import dataclasses

import numpy as np

from dg_tf.data.specs import Output

__all__ = ["Dataset"]


@dataclasses.dataclass
class Dataset:
    """Samples of time series with metadata, in the original DG layout.

    Attributes:
        features: float32 [N, L, K] measurements, zero after each series ends;
            K = total width of ``feature_outputs``.
        attributes: float32 [N, A] metadata, one-hot for discrete outputs;
            A = total width of ``attribute_outputs``.
        gen_flags: float32 [N, L], 1 while a series is active and 0 afterwards.
        feature_outputs: specs of the feature columns (no generation flag).
        attribute_outputs: specs of the attribute columns.
        extras: further arrays of the ``.npz`` (e.g. ``data_feature_min``),
            carried through load and save unchanged.
    """

    features: np.ndarray
    attributes: np.ndarray
    gen_flags: np.ndarray
    feature_outputs: list[Output]
    attribute_outputs: list[Output]
    extras: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def num_samples(self) -> int:
        """N, the number of series."""
        return int(self.features.shape[0])

    @property
    def max_length(self) -> int:
        """L, the padded length of every series."""
        return int(self.features.shape[1])

    @property
    def lengths(self) -> np.ndarray:
        """int32 [N] number of active steps of each series."""
        return np.asarray(self.gen_flags).sum(axis=1).astype(np.int32)
