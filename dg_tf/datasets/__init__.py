"""The datasets shipped inside the package (package data), found by :func:`bundled_dataset`.

- ``fcc_mba``: the paper's FCC Measuring Broadband America triple as the
  DoppelGANger authors published it (600 training and 139 test series of 56
  six-hour steps; features: traffic bytes and ping loss rate; attributes: ISP,
  technology, state). The default dataset of ``python -m dg_tf.train``. Its
  folder also holds ``dg_config.json`` (the recommended config) and
  ``conversion.json`` (feature and level names).

They are installed with dg_tf (``pip install .``, editable or not), so the
default job runs from any folder. The repository's ``data/`` folder holds the
converters that rebuild the paper's datasets from the raw releases.
"""

from __future__ import annotations

from pathlib import Path

from dg_tf.errors import ConfigError

__all__ = ["bundled_dataset", "bundled_dataset_names"]

_FOLDER = Path(__file__).resolve().parent


def bundled_dataset_names() -> list[str]:
    """The names :func:`bundled_dataset` accepts (sorted)."""
    return sorted(path.name for path in _FOLDER.iterdir() if path.is_dir() and not path.name.startswith(("_", ".")))


def bundled_dataset(name: str = "fcc_mba") -> Path:
    """The folder of a bundled dataset (the original triple), e.g. for :func:`dg_tf.load_dataset`.

    Args:
        name: one of :func:`bundled_dataset_names` (``"fcc_mba"``).

    Raises:
        ConfigError: no bundled dataset has that name.
    """
    names = bundled_dataset_names()
    if name not in names:
        raise ConfigError(f"bundled dataset {name!r}: no such dataset; bundled: {', '.join(names)}")
    return _FOLDER / name
