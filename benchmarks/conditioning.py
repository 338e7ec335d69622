"""Partial conditioning measured: does conditioning on one attribute give the right distribution of another?

``python -m benchmarks.conditioning --data dg_tf/datasets/fcc_mba --given 1 --target 0 --seeds 0 1 2``
trains the default model on a dataset folder (the bundled FCC MBA: attribute
outputs ISP 0, technology 1, state 2) once per seed, then compares:

* **unconditional**: ``generate(n)``; total variation between the generated
  and the real distribution of the target attribute (e.g. ISP);
* **conditional**: one series per real training row (``--repeat`` times),
  only the given attribute set (e.g. technology = the row's),
  the rest drawn by :func:`dg_tf.conditioning.complete_attributes`; total
  variation between the generated and the real target distribution *within*
  each value of the given attribute, averaged with the real frequency of
  that value as weight;
* the **real-vs-real floor** of both: the same measures between the training
  and the test split (``data_test.npz``; FCC MBA's test split has a very
  different attribute mix, so its floor is large), and the median over
  random halves of the training set (i.i.d., but of half the size);
* the floor of an **exact model**: the mean TV between the training set and
  resamples of it (N rows drawn with replacement), i.e. what a model that is
  the real distribution scores against a real set of N rows drawn from it;
* **off-support mass**: the fraction of generated series whose (given,
  target) pair never occurs in the real training data (unconditional and
  conditioned), with its i.i.d. floor (rows of one random half whose pair
  the other half lacks, median over splits). Such pairs are the part of the
  model's joint error that conditioning cannot hide: they count in full in
  the within-value TV but partly cancel in the target's marginal;
* the target's marginal TV of the conditioned generation: with the given
  attribute's distribution exactly the real one, the conditional TV is at
  least this (convexity of TV), so conditioning can beat the unconditional
  TV only by the part of it that came from the given attribute's own error.

Each TV compares an empirical distribution of ``--repeat`` x N generated
series with the real one; fewer series bias every TV upwards, the per-value
ones most.

It also reports the cost: seconds to complete the attributes, and the
expected attribute draws per series (1 / the model's probability of the
row's given label). Prints a Markdown table and writes JSON (``--out``).
``--config '{"chained_attributes": false}'`` changes DGConfig fields.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

import dg_tf
from benchmarks.common import git_commit, seed_table

logger = logging.getLogger("benchmarks.conditioning")

#: Random halves of the training set compared with each other for the i.i.d. real-vs-real floor (median).
HALF_SPLITS = 5
#: Resamples (N of the N training rows, with replacement) for the floor of an exact model (mean).
RESAMPLES = 50


def _codes(attributes: np.ndarray, outputs, index: int) -> np.ndarray:
    start = sum(o.dim for o in outputs[:index])
    return attributes[:, start:start + outputs[index].dim].argmax(1)


def _tv(a: np.ndarray, b: np.ndarray, k: int) -> float:
    p, q = np.bincount(a, minlength=k) / max(len(a), 1), np.bincount(b, minlength=k) / max(len(b), 1)
    return float(0.5 * np.abs(p - q).sum())


def _conditional_tv(given_a, target_a, given_b, target_b, k_given: int, k_target: int) -> float:
    """Σ_v P_a(v) TV(target | given=v in a, target | given=v in b); a holds the weights (the real data)."""
    total = 0.0
    for value in range(k_given):
        in_a = given_a == value
        if in_a.any():
            total += in_a.mean() * _tv(target_a[in_a], target_b[given_b == value], k_target)
    return total


def _off_support_mass(given_a, target_a, given_b, target_b, k_target: int) -> float:
    """Fraction of rows of b whose (given, target) pair does not occur in a."""
    seen = np.unique(given_a * k_target + target_a)
    return float(np.mean(~np.isin(given_b * k_target + target_b, seen)))


def measure(data: Path, given: int, target: int, seed: int, epochs: int, repeat: int,
            overrides: dict | None = None) -> dict:
    train, test = dg_tf.load_dataset(data), dg_tf.load_dataset(data, "test")
    outputs = train.attribute_outputs
    k_given, k_target = outputs[given].dim, outputs[target].dim
    config = dg_tf.DGConfig(sample_len=8, epochs=epochs, seed=seed, figure_every=0, **(overrides or {}))
    model = dg_tf.DoppelGANger(config, train.feature_outputs, outputs).fit(train)
    real_given, real_target = _codes(train.attributes, outputs, given), _codes(train.attributes, outputs, target)
    n = repeat * train.num_samples

    free = model.generate(n, seed=seed + 1000)
    free_given, free_target = _codes(free.attributes, outputs, given), _codes(free.attributes, outputs, target)

    requested = np.tile(train.attributes, (repeat, 1))
    mask = np.zeros((n, len(outputs)), bool)
    mask[:, given] = True
    started = time.perf_counter()
    completed = model.complete_attributes(requested, mask, seed + 2000)
    seconds = time.perf_counter() - started
    conditioned = model.generate(n, attributes=completed, seed=seed + 2000)
    cond_given, cond_target = (_codes(conditioned.attributes, outputs, i) for i in (given, target))
    assert (cond_given == np.tile(real_given, repeat)).all()
    model_given = np.bincount(free_given, minlength=k_given) / n
    draws = float(np.mean(1.0 / np.maximum(model_given[np.tile(real_given, repeat)], 1.0 / n)))
    test_given, test_target = _codes(test.attributes, outputs, given), _codes(test.attributes, outputs, target)
    halves = [np.random.default_rng(split).permutation(train.num_samples) for split in range(HALF_SPLITS)]
    halves = [(order[: len(order) // 2], order[len(order) // 2:]) for order in halves]
    resamples = [np.random.default_rng(split).integers(0, train.num_samples, train.num_samples)
                 for split in range(RESAMPLES)]
    return {
        "seed": seed,
        "unconditional_tv": _tv(real_target, free_target, k_target),
        "conditional_tv": _conditional_tv(real_given, real_target, cond_given, cond_target, k_given, k_target),
        "conditioned_marginal_tv": _tv(real_target, cond_target, k_target),
        "unconditional_model_within_given_tv": _conditional_tv(real_given, real_target, free_given, free_target,
                                                               k_given, k_target),
        "unconditional_off_support_mass": _off_support_mass(real_given, real_target, free_given, free_target,
                                                            k_target),
        "conditioned_off_support_mass": _off_support_mass(real_given, real_target, cond_given, cond_target,
                                                          k_target),
        "floor_halves_off_support_mass": float(np.median([
            _off_support_mass(real_given[a], real_target[a], real_given[b], real_target[b], k_target)
            for a, b in halves])),
        "floor_unconditional_tv": _tv(real_target, test_target, k_target),
        "floor_conditional_tv": _conditional_tv(real_given, real_target, test_given, test_target, k_given, k_target),
        "floor_halves_unconditional_tv": float(np.median([_tv(real_target[a], real_target[b], k_target)
                                                          for a, b in halves])),
        "floor_halves_conditional_tv": float(np.median([
            _conditional_tv(real_given[a], real_target[a], real_given[b], real_target[b], k_given, k_target)
            for a, b in halves])),
        "floor_resampled_unconditional_tv": float(np.mean([_tv(real_target, real_target[r], k_target)
                                                           for r in resamples])),
        "floor_resampled_conditional_tv": float(np.mean([
            _conditional_tv(real_given, real_target, real_given[r], real_target[r], k_given, k_target)
            for r in resamples])),
        "completion_seconds": seconds,
        "series": n,
        "expected_draws_per_series": draws,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (with data_test.npz)")
    parser.add_argument("--given", type=int, default=1, help="attribute output given [1: FCC MBA technology]")
    parser.add_argument("--target", type=int, default=0, help="attribute output measured [0: FCC MBA ISP]")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=50,
                        help="series generated per real training row (more: less sampling bias in each TV)")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    parser.add_argument("--config", type=json.loads, default={},
                        help='DGConfig fields to change, as JSON (e.g. \'{"chained_attributes": false}\')')
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    rows = [measure(args.data, args.given, args.target, seed, args.epochs, args.repeat, args.config)
            for seed in args.seeds]
    keys = ["unconditional_tv", "conditional_tv", "conditioned_marginal_tv", "unconditional_model_within_given_tv",
            "unconditional_off_support_mass", "conditioned_off_support_mass", "floor_halves_off_support_mass",
            "floor_unconditional_tv", "floor_conditional_tv", "floor_halves_unconditional_tv",
            "floor_halves_conditional_tv", "floor_resampled_unconditional_tv", "floor_resampled_conditional_tv",
            "completion_seconds", "expected_draws_per_series"]
    print(seed_table(rows, keys))
    if args.out is not None:
        args.out.write_text(json.dumps({"commit": git_commit(Path(__file__).resolve().parent.parent),
                                        "date": time.strftime("%Y-%m-%d"),
                                        "data": str(args.data), "given": args.given, "target": args.target,
                                        "epochs": args.epochs, "config": args.config, "rows": rows},
                                       indent=2) + "\n")


if __name__ == "__main__":
    main()
