"""Audio in: conversion to 16 kHz mono, and clear errors for audio that cannot be used."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from oneteam.voice.audio import AudioError, AudioFormat, convert, read_wav, rms_dbfs


def _tone(rate: int, seconds: float, channels: int) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    mono = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    return np.repeat(mono[:, None], channels, axis=1).tobytes()


def _wav(pcm: bytes, rate: int, channels: int, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def test_stereo_44k_wav_is_converted_to_16k_mono_not_rejected() -> None:
    pcm = read_wav(_wav(_tone(44_100, 1.0, 2), 44_100, 2))
    assert abs(pcm.duration_s - 1.0) < 0.01
    assert -10 < rms_dbfs(pcm.data) < -6  # a 0.5 amplitude sine keeps its loudness (-9 dBFS)


def test_8k_audio_is_upsampled() -> None:
    converted = convert(_tone(8_000, 0.5, 1), AudioFormat(rate=8_000))
    assert len(converted) == 16_000


def test_truncated_wav_header_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    path.write_bytes(_wav(_tone(16_000, 0.2, 1), 16_000, 1)[:20])
    with pytest.raises(AudioError, match="not a PCM WAV"):
        read_wav(path)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("거실 불 켜 줘", encoding="utf-8")
    with pytest.raises(AudioError):
        read_wav(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="cannot read"):
        read_wav(tmp_path / "absent.wav")


def test_pcm_that_does_not_fill_whole_frames_is_refused() -> None:
    with pytest.raises(AudioError, match="whole number"):
        convert(b"\x00\x01\x02", AudioFormat(rate=16_000, channels=2))


def test_unsupported_sample_width_is_refused() -> None:
    with pytest.raises(AudioError, match="sample width"):
        convert(b"\x00" * 6, AudioFormat(width=3))


def test_empty_wav_is_refused() -> None:
    with pytest.raises(AudioError, match="no audio"):
        read_wav(_wav(b"", 16_000, 1))
