"""One-hot against binary codes for a high-cardinality attribute: ``python -m benchmarks.high_cardinality``.

The table: ``2 * --series`` series of ``--length`` steps, one attribute
``site`` with ``K`` levels drawn from a Zipf law (``p_k ~ 1 / (k + 1)^s``,
``s = --zipf``: a few big sites and a long tail, as with shops, URLs or
hosts) and one continuous feature whose level depends on the site's rank
(so the feature generator must condition on it). Half the series train the
model; the other half is the real-vs-real floor.

For every ``K`` in ``--levels``, encoding and seed it trains a small
DoppelGANger (:data:`CONFIG`, ``--epochs``) with ``max_onehot_levels=None``
(one-hot, ``K`` columns) or ``max_onehot_levels=1`` (binary, ``2 *
ceil(log2 K)`` columns), generates as many series as it trained on
(``seed`` = the run's seed) and reports

- ``tv``: total variation between the generated ``site`` distribution and
  the training one (``0.5 * sum |p - q|``), next to ``floor``: the same for
  the held-out half (the sampling noise of a real sample of that size);
- ``top10_tv``: the same over the 10 most common training sites plus one
  "other" bin (the head of the distribution, which sampling noise barely
  touches);
- ``coverage``: the fraction of training sites (levels with at least one
  training series) that the generated data contains;
- ``step_ms``: median wall time of a training epoch after the first
  (compilation), divided by its steps;
- ``data_mb``: bytes of the encoded training arrays (attributes, features,
  flags).

Everything runs in this process, one run after another; ``--out FILE``
also writes every run as JSON. The defaults take about 15 minutes on two
CPU cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CONFIG", "make_table", "run", "main"]

logger = logging.getLogger(__name__)

#: The model: small, so that a run takes about a minute on a laptop CPU.
CONFIG = dict(
    sample_len=2,
    attribute_hidden_units=64,
    feature_lstm_units=32,
    critic_hidden_layers=2,
    critic_hidden_units=64,
    aux_critic_hidden_layers=2,
    aux_critic_hidden_units=64,
    batch_size=100,
    figure_every=0,
)


def make_table(levels: int, series: int, length: int, zipf: float, seed: int) -> pd.DataFrame:
    """Long table: ``id``, ``site`` (``levels`` Zipf-distributed labels), ``value`` [series * length rows]."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, levels + 1) ** zipf
    rank = rng.choice(levels, size=series, p=weights / weights.sum())
    # labels in shuffled order, so that the code (sorted label) is unrelated to the rank
    labels = np.array([f"site-{i:05d}" for i in rng.permutation(levels)], dtype=object)
    level = np.log1p(rank) / np.log1p(levels)  # [series] in [0, 1): the feature's mean follows the rank
    value = level[:, None] + 0.1 * rng.standard_normal((series, length))
    return pd.DataFrame({
        "id": np.repeat(np.arange(series), length),
        "site": np.repeat(labels[rank], length),
        "value": value.ravel(),
    })


def _distribution(values: pd.Series, levels: pd.Index) -> np.ndarray:
    counts = values.value_counts().reindex(levels, fill_value=0).to_numpy(float)
    return counts / counts.sum()


def _scores(train: pd.Series, other: pd.Series) -> dict[str, float]:
    levels = pd.Index(sorted(set(train) | set(other)))
    p, q = _distribution(train, levels), _distribution(other, levels)
    top = np.argsort(-p, kind="stable")[:10]
    head = lambda d: np.append(d[top], 1.0 - d[top].sum())  # noqa: E731
    return {
        "tv": float(0.5 * np.abs(p - q).sum()),
        "top10_tv": float(0.5 * np.abs(head(p) - head(q)).sum()),
        "coverage": float(np.mean(pd.Index(train.unique()).isin(other.unique()))),
    }


def run(levels: int, encoding: str, seed: int, *, series: int, length: int, zipf: float, epochs: int) -> dict[str, Any]:
    """Train one model and score it (module docstring)."""
    import keras

    import dg_tf

    table = make_table(levels, 2 * series, length, zipf, seed)
    half = table["id"] < series
    train, held_out = table[half], table[~half]
    options = dict(id_column="id", attribute_columns=["site"], feature_columns=["value"],
                   max_onehot_levels=None if encoding == "one-hot" else 1)
    dataset, schema = dg_tf.from_dataframe(train, **options)
    data_bytes = dataset.attributes.nbytes + dataset.features.nbytes + dataset.gen_flags.nbytes

    epoch_ends: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epoch_ends.append(time.perf_counter())

    config = dg_tf.DGConfig(**{**CONFIG, "epochs": epochs, "seed": seed})
    model = dg_tf.DoppelGANger(config, dataset.feature_outputs, dataset.attribute_outputs)
    start = time.perf_counter()
    model.fit(dataset, callbacks=[Clock()])
    steps = math.ceil(series / config.batch_size)
    epoch_s = np.diff([start, *epoch_ends])[1:]
    generated = dg_tf.to_dataframe(model.generate(series, seed=seed), schema)
    train_sites = train.groupby("id")["site"].first()
    result = {
        "levels": levels, "encoding": encoding, "seed": seed, "series": series, "epochs": epochs,
        "columns": sum(spec.width for spec in schema.attributes),
        "step_ms": float(np.median(epoch_s) / steps * 1e3) if len(epoch_s) else float("nan"),
        "data_mb": data_bytes / 2**20,
        **_scores(train_sites, generated.groupby("id")["site"].first()),
    }
    floor = _scores(train_sites, held_out.groupby("id")["site"].first())
    result.update({f"floor_{key}": value for key, value in floor.items()})
    return result


def _table(results: list[dict[str, Any]]) -> str:
    keys = ("tv", "floor_tv", "top10_tv", "floor_top10_tv", "coverage", "floor_coverage", "step_ms", "data_mb")
    lines = ["| K | encoding | columns | " + " | ".join(keys) + " |", "|---" * (len(keys) + 3) + "|"]
    frame = pd.DataFrame(results)
    for (levels, encoding), group in frame.groupby(["levels", "encoding"], sort=False):
        cells = [f"{group[k].mean():.3f} ± {group[k].std(ddof=0):.3f}" if k != "data_mb" else f"{group[k].mean():.2f}"
                 for k in keys]
        lines.append(f"| {levels} | {encoding} | {int(group['columns'].iloc[0])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], prog="python -m benchmarks.high_cardinality")
    parser.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")], default=[500, 2000])
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2])
    parser.add_argument("--series", type=int, default=2000, help="training series (as many are held out)")
    parser.add_argument("--length", type=int, default=4)
    parser.add_argument("--zipf", type=float, default=1.1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", help="also write every run to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    results = []
    for levels in args.levels:
        for seed in args.seeds:
            for encoding in ("one-hot", "binary"):
                results.append(run(levels, encoding, seed, series=args.series, length=args.length, zipf=args.zipf,
                                   epochs=args.epochs))
                print(json.dumps(results[-1]), flush=True)
    print(_table(results))
    if args.out:
        command = " ".join(sys.argv[1:] if argv is None else argv)
        report = {"command": f"python -m benchmarks.high_cardinality {command}",
                  "model": CONFIG, "args": vars(args), "runs": results}
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
