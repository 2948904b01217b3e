"""A picture of a remaining-life model on a test set: predicted against true RUL, unit by unit."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # files only: the CLI may run on a machine without a display

import matplotlib.pyplot as plt
import numpy as np

from oneteam.services.maintenance.rul import RUL_CAP, RulEvaluation

_LOGGER = logging.getLogger(__name__)


def plot_rul(evaluation: RulEvaluation, path: Path) -> Path:
    """Save a PNG: test units sorted by true RUL, true (raw and capped) as lines, predictions as dots."""
    order = np.argsort(evaluation.true_raw, kind="stable")
    x = np.arange(1, len(order) + 1)
    figure, axes = plt.subplots(figsize=(10, 4.5), dpi=100)
    axes.plot(x, evaluation.true_raw[order], color="0.6", linewidth=1.2, label="true RUL (raw)")
    axes.plot(
        x,
        np.minimum(evaluation.true_raw[order], RUL_CAP),
        color="black",
        linewidth=1.5,
        label="true RUL, capped 125",
    )
    axes.scatter(x, evaluation.predicted[order], s=12, color="tab:red", label="predicted", zorder=3)
    axes.set_xlabel("test unit (sorted by true RUL)")
    axes.set_ylabel("RUL (cycles)")
    axes.set_title(
        f"{evaluation.dataset}: RMSE {evaluation.rmse_capped:.2f} capped, {evaluation.rmse_raw:.2f} raw, "
        f"NASA score {evaluation.nasa_score:.0f}"
    )
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    _LOGGER.info("saved %s", path)
    return path
