"""Process-wide TensorFlow CPU threading for DoppelGANger's small ops.

DoppelGANger's ops are small (an LSTM step at batch 100 is a [100, 121] x
[121, 400] matmul): splitting each across threads costs more in
synchronisation than it gains. :func:`configure_cpu_threads` runs every op
on one thread and lets ``cores`` independent ops run at once (the parts of
the batch-split LSTM, see ``DGConfig.lstm_batch_splits``, the critics' real
and generated passes, ...). Measured on a 2-core CPU (``benchmarks/``), a
training step at batch 100 takes about half the time of TensorFlow's
default (every op split across every core). The command line tools that
train or generate call it; library users may. With a GPU it changes nothing (GPU kernels do the work).
"""

from __future__ import annotations

import logging
import os

import tensorflow as tf

__all__ = ["available_cores", "configure_cpu_threads"]

logger = logging.getLogger(__name__)


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, else ``os.cpu_count()``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def configure_cpu_threads(cores: int | None = None) -> bool:
    """One thread per op, ``cores`` ops at a time; call before TensorFlow runs any op.

    Args:
        cores: how many ops may run at once; default :func:`available_cores`.

    Returns:
        Whether the settings were applied: ``False`` when a GPU is visible
        (TensorFlow's defaults are kept) or when TensorFlow's runtime has
        already started (the settings can no longer change; logged).
    """
    if tf.config.list_physical_devices("GPU"):
        return False
    cores = available_cores() if cores is None else cores
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(cores)
    except RuntimeError as err:  # the runtime is already initialized
        logger.warning("CPU threads left as they are: %s", err)
        return False
    return True
