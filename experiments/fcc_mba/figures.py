"""Figures of the FCC MBA experiments that compare several generators at once.

- :func:`plot_total_bandwidth_cdfs`: Fig. 20 (Appendix C), the CDF of total
  bandwidth per connection technology, the real data and every generator in
  one panel per category (the paper's panels (a) DSL and (b) cable).
- :func:`plot_autocorrelations`: Fig. 1 / Fig. 16 style, DG's ACF of the real
  data and of every generator (or privacy level), one panel per feature.
- :func:`plot_curve`: one measured number against a setting (Fig. 15, Fig. 16).

Every set keeps one colour (``C0``, ``C1``, ... in the given order) in every
panel. Each returns a Matplotlib :class:`~matplotlib.figure.Figure` on the headless
Agg canvas; the commands save them with :func:`evaluation.common.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dg_tf.evaluation.distributions import empirical_cdf
from dg_tf.evaluation.figures import REAL_COLOR

__all__ = ["plot_total_bandwidth_cdfs", "plot_autocorrelations", "plot_curve"]

#: (values float [N], category int [N]) of one set of series.
LabelledValues = tuple[np.ndarray, np.ndarray]


def _figure(panels: int, width: float = 4.5, height: float = 3.4, max_columns: int = 3) -> tuple[Figure, int, int]:
    columns = min(panels, max_columns)
    rows = -(-panels // columns)
    figure = Figure(figsize=(width * columns, height * rows), dpi=90)
    FigureCanvasAgg(figure)
    return figure, rows, columns


def plot_total_bandwidth_cdfs(
    real: LabelledValues, generated: Mapping[str, LabelledValues], levels: Sequence[str], xlabel: str
) -> Figure:
    """Fig. 20: CDF of a per-sample statistic for each category, real (black) and every generator.

    Args:
        real: (values float [N], category int [N]) of the real series.
        generated: generator name -> (values [M], category [M]), in legend order.
        levels: the category names; category c gets panel c.
        xlabel: the statistic, with its unit.
    """
    figure, rows, columns = _figure(len(levels))
    for c, level in enumerate(levels):
        axes = figure.add_subplot(rows, columns, c + 1)
        curves = [("real", real, REAL_COLOR, 2.0)] + [
            (name, data, f"C{i}", 1.2) for i, (name, data) in enumerate(generated.items())]
        drawn = 0
        for name, (values, labels), color, width in curves:
            chosen = np.asarray(values, np.float64)[np.asarray(labels) == c]
            chosen = chosen[np.isfinite(chosen)]
            if chosen.size:
                axes.step(*empirical_cdf(chosen), where="post", color=color, linewidth=width,
                          label=f"{name} (n={chosen.size})")
                drawn += 1
        axes.set_title(f"technology {level}", fontsize="medium")
        axes.set_xlabel(xlabel)
        axes.set_ylabel("CDF")
        if drawn:
            axes.legend(loc="lower right", fontsize="x-small")
        else:
            axes.text(0.5, 0.5, "no series in this category", ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    return figure


def plot_autocorrelations(
    real_curves: np.ndarray, curves: Mapping[str, np.ndarray], names: Sequence[str], title: str = ""
) -> Figure:
    """DG's autocorrelation of the real data (black) and of each generated set, one panel per feature.

    Args:
        real_curves: float [K, lags]; entry j-1 is lag j.
        curves: set name -> float [K, lags], in legend order.
        names: K panel titles.
        title: figure title.
    """
    figure, rows, columns = _figure(len(names), width=5.5)
    lags = np.arange(1, real_curves.shape[1] + 1)
    for k, name in enumerate(names):
        axes = figure.add_subplot(rows, columns, k + 1)
        axes.plot(lags, real_curves[k], color=REAL_COLOR, linewidth=2.0, label="real")
        for i, (label, curve) in enumerate(curves.items()):
            axes.plot(lags, curve[k], color=f"C{i}", linewidth=1.0, label=label)
        axes.set_title(name)
        axes.set_xlabel("lag (steps)")
        axes.set_ylabel("autocorrelation")
        axes.set_ylim(-1.05, 1.05)
        axes.legend(loc="upper right", fontsize="x-small")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_curve(
    x: Sequence[float], series: Mapping[str, Sequence[float]], xlabel: str, ylabel: str, title: str,
    *, log_x: bool = False, reference: float | None = None, reference_label: str = "",
) -> Figure:
    """One or more measured curves against a setting (marker per point), with an optional horizontal reference."""
    figure, _, _ = _figure(1, width=6.0, height=4.0)
    axes = figure.add_subplot(1, 1, 1)
    for label, values in series.items():
        axes.plot(x, values, "o-", label=label)
    if reference is not None:
        axes.axhline(reference, linestyle="--", color="grey", label=reference_label)
    if log_x:
        axes.set_xscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure
