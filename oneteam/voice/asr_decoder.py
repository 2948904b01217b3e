"""One Kaldi recogniser over an utterance, and what it has read and spent so far."""

from __future__ import annotations

import json
import time
from typing import Any


class Decoder:
    """One Kaldi recogniser and what it has produced."""

    def __init__(self, kaldi: Any) -> None:
        self.kaldi = kaldi
        self.segments: list[dict[str, Any]] = []
        self.decode_s = 0.0
        self.cpu_s = 0.0  # CPU seconds of the caller's thread, where the decoder runs (benchmarks)
        self.lowest = 0.0
        """The lowest word confidence of the finished reading."""

    def accept(self, pcm: bytes) -> str:
        """Feed audio; the current partial text."""
        started, cpu = time.perf_counter(), time.thread_time()
        if self.kaldi.AcceptWaveform(pcm):
            self.segments.append(json.loads(self.kaldi.Result()))
            partial = ""
        else:
            partial = str(json.loads(self.kaldi.PartialResult()).get("partial", ""))
        self.decode_s += time.perf_counter() - started
        self.cpu_s += time.thread_time() - cpu
        return " ".join([*(s.get("text", "") for s in self.segments), partial]).strip()

    def finish(self) -> tuple[str, float]:
        """The whole text and its mean word confidence (`lowest` holds the lowest word's)."""
        started, cpu = time.perf_counter(), time.thread_time()
        self.segments.append(json.loads(self.kaldi.FinalResult()))
        self.decode_s += time.perf_counter() - started
        self.cpu_s += time.thread_time() - cpu
        words = [w for s in self.segments for w in s.get("result", [])]
        text = " ".join(s.get("text", "") for s in self.segments if s.get("text")).strip()
        confidence = sum(float(w.get("conf", 0.0)) for w in words) / len(words) if words else 0.0
        self.lowest = min((float(w.get("conf", 0.0)) for w in words), default=0.0)
        return text, confidence
