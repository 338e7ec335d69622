"""Sharded, resumable generation of very large synthetic datasets.

Sampling a trained DoppelGANger (paper §4, §4.3 for conditional generation)
is embarrassingly parallel: every series is an independent draw. To write
millions of series with bounded memory, :func:`generate_shards` splits the
``N`` series into shards of ``K`` (the last one smaller) and writes each as
its own file in an output folder: ``part-00000.npz``, ``part-00001.npz``, ...
(or ``.csv`` / ``.parquet`` tables in the run's columns). Only one shard is
in memory at a time; with ``--attributes`` the conditioning rows are read
from the ``.npz`` shard by shard too (:func:`iter_attribute_chunks`).

The run is identified by :meth:`~dg_tf.run.RunFolder.fingerprint`; the
conditioning attributes are read by :mod:`dg_tf.data.attribute_files`.

Determinism: shard ``i`` is ``model.generate(rows_i, seed=derive_seed(seed,
"shard", i))``, so the output depends only on (run, seed, K, N); it is *not*
the same as one ``generate(N, seed)`` call (each shard has its own noise
stream), and changing K changes the data.

Crash safety: every shard and the ``manifest.json`` are written with
:func:`~dg_tf.fileio.atomic_write` (hidden ``.NAME.RANDOM.tmp`` file, then an
atomic rename), and the manifest is rewritten after each shard. A crash at
any point (even ``kill -9``) leaves only complete shards; stale temporary
files are deleted on the next start. Re-running the same command resumes:
shards the manifest lists whose file still has the recorded size (and, with
``verify``, SHA-256) are kept; the others are generated again. A manifest
written for other settings (run weights, seed, N, K, format, attribute file)
is refused unless ``overwrite``.

Nothing of the user's is ever deleted or replaced: dg_tf removes or rewrites
only the files its own manifest claims (the shards it lists, and the shard
names its plan reserved, such as a shard written just before a crash and not
yet listed). A shard-named file that no manifest of ours claims and that this
generation would write (e.g. the user's own ``part-00000.csv``) is refused,
``overwrite`` or not; an unreadable or foreign ``manifest.json`` too. A plan
may have at most ``DG_TF_MAX_SHARDS`` shards (the manifest lists them all).

This module is a little longer than 400 lines: the plan, the manifest and the
writer share the rules of which files are ours; split apart, the safety
argument above would span three files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import re
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from dg_tf.data.attribute_files import attribute_rows, check_attribute_file, iter_attribute_chunks
from dg_tf.data.dataset import Dataset
from dg_tf.data.loading import save_npz
from dg_tf.data.specs import Output
from dg_tf.errors import ConfigError, DataFormatError
from dg_tf.fileio import atomic_write, file_sha256, read_json
from dg_tf.limits import SHARDS, format_duration
from dg_tf.seeding import derive_seed
from dg_tf.tabular import SERIES_ID, TableSchema, to_dataframe, write_table
from dg_tf.tabular.dtypes import is_integer_dtype

__all__ = [
    "MANIFEST_FILE",
    "ShardPlan",
    "ShardProgress",
    "generate_shards",
]

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "dg_tf-shards-1"
#: File suffix of a shard, per output format.
SHARD_SUFFIX = {"npz": ".npz", "csv": ".csv", "parquet": ".parquet"}
#: What :func:`~dg_tf.fileio.atomic_write` leaves behind when killed while writing a shard or the manifest.
_STALE_TEMP = re.compile(r"^\.(part-\d+\.(npz|csv|parquet)|manifest\.json)\.[0-9a-f]{12}\.tmp$")
_SHARD_FILE = re.compile(r"^part-(\d+)\.(npz|csv|parquet)$")


class Sampler(Protocol):
    """What :func:`generate_shards` needs of a model (:class:`~dg_tf.model.DoppelGANger`)."""

    attribute_outputs: list[Output]

    def generate(self, n: int, attributes: np.ndarray | None = None, seed: int | None = None) -> Dataset: ...


# ============================================================================ plan


@dataclasses.dataclass(frozen=True)
class ShardPlan:
    """What to generate: the settings that decide every byte of the output.

    Attributes:
        run_fingerprint: :meth:`~dg_tf.run.RunFolder.fingerprint` of the model folder.
        seed: the base seed; shard ``i`` uses ``derive_seed(seed, "shard", i)``.
        num: N, the total number of series.
        shard_size: K, series per shard (the last shard holds the rest).
        file_format: ``"npz"``, ``"csv"`` or ``"parquet"``.
    """

    run_fingerprint: str
    seed: int
    num: int
    shard_size: int
    file_format: str

    def __post_init__(self) -> None:
        for name in ("seed", "num", "shard_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (name != "seed" and value < 1):
                raise ConfigError(f"{name}={value!r} must be a {'' if name == 'seed' else 'positive '}integer")
            object.__setattr__(self, name, int(value))  # plain int: the plan goes into JSON
        if self.file_format not in SHARD_SUFFIX:
            raise ConfigError(f"file_format={self.file_format!r} must be one of {', '.join(SHARD_SUFFIX)}")
        excess = SHARDS.excess(self.num_shards)
        if excess is not None:
            raise ConfigError(f"num={self.num} in shards of shard_size={self.shard_size}: {excess}; use shards of "
                              f"at least {math.ceil(self.num / SHARDS.value)} series")

    @property
    def num_shards(self) -> int:
        """ceil(N / K)."""
        return math.ceil(self.num / self.shard_size)

    def rows(self, index: int) -> int:
        """Series in shard ``index``: K, except the last shard (N - K * (shards - 1))."""
        return min(self.shard_size, self.num - index * self.shard_size)

    def shard_seed(self, index: int) -> int:
        """The seed of shard ``index``."""
        return derive_seed(self.seed, "shard", index)

    def file_name(self, index: int) -> str:
        """``part-00000.npz``, ...: zero-padded to 5 digits, or more when there are more shards."""
        return f"part-{index:0{_width(self.num_shards)}d}{SHARD_SUFFIX[self.file_format]}"

    def writes(self, name: str) -> bool:
        """Whether ``name`` is the file name of one of this plan's shards."""
        return _names_shard(name, self.num_shards, self.file_format)


def _width(num_shards: int) -> int:
    return max(5, len(str(num_shards - 1)))


def _names_shard(name: str, num_shards: Any, file_format: Any) -> bool:
    """Whether ``name`` is shard ``i < num_shards`` of ``file_format`` (values of a manifest: checked here)."""
    match = _SHARD_FILE.match(name)
    if match is None or not isinstance(num_shards, int) or file_format not in SHARD_SUFFIX:
        return False
    digits, suffix = match.groups()
    return suffix == file_format and len(digits) == _width(num_shards) and int(digits) < num_shards



# ============================================================================ progress


class ShardProgress:
    """Log lines: shards done / total, series done / total, series per second and ETA.

    Logs after every shard, or about every 1% of the shards when there are
    more than 100. Speed and ETA count only the shards generated in this
    session (not those kept from an earlier one).
    """

    def start(self, plan: ShardPlan, done_shards: int, done_rows: int) -> None:
        """Called once, with the shards already complete."""
        self.plan, self.shards, self.rows = plan, done_shards, done_rows
        self.new_rows = 0
        self.every = max(1, plan.num_shards // 100)
        self.began = time.perf_counter()
        if done_shards:
            logger.info("resuming: %d/%d shards (%d series) already complete", done_shards, plan.num_shards,
                        done_rows)

    def shard_done(self, rows: int) -> None:
        """Called after each newly written shard."""
        self.shards += 1
        self.rows += rows
        self.new_rows += rows
        if self.shards % self.every and self.shards != self.plan.num_shards:
            return
        elapsed = time.perf_counter() - self.began
        rate = self.new_rows / elapsed if elapsed > 0 else 0.0
        eta = (self.plan.num - self.rows) / rate if rate > 0 else 0.0
        logger.info("shard %d/%d | %d/%d series | %.1f series/s | ETA %s", self.shards, self.plan.num_shards,
                    self.rows, self.plan.num, rate, format_duration(eta))


# ============================================================================ writing


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_write(path, "w") as handle:
        json.dump(data, handle, indent=2)


#: Why a manifest that is not ours stops a generation.
_NOT_OURS = ("dg_tf deletes and replaces only files its own manifest lists: move the folder's files away or "
             "choose another --out")


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = read_json(path)
    except DataFormatError as err:
        raise ConfigError(f"{err}; {_NOT_OURS}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ConfigError(f"{path} is not a {MANIFEST_FORMAT} manifest; {_NOT_OURS}")
    return manifest


def _claims(manifest: dict[str, Any], name: str) -> bool:
    """Whether ``manifest`` (ours) lists the shard file ``name`` or its plan reserved that name."""
    listed = any(isinstance(e, dict) and e.get("file") == name for e in manifest.get("shards", ()))
    return bool(_SHARD_FILE.match(name)) and (
        listed or _names_shard(name, manifest.get("num_shards"), manifest.get("file_format")))


def _mismatch(manifest: dict[str, Any], identity: dict[str, Any]) -> str | None:
    """The fields where ``manifest`` differs from ``identity``, in words, or ``None``."""
    differences = [
        f"{name} differs" if name.endswith(("fingerprint", "sha256"))  # hashes say nothing to a reader
        else f"{name} {manifest.get(name)!r} there, {value!r} now"
        for name, value in identity.items() if manifest.get(name) != value
    ]
    return "; ".join(differences) or None


def _intact(out: Path, entry: dict[str, Any], plan: ShardPlan, verify: bool) -> bool:
    """Whether a manifest entry is one of this plan's shards and its file is still as recorded."""
    index = entry.get("index")
    if not isinstance(index, int) or not 0 <= index < plan.num_shards or entry.get("file") != plan.file_name(index):
        return False
    file = out / entry["file"]
    if not file.is_file() or file.stat().st_size != entry.get("bytes"):
        return False
    return not verify or file_sha256(file) == entry.get("sha256")


def _prepare_folder(
    out: Path, plan: ShardPlan, identity: dict[str, Any], overwrite: bool, verify: bool
) -> dict[int, dict[str, Any]]:
    """Create ``out``, remove stale temporary files, and return the complete shards to keep, by index."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file; sharded output goes to a folder")
    out.mkdir(parents=True, exist_ok=True)
    for path in out.iterdir():
        if _STALE_TEMP.match(path.name):
            logger.info("removing %s, left by an interrupted run", path)
            path.unlink()
    manifest_path = out / MANIFEST_FILE
    manifest = _read_manifest(manifest_path) if manifest_path.exists() else None
    names = sorted(path.name for path in out.iterdir())
    foreign = [n for n in names if plan.writes(n) and (manifest is None or not _claims(manifest, n))]
    if foreign:
        listed = f"no {MANIFEST_FILE}" if manifest is None else f"{MANIFEST_FILE} does not list it"
        raise ConfigError(f"{out} holds {foreign[0]}, which this generation would write, and {listed}; "
                          f"{_NOT_OURS}")
    if manifest is None:
        return {}
    if overwrite:
        ours = [n for n in names if _claims(manifest, n)]
        for name in [*ours, MANIFEST_FILE]:
            (out / name).unlink()
        logger.info("%s: removed %d shard(s) of an earlier generation and its %s", out, len(ours), MANIFEST_FILE)
        return {}
    difference = _mismatch(manifest, identity)
    if difference is not None:
        raise ConfigError(f"{out} holds shards of another generation ({difference}); "
                          "use --overwrite to replace them, or another --out")
    kept = {}
    for entry in manifest.get("shards", []):
        if _intact(out, entry, plan, verify):
            kept[entry["index"]] = entry
        else:
            logger.warning("%s: %s is missing or changed; generating it again", out, entry.get("file"))
    return kept


def _manifest(identity: dict[str, Any], plan: ShardPlan, shards: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        **identity,
        "num_shards": plan.num_shards,
        "rows_per_shard": [plan.rows(i) for i in range(plan.num_shards)],
        "shard_seeds": [plan.shard_seed(i) for i in range(plan.num_shards)],
        "complete": len(shards) == plan.num_shards,
        "shards": [shards[i] for i in sorted(shards)],
    }


def _plain_ids(schema: TableSchema) -> TableSchema:
    """``schema`` with a categorical id dtype replaced by its categories' dtype.

    Each shard would otherwise get its own category set (the training ids'
    categories do not hold the generated ids).
    """
    dtype = schema.id_dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return dataclasses.replace(schema, id_dtype=dtype.categories.dtype)
    return schema


def _global_ids(schema: TableSchema, start: int, rows: int) -> np.ndarray:
    """[rows] ids of the generated series ``start..start+rows-1`` of the whole output.

    Named as :func:`to_dataframe` names the series of one call: the number
    itself for a numeric id column, ``"synthetic-<i>"`` otherwise.
    """
    if is_integer_dtype(schema.id_dtype) or pd.api.types.is_float_dtype(schema.id_dtype):
        return np.arange(start, start + rows)
    return np.array([f"synthetic-{i}" for i in range(start, start + rows)])


def _write_shard(path: Path, synthetic: Dataset, plan: ShardPlan, schema: TableSchema | None, start: int) -> None:
    if plan.file_format == "npz":
        save_npz(path, synthetic)
        return
    # Ids unique across shards (series start..start+rows-1 of the whole output).
    with_ids = dataclasses.replace(synthetic, extras={SERIES_ID: _global_ids(schema, start, synthetic.num_samples)})
    write_table(path, to_dataframe(with_ids, schema), format=plan.file_format)


def generate_shards(
    model: Sampler,
    out: str | Path,
    plan: ShardPlan,
    *,
    schema: TableSchema | None = None,
    attributes: str | Path | None = None,
    overwrite: bool = False,
    verify: bool = False,
    progress: ShardProgress | None = None,
) -> dict[str, Any]:
    """Generate ``plan.num`` series into shard files in ``out``, resuming what an earlier call left.

    Args:
        model: the trained model; called once per missing shard with at
            most ``plan.shard_size`` series.
        out: the output folder (created if needed).
        plan: the settings; see :class:`ShardPlan`.
        schema: the run's table schema; required for ``csv`` / ``parquet``.
            Table shards name their series ``start..start+rows-1`` (or
            ``"synthetic-<i>"`` for text ids), unique over all shards; a
            categorical id column is written with its categories' dtype.
        attributes: ``.npz`` whose ``data_attribute`` [N, A] conditions the
            series, row ``j`` for series ``j`` (N = ``plan.num``); checked
            whole before any shard is written, then read shard by shard.
        overwrite: delete the shards and manifest of an earlier generation
            in ``out`` (only the files its manifest claims) and start again,
            instead of resuming it or refusing a different one.
        verify: check kept shards against their recorded SHA-256 (reads them
            all) rather than only their size.
        progress: progress reporter; default a new :class:`ShardProgress`.

    Returns:
        The final manifest (also in ``out/manifest.json``): the plan's fields,
        ``attributes_sha256`` (of the ``attributes`` file, or ``None``),
        ``num_shards``, ``rows_per_shard``, ``shard_seeds``, ``complete`` and
        one entry per shard: ``index``, ``file``, ``rows``, ``seed``,
        ``bytes``, ``sha256``.

    Raises:
        ConfigError: ``out`` holds a manifest of other settings and not
            ``overwrite``; a manifest that is not ours, or a file this plan
            would write that no manifest of ours claims (``overwrite`` or
            not); or a table format without ``schema``.
        DataFormatError: bad conditioning attributes (nothing is written).
    """
    out = Path(out)
    if plan.file_format != "npz":
        if schema is None:
            raise ConfigError(f"file_format={plan.file_format!r} needs the run's table schema")
        schema = _plain_ids(schema)
    # Everything that decides the output; a manifest must match it to be resumed.
    identity = {**dataclasses.asdict(plan), "attributes_sha256": None}
    if attributes is not None:
        n, _ = attribute_rows(attributes)
        if n != plan.num:
            raise ConfigError(f"num={plan.num} differs from the {n} rows of {attributes}")
        check_attribute_file(attributes, model.attribute_outputs, plan.shard_size)
        identity["attributes_sha256"] = file_sha256(attributes)
    done = _prepare_folder(out, plan, identity, overwrite, verify)
    progress = ShardProgress() if progress is None else progress
    progress.start(plan, len(done), sum(entry["rows"] for entry in done.values()))
    _write_json(out / MANIFEST_FILE, _manifest(identity, plan, done))
    with contextlib.ExitStack() as stack:
        chunks = None
        if attributes is not None:
            chunks = stack.enter_context(contextlib.closing(iter_attribute_chunks(attributes, plan.shard_size)))
        for index in range(plan.num_shards):
            given = next(chunks) if chunks is not None else None  # read even for kept shards, to stay aligned
            if index in done:
                continue
            rows, seed = plan.rows(index), plan.shard_seed(index)
            synthetic = model.generate(rows, attributes=given, seed=seed)
            file = out / plan.file_name(index)
            _write_shard(file, synthetic, plan, schema, index * plan.shard_size)
            done[index] = {"index": index, "file": file.name, "rows": rows, "seed": seed,
                           "bytes": file.stat().st_size, "sha256": file_sha256(file)}
            _write_json(out / MANIFEST_FILE, _manifest(identity, plan, done))
            progress.shard_done(rows)
    logger.info("%s: %d series in %d shards (%s)", out, plan.num, plan.num_shards, MANIFEST_FILE)
    return _manifest(identity, plan, done)
