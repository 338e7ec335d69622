"""``python -m dg_tf.train``: train DoppelGANger on a dataset folder or a table and write synthetic data.

With no arguments it trains on the bundled FCC MBA dataset
(``dg_tf.bundled_dataset("fcc_mba")``, shipped inside the package)
with the paper's defaults and writes ``runs/<time>/`` with the model, its
checkpoints, TensorBoard logs and ``synthetic.npz`` (as many series as the
training set, in the same layout).

``--data`` may also be a CSV / Parquet table, described by the column flags
(``--id-column``, ``--attribute-columns``, ``--feature-columns``, ...): it is
converted as ``python -m dg_tf.prepare`` would, kept in ``RUN/data/`` (for
``--resume`` and evaluation), and the synthetic data is also written as a
table in the input's columns and units. A dataset folder made by ``prepare``
works the same way: the model keeps the table's schema.

``synthetic.npz`` holds only what the generator produced; ``--copy-extras
NAME,NAME`` copies named extra arrays of the training ``.npz`` (e.g.
``data_feature_min``) into it. If the command fails before the run has a
checkpoint, everything it created in the run folder (``RUN/data/`` included)
is removed again; what was there before is never touched.

With ``--dp-noise-multiplier SIGMA`` (and ``--dp-l2-clip C``) both critics
are trained with DP-SGD (paper §6.2); the epsilon spent at ``--dp-delta`` is
logged every epoch (TensorBoard ``privacy/epsilon``), printed at the end and
written to ``RUN/privacy.json``.

Scale and speed: ``--strategy mirrored`` trains on every local GPU (the
global ``--batch-size`` split across them); ``--strategy multi-worker`` runs
one process per machine, the cluster given by ``TF_CONFIG`` (start the same
command on every worker; only the chief writes ``--out``, which must be a
shared folder for ``--resume``); ``--precision mixed_bfloat16|mixed_float16``
computes in half precision on GPUs; ``--jit-compile on|off|auto`` and
``--steps-per-execution`` control the compiled step (see ``DGConfig``).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from dg_tf.cli import add_common_flags, comma_list, command_prog, fail
from dg_tf.cli.config_flags import add_config_flags, config_from_args, config_overrides
from dg_tf.cli.table_flags import add_table_flags, table_options
from dg_tf.datasets import bundled_dataset
from dg_tf.tabular.options import SERIES_ID, SERIES_START, is_table_file

if TYPE_CHECKING:
    from dg_tf.config import DGConfig
    from dg_tf.data.dataset import Dataset
    from dg_tf.model import DoppelGANger
    from dg_tf.run import RunFolder
    from dg_tf.tabular.schema import TableSchema

__all__ = ["build_parser", "main"]

logger = logging.getLogger("dg_tf.train")

#: Extras that describe the real series (ids, start times), not generated ones: never copied.
_REAL_SERIES_EXTRAS = (SERIES_ID, SERIES_START)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=command_prog("train"), description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=bundled_dataset("fcc_mba"),
                        help="dataset folder with the original triple (data_feature_output.pkl, "
                             "data_attribute_output.pkl, data_train.npz; a dataset folder may recommend "
                             "config defaults in dg_config.json, used unless --config is given), or a "
                             ".csv/.parquet table described by the table column flags")
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder [runs/run-<date>-<time>]")
    parser.add_argument("--logdir", type=Path, default=None, help="TensorBoard folder [RUN/logs]")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its latest finite checkpoint with its config.json; "
                             "flags may change training and runtime settings (epochs, learning rates, batch size, "
                             "loss weights, checkpointing, performance), not the model")
    parser.add_argument("--num-generate", type=int, default=None,
                        help="synthetic series written to RUN/synthetic.npz after training "
                             "[as many as the training set; 0 = none]")
    parser.add_argument("--copy-extras", type=comma_list, default=[], metavar="NAME,NAME",
                        help="copy these extra arrays of the training .npz into RUN/synthetic.npz (e.g. "
                             "data_feature_min,data_feature_max) [none: only generated arrays]")
    add_config_flags(parser)
    add_table_flags(parser)
    add_common_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.resume and args.out is None:
        fail("--resume needs --out RUN_DIR, the run to continue")
    if args.resume and args.config is not None:
        fail("--resume continues with the run's own config.json; change training and runtime settings with "
             "their flags (e.g. --generator-lr), not --config")
    real = [name for name in args.copy_extras if name in _REAL_SERIES_EXTRAS]
    if real:
        fail(f"--copy-extras {real[0]}: it describes the real series (their ids or start times), "
             "which synthetic data must not carry")
    from dg_tf.run import RunFolder  # the library (TensorFlow), once the flags are sound
    from dg_tf.runtime import configure_cpu_threads

    configure_cpu_threads()
    run = RunFolder(args.out if args.out is not None else Path("runs") / time.strftime("run-%Y%m%d-%H%M%S"))
    before = {path.name for path in run.path.iterdir()} if run.path.is_dir() else None
    try:
        _train(args, run)
    except BaseException:
        _remove_created(run, before)
        raise


def _train(args: argparse.Namespace, run: RunFolder) -> None:
    from dg_tf.data.loading import load_dataset, load_extras
    from dg_tf.model import DoppelGANger
    from dg_tf.tabular.folder import load_schema
    from dg_tf.training import ProgressBar

    data_dir, dataset, schema = _dataset(args, run)
    config = _config(args, run, data_dir)
    if dataset is None:
        dataset = load_dataset(data_dir)
        schema = load_schema(data_dir)
    extras = load_extras(data_dir / "data_train.npz", args.copy_extras) if args.copy_extras else {}
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset, run_dir=run.path, logdir=args.logdir, resume=args.resume, callbacks=[ProgressBar()],
              table_schema=schema, source=str(data_dir / "data_train.npz"))
    if not model.writes_run_files:
        logger.info("multi-worker task done; the chief writes %s", run.path)
        return
    logdir = args.logdir or run.logs
    logger.info("model and weights: %s", run.path)
    logger.info("checkpoints:       %s", run.checkpoints)
    logger.info("TensorBoard logs:  %s  (tensorboard --logdir %s)", logdir, logdir)
    if model.privacy is not None:
        logger.info("privacy:           %s  ((epsilon %.4g, delta %g)-DP)",
                    run.privacy_file, model.privacy.epsilon, model.privacy.delta)
    num = dataset.num_samples if args.num_generate is None else args.num_generate
    if num > 0:
        _write_synthetic(model, num, extras, run, _table_format(args.data))


def _dataset(args: argparse.Namespace, run: RunFolder) -> tuple[Path, Dataset | None, TableSchema | None]:
    """(dataset folder, the table's dataset and schema, or ``None`` to read them from the folder).

    A table is converted here (sample_len: the one asked for, or about 50
    passes) and also written to ``RUN/data`` as a prepared folder, from which
    ``--resume`` reads it.
    """
    from dg_tf.tabular.files import from_table_file
    from dg_tf.tabular.folder import SCHEMA_FILE, save_prepared

    if not is_table_file(args.data):
        return args.data, None, None
    data_dir = run.prepared_data
    if args.resume:
        if not (data_dir / SCHEMA_FILE).is_file():
            fail(f"--resume: {data_dir} does not hold the prepared table of this run")
        return data_dir, None, None
    options = table_options(args, args.data)
    sample_len = config_from_args(args).sample_len
    dataset, schema = from_table_file(args.data, **options, sample_len="auto" if sample_len is None else sample_len)
    save_prepared(data_dir, dataset, schema)
    return data_dir, dataset, schema


def _config(args: argparse.Namespace, run: RunFolder, data_dir: Path) -> DGConfig:
    """The run's config: the saved one on ``--resume``, else ``--config`` or the dataset's recommendation; then the flags.

    On ``--resume`` only training and runtime settings may change; ``fit`` refuses the rest.
    """
    from dg_tf.config import DGConfig
    from dg_tf.tabular.folder import DATASET_CONFIG_FILE

    if args.resume:
        if not run.config_file.is_file():
            fail(f"--resume: {run.config_file} does not exist; nothing to resume")
        return run.read_config().replace(**config_overrides(args))
    recommended = data_dir / DATASET_CONFIG_FILE
    if args.config is None and recommended.is_file():
        logger.info("using the dataset's recommended config %s", recommended)
        return config_from_args(args, DGConfig.from_file(recommended))
    return config_from_args(args)


def _table_format(data: Path) -> str:
    """The format of the synthetic table: the input table's, else CSV."""
    from dg_tf.tabular.options import table_format

    return table_format(data) if is_table_file(data) else "csv"


def _write_synthetic(model: DoppelGANger, num: int, extras: dict, run: RunFolder, output_format: str) -> None:
    from dg_tf.data.loading import save_npz
    from dg_tf.tabular import to_dataframe, write_table

    synthetic = model.generate(num, seed=model.config.seed)
    synthetic.extras = extras
    save_npz(run.synthetic_file(), synthetic)
    logger.info("synthetic data:    %s  (%d series)", run.synthetic_file(), num)
    if model.table_schema is not None:
        table = run.synthetic_file(output_format)
        write_table(table, to_dataframe(synthetic, model.table_schema))
        logger.info("synthetic table:   %s  (columns and units of %s)", table, model.table_schema.source)


def _remove_created(run: RunFolder, before: set[str] | None) -> None:
    """After a failure: remove what this command created in the run folder, unless the run has a checkpoint.

    ``before``: the names in the folder when the command started (``None``:
    the folder did not exist). A run with a checkpoint is kept whole, so that
    ``--resume`` can continue it.
    """
    if not run.path.is_dir() or run.has_checkpoint():
        return
    if before is None:
        shutil.rmtree(run.path, ignore_errors=True)
        return
    for path in run.path.iterdir():
        if path.name not in before:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
    logger.info("removed what this command had written to %s", run.path)
