"""Fig. 9: histogram of series lengths, real against each synthetic set.

Paper §5.2, Fig. 9 (GCUT task durations; Fig. 18 for the other datasets): the
distribution of the number of active steps of each series (its generation
flags), compared by W1 (in steps) and total variation
(:func:`dg_tf.evaluation.distributions.length_distribution`), for each
synthetic set and the held-out real split (the floor). For fixed-length data
every real series has length L, and the table shows how many synthetic series
end early.

With ``--out``: ``fig09_lengths.csv`` (the table), ``fig09_histogram.csv``
(the fraction of series of each length, per set) and ``fig09_lengths_<NAME>.png``
per synthetic set (real in black, synthetic in orange).

    python -m evaluation.fig09_lengths --real data/GCUT --synthetic DG=runs/g/synthetic.npz --out figs
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import pandas as pd

from dg_tf.cli import run_main
from dg_tf.evaluation.distributions import length_distribution
from dg_tf.evaluation.figures import plot_lengths
from evaluation.common import build_parser, file_stem, load_inputs, output_dir, print_table, save_figure, save_table

logger = logging.getLogger("evaluation.fig09")

PROG = "evaluation.fig09_lengths"


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__)
    args = parser.parse_args(argv)

    inputs = load_inputs(args)
    real = inputs.real
    real_name = f"real {args.split}"
    sets = {real_name: real, **inputs.compared()}
    max_length = max(d.max_length for d in sets.values())
    distributions = {name: length_distribution(real.lengths, data.lengths, max_length)
                     for name, data in inputs.compared().items()}

    rows = {}
    for name, data in sets.items():
        lengths = data.lengths
        distance = distributions.get(name)
        rows[name] = [
            lengths.size, lengths.mean(), int(lengths.min()), int(lengths.max()),
            100 * float(np.mean(lengths == data.max_length)),
            "-" if distance is None else distance.wasserstein1,
            "-" if distance is None else distance.total_variation,
        ]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[
        "series", "mean length", "min", "max", "full length (%)", "W1 to real (steps)", "TV to real"])
    table.index.name = "data"

    print_table(f"Fig. 9: series lengths (1..{max_length} steps; W1 and TV: lower is better)", table)
    out = output_dir(args.out)
    if out is not None:
        save_table(out, "fig09_lengths.csv", table)
        first = next(iter(distributions.values()))
        histogram = pd.DataFrame(
            {real_name: first.real_probabilities,
             **{name: d.synthetic_probabilities for name, d in distributions.items()}},
            index=pd.Index(np.arange(1, max_length + 1), name="length"),
        )
        save_table(out, "fig09_histogram.csv", histogram)
        for name in inputs.synthetic:
            save_figure(out, f"fig09_lengths_{file_stem(name)}.png", plot_lengths(distributions[name]))


if __name__ == "__main__":
    raise SystemExit(run_main(main))
