"""Stage 2 of the wake detector on a phrase the model knows as one word (코뿔소, 빅스비, 아이스크림)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from oneteam.voice.asr import VoskModel
from oneteam.voice.audio import read_wav
from oneteam.voice.keyword.speech import speak_fresh
from oneteam.voice.wake import WakeDetector
from oneteam.voice.wake_model import VERIFY_TAIL, WakeModel, _holds

pytestmark = pytest.mark.slow
_PAD = bytes(9600)  # 0.3 s, what stage 2 keeps either side of a candidate


def _word_reading(wake: WakeModel, pcm: bytes) -> list[tuple[str, float]]:
    """What stage 2's word grammar alone reads (the whole of stage 2 before syllable checks)."""
    kaldi = wake.recognizer(verify=True)
    kaldi.AcceptWaveform(pcm + VERIFY_TAIL)
    return [(w["word"], float(w["conf"])) for w in json.loads(kaldi.FinalResult()).get("result", [])]


def test_a_short_word_read_as_the_one_word_phrase_is_refused(vosk_model: VoskModel) -> None:
    # eSpeak's 쾌속 ("high speed", a word of the i18n catalogue): the word grammar reads it 코뿔소 at
    # 1.0 (it woke 코뿔소 3 times in the independent hour); a syllable at a time it is 쏙 or 궤 쏙,
    # not 코 뿔 소, so stage 2 refuses it. Fresh eSpeak: the same audio in any process.
    wake = WakeModel(vosk_model, ["코뿔소"], first_stage="vosk")
    texts = [("쾌속", 165), ("쾌속", 180)]
    audio = speak_fresh([(text, "ko", rate, 50) for text, rate in texts])
    read_as_phrase = 0
    for (text, rate), samples in zip(texts, audio, strict=True):
        pcm = _PAD + (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes() + _PAD
        words = _word_reading(wake, pcm)
        read_as_phrase += any(w == "코뿔소" and c >= wake.verify_threshold for w, c in words)
        assert wake.verify(pcm, 0.0) is None, (text, rate, words)
    assert read_as_phrase >= 1  # the word grammar alone would have woken


@pytest.mark.parametrize(
    ("clip", "phrase"),
    [
        ("pv_porcupine_multiple_keywords_ko.wav", "코뿔소"),
        ("pv_picovoice_koppulso_seumateu_jomyeong_ko.wav", "코뿔소"),
        ("pv_porcupine_multiple_keywords_ko.wav", "빅스비"),
        ("pv_porcupine_bixby.wav", "빅스비"),
        ("pv_porcupine_multiple_keywords_ko.wav", "아이스크림"),
    ],
)
def test_each_real_recording_still_wakes_its_phrase_alone(
    vosk_model: VoskModel, speech_dir: Path, clip: str, phrase: str
) -> None:
    # The multiple_keywords speaker's fast 코 is swallowed by ㅃ's closure (a syllable at a time: 뿔 소):
    # the check lets only such a short syllable before a tense onset go unheard.
    wake = WakeModel(vosk_model, [phrase], first_stage="vosk")
    detector = WakeDetector(wake)
    pcm = read_wav(speech_dir / clip).data
    found = [d for start in range(0, len(pcm), 3200) for d in detector.feed(pcm[start : start + 3200])]
    found += detector.finish()
    assert [d.name for d in found] == [phrase]


def test_only_a_short_syllable_before_a_tense_onset_may_go_unheard(vosk_model: VoskModel) -> None:
    # The syllable check on readings as Vosk gives them (word, start, end): 코뿔소 read as a word
    # over 0.30-0.80 s, then what the syllable re-read heard there.
    wake = WakeModel(vosk_model, ["코뿔소"], first_stage="vosk").words[0]

    def heard(*words: str) -> list[dict[str, object]]:
        step = 0.5 / len(words)
        return [
            {"word": w, "start": 0.3 + i * step, "end": 0.3 + (i + 1) * step} for i, w in enumerate(words)
        ]

    assert _holds(wake, heard("코", "뿔", "소"), 0.3, 0.8)
    assert _holds(wake, heard("뿔", "소"), 0.3, 0.8)  # 코 swallowed by ㅃ's closure
    assert _holds(wake, heard("극", "풀", "쏘"), 0.3, 0.8)  # closure reading; onsets of one place
    assert not _holds(wake, heard("쏙"), 0.3, 0.8)
    assert not _holds(wake, heard("코", "뿔", "믹"), 0.3, 0.8)  # 소 is not short: it must be heard
    assert not _holds(wake, heard("코", "소"), 0.3, 0.8)
    assert not _holds(wake, heard("뿔", "소"), 0.9, 1.2)  # heard elsewhere
