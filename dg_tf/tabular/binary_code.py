"""Binary codes of high-cardinality categories: level index <-> bits, and decoding generated bits.

A discrete column of K levels is one-hot in DoppelGANger (paper §3.2): K
columns, one softmax. Above ``max_onehot_levels`` levels
(:mod:`~dg_tf.tabular.columns`) a level's index ``k`` is written instead as
its ``B = ceil(log2(K))`` bits (at least 1), most significant first, each a
2-way DISCRETE output (a softmax over ``{0, 1}``, i.e. the one-hot columns
``[1 - bit, bit]``): the block is ``[n, 2 * B]`` wide, 26 columns for 5,000
levels. The bits of a training value are exact, so the round trip is exact.

Generated bits can spell a code ``>= K`` that names no level. Decoding then
takes the *most probable valid code*: the ``k < K`` that maximises
``sum_b log p_b(bit_b(k))`` over the bits' probabilities ``p_b`` (clipped
below at ``1e-12``), ties going to the smaller code. This is the argmax of
every bit whenever that code is valid (always for training data); for hard
0/1 bits, as :meth:`~dg_tf.DoppelGANger.generate` returns them, it is the
valid code nearest in Hamming distance (the smallest of the nearest). So a
decoded code always names a real level.

Pure NumPy, no pandas.
"""

from __future__ import annotations

import numpy as np

__all__ = ["num_bits", "encode_bits", "decode_bits"]

#: Probabilities are clipped to at least this before their log.
_MIN_PROBABILITY = 1e-12


def num_bits(levels: int) -> int:
    """``ceil(log2(levels))``, at least 1: the bits that number ``levels`` codes (13 for 5,000)."""
    return max((levels - 1).bit_length(), 1)


def encode_bits(codes: np.ndarray, levels: int) -> np.ndarray:
    """int [n] codes in ``[0, levels)`` -> float32 [n, 2 * B] one-hot bits, most significant first."""
    width = num_bits(levels)
    bits = (np.asarray(codes, dtype=np.int64)[:, None] >> np.arange(width - 1, -1, -1)) & 1  # [n, B]
    return np.stack([1 - bits, bits], axis=-1).reshape(len(bits), 2 * width).astype(np.float32)


def decode_bits(block: np.ndarray, levels: int) -> np.ndarray:
    """float [n, 2 * B] bit probabilities (or one-hot bits) -> int64 [n] the most probable codes below ``levels``.

    A valid code other than ``top = levels - 1`` first differs from ``top``
    at a bit where ``top`` has 1 and the code 0; the best code with that
    prefix takes the more probable value of every later bit. So the best
    valid code is among these ``B + 1`` candidates (``top`` itself included),
    which are in increasing order: the first of the cheapest is the smallest.
    """
    n, width = len(block), num_bits(levels)
    probabilities = np.maximum(np.asarray(block, dtype=np.float64).reshape(n, width, 2), _MIN_PROBABILITY)
    logp = np.log(probabilities)  # [n, B, 2]
    best = (probabilities[..., 1] > probabilities[..., 0]).astype(np.int64)  # [n, B]; ties -> 0
    shifts = np.arange(width - 1, -1, -1)
    codes = (best << shifts).sum(axis=1)
    top = levels - 1
    bad = codes > top
    if not bad.any():
        return codes
    best, logp = best[bad], logp[bad]
    cost = np.abs(logp[..., 1] - logp[..., 0])  # [m, B] log-likelihood lost by flipping each bit
    top_bits = (top >> shifts) & 1  # [B]
    prefix = np.cumsum(np.where(best != top_bits, cost, 0.0), axis=1)  # cost of following top through bit j
    before = np.concatenate([np.zeros((len(best), 1)), prefix[:, :-1]], axis=1)
    candidates = np.where(top_bits == 1, before + np.where(best == 1, cost, 0.0), np.inf)  # [m, B]: 0 at bit j
    candidates = np.concatenate([candidates, prefix[:, -1:]], axis=1)  # [m, B + 1]: ... and top itself
    j = np.argmin(candidates, axis=1)
    position = np.arange(width)[None, :]
    repaired = np.where(position < j[:, None], top_bits, np.where(position > j[:, None], best, 0))
    codes[bad] = (repaired << shifts).sum(axis=1)
    return codes
