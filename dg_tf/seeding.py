"""Derivation of independent seeds from the one seed of a config.

dg_tf never touches global random state: every
random draw uses a seed or a ``tf.random.Generator`` derived here from
``DGConfig.seed`` and a purpose name, so two purposes never share a stream.
"""

from __future__ import annotations

import hashlib

__all__ = ["derive_seed"]


def derive_seed(seed: int, *purpose: str | int) -> int:
    """A 31-bit seed determined by ``seed`` and the purpose path, e.g. ``("generator", 3)``."""
    text = "/".join([str(seed), *map(str, purpose)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF
