"""Household enrolment of a wake phrase: a real recording becomes a positive of the phrase's keyword
network, cached, and used by the wake detector from then on (`oneteam wake enroll`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oneteam.cli.main import app
from oneteam.voice.asr import VoskModel
from oneteam.voice.audio import read_wav, write_wav
from oneteam.voice.keyword.enroll import SilentRecording, enroll, enrolled_spotter, kept_voices, phrase_audio
from oneteam.voice.keyword.features import log_mel
from oneteam.voice.keyword.spotter import SpotterEnsemble
from oneteam.voice.keyword.train import Recipe
from oneteam.voice.wake_model import WakeModel

pytestmark = pytest.mark.slow

_SMALL = Recipe(
    voices=("ko", "ko+f1", "ko+m3"),
    rates=(140, 190),
    pitches=(50,),
    copies=2,
    sentences=20,
)
"""A tiny recipe (the product's: 16 voices x 4 rates x 4 pitches); ko+m3 is held out."""


def _peak(scorer: SpotterEnsemble, samples: np.ndarray, size: int) -> float:
    padded = np.concatenate([np.zeros(4000, np.float32), samples, np.zeros(4000, np.float32)])
    frames = log_mel(padded)
    if len(frames) < size:
        frames = np.concatenate([np.repeat(frames[:1], size - len(frames), axis=0), frames])
    return max(
        float(scorer.score_window(frames[end - size : end])) for end in range(size, len(frames) + 1, 10)
    )


def test_a_recording_is_cut_to_the_phrase_enrolled_and_used_by_the_detector(
    vosk_model: VoskModel, speech_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONETEAM_CACHE_DIR", str(tmp_path))
    wake = WakeModel(vosk_model, ["코뿔소"], first_stage="vosk")
    # 코뿔소 then a lighting command (Picovoice): the grammar finds the phrase at the start; the cut
    # keeps it, not the command (the clip is 5 s long).
    pcm = read_wav(speech_dir / "pv_picovoice_koppulso_seumateu_jomyeong_ko.wav").data
    voice = phrase_audio(wake, pcm, "koppulso")
    assert 0.3 < len(voice) / 16_000 < 1.6
    assert enrolled_spotter("코뿔소") is None
    networks, count = enroll("코뿔소", [voice], recipe=_SMALL)
    assert count == 1
    assert len(kept_voices("코뿔소")) == 1
    # Trained on it: the enrolled networks score the household's own 코뿔소 high.
    assert _peak(networks, voice, networks.window_frames) >= 0.8
    # The keyword first stage now loads the enrolled networks (no eSpeak-only training happens).
    loaded = WakeModel(vosk_model, ["코뿔소"], first_stage="keyword").spotters[0]
    assert loaded.window_frames == networks.window_frames
    assert _peak(loaded, voice, loaded.window_frames) == pytest.approx(
        _peak(networks, voice, networks.window_frames), abs=1e-5
    )
    # Enrolling again adds to the recordings kept; --replace starts over.
    assert enroll("코뿔소", [voice[::-1].copy()], recipe=_SMALL)[1] == 2
    assert enroll("코뿔소", [voice], replace=True, recipe=_SMALL)[1] == 1
    with pytest.raises(SilentRecording):
        phrase_audio(wake, bytes(32_000), "silence")


def test_enroll_command_refuses_a_silent_recording_and_a_bad_phrase(
    vosk_model: VoskModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONETEAM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("ONETEAM_LANG", "ko")
    silent = tmp_path / "silent.wav"
    write_wav(silent, bytes(32_000), 16_000)
    runner = CliRunner()
    result = runner.invoke(app, ["wake", "enroll", "--phrase", "코뿔소", str(silent)])
    assert result.exit_code == 2, result.output
    assert "목소리가 없어요" in result.output
    result = runner.invoke(app, ["wake", "enroll", "--phrase", "qqq", str(silent)])
    assert result.exit_code == 2, result.output
    assert enrolled_spotter("코뿔소") is None
