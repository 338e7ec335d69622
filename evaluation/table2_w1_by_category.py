"""Table 2: Wasserstein-1 distance of a per-sample statistic, per category of a discrete attribute.

Paper §5.2, Table 2: W1 between the real and the synthetic distribution of the
total bandwidth of FCC MBA users (the per-sample sum of the byte counter), for
DSL users and for cable users. Here, for any dataset: the per-sample
``--statistic`` (default ``sum``, over each series' active steps) of the
continuous feature column ``--feature`` (default 0), for every category of the
discrete attribute output ``--attribute`` (default: the one with the fewest
categories, e.g. MBA's connection technology), one column per synthetic set
and one for the held-out real split (the floor). The last row, ``all``, is the
W1 over all series. The first column counts the real series per category. W1
is raw, in the feature's units (footnote 9; MBA's byte counter is scaled to
[0, 1], so a 56-step total lies in [0, 56]), unless ``--normalize``.

With ``--out``: ``table2.csv`` and ``fig20_cdf.png``, the CDFs of the
statistic per category, real vs each synthetic set (Appendix C, Fig. 20).

    python -m evaluation.table2_w1_by_category --real dg_tf/datasets/fcc_mba --synthetic DG=runs/a/synthetic.npz
"""

from __future__ import annotations

import logging
from typing import Sequence, get_args

import numpy as np
import pandas as pd

from dg_tf.cli import run_main
from dg_tf.data.dataset import Dataset
from dg_tf.evaluation.distributions import (
    Statistic,
    attribute_labels,
    conditional_wasserstein1,
    per_sample_statistic,
    wasserstein1,
)
from dg_tf.evaluation.figures import plot_cdfs
from evaluation.common import (
    build_parser,
    continuous_feature,
    discrete_attribute,
    load_inputs,
    output_dir,
    print_table,
    save_figure,
    save_table,
)

logger = logging.getLogger("evaluation.table2")

PROG = "evaluation.table2_w1_by_category"
#: Attributes with more categories than this get no CDF figure (it would have too many panels).
MAX_FIGURE_CATEGORIES = 12
ALL = "all"


def _values(data: Dataset, name: str, feature: int, attribute: int, statistic: str) -> tuple[np.ndarray, np.ndarray]:
    """(statistic [N], category [N]) of every series with a defined statistic."""
    values = per_sample_statistic(data.features, data.lengths, feature, statistic)
    labels = attribute_labels(data.attributes, data.attribute_outputs, attribute)
    finite = np.isfinite(values)
    if not finite.all():
        logger.warning("%s: %d series have no defined %s; left out", name, int((~finite).sum()), statistic)
    return values[finite], labels[finite]


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(PROG, __doc__)
    parser.add_argument("--feature", type=int, default=0, help="continuous feature column")
    parser.add_argument("--attribute", type=int, default=None,
                        help="discrete attribute output [the one with the fewest categories, > 1]")
    parser.add_argument("--statistic", choices=get_args(Statistic), default="sum", help="per-sample statistic")
    parser.add_argument("--normalize", choices=("none", "real_range", "real_std"), default="none",
                        help="divide W1 by the range / standard deviation of the real values (all categories)")
    args = parser.parse_args(argv)

    inputs = load_inputs(args)
    real, names = inputs.real, inputs.names
    feature = continuous_feature(real, names, args.feature)
    attribute = discrete_attribute(real, args.attribute)
    normalize = None if args.normalize == "none" else args.normalize
    categories = range(real.attribute_outputs[attribute].dim)

    real_values, real_labels = _values(real, f"real {args.split}", args.feature, attribute, args.statistic)
    table = pd.DataFrame(index=pd.Index([names.level(attribute, c) for c in categories] + [ALL],
                                        name=names.attributes[attribute]))
    table[f"real {args.split} series"] = [int((real_labels == c).sum()) for c in categories] + [real_labels.size]
    panels = []
    for name, data in inputs.compared().items():
        logger.info("W1 of %s: %s", args.statistic, name)
        values, labels = _values(data, name, args.feature, attribute, args.statistic)
        per_category = conditional_wasserstein1(real_values, real_labels, values, labels, normalize)
        table[name] = [per_category.get(c, np.nan) for c in categories] + [
            wasserstein1(real_values, values, normalize)]
        if name in inputs.synthetic:
            panels += [(f"{name} | {names.attributes[attribute]} = {names.level(attribute, c)}",
                        real_values[real_labels == c], values[labels == c])
                       for c in categories if (real_labels == c).any() or (labels == c).any()]

    units = "raw units" if normalize is None else f"divided by the {normalize.replace('_', ' ')}"
    print_table(f"Table 2: W1 of the per-sample {args.statistic} of {feature} by {names.attributes[attribute]} "
                f"({units}; lower is better)", table)
    out = output_dir(args.out)
    if out is not None:
        save_table(out, "table2.csv", table)
        if len(categories) <= MAX_FIGURE_CATEGORIES:
            save_figure(out, "fig20_cdf.png", plot_cdfs(panels, f"per-sample {args.statistic} of {feature}"))
        else:
            logger.info("%d categories: no CDF figure (at most %d)", len(categories), MAX_FIGURE_CATEGORIES)


if __name__ == "__main__":
    raise SystemExit(run_main(main))
