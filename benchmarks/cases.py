"""The benchmark cases: data shaped like the paper's three datasets (appendix A).

- ``web_traffic``: Wikipedia web traffic (WWT) shape: 550 daily steps, one
  continuous feature, three discrete attributes (domain 9, access type 3,
  agent 2), sample_len 10; batch 100, and ``web_traffic_b1000`` with batch 1000.
- ``fcc_mba``: the bundled real FCC MBA data (``data/FCC_MBA``: 600 series of
  56 steps, 2 continuous features, attributes 15/5/53 levels), sample_len 8.
- ``cluster_trace``: Google cluster usage trace (GCUT) shape: variable length
  1..2500 with most series under 50 steps, 9 continuous features, one 4-level
  attribute (end event type), sample_len 10.

Synthetic values only need the right shapes, ranges and lengths: speed does
not depend on what the series look like. Synthetic cases get
``steps_per_epoch * batch_size`` series, so an epoch has exactly that many full
batches in both implementations.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["CASES", "Case", "CaseData", "TINY_BATCH"]

REPO = Path(__file__).resolve().parent.parent
FCC_MBA = REPO / "data" / "FCC_MBA"
#: Batch size of every case in ``--tiny`` runs.
TINY_BATCH = 8

SpecDict = dict[str, Any]


def _continuous(dim: int = 1) -> SpecDict:
    return {"type": "CONTINUOUS", "dim": dim, "normalization": "ZERO_ONE", "is_gen_flag": False}


def _discrete(levels: int) -> SpecDict:
    return {"type": "DISCRETE", "dim": levels, "normalization": None, "is_gen_flag": False}


@dataclasses.dataclass
class CaseData:
    """Arrays of one case in DG's layout (see :func:`benchmarks.common.write_case`)."""

    features: np.ndarray
    attributes: np.ndarray
    gen_flags: np.ndarray
    feature_outputs: list[SpecDict]
    attribute_outputs: list[SpecDict]


def _one_hot(rng: np.random.Generator, n: int, levels: int) -> np.ndarray:
    return np.eye(levels, dtype=np.float32)[rng.integers(0, levels, n)]


def web_traffic(n: int, length: int, rng: np.random.Generator) -> CaseData:
    """WWT-shaped data: [n, length, 1] weekly-periodic views in [0, 1], attributes 9/3/2 one-hot."""
    t = np.arange(length)[None, :]
    level = rng.uniform(0.1, 0.8, (n, 1))
    weekly = 0.1 * np.sin(2 * np.pi * t / 7 + rng.uniform(0, 2 * np.pi, (n, 1)))
    views = np.clip(level + weekly + rng.normal(0, 0.03, (n, length)), 0, 1)
    levels = (9, 3, 2)
    return CaseData(
        features=views[..., None].astype(np.float32),
        attributes=np.concatenate([_one_hot(rng, n, k) for k in levels], axis=1),
        gen_flags=np.ones((n, length), np.float32),
        feature_outputs=[_continuous()],
        attribute_outputs=[_discrete(k) for k in levels],
    )


def cluster_lengths(n: int, max_length: int, rng: np.random.Generator) -> np.ndarray:
    """GCUT-like lengths in [1, max_length]: log-normal around 15 steps (about 87%
    under 50), 2% spread uniformly up to ``max_length``, and series 0 exactly
    ``max_length`` long so the padded length is ``max_length``."""
    lengths = np.clip(np.round(np.exp(rng.normal(np.log(15), 1.0, n))), 1, max_length).astype(np.int64)
    long = rng.random(n) < 0.02
    lengths[long] = rng.integers(min(50, max_length), max_length + 1, int(long.sum()))
    lengths[0] = max_length
    return lengths


def cluster_trace(n: int, max_length: int, rng: np.random.Generator) -> CaseData:
    """GCUT-shaped data: [n, max_length, 9] usage in [0, 1], zero after each end; a 4-level attribute."""
    lengths = cluster_lengths(n, max_length, rng)
    flags = (np.arange(max_length)[None, :] < lengths[:, None]).astype(np.float32)
    base = rng.uniform(0.05, 0.6, (n, 1, 9))
    walk = np.cumsum(rng.normal(0, 0.02, (n, max_length, 9)), axis=1)
    usage = np.clip(base + walk, 0, 1) * flags[..., None]
    return CaseData(
        features=usage.astype(np.float32),
        attributes=_one_hot(rng, n, 4),
        gen_flags=flags,
        feature_outputs=[_continuous() for _ in range(9)],
        attribute_outputs=[_discrete(4)],
    )


def fcc_mba(n: int | None) -> CaseData:
    """The bundled FCC MBA training split (its first ``n`` series; all when ``None``)."""
    from dg_tf import load_dataset  # dg_tf's restricted unpickler reads the spec pickles

    data = load_dataset(FCC_MBA)
    rows = slice(None) if n is None else slice(0, n)
    return CaseData(
        features=data.features[rows],
        attributes=data.attributes[rows],
        gen_flags=data.gen_flags[rows],
        feature_outputs=[o.to_dict() for o in data.feature_outputs],
        attribute_outputs=[o.to_dict() for o in data.attribute_outputs],
    )


@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmark case.

    Attributes:
        name: the ``--cases`` key.
        title: one line for the table and README.
        sample_len: S.
        batch_size: training batch size.
        gen_n: series generated in the timed generation call.
        length / tiny_length: padded series length L (full and ``--tiny``);
            ``None`` for a real dataset, whose length is fixed.
        synthesize: ``(num_series, length, rng) -> CaseData``; ``None`` for FCC MBA.
    """

    name: str
    title: str
    sample_len: int
    batch_size: int
    gen_n: int
    length: int | None = None
    tiny_length: int | None = None
    synthesize: Callable[[int, int, np.random.Generator], CaseData] | None = None

    def build(self, *, tiny: bool, steps_per_epoch: int, seed: int = 0) -> CaseData:
        """The case's data; ``tiny`` shrinks lengths and series counts for CI."""
        batch = TINY_BATCH if tiny else self.batch_size
        if self.synthesize is None:
            return fcc_mba(steps_per_epoch * batch if tiny else None)
        length = self.tiny_length if tiny else self.length
        return self.synthesize(steps_per_epoch * batch, length, np.random.default_rng(seed))


CASES: dict[str, Case] = {
    case.name: case
    for case in [
        Case("web_traffic", "web-traffic shape: L=550, 1 feature, attributes 9/3/2, S=10, batch 100",
             sample_len=10, batch_size=100, gen_n=10_000, length=550, tiny_length=20, synthesize=web_traffic),
        Case("web_traffic_b1000", "web-traffic shape, batch 1000",
             sample_len=10, batch_size=1000, gen_n=10_000, length=550, tiny_length=20, synthesize=web_traffic),
        Case("fcc_mba", "FCC MBA (data/FCC_MBA): 600 x 56, 2 features, attributes 15/5/53, S=8, batch 100",
             sample_len=8, batch_size=100, gen_n=10_000),
        Case("cluster_trace", "cluster-trace shape: L=1..2500 (most < 50), 9 features, 4-level attribute, "
             "S=10, batch 100", sample_len=10, batch_size=100, gen_n=2_000, length=2500, tiny_length=40,
             synthesize=cluster_trace),
    ]
}
