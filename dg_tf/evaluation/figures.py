"""Figures of an evaluation report: real (black) next to synthetic (orange).

Each function returns a matplotlib :class:`~matplotlib.figure.Figure` drawn on
the non-interactive Agg canvas (headless, no pyplot global state); the report
saves them as PNG. They reproduce the paper's plot types: ACF curves (Fig. 1),
attribute histograms (Fig. 10/19), length histograms (Fig. 9/18), CDFs of a
per-sample statistic per attribute value (Fig. 20) and nearest-neighbour grids
(Figs. 21-23).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dg_tf.evaluation.distributions import DiscreteMarginal, LengthDistribution, empirical_cdf

__all__ = [
    "REAL_COLOR",
    "SYNTHETIC_COLOR",
    "CdfPanel",
    "plot_autocorrelation",
    "plot_attribute_histograms",
    "plot_lengths",
    "plot_cdfs",
    "plot_neighbours",
]

REAL_COLOR = "black"
SYNTHETIC_COLOR = "tab:orange"

#: (title, real values [N], synthetic values [M]) of one CDF panel.
CdfPanel = tuple[str, np.ndarray, np.ndarray]


def _figure(rows: int, columns: int, width: float = 4.0, height: float = 3.0) -> Figure:
    figure = Figure(figsize=(width * columns, height * rows), dpi=90)
    FigureCanvasAgg(figure)
    return figure


def _grid(count: int, max_columns: int = 3) -> tuple[int, int]:
    columns = min(count, max_columns)
    return math.ceil(count / columns), columns


def plot_autocorrelation(real_curves: np.ndarray, synthetic_curves: np.ndarray, names: Sequence[str]) -> Figure:
    """DG autocorrelation (Fig. 1) of each continuous feature.

    Args:
        real_curves: float [K, lags], entry j-1 for lag j; NaN where undefined.
        synthetic_curves: float [K, lags].
        names: K panel titles.
    """
    rows, columns = _grid(len(names))
    figure = _figure(rows, columns)
    lags = np.arange(1, real_curves.shape[1] + 1)
    for k, name in enumerate(names):
        axes = figure.add_subplot(rows, columns, k + 1)
        axes.plot(lags, real_curves[k], color=REAL_COLOR, label="real")
        axes.plot(lags, synthetic_curves[k], color=SYNTHETIC_COLOR, label="synthetic")
        axes.set_title(name)
        axes.set_xlabel("lag (steps)")
        axes.set_ylabel("autocorrelation")
        axes.set_ylim(-1.05, 1.05)
        axes.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    return figure


def plot_attribute_histograms(marginals: Sequence[DiscreteMarginal], names: Sequence[str]) -> Figure:
    """Category frequencies of each discrete attribute, real vs synthetic (Fig. 10, 19)."""
    figure = _figure(len(marginals), 1, width=max(6.0, 0.25 * max(len(m.real_probabilities) for m in marginals)))
    for row, (marginal, name) in enumerate(zip(marginals, names)):
        axes = figure.add_subplot(len(marginals), 1, row + 1)
        levels = np.arange(len(marginal.real_probabilities))
        axes.bar(levels - 0.2, marginal.real_probabilities, width=0.4, color=REAL_COLOR, label="real")
        axes.bar(levels + 0.2, marginal.synthetic_probabilities, width=0.4, color=SYNTHETIC_COLOR, label="synthetic")
        axes.set_title(f"{name}: TV {marginal.total_variation:.3f}, JS {marginal.jensen_shannon:.3f}")
        axes.set_xlabel("category index")
        axes.set_ylabel("fraction of series")
        axes.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    return figure


def plot_lengths(lengths: LengthDistribution) -> Figure:
    """Histogram of series lengths, real vs synthetic (Fig. 9, 18)."""
    figure = _figure(1, 1, width=7.0)
    axes = figure.add_subplot(1, 1, 1)
    steps = np.arange(1, len(lengths.real_probabilities) + 1)
    axes.step(steps, lengths.real_probabilities, where="mid", color=REAL_COLOR, label="real")
    axes.step(steps, lengths.synthetic_probabilities, where="mid", color=SYNTHETIC_COLOR, label="synthetic")
    axes.set_title(f"series length: W1 {lengths.wasserstein1:.2f} steps, TV {lengths.total_variation:.3f}")
    axes.set_xlabel("length (steps)")
    axes.set_ylabel("fraction of series")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def plot_cdfs(panels: Sequence[CdfPanel], xlabel: str) -> Figure:
    """Empirical CDFs, real vs synthetic, one panel each (Fig. 8, Fig. 20).

    NaN values are left out; a side with no finite value is not drawn.
    """
    rows, columns = _grid(len(panels))
    figure = _figure(rows, columns)
    for index, (title, real, synthetic) in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        for values, color, label in ((real, REAL_COLOR, "real"), (synthetic, SYNTHETIC_COLOR, "synthetic")):
            finite = np.asarray(values, dtype=np.float64)
            finite = finite[np.isfinite(finite)]
            if finite.size:
                axes.step(*empirical_cdf(finite), where="post", color=color, label=f"{label} (n={finite.size})")
        axes.set_title(title, fontsize="medium")
        axes.set_xlabel(xlabel)
        axes.set_ylabel("CDF")
        axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    return figure


def plot_neighbours(
    synthetic: np.ndarray,
    synthetic_lengths: np.ndarray,
    train: np.ndarray,
    train_lengths: np.ndarray,
    indices: np.ndarray,
    distances: np.ndarray,
    column: int,
    name: str,
) -> Figure:
    """Synthetic series next to their nearest training series (Figs. 21-23).

    Args:
        synthetic: float [M, L, K] the synthetic samples to show (one row each).
        synthetic_lengths: int [M].
        train: float [N, L, K] training samples.
        train_lengths: int [N].
        indices: int [M, k] nearest training samples of each row, closest first.
        distances: float [M, k] their Euclidean distances.
        column: feature column drawn.
        name: its name, for the title.
    """
    rows, neighbours = indices.shape
    figure = _figure(rows, neighbours + 1, width=3.0, height=1.8)
    for row in range(rows):
        length = int(synthetic_lengths[row])
        axes = figure.add_subplot(rows, neighbours + 1, row * (neighbours + 1) + 1)
        axes.plot(synthetic[row, :length, column], color=SYNTHETIC_COLOR)
        axes.set_title(f"synthetic {row}", fontsize="small")
        for j in range(neighbours):
            i = int(indices[row, j])
            axes = figure.add_subplot(rows, neighbours + 1, row * (neighbours + 1) + j + 2)
            axes.plot(train[i, : int(train_lengths[i]), column], color=REAL_COLOR)
            axes.set_title(f"train #{i}, distance {distances[row, j]:.3g}", fontsize="small")
    figure.suptitle(f"{name}: synthetic series (left) and their nearest training series")
    figure.tight_layout()
    return figure
