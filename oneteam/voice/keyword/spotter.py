"""The keyword spotter: a small network over a sliding window of log-mel frames.

It is the wake detector's cheap first look: while voice activity says speech, the last window is
scored every `STEP_FRAMES` frames, and only a window scoring at or above the threshold hands its
audio to the Vosk stages (voice/wake.py). It is trained for one phrase (keyword/train.py) and saved
as a few numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from oneteam.voice.keyword.features import BANDS, Floats

STEP_FRAMES = 10
"""Frames between two scorings of the window (100 ms)."""
TIME_BINS = 16
"""The window is pooled to this many time steps (a phrase said fast or slow lands in the same bins)."""
BAND_POOL = 2
"""Adjacent mel bands averaged (32 → 16): finer detail is the voice, not the phrase."""


def window_features(frames: Floats) -> Floats:
    """One window of log-mel frames (window, BANDS) → the spotter's input vector."""
    count = len(frames)
    edges = np.linspace(0, count, TIME_BINS + 1).astype(np.int64)
    sizes = np.diff(edges)[:, None].astype(np.float32)
    normalised = frames - frames.mean(axis=0, keepdims=True)
    pooled = np.add.reduceat(normalised, edges[:-1], axis=0) / sizes
    pooled = pooled.reshape(TIME_BINS, BANDS // BAND_POOL, BAND_POOL).mean(axis=2)
    # The loudness contour (which bins hold the syllables) beside the spectral shape.
    energy = frames.mean(axis=1)
    contour = np.add.reduceat(energy - energy.max(), edges[:-1]) / sizes[:, 0]
    return np.asarray(np.concatenate([pooled.ravel(), contour]), dtype=np.float32)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordSpotter:
    """A trained spotter for one phrase."""

    phrase: str
    window_frames: int
    """Frames per window (10 ms each): about the phrase's longest spoken length."""
    mean: Floats
    scale: Floats
    weights: tuple[Floats, ...]
    biases: tuple[Floats, ...]
    threshold: float
    """Lowest score that hands a window to the Vosk stages (chosen for recall, not precision)."""

    def score(self, features: Floats) -> Floats:
        """Probability-like scores of a (windows, features) batch."""
        x = (features - self.mean) / self.scale
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            x = np.maximum(0.0, x @ w + b)
        logits = x @ self.weights[-1] + self.biases[-1]
        return np.asarray(1.0 / (1.0 + np.exp(-logits[:, 0])), dtype=np.float32)

    def score_window(self, frames: Floats) -> float:
        """The score of one window of log-mel frames (at least `window_frames` of them)."""
        return float(self.score(window_features(frames[-self.window_frames :])[None, :])[0])

    def save(self, path: Path) -> None:
        arrays: dict[str, npt.NDArray[Any]] = {"mean": self.mean, "scale": self.scale}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"w{i}"], arrays[f"b{i}"] = w, b
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        arrays["phrase"] = np.array(self.phrase)
        arrays["window_frames"] = np.array(self.window_frames)
        arrays["threshold"] = np.array(self.threshold)
        np.savez(tmp, allow_pickle=False, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> KeywordSpotter:
        with np.load(path) as data:
            layers = sum(1 for name in data.files if name[0] == "w" and name[1:].isdigit())
            return cls(
                phrase=str(data["phrase"]),
                window_frames=int(data["window_frames"]),
                threshold=float(data["threshold"]),
                mean=data["mean"].astype(np.float32),
                scale=data["scale"].astype(np.float32),
                weights=tuple(data[f"w{i}"].astype(np.float32) for i in range(layers)),
                biases=tuple(data[f"b{i}"].astype(np.float32) for i in range(layers)),
            )


@dataclass(frozen=True, slots=True)
class SpotterEnsemble:
    """Spotters for one phrase trained with different seeds; their mean score is used.

    One network's score on the same real recording swung from 0.97 to below 0.8 between two
    trainings that differed only in small details: the mean of a few is steadier."""

    members: tuple[KeywordSpotter, ...]

    @property
    def phrase(self) -> str:
        return self.members[0].phrase

    @property
    def window_frames(self) -> int:
        return self.members[0].window_frames

    def score_window(self, frames: Floats) -> float:
        """The mean score of one window of log-mel frames (at least `window_frames` of them)."""
        vector = window_features(frames[-self.window_frames :])[None, :]
        return float(np.mean([float(m.score(vector)[0]) for m in self.members]))
