"""Figures of generated series for people (TensorBoard, run folders).

Uses matplotlib's non-interactive Agg canvas only, so it works headless and
never touches pyplot's global figure state.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dg_tf.data.dataset import Dataset
from dg_tf.data.specs import continuous_columns

__all__ = ["plot_series", "figure_to_image"]


def plot_series(dataset: Dataset, num_series: int = 5, title: str = "") -> Figure:
    """One panel per continuous feature column, ``num_series`` series in each.

    Each series is drawn over its active steps only (its length), so the end
    of a variable-length series is visible.
    """
    columns = continuous_columns(dataset.feature_outputs) or [(c, f"column {c}") for c in range(dataset.features.shape[2])]
    figure = Figure(figsize=(8, 2.2 * len(columns)), dpi=80)
    FigureCanvasAgg(figure)
    lengths = dataset.lengths
    for row, (column, name) in enumerate(columns):
        axes = figure.add_subplot(len(columns), 1, row + 1)
        for i in range(min(num_series, dataset.num_samples)):
            axes.plot(np.arange(lengths[i]), dataset.features[i, : lengths[i], column], linewidth=1)
        axes.set_ylabel(name)
        axes.set_xlim(0, max(dataset.max_length - 1, 1))
    axes.set_xlabel("step")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def figure_to_image(figure: Figure) -> np.ndarray:
    """Render ``figure`` to uint8 RGB [height, width, 3]."""
    canvas = figure.canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
