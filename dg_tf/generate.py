"""``python -m dg_tf.generate``: runs :func:`dg_tf.cli.generate.main`."""

from dg_tf.cli import entry_point
from dg_tf.cli.generate import main

entry_point(__name__, main)
