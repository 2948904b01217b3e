"""Finished Kaldi recognisers of one grammar, kept for the next utterance instead of built anew.

Vosk composes a grammar with the model's lexicon (HCLr) lazily, state by state as the search reaches
them, and caches what it composed inside the recogniser. A recogniser built per utterance composes
again everything the utterance's search touches: on 2-s commands that was about half the command
grammar decoder's CPU (BENCHMARKS.md, command mode 2026-12-04). After `FinalResult()` a Vosk
recogniser starts its next utterance with a new feature pipeline, i-vector and decoder (nothing of
the last speaker carries over) and keeps only the composed graph, so a finished one can be reused.
The cache is bounded by OpenFst's garbage collection: resident memory stayed flat over 120 utterances.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

_KEEP = 4
"""Idle recognisers kept: one per utterance decoded at the same time, as many as a hub has at once."""
WARM_NOISE_S = 2.0
"""Seconds of quiet noise a pool made with `warm=True` decodes once, so that a process's first
command finds a recogniser that composed the grammar's start already: the search over noise spreads
from the start over every first word, which is what any command needs first. Seven first commands
took 0.065 grammar CPU RTF after it, 0.095 without (BENCHMARKS.md, command mode 2026-12-04 15:40)."""


def quiet_noise(seconds: float = WARM_NOISE_S) -> bytes:
    """Seeded Gaussian noise, 16 kHz 16-bit mono, about -40 dBFS: no word in it, yet a full search."""
    samples = np.random.default_rng(0).normal(0.0, 300.0, int(16_000 * seconds))
    return np.clip(samples, -32_768, 32_767).astype("<i2").tobytes()


class RecognizerPool:
    """Idle recognisers built by `build`, each handed to one utterance at a time."""

    def __init__(self, build: Callable[[], Any], keep: int = _KEEP, *, warm: bool = False) -> None:
        self._build = build
        self._keep = keep
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        if warm:  # one recogniser decodes quiet noise now (~0.2 s of CPU), not the first command
            kaldi = build()
            kaldi.AcceptWaveform(quiet_noise())
            kaldi.FinalResult()
            self._idle.append(kaldi)

    def take(self) -> Any:
        """A recogniser for a new utterance: an idle finished one, else a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._build()

    def put(self, kaldi: Any) -> None:
        """Give back a recogniser whose `FinalResult()` was read (its utterance is over)."""
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(kaldi)

    @property
    def idle(self) -> int:
        """How many finished recognisers wait for an utterance."""
        with self._lock:
            return len(self._idle)
