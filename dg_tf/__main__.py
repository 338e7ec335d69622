"""``python -m dg_tf <command> ...``: the console command ``dg-tf`` (:mod:`dg_tf.cli.console`)."""

from dg_tf.cli.console import main

if __name__ == "__main__":
    raise SystemExit(main())
