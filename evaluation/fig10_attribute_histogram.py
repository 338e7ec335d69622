"""Fig. 10: histogram of one discrete attribute, real against each synthetic set.

Paper §5.2, Fig. 10 (GCUT end event types; Fig. 19 for the other datasets):
the fraction of series in each category of the discrete attribute output
``--attribute`` (default: the one with the fewest categories; generated
attributes are argmaxed), for the real data, each synthetic set and the
held-out real split (the floor), with the total variation and Jensen-Shannon
distance of each to the real histogram
(:func:`dg_tf.evaluation.distributions.attribute_marginals`). A category a
generator never produces (mode collapse, as the paper's naive GAN) shows as 0.

With ``--out``: ``fig10_attribute.csv`` and ``fig10_attribute.png`` (one row
of bars per synthetic set: real in black, synthetic in orange).

    python -m evaluation.fig10_attribute_histogram --real data/GCUT --synthetic DG=runs/g/synthetic.npz --out figs
"""

from __future__ import annotations

import logging
from typing import Sequence

import pandas as pd

from dg_tf.cli import run_main
from dg_tf.evaluation.distributions import attribute_marginals
from dg_tf.evaluation.figures import plot_attribute_histograms
from evaluation.common import (
    build_parser,
    discrete_attribute,
    load_inputs,
    output_dir,
    print_table,
    save_figure,
    save_table,
)

logger = logging.getLogger("evaluation.fig10")

PROG = "evaluation.fig10_attribute_histogram"
DISTANCES = ("total variation", "Jensen-Shannon distance")


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__)
    parser.add_argument("--attribute", type=int, default=None,
                        help="discrete attribute output [the one with the fewest categories, > 1]")
    args = parser.parse_args(argv)

    inputs = load_inputs(args)
    real, names = inputs.real, inputs.names
    attribute = discrete_attribute(real, args.attribute)
    attribute_name = names.attributes[attribute]
    marginals = {
        name: attribute_marginals(real.attributes, data.attributes, real.attribute_outputs)[attribute]
        for name, data in inputs.compared().items()
    }

    categories = [names.level(attribute, c) for c in range(real.attribute_outputs[attribute].dim)]
    first = next(iter(marginals.values()))
    table = pd.DataFrame(index=pd.Index([*categories, *DISTANCES], name=attribute_name))
    table[f"real {args.split}"] = [*first.real_probabilities, "-", "-"]
    for name, marginal in marginals.items():
        table[name] = [*marginal.synthetic_probabilities, marginal.total_variation, marginal.jensen_shannon]

    print_table(f"Fig. 10: fraction of series per category of {attribute_name} "
                "(last two rows: distance to the real histogram, lower is better)", table)
    out = output_dir(args.out)
    if out is not None:
        save_table(out, "fig10_attribute.csv", table)
        shown = list(inputs.synthetic)
        figure = plot_attribute_histograms([marginals[n] for n in shown], [f"{attribute_name}, {n}" for n in shown])
        save_figure(out, "fig10_attribute.png", figure)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
