"""Household enrolment: recordings of the household saying its wake phrase become real-voice
positives of the phrase's keyword network (`oneteam wake enroll`).

A network that only ever heard eSpeak NG scored people's 코뿔소 ~0 (BENCHMARKS.md, issue 20). Each
recording is cut to the phrase (where the wake grammar's decoder reads it, else its voiced part),
and fitted in many changed copies (speed, reverberation, noise, babble, loudness, speech either
side: keyword/train.py) beside the eSpeak voices. The networks and the cut recordings are cached
beside the phrase's own networks (`enrolled/` under the wake cache); enrolling again adds to the
recordings kept, and `trained_spotter` prefers the enrolled networks from then on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from oneteam.model import OneteamError
from oneteam.voice.audio import SAMPLE_RATE
from oneteam.voice.keyword.features import Floats
from oneteam.voice.keyword.spotter import KeywordSpotter, SpotterEnsemble
from oneteam.voice.keyword.train import SEEDS, TRAINING_VERSION, Recipe, cache_dir, train_spotter, trim

_LOGGER = logging.getLogger(__name__)

COPIES = 160
"""Changed copies of each recording fitted (the eSpeak voices give ~830 positives)."""
_MARGIN_S = 0.15
"""Kept either side of the phrase where the decoder reads it."""
_SILENT_RMS = 10 ** (-50 / 20)
"""A recording quieter than -50 dBFS holds no voice."""


class _Heard(Protocol):
    @property
    def start_s(self) -> float: ...

    @property
    def end_s(self) -> float: ...


class PhraseFinder(Protocol):
    """What cuts the phrase out of a recording (voice/wake_model.py's WakeModel)."""

    @property
    def names(self) -> list[str]: ...

    def locate(self, pcm: bytes) -> _Heard | None: ...


class SilentRecording(OneteamError):
    """An enrolment recording without a voice in it."""

    key = "error.voice.enrol_silent"

    def __init__(self, name: str) -> None:
        super().__init__(f"no voice in the recording {name}", name=name)


def phrase_audio(wake: PhraseFinder, pcm: bytes, name: str = "") -> Floats:
    """The phrase cut from a 16 kHz recording: where stage 1's grammar reads it (± 0.15 s), else
    the recording's voiced part (a recording of the phrase alone)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    if len(samples) == 0 or float(np.sqrt(np.mean(samples * samples))) < _SILENT_RMS:
        raise SilentRecording(name)
    heard = wake.locate(pcm)
    if heard is None:
        _LOGGER.info("enrol: %s not read in %s; its voiced part is used", wake.names, name)
        return trim(samples)
    lo = max(0, round((heard.start_s - _MARGIN_S) * SAMPLE_RATE))
    hi = min(len(samples), round((heard.end_s + _MARGIN_S) * SAMPLE_RATE))
    return samples[lo:hi].copy()


def _folder() -> Path:
    return cache_dir() / "enrolled"


def _stem(phrase: str) -> str:
    return hashlib.sha256(f"{TRAINING_VERSION}:{phrase}".encode()).hexdigest()[:16]


def kept_voices(phrase: str) -> list[Floats]:
    """The cut recordings enrolled so far for `phrase`."""
    path = _folder() / f"{_stem(phrase)}-voices.npz"
    if not path.is_file():
        return []
    with np.load(path) as data:
        return [data[name].astype(np.float32) for name in sorted(data.files, key=lambda n: int(n[1:]))]


def enroll(
    phrase: str, voices: Sequence[Floats], *, replace: bool = False, recipe: Recipe | None = None
) -> tuple[SpotterEnsemble, int]:
    """Train the phrase's networks with `voices` (and those enrolled before, unless `replace`) as
    real-voice positives; cache them. The networks and how many recordings they learned from."""
    everything = [*([] if replace else kept_voices(phrase)), *voices]
    members = []
    for seed in SEEDS:
        seeded = dataclasses.replace(recipe or Recipe(), seed=seed)
        members.append(train_spotter(phrase, seeded, everything, COPIES))
    folder = _folder()
    try:
        for seed, member in zip(SEEDS, members, strict=True):
            member.save(folder / f"{_stem(phrase)}-{seed}.npz")
        tmp = folder / f"{_stem(phrase)}-voices.tmp.npz"
        np.savez(tmp, allow_pickle=False, **{f"v{i}": v for i, v in enumerate(everything)})
        tmp.replace(folder / f"{_stem(phrase)}-voices.npz")
    except OSError as exc:
        _LOGGER.warning("wake: could not cache the enrolled networks at %s: %s", folder, exc)
    return SpotterEnsemble(tuple(members)), len(everything)


def enrolled_spotter(phrase: str) -> SpotterEnsemble | None:
    """The phrase's enrolled networks, when the household enrolled it."""
    paths = [_folder() / f"{_stem(phrase)}-{seed}.npz" for seed in SEEDS]
    if not all(p.is_file() for p in paths):
        return None
    try:
        return SpotterEnsemble(tuple(KeywordSpotter.load(p) for p in paths))
    except (OSError, ValueError, KeyError) as exc:
        _LOGGER.warning("wake: enrolled networks for %s unreadable (%s)", phrase, exc)
        return None
