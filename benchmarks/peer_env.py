"""The peer's own virtual environment: PyTorch (CPU) and gretel-synthetics' DGAN.

gretel-synthetics pins old NumPy/pandas and pulls in TensorFlow-era extras, so
it gets a venv of its own, outside the repository by default
(``~/.cache/dg_tf_bench/gretel-venv``; ``--peer-venv`` or ``DG_TF_BENCH_PEER_VENV``
override it). It is built once with ``python3 -m venv`` and pip:

1. ``pip install torch==2.13.0 "numpy<1.24" "pandas<2" category-encoders==2.4.0 tqdm scikit-learn``
2. ``pip install --no-deps gretel-synthetics``

and reused while ``import gretel_synthetics.timeseries_dgan.dgan`` works in it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["DEFAULT_VENV", "PEER_REQUIREMENTS", "ensure_peer_venv"]

logger = logging.getLogger(__name__)

DEFAULT_VENV = Path(
    os.environ.get("DG_TF_BENCH_PEER_VENV", Path.home() / ".cache" / "dg_tf_bench" / "gretel-venv")
)
#: Installed with their dependencies.
PEER_REQUIREMENTS = ("torch==2.13.0", "numpy<1.24", "pandas<2", "category-encoders==2.4.0", "tqdm", "scikit-learn")
#: Installed with ``--no-deps`` (its declared dependencies include TensorFlow 2.x and newer pins).
PEER_NO_DEPS = ("gretel-synthetics",)
PROBE = "import gretel_synthetics.timeseries_dgan.dgan, torch, numpy; print(torch.__version__, numpy.__version__)"


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _works(venv: Path) -> bool:
    python = _python(venv)
    if not python.is_file():
        return False
    probe = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True)
    return probe.returncode == 0


def ensure_peer_venv(venv: Path = DEFAULT_VENV, base_python: str = "python3") -> Path:
    """Create (or reuse) the peer venv; returns its Python executable.

    Raises:
        RuntimeError: a step failed; the message names the command and pip's last lines.
    """
    venv = Path(venv)
    if _works(venv):
        return _python(venv)
    logger.info("building the peer venv in %s (takes a minute or two)", venv)
    pip = [str(_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    for command in (
        [base_python, "-m", "venv", "--clear", str(venv)],
        pip + list(PEER_REQUIREMENTS),
        pip + ["--no-deps", *PEER_NO_DEPS],
    ):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
            raise RuntimeError(f"building the peer venv failed: {' '.join(command)}\n{tail}")
    if not _works(venv):
        raise RuntimeError(f"{venv}: gretel_synthetics still does not import after installing")
    return _python(venv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(ensure_peer_venv(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VENV))
