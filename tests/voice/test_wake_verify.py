"""Stage 2 of the wake detector on a phrase the model knows as one word (코뿔소, 빅스비, 아이스크림)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oneteam.voice.asr import VoskModel
from oneteam.voice.keyword.speech import speak_fresh
from oneteam.voice.wake import WakeDetector
from oneteam.voice.wake_model import VERIFY_TAIL, WakeModel
from oneteam.voice.wake_syllables import holds
from tests.voice.fresh_wake import detect_fresh

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


_REAL = (
    ("pv_porcupine_multiple_keywords_ko.wav", "코뿔소"),
    ("pv_picovoice_koppulso_seumateu_jomyeong_ko.wav", "코뿔소"),
    ("pv_porcupine_multiple_keywords_ko.wav", "빅스비"),
    ("pv_porcupine_bixby.wav", "빅스비"),
    ("pv_porcupine_multiple_keywords_ko.wav", "아이스크림"),
)


@pytest.fixture(scope="module")
def woken_fresh(speech_dir: Path) -> dict[tuple[str, str], list[str]]:
    """What the detector hears in each real recording, in a new process (fresh_wake.py says why)."""
    found = detect_fresh(speech_dir, [(clip, [phrase]) for clip, phrase in _REAL])
    return {case: [d["name"] for d in one["found"]] for case, one in zip(_REAL, found, strict=True)}


@pytest.mark.parametrize(("clip", "phrase"), _REAL)
def test_each_real_recording_still_wakes_its_phrase_alone(
    woken_fresh: dict[tuple[str, str], list[str]], clip: str, phrase: str
) -> None:
    # The multiple_keywords speaker's fast 코 is swallowed by ㅃ's closure (a syllable at a time: 뿔 소):
    # the check lets only such a short syllable before a tense onset go unheard.
    assert woken_fresh[clip, phrase] == [phrase]


def test_only_a_short_syllable_before_a_tense_onset_may_go_unheard(vosk_model: VoskModel) -> None:
    # The syllable check on readings as Vosk gives them (word, start, end): 코뿔소 read as a word
    # over 0.30-0.80 s, then what the syllable re-read heard there.
    wake = WakeModel(vosk_model, ["코뿔소"], first_stage="vosk").words[0]

    def heard(*words: str) -> list[dict[str, object]]:
        step = 0.5 / len(words)
        return [
            {"word": w, "start": 0.3 + i * step, "end": 0.3 + (i + 1) * step} for i, w in enumerate(words)
        ]

    assert holds(wake, heard("코", "뿔", "소"), 0.3, 0.8)
    assert holds(wake, heard("뿔", "소"), 0.3, 0.8)  # 코 swallowed by ㅃ's closure
    assert holds(wake, heard("극", "풀", "쏘"), 0.3, 0.8)  # closure reading; onsets of one place
    assert not holds(wake, heard("쏙"), 0.3, 0.8)
    assert not holds(wake, heard("코", "뿔", "믹"), 0.3, 0.8)  # 소 is not short: it must be heard
    assert not holds(wake, heard("코", "소"), 0.3, 0.8)
    assert not holds(wake, heard("뿔", "소"), 0.9, 1.2)  # heard elsewhere


def test_a_syllable_the_grammar_squeezed_in_is_not_heard(vosk_model: VoskModel) -> None:
    # eSpeak's "3 이름이 같은 …" played a little fast: stage 2's word grammar reads `사 빅스비 다` and the
    # syllable re-read `빅 스 비` with a 60 ms 스 (two frames, the decoder's least for a syllable;
    # it woke 빅스비 in the independent hour). A syllable that short is not counted as heard.
    wake = WakeModel(vosk_model, ["빅스비"], first_stage="vosk")
    text = "3 이름이 같은 루틴이나 장면은 없어요. 어떤 루틴이 있는지 물어보세요."
    samples = speak_fresh([(text, "ko", 165, 50)])[0]
    read = wake._read
    squeezed: list[list[tuple[str, float]]] = []

    def recording(grammar: str, pcm: bytes) -> list[dict[str, Any]]:
        words = read(grammar, pcm)
        spoken = [(str(w["word"]), float(w["end"]) - float(w["start"])) for w in words]
        names = [w for w, _ in spoken]
        if "스" in names and names[names.index("스") - 1 : names.index("스") + 2] == ["빅", "스", "비"]:
            squeezed.append(spoken)
        return words

    wake._read = recording  # type: ignore[method-assign]
    for speed in (1.04, 1.08, 1.12):
        positions = np.arange(0, len(samples) - 1, speed)
        fast = np.interp(positions, np.arange(len(samples)), samples)
        pcm = bytes(32000) + (np.clip(fast, -1.0, 1.0) * 32767).astype("<i2").tobytes() + bytes(32000)
        detector = WakeDetector(wake)
        found = [d for start in range(0, len(pcm), 3200) for d in detector.feed(pcm[start : start + 3200])]
        assert found + detector.finish() == [], speed
    assert squeezed  # the syllable re-read did hear 빅 스 비 there ...
    assert all(dict(s)["스"] < wake.settings.syllable_min_s for s in squeezed)  # ... with a squeezed 스


def test_a_syllable_must_last_to_be_heard(vosk_model: VoskModel) -> None:
    # (word, start, end) as Vosk gives them: 빅스비 read as a word over 0.30-0.72 s.
    wake = WakeModel(vosk_model, ["빅스비"], first_stage="vosk").words[0]
    kobulso = WakeModel(vosk_model, ["코뿔소"], first_stage="vosk").words[0]

    def heard(*spans: tuple[str, float, float]) -> list[dict[str, object]]:
        return [{"word": w, "start": a, "end": b} for w, a, b in spans]

    spoken = heard(("빅", 0.30, 0.51), ("스", 0.51, 0.69), ("비", 0.69, 0.90))
    squeezed = heard(("빅", 0.30, 0.51), ("스", 0.54, 0.60), ("비", 0.60, 0.72))
    assert holds(wake, spoken, 0.3, 0.72, min_s=0.075)
    assert not holds(wake, squeezed, 0.3, 0.72, min_s=0.075)
    assert holds(wake, squeezed, 0.3, 0.72)  # what stage 2 accepted before
    # The short syllable before a tense onset (코 before ㅃ) may be short; the others may not.
    assert holds(
        kobulso, heard(("코", 0.30, 0.33), ("뿔", 0.33, 0.60), ("소", 0.60, 0.80)), 0.3, 0.8, min_s=0.075
    )
    assert not holds(
        kobulso, heard(("코", 0.30, 0.45), ("뿔", 0.45, 0.51), ("소", 0.51, 0.80)), 0.3, 0.8, min_s=0.075
    )
    # A vowel alone is one sound gliding from the vowel before (아이): two frames are not squeezed.
    ice = WakeModel(vosk_model, ["아이스크림"], first_stage="vosk").words[0]
    glide = heard(
        ("아", 0.30, 0.45), ("이", 0.45, 0.51), ("스", 0.51, 0.69), ("크", 0.69, 0.84), ("림", 0.84, 0.99)
    )
    assert holds(ice, glide, 0.3, 0.99, min_s=0.075)
