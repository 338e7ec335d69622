"""Partial conditioning: attributes of which only some are given, the rest drawn conditioned on them.

DoppelGANger's conditional generation (paper §4.3) takes *every* attribute
of a series and runs only the min/max and feature generators. Users often
know only some labels ("state=NSW, the rest as in the data"). The attribute
generator draws the attributes in column order from one noise vector (with
``chained_attributes`` each head also given the ones before it), so a given
label cannot simply be fed in: the attributes before it depend on it, and the
noise that would have drawn it also drives the ones after it;
:func:`complete_attributes` samples the learned conditional distribution by
**rejection**: it draws attribute vectors from the trained attribute generator
(cheap: no LSTM) and keeps, for each requested row, a draw whose discrete
outputs equal the row's given ones. A kept draw is a sample of the model's
distribution of the other attributes given those labels, exactly. Given
continuous values cannot be matched exactly: among the accepted draws (a
pool of :data:`CONTINUOUS_POOL` per row), each row takes the unused draw
nearest to its given values (sum of absolute differences in the model's
[0, 1] scale), a nearest-neighbour approximation of the conditional. The
given outputs are then written over the draw, so they are honoured exactly.

Cost: a label combination the model generates with probability p needs
about 1/p draws per row; the draws stop at ``max_draws`` with an error
naming the row (a combination the model never generates cannot be
completed, but may still be given in full: every attribute given needs no
draw).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from dg_tf.data.specs import Output
from dg_tf.errors import DGError
from dg_tf.transforms import split_outputs

__all__ = ["complete_attributes", "CONTINUOUS_POOL", "MAX_DRAWS"]

#: Accepted draws kept per row that gives a continuous value, to choose the nearest from.
CONTINUOUS_POOL = 16
#: Default cap on the attribute vectors drawn for one call.
MAX_DRAWS = 10_000_000


def complete_attributes(
    draw: Callable[[int], np.ndarray],
    outputs: Sequence[Output],
    attributes: np.ndarray,
    given: np.ndarray,
    *,
    batch_size: int = 16384,
    max_draws: int = MAX_DRAWS,
    describe: Callable[[int], str] | None = None,
) -> np.ndarray:
    """Complete partially given attribute rows with the model's conditional distribution (module docstring).

    Args:
        draw: ``draw(b)`` -> float32 [b, A] attribute vectors from the trained
            attribute generator (discrete outputs one-hot), a fresh sample each call.
        outputs: the attribute outputs (the blocks of A).
        attributes: float32 [n, A] given values (one-hot for discrete outputs);
            blocks not given are ignored.
        given: bool [n, len(outputs)] which outputs of each row are given.
        batch_size: draws per call of ``draw``.
        max_draws: stop drawing after this many vectors.
        describe: ``describe(row)`` -> text naming the given labels of a row,
            for the error; default the output indices and values.

    Returns:
        float32 [n, A]: each row's given outputs as given, the others from an
        accepted draw (no draw serves two rows).

    Raises:
        DGError: fewer draws than needed matched a row's given labels within
            ``max_draws`` (the message names the first such row).
    """
    attributes = np.asarray(attributes, np.float32)
    given = np.asarray(given, bool)
    discrete = np.array([o.is_discrete for o in outputs], bool)
    keys = np.where(given & discrete, _codes(attributes, outputs), -1)  # -1: not given (or continuous)
    needs_pool = (given & ~discrete).any(axis=1)
    open_rows = np.flatnonzero(~given.all(axis=1))
    result = attributes.copy()
    if open_rows.size == 0:
        return result
    # one group per distinct (discrete labels, whether a continuous value is given)
    group_keys, group_of = np.unique(np.column_stack([keys[open_rows], needs_pool[open_rows]]), axis=0,
                                     return_inverse=True)
    group_rows = [open_rows[group_of == g] for g in range(len(group_keys))]
    per_row = np.where(group_keys[:, -1] == 1, CONTINUOUS_POOL, 1)  # accepted draws kept per row
    wanted = per_row * np.array([len(rows) for rows in group_rows])
    accepted: list[list[np.ndarray]] = [[] for _ in group_rows]
    found = np.zeros(len(group_rows), np.int64)
    drawn = 0
    while (found < wanted).any():
        if drawn >= max_draws:
            g = int(np.argmax(found < wanted))
            row = int(group_rows[g][0])
            what = describe(row) if describe is not None else _describe(keys[row])
            raise DGError(
                f"conditions row {row} ({what}): the model drew {found[g] // per_row[g]} of the {len(group_rows[g])} series with these labels in {drawn} attribute draws; it (almost) never "
                "generates this combination: give every attribute of these rows, or fewer labels"
            )
        candidates = np.asarray(draw(batch_size), np.float32)
        drawn += len(candidates)
        candidate_codes = _codes(candidates, outputs)
        free = np.ones(len(candidates), bool)
        for g in np.flatnonzero(found < wanted):
            labels = group_keys[g][:-1]
            matches = free & (((candidate_codes == labels) | (labels < 0)).all(axis=1))
            take = np.flatnonzero(matches)[: wanted[g] - found[g]]
            free[take] = False
            accepted[g].append(candidates[take])
            found[g] += len(take)
    for g, rows in enumerate(group_rows):
        pool = np.concatenate(accepted[g])
        if group_keys[g][-1]:
            pool = _nearest(pool, attributes[rows], given[rows], outputs)
        result[rows] = pool[: len(rows)]
    # the given outputs exactly as given
    widths = np.array([o.dim for o in outputs])
    given_columns = np.repeat(given, widths, axis=1)
    return np.where(given_columns, attributes, result).astype(np.float32)


def _codes(values: np.ndarray, outputs: Sequence[Output]) -> np.ndarray:
    """int64 [n, len(outputs)]: the argmax level of each discrete output of ``values`` [n, A] (0 for continuous)."""
    blocks = split_outputs(values, outputs)
    return np.stack([b.argmax(-1) if o.is_discrete else np.zeros(len(values), np.int64)
                     for b, o in zip(blocks, outputs)], axis=1) if outputs else np.zeros((len(values), 0), np.int64)


def _nearest(pool: np.ndarray, targets: np.ndarray, given: np.ndarray, outputs: Sequence[Output]) -> np.ndarray:
    """For each target row in order, the unused pool row nearest on its given continuous outputs: [len(targets), A]."""
    widths = np.array([o.dim for o in outputs])
    columns = np.repeat(given & np.array([not o.is_discrete for o in outputs]), widths, axis=1)  # [m, A]
    used = np.zeros(len(pool), bool)
    chosen = np.empty(len(targets), np.int64)
    for i, (target, mask) in enumerate(zip(targets, columns)):
        distance = np.abs(pool[:, mask] - target[mask]).sum(axis=1)
        distance[used] = np.inf
        chosen[i] = int(np.argmin(distance))
        used[chosen[i]] = True
    return pool[chosen]


def _describe(keys: np.ndarray) -> str:
    return ", ".join(f"attribute output {j} = level {k}" for j, k in enumerate(keys) if k >= 0) or "continuous values"
