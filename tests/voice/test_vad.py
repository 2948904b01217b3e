"""Voice activity with Silero: silence and noise start nothing; speech starts and ends an utterance."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oneteam.voice.audio import read_wav
from oneteam.voice.vad import SpeechDetector, VadEventKind, VadSettings


def test_silence_never_starts_speech() -> None:
    detector = SpeechDetector()
    assert detector.process(bytes(32_000 * 2)) == []
    assert not detector.in_speech
    assert detector.finish() == []


def test_white_noise_is_not_speech() -> None:
    noise = (np.random.default_rng(1).normal(0, 0.2, 32_000) * 32767).clip(-32767, 32767)
    detector = SpeechDetector()
    events = detector.process(noise.astype("<i2").tobytes())
    assert all(event.kind is not VadEventKind.END for event in events)
    assert not detector.in_speech


def test_speech_then_silence_ends_the_utterance(speech_dir: Path) -> None:
    speech = read_wav(speech_dir / "pv_leopard_test_ko.wav").data
    detector = SpeechDetector(VadSettings(trailing_silence_s=0.6))
    events = detector.process(speech + bytes(32_000))
    kinds = [event.kind for event in events]
    assert kinds[0] is VadEventKind.SPEECH
    assert kinds[-1] is VadEventKind.END
    heard = sum(len(event.audio) for event in events) / 32_000
    assert 2.0 < heard < 4.5  # the 3.9 s clip, its leading silence dropped
