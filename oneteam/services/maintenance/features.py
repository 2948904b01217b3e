"""Features from equipment time series: operating-condition normalisation and causal window statistics.

Every feature at time t uses only samples up to t, so the same function serves training (all
cycles of run-to-failure units) and prediction (the last cycle of a unit seen so far).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

_LOGGER = logging.getLogger(__name__)

WINDOWS = (5, 10, 20, 30)
"""Rolling-window lengths in samples (cycles, days)."""
BASELINE_SAMPLES = 10
"""The first samples of a unit give its own healthy baseline: units start with different wear."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionNormaliser:
    """Standardises sensors per operating condition, found by KMeans on the settings.

    In FD002/FD004 six flight conditions (altitude, Mach, throttle) move the sensors far more
    than wear does; subtracting each condition's mean and dividing by its spread leaves the wear.
    With one condition (FD001/FD003) this is plain standardisation.
    """

    centers: np.ndarray
    """KMeans centres over the setting columns, one row per condition."""
    means: np.ndarray
    """Per condition, per sensor mean."""
    stds: np.ndarray
    """Per condition, per sensor standard deviation (at least 1e-6)."""

    @staticmethod
    def fit(
        settings: np.ndarray, sensors: np.ndarray, n_conditions: int, seed: int = 0
    ) -> ConditionNormaliser:
        """Find the conditions and each one's sensor statistics."""
        if n_conditions > 1:
            model = KMeans(n_clusters=n_conditions, n_init=3, random_state=seed).fit(settings)
            centers = np.asarray(model.cluster_centers_, dtype=float)
        else:
            centers = settings.mean(axis=0, keepdims=True)
        labels = _nearest(settings, centers)
        means = np.zeros((len(centers), sensors.shape[1]))
        stds = np.ones((len(centers), sensors.shape[1]))
        for label in range(len(centers)):
            chosen = sensors[labels == label]
            if len(chosen):
                means[label] = chosen.mean(axis=0)
                stds[label] = np.maximum(chosen.std(axis=0), 1e-6)
        return ConditionNormaliser(centers=centers, means=means, stds=stds)

    def conditions(self, settings: np.ndarray) -> np.ndarray:
        """The condition index of each row."""
        return _nearest(settings, self.centers)

    def transform(self, settings: np.ndarray, sensors: np.ndarray) -> np.ndarray:
        """Sensors standardised within their row's condition."""
        labels = self.conditions(settings)
        return np.asarray((sensors - self.means[labels]) / self.stds[labels], dtype=float)

    def to_json(self) -> dict[str, list[list[float]]]:
        """Plain lists for the model's metadata file."""
        return {"centers": self.centers.tolist(), "means": self.means.tolist(), "stds": self.stds.tolist()}

    @staticmethod
    def from_json(data: dict[str, list[list[float]]]) -> ConditionNormaliser:
        """The inverse of `to_json`."""
        return ConditionNormaliser(
            centers=np.asarray(data["centers"], dtype=float),
            means=np.asarray(data["means"], dtype=float),
            stds=np.asarray(data["stds"], dtype=float),
        )


def _nearest(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    distances = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(distances.argmin(axis=1))


def _window_sums(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum over the last `window` rows (fewer at the start) and the count of rows summed."""
    padded = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    n = len(values)
    end = np.arange(1, n + 1)
    start = np.maximum(end - window, 0)
    return padded[end] - padded[start], (end - start).astype(float)[:, None]


def _rolling_slope(values: np.ndarray, window: int) -> np.ndarray:
    """Least-squares slope per sample over the last `window` samples (0 with fewer than 2)."""
    t = np.arange(len(values), dtype=float)[:, None]
    sum_x, count = _window_sums(values, window)
    sum_t, _ = _window_sums(t, window)
    sum_tt, _ = _window_sums(t * t, window)
    sum_tx, _ = _window_sums(t * values, window)
    denominator = count * sum_tt - sum_t * sum_t
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (count * sum_tx - sum_t * sum_x) / denominator
    return np.where(denominator > 0, slope, 0.0)


def feature_names(signals: Sequence[str], *, with_history: bool) -> list[str]:
    """Column names of `window_features` for these signals."""
    names: list[str] = []
    for signal in signals:
        names.append(f"{signal}")
        names.extend(f"{signal}_mean{w}" for w in WINDOWS)
        names.extend([f"{signal}_std10", f"{signal}_slope10", f"{signal}_slope30", f"{signal}_delta"])
        if with_history:
            names.extend([f"{signal}_slope_all", f"{signal}_mean_all"])
    if with_history:
        names.append("age")
    return names


def window_features(values: np.ndarray, *, with_history: bool) -> np.ndarray:
    """Causal features of one unit's series (rows in time order, one column per signal).

    Per signal: the value, means over `WINDOWS`, the spread and slope over the last 10 samples,
    the slope over 30, and how far the recent mean has moved from the unit's own baseline.
    `with_history` adds whole-history slope and mean and the age in samples; use it only when
    series start at a known point (C-MAPSS cycle 1), not for appliances watched from any day.
    """
    n, k = values.shape
    columns: list[np.ndarray] = [values]
    means = {}
    for window in WINDOWS:
        total, count = _window_sums(values, window)
        means[window] = total / count
        columns.append(means[window])
    square, count10 = _window_sums(values * values, 10)
    columns.append(np.sqrt(np.maximum(square / count10 - means[10] ** 2, 0.0)))
    columns.append(_rolling_slope(values, 10))
    columns.append(_rolling_slope(values, 30))
    cumulative = np.cumsum(values, axis=0)
    seen = np.minimum(np.arange(n), BASELINE_SAMPLES - 1)
    baseline = cumulative[seen] / (seen + 1)[:, None]
    columns.append(means[10] - baseline)
    if with_history:
        columns.append(_rolling_slope(values, n))
        columns.append(cumulative / np.arange(1, n + 1)[:, None])
    per_signal = np.stack(columns, axis=2)  # n × k × features-per-signal
    flat = per_signal.reshape(n, k * per_signal.shape[2])
    if with_history:
        flat = np.hstack([flat, np.arange(1, n + 1, dtype=float)[:, None]])
    return flat


def unit_features(
    frame: pd.DataFrame, unit_column: str, signals: np.ndarray, *, with_history: bool, last_only: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Features for every unit in `frame` (rows already sorted by unit then time).

    Returns the feature matrix and the row positions it came from; with `last_only`, one row per
    unit (its last sample), as the C-MAPSS test protocol scores.
    """
    units = frame[unit_column].to_numpy()
    boundaries = np.flatnonzero(np.diff(units)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(units)]])
    blocks: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    for start, end in zip(starts, ends, strict=True):
        block = window_features(signals[start:end], with_history=with_history)
        if last_only:
            blocks.append(block[-1:])
            rows.append(np.array([end - 1]))
        else:
            blocks.append(block)
            rows.append(np.arange(start, end))
    return np.vstack(blocks), np.concatenate(rows)
