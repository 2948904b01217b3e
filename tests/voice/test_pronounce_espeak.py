"""The Korean voice reads the reply as pronounced, as Hangul or as eSpeak phonemes."""

from __future__ import annotations

import numpy as np

from oneteam.voice.espeak_phonemes import espeak_phonemes
from oneteam.voice.tts import EspeakEngine, Speaker


def test_lenis_stops_are_voiceless_word_initially_and_voiced_between_vowels() -> None:
    assert espeak_phonemes("거시 레어커늘 켜써요.") == "[[k@si *e@kh@nu-L khj@s-@jo]]."
    assert espeak_phonemes("아가 안방 바다") == "[[aga anbaN pada]]"
    assert espeak_phonemes("잠자리 까치 국") == "[[tS;amdZ;a*i k-atShi kuk]]"
    # ㄹ after ㄹ is lateral, not a flap: 실라
    assert espeak_phonemes("실라") == "[[siLla]]"


def test_other_text_stays_outside_the_phoneme_spans() -> None:
    assert espeak_phonemes("티비, OK 네") == "[[thibi]], OK [[ne]]"
    assert espeak_phonemes("") == ""


def test_the_korean_engine_spells_what_it_speaks_and_other_voices_read_as_written() -> None:
    text = "거실 불을 켰어요."
    assert EspeakEngine(reading="written").spelled(text) == text
    assert EspeakEngine(reading="pronounced").spelled(text) == "거실 부를 켜써요."
    assert EspeakEngine(reading="phonemes").spelled(text) == "[[k@siL pu*u-L khj@s-@jo]]."
    assert EspeakEngine(voice="en-us", reading="phonemes").spelled("the light") == "the light"


def test_phoneme_input_is_spoken_not_spelled_out() -> None:
    # eSpeak reading "[[k@siL...]]" as characters would spell out Latin letters: several times longer.
    as_text = Speaker(EspeakEngine(reading="pronounced")).speak("거실 불을 켰어요.")
    as_phonemes = Speaker(EspeakEngine(reading="phonemes")).speak("거실 불을 켰어요.")
    assert as_phonemes.spoken_text == as_text.spoken_text == "거실 불을 켰어요."
    assert 0.6 < as_phonemes.duration_s / as_text.duration_s < 1.6
    assert np.abs(np.frombuffer(as_phonemes.pcm, dtype="<i2")).max() > 1000
