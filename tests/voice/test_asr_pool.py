"""Finished grammar recognisers are reused for the next utterance, and read it as a new one would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from oneteam.voice.asr import KoreanRecognizer, Mode, RecognitionStream, VoskModel
from oneteam.voice.asr_pool import WARM_NOISE_S, RecognizerPool
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


class _Recording:
    """A recogniser double that keeps what it was fed (the pool's own logic, not Vosk's)."""

    def __init__(self) -> None:
        self.fed: list[bytes] = []
        self.finished = 0

    def AcceptWaveform(self, pcm: bytes) -> bool:  # noqa: N802  (Vosk's name)
        self.fed.append(pcm)
        return False

    def FinalResult(self) -> str:  # noqa: N802
        self.finished += 1
        return "{}"


def test_a_warm_pool_starts_with_one_recogniser_that_decoded_quiet_noise() -> None:
    pool = RecognizerPool(_Recording, warm=True)
    assert pool.idle == 1
    kaldi = pool.take()
    assert isinstance(kaldi, _Recording) and kaldi.finished == 1
    samples = np.frombuffer(b"".join(kaldi.fed), dtype="<i2").astype(float)
    assert len(samples) == int(16_000 * WARM_NOISE_S)
    assert 200 < float(np.sqrt(np.mean(samples**2))) < 400  # about -40 dBFS: quiet, never clipped
    assert RecognizerPool(_Recording).idle == 0  # not warmed unless asked


@pytest.mark.slow
def test_a_reused_recogniser_reads_a_command_as_a_new_one_and_still_rejects_what_is_no_command(
    vosk_model: VoskModel, grammar: Grammar, speech_dir: Path
) -> None:
    command = read_wav(speech_dir / "pv_rhino_test_within_context_ko.wav").data
    other = read_wav(speech_dir / "pv_rhino_test_out_of_context_ko.wav").data
    fresh = KoreanRecognizer(vosk_model, grammar, reuse=False).transcribe(command)
    assert fresh.mode is Mode.BIASED
    reused = KoreanRecognizer(vosk_model, grammar)
    assert reused.idle_recognizers == 1  # warmed on quiet noise as it was made
    # Two utterances at once take two recognisers (the warm one and a new one); both come back.
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


def _sentence(speech_dir: Path, transcripts: dict[str, str]) -> tuple[bytes, Callable[[str], float]]:
    """A read sentence that is no command (Picovoice's Leopard clip), and the character error rate
    of a reading of it."""
    name = "pv_leopard_test_ko.wav"
    reference = transcripts[name].replace(" ", "")

    def errors(text: str) -> float:
        return Levenshtein.distance(text.replace(" ", ""), reference) / len(reference)

    return read_wav(speech_dir / name).data, errors


@pytest.mark.slow
def test_free_form_recognisers_are_shared_by_the_process_and_read_as_a_new_one(
    vosk_model: VoskModel, grammar: Grammar, speech_dir: Path, transcripts: dict[str, str]
) -> None:
    clip, errors = _sentence(speech_dir, transcripts)
    fresh = KoreanRecognizer(vosk_model, reuse=False).transcribe(clip)  # free-form on a new recogniser
    assert fresh.mode is Mode.FREE
    pool = vosk_model.free_pool
    commands = KoreanRecognizer(vosk_model, grammar)
    fallback = commands.transcribe(clip)  # no command: the grammar's reading gives way to free-form
    assert fallback.fell_back and fallback.mode is Mode.FREE
    assert pool.idle == 1  # its free-form recogniser came back for the next utterance
    kept = pool.take()
    pool.put(kept)
    # Another recogniser object, the free-form mode of a second stream: the same recogniser is used.
    again = KoreanRecognizer(vosk_model, grammar).transcribe(clip, biased=False)
    assert pool.idle == 1 and pool.take() is kept
    pool.put(kept)
    for heard in (fallback, again):
        assert errors(heard.raw_text) <= errors(fresh.raw_text) + 0.1
    # reuse=False keeps the old way: a new free-form recogniser, the pool untouched.
    KoreanRecognizer(vosk_model, grammar, reuse=False).transcribe(clip)
    assert pool.idle == 1 and pool.take() is kept
    pool.put(kept)


@pytest.mark.slow
def test_a_fallback_starts_free_form_during_speech_and_a_command_in_grammar_does_not(
    vosk_model: VoskModel, grammar: Grammar, speech_dir: Path, transcripts: dict[str, str]
) -> None:
    sentence, errors = _sentence(speech_dir, transcripts)
    command = read_wav(speech_dir / "pv_rhino_test_within_context_ko.wav").data
    recognizer = KoreanRecognizer(vosk_model, grammar)
    plain = KoreanRecognizer(vosk_model, reuse=False).transcribe(sentence)  # free-form, a new recogniser

    def fed(pcm: bytes) -> RecognitionStream:
        stream = recognizer.stream()
        assert not stream.free_running  # command mode starts with the grammar decoder alone
        for start in range(0, len(pcm), 8000):
            stream.accept(pcm[start : start + 8000])
        return stream

    stream = fed(sentence)
    assert stream.free_running  # the grammar read garbage syllables: free-form caught up and read along
    early = stream.finish()
    assert early.fell_back and early.mode is Mode.FREE
    assert errors(early.raw_text) <= errors(plain.raw_text) + 0.1
    stream = fed(command)
    assert not stream.free_running  # read in grammar all along: no free-form work spent
    assert stream.finish().mode is Mode.BIASED
