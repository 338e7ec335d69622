"""``python -m dg_tf.evaluate``: runs :func:`dg_tf.cli.evaluate.main`."""

from dg_tf.cli import entry_point
from dg_tf.cli.evaluate import main

entry_point(__name__, main)
