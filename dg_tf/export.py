"""``python -m dg_tf.export``: runs :func:`dg_tf.cli.export.main`."""

from dg_tf.cli import entry_point
from dg_tf.cli.export import main

entry_point(__name__, main)
