"""``python -m dg_tf.train``: runs :func:`dg_tf.cli.train.main`."""

from dg_tf.cli import entry_point
from dg_tf.cli.train import main

entry_point(__name__, main)
