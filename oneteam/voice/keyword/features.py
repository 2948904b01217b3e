"""Log-mel features for the keyword spotter: 25 ms frames every 10 ms, numpy only.

Cheap enough to run on every speech frame (one 512-point FFT and a 32-band matrix product per
10 ms); the spotter looks at a window of these frames, normalised per band over the window so a
microphone's colour and the speaker's loudness drop out.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from oneteam.voice.audio import SAMPLE_RATE

FRAME = 400
"""Samples per frame (25 ms)."""
HOP = 160
"""Samples between frames (10 ms)."""
BANDS = 32
_FFT = 512
_LOW_HZ = 80.0
_HIGH_HZ = 7600.0

Floats = npt.NDArray[np.float32]


def _mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(2595.0 * np.log10(1.0 + hz / 700.0))


@cache
def _filters() -> Floats:
    """Triangular mel filters, (FFT bins, bands)."""
    edges_mel = np.linspace(_mel(np.array(_LOW_HZ)), _mel(np.array(_HIGH_HZ)), BANDS + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(_FFT, 1.0 / SAMPLE_RATE)
    out = np.zeros((len(bins), BANDS), dtype=np.float32)
    for b in range(BANDS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        rise = (bins - lo) / (mid - lo)
        fall = (hi - bins) / (hi - mid)
        out[:, b] = np.maximum(0.0, np.minimum(rise, fall))
    return out


@cache
def _window() -> Floats:
    return np.hanning(FRAME).astype(np.float32)


def log_mel(samples: Floats) -> Floats:
    """(frames, BANDS) log-mel energies of float samples in [-1, 1]; one frame per whole hop."""
    if len(samples) < FRAME:
        return np.zeros((0, BANDS), dtype=np.float32)
    count = 1 + (len(samples) - FRAME) // HOP
    strides = (samples.strides[0] * HOP, samples.strides[0])
    frames = np.lib.stride_tricks.as_strided(samples, shape=(count, FRAME), strides=strides)
    # Pre-emphasis inside the frame keeps consonant bursts (코, 팀) from drowning under vowels.
    emphasised = frames[:, 1:] - 0.97 * frames[:, :-1]
    spectrum = np.abs(np.fft.rfft(emphasised * _window()[1:], _FFT)) ** 2
    return np.asarray(np.log(spectrum.astype(np.float32) @ _filters() + 1e-6), dtype=np.float32)


class MelStream:
    """Log-mel frames of a live stream, computed as audio arrives (keeps the partial frame)."""

    def __init__(self) -> None:
        self._tail = np.zeros(0, dtype=np.float32)

    def reset(self) -> None:
        self._tail = np.zeros(0, dtype=np.float32)

    def feed(self, samples: Floats) -> Floats:
        """The frames completed by `samples`."""
        data = np.concatenate([self._tail, samples]) if len(self._tail) else samples
        frames = log_mel(data)
        self._tail = data[len(frames) * HOP :].copy()
        return frames
