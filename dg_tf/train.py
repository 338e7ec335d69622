"""``python -m dg_tf.train``: train DoppelGANger on a dataset folder or a table and write synthetic data.

With no arguments it trains on the bundled FCC MBA dataset (``data/FCC_MBA``)
with the paper's defaults and writes ``runs/<time>/`` with the model, its
checkpoints, TensorBoard logs and ``synthetic.npz`` (as many series as the
training set, in the same layout).

``--data`` may also be a CSV / Parquet table, described by the column flags
(``--id-column``, ``--attribute-columns``, ``--feature-columns``, ...): it is
prepared into ``RUN/data/`` (as ``python -m dg_tf.prepare`` would) and the
synthetic data is also written as a table in the input's columns and units.
A dataset folder made by ``prepare`` works the same way.

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
from typing import Sequence

from dg_tf.cli import (
    ProgressBar,
    add_config_flags,
    comma_list,
    config_from_args,
    config_overrides,
    fail,
    repo_data_dir,
    run_main,
)
from dg_tf.config import DGConfig
from dg_tf.data.loading import load_dataset, load_extras, save_npz
from dg_tf.model import CONFIG_FILE, DoppelGANger
from dg_tf.privacy_accounting import PRIVACY_FILE
from dg_tf.table_cli import add_table_flags, is_table_file, table_dataset
from dg_tf.tabular import SERIES_ID, SERIES_START, to_dataframe, write_table
from dg_tf.tabular.files import table_format
from dg_tf.tabular.folder import DATASET_CONFIG_FILE, SCHEMA_FILE, load_schema, save_prepared

logger = logging.getLogger("dg_tf.train")

SYNTHETIC_FILE = "synthetic.npz"
#: Where a table given to --data is prepared inside the run folder.
PREPARED_DIR = "data"
#: Extras that describe the real series (ids, start times), not generated ones: never copied.
_REAL_SERIES_EXTRAS = (SERIES_ID, SERIES_START)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dg_tf.train", description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=repo_data_dir() / "FCC_MBA",
                        help="dataset folder with the original triple (data_feature_output.pkl, "
                             "data_attribute_output.pkl, data_train.npz; a dataset folder may recommend "
                             "config defaults in dg_config.json, used unless --config is given), or a "
                             ".csv/.parquet table described by the table column flags")
    parser.add_argument("--out", type=Path, default=None,
                        help="run folder [runs/run-<date>-<time>]")
    parser.add_argument("--logdir", type=Path, default=None, help="TensorBoard folder [RUN/logs]")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its latest finite checkpoint with its config.json; "
                             "flags may change runtime settings (epochs, learning rates, batch size, loss "
                             "weights, checkpointing, performance), not the model's structure")
    parser.add_argument("--num-generate", type=int, default=None,
                        help="synthetic series written to RUN/synthetic.npz after training "
                             "[as many as the training set; 0 = none]")
    parser.add_argument("--copy-extras", type=comma_list, default=[], metavar="NAME,NAME",
                        help="copy these extra arrays of the training .npz into RUN/synthetic.npz (e.g. "
                             "data_feature_min,data_feature_max) [none: only generated arrays]")
    add_config_flags(parser)
    add_table_flags(parser)
    return parser


def _resolve_config(args: argparse.Namespace, run_dir: Path, data_dir: Path) -> DGConfig:
    if not args.resume:
        recommended = data_dir / DATASET_CONFIG_FILE
        if args.config is None and recommended.is_file():
            logger.info("using the dataset's recommended config %s", recommended)
            return config_from_args(args, DGConfig.from_file(recommended))
        return config_from_args(args)
    saved = run_dir / CONFIG_FILE
    if not saved.is_file():
        fail(f"--resume: {saved} does not exist; nothing to resume")
    if args.config is not None:
        fail("--resume continues with the run's own config.json; change runtime settings with their flags "
             "(e.g. --generator-lr), not --config")
    return DGConfig.from_file(saved).resumed_with(config_overrides(args))


def _data_dir(args: argparse.Namespace, run_dir: Path) -> Path:
    """The dataset folder to train on; a table is first prepared into ``RUN/data``."""
    if not is_table_file(args.data):
        return args.data
    data_dir = run_dir / PREPARED_DIR
    if args.resume:
        if not (data_dir / SCHEMA_FILE).is_file():
            fail(f"--resume: {data_dir} does not hold the prepared table of this run")
        return data_dir
    requested = config_from_args(args).sample_len
    dataset, schema, sample_len = table_dataset(args.data, args, requested)
    save_prepared(data_dir, dataset, schema, sample_len=sample_len)
    return data_dir


def _copied_extras(names: list[str], source: Path) -> dict:
    """The extra arrays ``--copy-extras`` names, read from the training ``.npz`` before training starts."""
    real = [name for name in names if name in _REAL_SERIES_EXTRAS]
    if real:
        fail(f"--copy-extras {real[0]}: it describes the real series (their ids or start times), "
             "which synthetic data must not carry")
    return load_extras(source, names)


def _write_synthetic(model: DoppelGANger, num: int, config: DGConfig, extras: dict, run_dir: Path,
                     data_dir: Path, output_format: str) -> None:
    synthetic = model.generate(num, seed=config.seed)
    synthetic.extras = extras
    save_npz(run_dir / SYNTHETIC_FILE, synthetic)
    logger.info("synthetic data:    %s  (%d series)", run_dir / SYNTHETIC_FILE, num)
    schema = load_schema(data_dir)
    if schema is not None:
        table = run_dir / f"synthetic.{output_format}"
        write_table(table, to_dataframe(synthetic, schema))
        logger.info("synthetic table:   %s  (columns and units of %s)", table, schema.source)


def _remove_created(run_dir: Path, before: set[str] | None) -> None:
    """After a failure: remove what this command created in ``run_dir``, unless the run has a checkpoint.

    ``before``: the names in ``run_dir`` when the command started (``None``:
    the folder did not exist). A run with a checkpoint is kept whole, so that
    ``--resume`` can continue it.
    """
    if not run_dir.is_dir() or any((run_dir / "checkpoints").glob("ckpt-*.index")):
        return
    if before is None:
        shutil.rmtree(run_dir, ignore_errors=True)
        return
    for path in run_dir.iterdir():
        if path.name not in before:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
    logger.info("removed what this command had written to %s", run_dir)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_dir = args.out if args.out is not None else Path("runs") / time.strftime("run-%Y%m%d-%H%M%S")
    if args.resume and args.out is None:
        fail("--resume needs --out RUN_DIR, the run to continue")
    before = {path.name for path in run_dir.iterdir()} if run_dir.is_dir() else None
    try:
        _train(args, run_dir)
    except BaseException:
        _remove_created(run_dir, before)
        raise


def _train(args: argparse.Namespace, run_dir: Path) -> None:
    data_dir = _data_dir(args, run_dir)
    config = _resolve_config(args, run_dir, data_dir)
    dataset = load_dataset(data_dir)
    source = str(data_dir / "data_train.npz")
    extras = _copied_extras(args.copy_extras, data_dir / "data_train.npz") if args.copy_extras else {}
    model = DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    model.fit(dataset, run_dir=run_dir, logdir=args.logdir, resume=args.resume,
              progress=ProgressBar(), source=source)
    if not model.writes_run_files:
        logger.info("multi-worker task done; the chief writes %s", run_dir)
        return
    logger.info("model and weights: %s", run_dir)
    logger.info("checkpoints:       %s", run_dir / "checkpoints")
    logger.info("TensorBoard logs:  %s  (tensorboard --logdir %s)",
                args.logdir or run_dir / "logs", args.logdir or run_dir / "logs")
    if model.privacy is not None:
        logger.info("privacy:           %s  ((epsilon %.4g, delta %g)-DP)",
                    run_dir / PRIVACY_FILE, model.privacy.epsilon, model.privacy.delta)
    schema = load_schema(data_dir)
    if schema is not None:
        schema.save(run_dir / SCHEMA_FILE)  # lets `generate --format csv` work from the run alone
    num = dataset.num_samples if args.num_generate is None else args.num_generate
    if num > 0:
        output_format = table_format(args.data) if is_table_file(args.data) else "csv"
        _write_synthetic(model, num, config, extras, run_dir, data_dir, output_format)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
