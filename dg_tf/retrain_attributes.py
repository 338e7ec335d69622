"""``python -m dg_tf.retrain_attributes``: runs :func:`dg_tf.cli.retrain_attributes.main`."""

from dg_tf.cli import entry_point
from dg_tf.cli.retrain_attributes import main

entry_point(__name__, main)
