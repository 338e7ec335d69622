"""Shared fixtures: a tiny deterministic toy dataset and a tiny model config."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from dg_tf import Dataset, DGConfig, Normalization, Output, OutputType, bundled_dataset

REPO = Path(__file__).resolve().parent.parent
FCC_MBA = bundled_dataset("fcc_mba")
#: The real long-format CSVs beside the repository (``../shared/data``).
SHARED_DATA = REPO.parent / "shared" / "data"
#: A line of TensorFlow's C++ start-up (absl log records, absl's notice, CUDA, oneDNN): only with ``--verbose``.
TF_START_UP = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|cuInit|oneDNN", re.M)
#: Environment variables that mark a CI run: the standard ``CI`` (GitHub Actions, GitLab, ...) or our own.
CI_VARIABLES = ("CI", "DG_TF_CI")


def in_ci() -> bool:
    """Whether this is a CI run: ``CI`` or ``DG_TF_CI`` is set to anything but empty, ``0`` or ``false``."""
    return any(os.environ.get(name, "").strip().lower() not in ("", "0", "false") for name in CI_VARIABLES)


def require_data(path: Path) -> None:
    """Let a real-data test run only when ``path`` exists: in CI a missing folder fails the test, else it skips.

    Call it first in the test (or in an autouse fixture for a whole module), so a
    CI machine without the data reports failures instead of a green run.
    """
    if path.exists():
        return
    if in_ci():
        pytest.fail(f"{path} is missing but this is a CI run ({' or '.join(CI_VARIABLES)} is set): "
                    "the real-data tests must run in CI", pytrace=False)
    pytest.skip(f"{path} is absent (outside CI the real-data tests are skipped)")


def make_toy_dataset(n: int = 48, length: int = 8, seed: int = 0, variable_length: bool = True) -> Dataset:
    """Sine-like series whose level depends on a discrete attribute.

    Features: one ZERO_ONE column and one MINUSONE_ONE column, plus a 2-way
    discrete feature; attributes: a 3-way discrete and one ZERO_ONE value.
    """
    rng = np.random.default_rng(seed)
    category = rng.integers(0, 3, n)
    level = rng.uniform(0, 1, n)
    lengths = rng.integers(2, length + 1, n) if variable_length else np.full(n, length)
    steps = np.arange(length)
    flags = (steps[None, :] < lengths[:, None]).astype(np.float32)
    wave = 0.5 + 0.4 * np.sin(steps[None, :] * (category[:, None] + 1) / 2.0 + level[:, None] * 6)
    other = np.clip(np.cos(steps[None, :] / 3.0) * level[:, None], -1, 1)
    discrete = np.eye(2)[(steps[None, :] + category[:, None]) % 2]
    features = np.concatenate([wave[..., None], other[..., None], discrete], axis=-1) * flags[..., None]
    attributes = np.concatenate([np.eye(3)[category], level[:, None]], axis=1)
    return Dataset(
        features=features.astype(np.float32),
        attributes=attributes.astype(np.float32),
        gen_flags=flags,
        feature_outputs=[
            Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
            Output(OutputType.CONTINUOUS, 1, Normalization.MINUSONE_ONE),
            Output(OutputType.DISCRETE, 2),
        ],
        attribute_outputs=[
            Output(OutputType.DISCRETE, 3),
            Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
        ],
    )


#: A model small enough to train in well under a second per epoch.
TINY = dict(
    sample_len=2,
    attribute_hidden_units=8,
    feature_lstm_units=8,
    critic_hidden_layers=2,
    critic_hidden_units=16,
    aux_critic_hidden_layers=2,
    aux_critic_hidden_units=16,
    batch_size=16,
    epochs=2,
    figure_every=0,
    generate_batch_size=32,
    seed=7,
)


@pytest.fixture
def toy_dataset() -> Dataset:
    return make_toy_dataset()


@pytest.fixture
def tiny_config() -> DGConfig:
    return DGConfig(**TINY)


@pytest.fixture(scope="session")
def fcc_mba() -> Dataset:
    from dg_tf import load_dataset

    require_data(FCC_MBA)
    return load_dataset(FCC_MBA)
