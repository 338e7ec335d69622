"""Output specifications: the original DoppelGANger ``output`` module's classes.

An :class:`Output` describes one variable (a block of columns) of the
attributes or of the features: its type, width and, for continuous values,
the range the values are scaled to. The enum values are the original strings,
so pickles written by the original TF1 code round-trip, and enums are compared
by value (never identity, see original issue #45).

No I/O here; see :mod:`dg_tf.data.loading`.
"""

from __future__ import annotations

import enum
from typing import Any, Sequence

from dg_tf.limits import OUTPUT_DIM, brief

__all__ = ["OutputType", "Normalization", "Output", "gen_flag_output", "total_dim"]


class OutputType(enum.Enum):
    """Kind of an output: continuous values or one categorical (one-hot) variable."""

    CONTINUOUS = "CONTINUOUS"
    DISCRETE = "DISCRETE"


class Normalization(enum.Enum):
    """Range a continuous output is scaled to: ``[0, 1]`` or ``[-1, 1]``."""

    ZERO_ONE = "ZERO_ONE"
    MINUSONE_ONE = "MINUSONE_ONE"

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of the range."""
        return (0.0, 1.0) if self is Normalization.ZERO_ONE else (-1.0, 1.0)


class Output:
    """One attribute or feature variable, as in the original ``output.Output``.

    Args:
        type_: continuous or discrete.
        dim: number of columns; for a discrete output, the number of categories
            (its one-hot width).
        normalization: range of a continuous output; must be ``None`` for a
            discrete one.
        is_gen_flag: marks the 2-way generation-flag output that dg_tf appends
            to the features itself (paper appendix B).

    Raises:
        ValueError: the combination is invalid (e.g. continuous without range).
    """

    def __init__(
        self,
        type_: OutputType,
        dim: int,
        normalization: Normalization | None = None,
        is_gen_flag: bool = False,
    ):
        self.type_ = type_
        self.dim = dim
        self.normalization = normalization
        self.is_gen_flag = is_gen_flag
        problem = self.problem()
        if problem:
            raise ValueError(problem)

    def problem(self) -> str | None:
        """Return why this spec is invalid, or ``None`` if it is valid.

        Unpickled specs bypass ``__init__``; loaders call this to check them.
        """
        if not isinstance(self.type_, OutputType):
            return f"type_={brief(self.type_)} is not an OutputType"
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim < 1:
            return f"dim={brief(self.dim)} must be a positive integer"
        too_wide = OUTPUT_DIM.excess(self.dim)
        if too_wide is not None:
            return f"dim: {too_wide}"
        if self.type_ == OutputType.CONTINUOUS and not isinstance(self.normalization, Normalization):
            return f"continuous output needs a Normalization, got normalization={brief(self.normalization)}"
        if self.type_ == OutputType.DISCRETE and self.normalization is not None:
            return f"discrete output must have normalization=None, got {brief(self.normalization)}"
        if not isinstance(self.is_gen_flag, bool):
            return f"is_gen_flag={brief(self.is_gen_flag)} must be a bool"
        if self.is_gen_flag and (self.type_ != OutputType.DISCRETE or self.dim != 2):
            return "the generation-flag output must be DISCRETE with dim=2"
        return None

    @property
    def is_discrete(self) -> bool:
        return self.type_ == OutputType.DISCRETE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; inverse of :meth:`from_dict`."""
        return {
            "type": self.type_.value,
            "dim": self.dim,
            "normalization": None if self.normalization is None else self.normalization.value,
            "is_gen_flag": self.is_gen_flag,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Output":
        norm = data.get("normalization")
        return cls(
            OutputType(data["type"]),
            int(data["dim"]),
            None if norm is None else Normalization(norm),
            bool(data.get("is_gen_flag", False)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Output):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().items()))

    def __repr__(self) -> str:
        norm = "" if self.normalization is None else f", {self.normalization.name}"
        flag = ", is_gen_flag=True" if self.is_gen_flag else ""
        return f"Output({self.type_.name}, {self.dim}{norm}{flag})"


def gen_flag_output() -> Output:
    """The 2-way discrete generation-flag output appended to the features.

    Channel 0 means "the series continues after this step", channel 1 "it ends here".
    """
    return Output(OutputType.DISCRETE, 2, is_gen_flag=True)


def total_dim(outputs: list[Output]) -> int:
    """Sum of the widths of ``outputs`` (the number of columns they span)."""
    return sum(o.dim for o in outputs)


def continuous_columns(outputs: list[Output], names: Sequence[str] | None = None) -> list[tuple[int, str]]:
    """``(column, name)`` of every continuous column spanned by ``outputs``.

    Column indices count over all columns (discrete one-hot blocks included).
    ``names[i]`` names output i (default ``"feature i"``); ``[j]`` is appended
    for the j-th column of a multi-column output.
    """
    names = [f"feature {i}" for i in range(len(outputs))] if names is None else list(names)
    columns = []
    start = 0
    for index, output in enumerate(outputs):
        if output.type_ == OutputType.CONTINUOUS:
            suffix = [f"[{j}]" if output.dim > 1 else "" for j in range(output.dim)]
            columns += [(start + j, f"{names[index]}{suffix[j]}") for j in range(output.dim)]
        start += output.dim
    return columns
