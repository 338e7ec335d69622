"""The run folder: a saved model or a training run. Its layout is written and read here only.

::

    RUN/
      config.json            the DGConfig (flat JSON)
      model.json             {"format": "dg_tf-model-1", "encoding": ...}: specs, sizes, lengths
      weights/weights.*      the networks (a tf.train.Checkpoint), written when training ends
      privacy.json           the PrivacyReport of a differentially private model (paper §6.2)
      table_schema.json      the TableSchema of the table the model was fit on, if any
      checkpoints/ckpt-N.*   training checkpoints: networks, optimizers, RNG, epochs done (N)
      logs/                  TensorBoard (figures/ inside)
      data/                  a table given to ``python -m dg_tf.train --data FILE``, prepared
      synthetic.npz          what ``python -m dg_tf.train`` generates (and synthetic.csv|parquet for a table)

:class:`RunFolder` names every file and reads and writes the model's part of
them: :class:`~dg_tf.model.DoppelGANger` saves and loads through it, the
training loop reads checkpoints through :func:`newest_finite_checkpoint`, and
the command-line tools ask it where things go. Reading checks every file (one
:class:`~dg_tf.errors.DGError` naming the file and field).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

from dg_tf.config import DGConfig
from dg_tf.encoding import Encoding
from dg_tf.errors import DataFormatError, DGError
from dg_tf.fileio import atomic_write, file_sha256, open_regular, read_json
from dg_tf.limits import brief
from dg_tf.privacy_accounting import PrivacyReport
from dg_tf.tabular.folder import SCHEMA_FILE
from dg_tf.tabular.schema import TableSchema

__all__ = [
    "CHECKPOINT_ERRORS",
    "CHECKPOINT_NAME",
    "RunFolder",
    "checkpoint_problem",
    "newest_finite_checkpoint",
]

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
#: Config fields added after models were first saved, each with the value that a saved ``config.json``
#: without it meant (the behaviour before the field existed), so that an older folder loads as it was trained.
FIELDS_ADDED_AFTER_RELEASE = {"chained_attributes": False, "generator_ema": None, "standing_statistics": False,
                              "aux_critic_straight_through": False, "aux_critic_probabilities_and_one_hot": False,
                              "critic_probabilities_and_one_hot": False}
MODEL_FILE = "model.json"
MODEL_FORMAT = "dg_tf-model-1"
WEIGHTS_PREFIX = "weights/weights"
PRIVACY_FILE = "privacy.json"
CHECKPOINTS_DIR = "checkpoints"
#: Checkpoints are ``<CHECKPOINTS_DIR>/<CHECKPOINT_NAME>-<epochs done>.*``.
CHECKPOINT_NAME = "ckpt"
LOGS_DIR = "logs"
PREPARED_DIR = "data"
SYNTHETIC_NAME = "synthetic"

#: What reading a damaged or mismatched checkpoint raises (TensorFlow reports a short file as IndexError).
CHECKPOINT_ERRORS = (AssertionError, ValueError, IndexError, KeyError, tf.errors.OpError)


def checkpoint_problem(path: str) -> str | None:
    """Why the checkpoint at ``path`` is unusable (a non-finite tensor, unreadable), or ``None``."""
    try:
        reader = tf.train.load_checkpoint(path)
        for name, dtype in sorted(reader.get_variable_to_dtype_map().items()):
            if dtype.is_floating and not np.isfinite(reader.get_tensor(name)).all():
                return f"tensor {name} holds NaN or Inf"
    except CHECKPOINT_ERRORS as err:
        return f"unreadable ({type(err).__name__})"
    return None


def newest_finite_checkpoint(directory: str | Path) -> str | None:
    """The newest checkpoint in ``directory`` whose float tensors are all finite (others are logged), or ``None``."""
    state = tf.train.get_checkpoint_state(str(directory))
    for path in reversed(list(state.all_model_checkpoint_paths) if state is not None else []):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        logger.warning("skipping checkpoint %s: %s", path, problem)
    return None


#: The run folder's files and folders, by the :class:`RunFolder` attribute that holds each one's path.
LAYOUT = {
    "config_file": CONFIG_FILE,
    "model_file": MODEL_FILE,
    "weights_prefix": WEIGHTS_PREFIX,
    "privacy_file": PRIVACY_FILE,
    "schema_file": SCHEMA_FILE,
    "checkpoints": CHECKPOINTS_DIR,
    "logs": LOGS_DIR,
    "prepared_data": PREPARED_DIR,
}


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """The files of one run or model folder (see the module docstring).

    Args:
        path: the folder (need not exist yet).

    Attributes:
        config_file, model_file, weights_prefix, privacy_file, schema_file,
        checkpoints, logs, prepared_data: the paths of :data:`LAYOUT`
            (``prepared_data``: where ``python -m dg_tf.train`` prepares a
            table given as ``--data``).
    """

    path: Path
    config_file: Path = dataclasses.field(init=False, repr=False)
    model_file: Path = dataclasses.field(init=False, repr=False)
    weights_prefix: Path = dataclasses.field(init=False, repr=False)
    privacy_file: Path = dataclasses.field(init=False, repr=False)
    schema_file: Path = dataclasses.field(init=False, repr=False)
    checkpoints: Path = dataclasses.field(init=False, repr=False)
    logs: Path = dataclasses.field(init=False, repr=False)
    prepared_data: Path = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        path = Path(self.path)
        object.__setattr__(self, "path", path)
        for name, relative in LAYOUT.items():
            object.__setattr__(self, name, path / relative)

    def synthetic_file(self, file_format: str = "npz") -> Path:
        """``synthetic.<format>``: what ``python -m dg_tf.train`` generates after training."""
        return self.path / f"{SYNTHETIC_NAME}.{file_format}"

    def has_checkpoint(self) -> bool:
        """Whether training has saved a checkpoint here (what ``--resume`` continues from)."""
        return any(self.checkpoints.glob(f"{CHECKPOINT_NAME}-*.index"))

    # ---------------------------------------------------------------- description
    def write_description(self, config: DGConfig, encoding: Encoding) -> None:
        """Write ``config.json`` and ``model.json`` (atomically), creating the folder."""
        self.path.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.config_file, "w") as f:
            f.write(config.to_json())
        with atomic_write(self.model_file, "w") as f:
            json.dump({"format": MODEL_FORMAT, "encoding": encoding.to_dict()}, f, indent=2)

    def require_model(self) -> None:
        """Raise :class:`DGError` unless ``config.json`` and ``model.json`` are here."""
        for file in (self.config_file, self.model_file):
            if not file.exists():
                raise DGError(f"{self.path}: missing {file.name}; is this a dg_tf model or run folder?")

    def read_config(self) -> DGConfig:
        """``config.json`` (:meth:`DGConfig.from_file`; errors name the file).

        A field it lacks takes the value of :data:`FIELDS_ADDED_AFTER_RELEASE`
        where there is one (the folder was saved before the field existed), else its default.
        """
        return DGConfig.from_file(self.config_file, absent=FIELDS_ADDED_AFTER_RELEASE)

    def read_encoding(self) -> Encoding:
        """The :class:`Encoding` in ``model.json``, every field checked (errors name the file and field)."""
        where = str(self.model_file)
        data = read_json(self.model_file)
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            got = brief(data.get("format")) if isinstance(data, dict) else f"a JSON {type(data).__name__}"
            raise DataFormatError(where, "format", None,
                                  f"must be {MODEL_FORMAT!r} (a dg_tf model description), got {got}")
        return Encoding.from_dict(data.get("encoding"), where, "encoding.")

    # ---------------------------------------------------------------- weights
    def write_weights(self, networks: dict[str, tf.Module]) -> None:
        """Write the networks' variables to ``weights/``."""
        tf.train.Checkpoint(**networks).write(str(self.weights_prefix))

    def read_weights(self, networks: dict[str, tf.Module]) -> None:
        """Read ``weights/`` into the (built) networks.

        Raises:
            DGError: no weights (training not finished).
            DataFormatError: a weights file is not a regular file, is
                truncated, does not match the networks' sizes, or holds NaN/Inf.
        """
        prefix = self.weights_prefix
        if not Path(f"{prefix}.index").exists():
            raise DGError(f"{self.path}: no weights at {prefix} (training not finished?)")
        for file in prefix.parent.glob(prefix.name + ".*"):
            with open_regular(file):  # TensorFlow would block on a FIFO or read /dev/zero forever
                pass
        try:
            tf.train.Checkpoint(**networks).read(str(prefix)).assert_existing_objects_matched()
        except CHECKPOINT_ERRORS as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise DataFormatError(
                f"{prefix}.index", "weights", None,
                f"cannot be read or do not match the sizes in {CONFIG_FILE} and {MODEL_FILE} "
                f"(truncated or edited?): {first[:200]}",
            ) from None
        for variable in (v for network in networks.values() for v in network.variables):
            if not np.isfinite(variable.numpy()).all():
                raise DataFormatError(f"{prefix}.index", "weights", None, f"{variable.path} holds NaN or Inf")

    # ---------------------------------------------------------------- what the model carries
    def write_records(self, privacy: PrivacyReport | None, schema: TableSchema | None) -> None:
        """Write ``privacy.json`` and ``table_schema.json``; remove the one the model has not (one an earlier
        model left would be a false claim about this one)."""
        for record, file in ((privacy, self.privacy_file), (schema, self.schema_file)):
            if record is not None:
                record.save(file)
            else:
                file.unlink(missing_ok=True)

    def read_records(self) -> tuple[PrivacyReport | None, TableSchema | None]:
        """The privacy report and the table schema, each ``None`` where the folder has none."""
        return (PrivacyReport.load(self.privacy_file) if self.privacy_file.is_file() else None,
                TableSchema.load(self.schema_file) if self.schema_file.is_file() else None)

    def fingerprint(self) -> str:
        """SHA-256 of ``config.json``, ``model.json`` and the ``weights/`` files.

        Identifies the trained model (not its location), so that a resumed
        sharded generation can tell it still samples from the same weights.
        """
        weights = self.weights_prefix
        files: Sequence[Path] = [self.config_file, self.model_file,
                                 *sorted(p for p in weights.parent.glob(weights.name + "*") if p.is_file())]
        digest = hashlib.sha256()
        for file in files:
            digest.update(file.relative_to(self.path).as_posix().encode() + b"\0")
            digest.update(file_sha256(file).encode())
        return digest.hexdigest()
