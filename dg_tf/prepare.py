"""``python -m dg_tf.prepare``: runs :func:`dg_tf.cli.prepare.main`."""

from dg_tf.cli import entry_point
from dg_tf.cli.prepare import main

entry_point(__name__, main)
