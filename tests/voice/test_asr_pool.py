"""Finished grammar recognisers are reused for the next utterance, and read it as a new one would."""

from __future__ import annotations

from pathlib import Path

import pytest

from oneteam.voice.asr import KoreanRecognizer, Mode, VoskModel
from oneteam.voice.asr_pool import RecognizerPool
from oneteam.voice.audio import read_wav
from oneteam.voice.grammar import Grammar


def test_the_pool_builds_only_when_no_finished_recogniser_waits_and_keeps_a_few() -> None:
    built: list[object] = []

    def build() -> object:
        built.append(object())
        return built[-1]

    pool = RecognizerPool(build, keep=2)
    first, second, third = pool.take(), pool.take(), pool.take()
    assert len(built) == 3
    for kaldi in (first, second, third):
        pool.put(kaldi)
    assert pool.idle == 2  # the third is dropped: no more kept than utterances usually overlap
    assert pool.take() is second
    assert pool.take() is first
    assert len(built) == 3


@pytest.mark.slow
def test_a_reused_recogniser_reads_a_command_as_a_new_one_and_still_rejects_what_is_no_command(
    vosk_model: VoskModel, grammar: Grammar, speech_dir: Path
) -> None:
    command = read_wav(speech_dir / "pv_rhino_test_within_context_ko.wav").data
    other = read_wav(speech_dir / "pv_rhino_test_out_of_context_ko.wav").data
    fresh = KoreanRecognizer(vosk_model, grammar, reuse=False).transcribe(command)
    assert fresh.mode is Mode.BIASED
    reused = KoreanRecognizer(vosk_model, grammar)
    assert reused.idle_recognizers == 0
    # Two utterances at once take two recognisers; both come back when they finish.
    first, second = reused.stream(), reused.stream()
    for stream in (first, second):
        stream.accept(other)
    assert first.finish().fell_back
    assert second.finish().fell_back
    assert reused.idle_recognizers == 2
    # The same recogniser after another speaker's audio. Its reading of the start may differ from a new
    # one's (무드 부다 / 모든 풀 다: Kaldi's pruning follows the order of the graph's cached states, as
    # it follows what a process decoded before); the command (colour, verb) is read the same.
    for _ in range(2):
        heard = reused.transcribe(command)
        assert reused.idle_recognizers == 2
        assert heard.mode is Mode.BIASED and not heard.fell_back
        assert heard.text.split()[-5:] == fresh.text.split()[-5:]
        assert "파란색" in heard.text
        assert reused.transcribe(other).fell_back
    # Free-form streams of a biased recogniser leave the pool alone.
    reused.transcribe(command, biased=False)
    assert reused.idle_recognizers == 2
