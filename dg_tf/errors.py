"""Exceptions raised by dg_tf.

User errors (bad configuration, malformed data, a diverged run) derive from
:class:`DGError`, so callers can catch everything dg_tf raises on purpose with
one ``except`` clause while programming errors still surface as ordinary
Python exceptions.
"""

from __future__ import annotations

__all__ = ["DGError", "ConfigError", "DataFormatError", "TrainingDivergedError"]


class DGError(Exception):
    """Base class of every error dg_tf raises for bad input or state."""


class ConfigError(DGError, ValueError):
    """A configuration value is invalid; the message names the field and value."""


class DataFormatError(DGError, ValueError):
    """Input data breaks the DoppelGANger format.

    Attributes:
        file: file (or in-memory source) that holds the bad data.
        array: array or field inside it, e.g. ``"data_feature"``.
        index: position of the first offending element, or ``None`` when the
            rule concerns the whole array (a shape, an empty array).
        rule: the rule that is broken, in words.
    """

    def __init__(self, file: str, array: str, index: tuple[int, ...] | int | None, rule: str):
        self.file = str(file)
        self.array = array
        self.index = index
        self.rule = rule
        where = f"{self.file}: {array}"
        if index is not None:
            where += f" at index {index}"
        super().__init__(f"{where}: {rule}")


class TrainingDivergedError(DGError, RuntimeError):
    """A loss became NaN or Inf; the last good checkpoint is left untouched."""
