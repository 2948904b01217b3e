"""Stage 2's timing checks on a phrase read a syllable a word (원 팀 아): a syllable the grammar
squeezed in, and a phrase that opens with a vowel straight after other speech."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from oneteam.voice.asr import VoskModel
from oneteam.voice.keyword.speech import speak_fresh
from oneteam.voice.wake import WakeDetector
from oneteam.voice.wake_model import WakeModel, wake_language
from oneteam.voice.wake_syllables import opens_after_pause, squeezed

pytestmark = pytest.mark.slow


def _heard(*spans: tuple[str, float, float]) -> list[dict[str, object]]:
    return [{"word": w, "start": a, "end": b} for w, a, b in spans]


def test_a_vowel_alone_read_in_one_frame_is_squeezed(vosk_model: VoskModel) -> None:
    wake = WakeModel(vosk_model, ["원팀아"], first_stage="vosk").words[0]
    floors = {"onset_min_s": 0.075, "vowel_min_s": 0.045}
    # eSpeak's 원팀아 at 190 wpm before a command: 아 in two frames.
    assert not squeezed(wake, _heard(("원", 0.27, 0.54), ("팀", 0.54, 0.78), ("아", 0.78, 0.84)), **floors)
    # "ONETEAM_CLUSTER…": 원 팀, then the C read as a one-frame 아.
    assert squeezed(wake, _heard(("원", 0.30, 0.54), ("팀", 0.54, 0.90), ("아", 0.90, 0.93)), **floors)
    # 팀 has an onset consonant: two frames are the decoder's least for it.
    assert squeezed(wake, _heard(("원", 0.30, 0.54), ("팀", 0.54, 0.60), ("아", 0.60, 0.80)), **floors)
    # 원 opens with its vowel but has a glide and a final: it is no vowel alone.
    assert not squeezed(wake, _heard(("원", 0.30, 0.33), ("팀", 0.33, 0.60), ("아", 0.60, 0.80)), **floors)
    assert not squeezed(
        wake, _heard(("원", 0.30, 0.54), ("팀", 0.54, 0.90), ("아", 0.90, 0.93)), onset_min_s=0, vowel_min_s=0
    )


def test_a_phrase_that_opens_with_a_vowel_needs_a_pause_before_it(vosk_model: VoskModel) -> None:
    wonteam = WakeModel(vosk_model, ["원팀아"], first_stage="vosk").words[0]
    bixby = WakeModel(vosk_model, ["빅스비"], first_stage="vosk").words[0]
    phrase = (("원", 0.30, 0.54), ("팀", 0.54, 0.78), ("아", 0.78, 0.96))
    assert opens_after_pause(wonteam, _heard(*phrase), 0, pause_s=0.1)  # nothing read before it
    # "작은방 불 …": 북 read up to where 원 begins (it woke 원팀아 in held-out hour 10).
    assert not opens_after_pause(wonteam, _heard(("북", 0.15, 0.30), *phrase), 1, pause_s=0.1)
    assert not opens_after_pause(wonteam, _heard(("눅", 0.15, 0.27), *phrase), 1, pause_s=0.1)  # one frame
    assert opens_after_pause(wonteam, _heard(("막", 0.00, 0.18), *phrase), 1, pause_s=0.1)  # 120 ms
    assert opens_after_pause(wonteam, _heard(("북", 0.15, 0.30), *phrase), 1, pause_s=0.0)
    # A phrase that opens with a consonant marks its own start: no pause needed.
    assert opens_after_pause(bixby, _heard(("사", 0.10, 0.30), ("빅스비", 0.30, 0.80)), 1, pause_s=0.1)


def test_the_product_name_read_aloud_does_not_wake_the_default_phrase(vosk_model: VoskModel) -> None:
    # eSpeak reads "ONETEAM_CLUSTER_PARTS…" (an i18n message) as 원팀 and the C as a one-frame 아: it
    # woke 원팀아 in held-out hour 6 and, read alone here, at nearly every speed and gain. Fresh
    # eSpeak: the same audio in any process.
    text = "ONETEAM_CLUSTER_PARTS에 모르는 부분이 있어요: 3 (쓸 수 있는 것: 3)"
    samples = speak_fresh([(text, "ko+f4", 193, 50)])[0]
    before = replace(wake_language(), vowel_min_s=0.0, vowel_onset_pause_s=0.0)
    woke = {"now": 0, "before": 0}
    for speed in (0.96, 1.04):
        for gain in (0.7, 1.0):
            fast = np.interp(np.arange(0, len(samples) - 1, speed), np.arange(len(samples)), samples) * gain
            pcm = bytes(32000) + (np.clip(fast, -1.0, 1.0) * 32767).astype("<i2").tobytes() + bytes(32000)
            for key, settings in (("now", None), ("before", before)):
                wake = WakeModel(vosk_model, ["원팀아"], settings=settings, first_stage="vosk")
                detector = WakeDetector(wake)
                found = [d for s in range(0, len(pcm), 3200) for d in detector.feed(pcm[s : s + 3200])]
                woke[key] += len(found + detector.finish())
    assert woke["now"] == 0
    assert woke["before"] >= 2  # without the floor on a vowel alone it wakes
