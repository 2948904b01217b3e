"""Train the keyword spotter for one phrase from audio made here: no recording, no download.

Positives: eSpeak NG saying the phrase in many voices (the Korean voice with eSpeak's male, female
and Klatt variants), rates and pitches, each copy changed in speed and loudness, with reverberation,
noise and babble, placed anywhere in the window, alone or with other speech either side. Negatives:
windows of eSpeak NG reading other Korean sentences (half of the Korean i18n catalogue: the other
half is left for measuring false wakes), with the same changes, and plain noise. A small network
(scikit-learn, one hidden layer) is fitted with a fixed seed, so the same phrase always trains the
same spotter; held-out voices set the threshold for recall (the Vosk stages check precision).

`trained_spotter(phrase)` returns the spotters shipped for the default phrase (lang/ko/wake/, made
by `python -m oneteam.voice.keyword.train 원팀아 oneteam/voice/lang/ko/wake`), or cached ones, or
trains them (three seeds, ~7 s of one idle core each, ~20 s on a busy shared machine) and caches
them under ONETEAM_CACHE_DIR / XDG_CACHE_HOME (~/.cache) in `oneteam/wake/`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from oneteam.voice.audio import SAMPLE_RATE
from oneteam.voice.keyword.features import FRAME, HOP, Floats, log_mel
from oneteam.voice.keyword.speech import Request, resample, speak_fresh
from oneteam.voice.keyword.spotter import KeywordSpotter, SpotterEnsemble, window_features

_LOGGER = logging.getLogger(__name__)

TRAINING_VERSION = 2
"""Bumped when the recipe changes, so cached spotters are retrained."""
VOICES: tuple[str, ...] = ("ko", "ko+m1", "ko+m2", "ko+m3", "ko+m4", "ko+m5", "ko+m6", "ko+m7")
VOICES += ("ko+f1", "ko+f2", "ko+f3", "ko+f4", "ko+f5", "ko+klatt", "ko+klatt2", "ko+klatt3")
HELD_OUT = ("ko+m3", "ko+f2", "ko+klatt2")
"""Voices kept out of fitting: their copies of the phrase set the threshold."""
RATES = (120, 150, 180, 220)
PITCHES = (20, 45, 70, 95)
COPIES = 4
"""Changed copies of each spoken phrase."""
RECALL = 0.98
"""Share of held-out positive windows that must score at or above the threshold."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipe:
    """How much audio to make (smaller in tests)."""

    voices: tuple[str, ...] = VOICES
    rates: tuple[int, ...] = RATES
    pitches: tuple[int, ...] = PITCHES
    copies: int = COPIES
    negatives_per_sentence: int = 8
    sentences: int | None = None
    """How many of the training sentences to speak (all by default)."""
    seed: int = 7


def trim(samples: Floats) -> Floats:
    """Without the silence eSpeak puts before and after."""
    loud = np.flatnonzero(np.abs(samples) > 0.02 * max(1e-6, float(np.abs(samples).max())))
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


@cache
def catalogue_sentences() -> tuple[str, ...]:
    """Every Korean message of the i18n catalogue (placeholders read as 3), in a fixed order."""
    sentences: list[str] = []

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)

    folder = resources.files("oneteam.i18n") / "messages" / "ko"
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.endswith(".yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            sentences += [_fill(text) for text in walk(data)]
    return tuple(s for s in dict.fromkeys(sentences) if any("가" <= ch <= "힣" for ch in s))


def training_sentences() -> tuple[str, ...]:
    """The half of the catalogue the spotter may learn from (even positions); the bench's false-wake
    hour uses the other half."""
    return catalogue_sentences()[0::2]


def _fill(text: str) -> str:
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
            out.append("3")
        elif ch == "}":
            depth = max(0, depth - 1)
        elif not depth:
            out.append(ch)
    return "".join(out)


def _noise(kind: str, n: int, rng: np.random.Generator) -> Floats:
    """Unit-RMS noise: white, pink or brown."""
    if kind == "white":
        out = rng.standard_normal(n)
    else:
        spectrum = np.fft.rfft(rng.standard_normal(n))
        freqs = np.maximum(np.fft.rfftfreq(n), 1e-4)
        spectrum /= np.sqrt(freqs) if kind == "pink" else freqs
        out = np.fft.irfft(spectrum, n)
    out = np.asarray(out, dtype=np.float32)
    return np.asarray(out / max(1e-9, float(np.sqrt(np.mean(out * out)))), dtype=np.float32)


def _rms(samples: Floats) -> float:
    return max(1e-9, float(np.sqrt(np.mean(samples * samples))))


class _Maker:
    """Builds windows of audio, changed at random (all from one seeded generator)."""

    def __init__(self, length: int, babble: list[Floats], rng: np.random.Generator) -> None:
        self.length = length
        self.babble = babble
        self.rng = rng

    def _speech(self, n: int) -> Floats:
        source = self.babble[int(self.rng.integers(len(self.babble)))]
        if len(source) <= n:
            return np.pad(source, (0, n - len(source)))
        start = int(self.rng.integers(0, len(source) - n))
        return source[start : start + n]

    def crop(self, samples: Floats) -> Floats:
        """A window's worth of `samples` from a random place (padded when shorter)."""
        if len(samples) <= self.length:
            out = np.zeros(self.length, dtype=np.float32)
            at = int(self.rng.integers(0, self.length - len(samples) + 1))
            out[at : at + len(samples)] = samples
            return out
        start = int(self.rng.integers(0, len(samples) - self.length))
        return samples[start : start + self.length]

    def place(self, phrase: Floats) -> Floats:
        """The phrase (sped up or slowed) somewhere in a window, maybe with speech either side."""
        phrase = resample(phrase, float(self.rng.uniform(0.85, 1.2)))
        if len(phrase) >= self.length:
            cut = (len(phrase) - self.length) // 2
            return phrase[cut : cut + self.length].copy()
        out = np.zeros(self.length, dtype=np.float32)
        at = int(self.rng.integers(0, self.length - len(phrase) + 1))
        out[at : at + len(phrase)] = phrase
        level = _rms(phrase)
        for lo, hi in ((0, at), (at + len(phrase), self.length)):
            gap = int(self.rng.uniform(0.05, 0.3) * SAMPLE_RATE)
            if hi - lo > gap and self.rng.random() < 0.5:
                span = hi - lo - gap
                speech = self._speech(span)
                speech = speech / _rms(speech) * level * float(self.rng.uniform(0.5, 1.2))
                if lo == 0:
                    out[lo : lo + span] = speech
                else:
                    out[lo + gap : hi] = speech
        return out

    def change(self, samples: Floats) -> Floats:
        """Reverberation, babble, noise and loudness, each at random."""
        out = samples
        if self.rng.random() < 0.35:
            seconds = float(self.rng.uniform(0.15, 0.5))
            n = int(seconds * SAMPLE_RATE)
            tail = self.rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
            impulse = np.concatenate(
                [[1.0], 0.3 * tail / _rms(np.asarray(tail, dtype=np.float32)) / np.sqrt(n)]
            )
            size = 1 << (len(out) + len(impulse)).bit_length()
            wet = np.fft.irfft(np.fft.rfft(out, size) * np.fft.rfft(impulse, size), size)
            out = np.asarray(wet[: len(out)], dtype=np.float32)
        level = _rms(out)
        if self.rng.random() < 0.3:
            babble = sum(self._speech(len(out)) for _ in range(int(self.rng.integers(2, 4))))
            babble = np.asarray(babble, dtype=np.float32)
            out = out + babble / _rms(babble) * level / 10 ** (float(self.rng.uniform(5, 20)) / 20)
        if self.rng.random() < 0.7:
            kind = str(self.rng.choice(["white", "pink", "brown"]))
            extra = _noise(kind, len(out), self.rng)
            out = out + extra * level / 10 ** (float(self.rng.uniform(5, 35)) / 20)
        gain = 10 ** (float(self.rng.uniform(-20, 6)) / 20)
        return np.asarray(np.clip(out * gain, -1.0, 1.0), dtype=np.float32)


def window_frames_for(durations_s: list[float]) -> int:
    """Frames per window: the longer spoken copies of the phrase, plus room either side."""
    longest = float(np.percentile(durations_s, 90)) if durations_s else 1.0
    return int(np.clip(round(longest * 100) + 25, 60, 180))


def train_spotter(
    phrase: str, recipe: Recipe | None = None, voices: Sequence[Floats] = (), copies: int = 0
) -> KeywordSpotter:
    """Make the audio and fit a spotter for `phrase` (seeded: same phrase, same spotter); `voices`
    are the household saying it (keyword/enroll.py), each fitted in `copies` changed copies."""
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    recipe = recipe or Recipe()
    started = time.monotonic()
    rng = np.random.default_rng(recipe.seed)
    said: list[Request] = [
        (phrase, voice, rate, pitch)
        for voice in recipe.voices
        for rate in recipe.rates
        for pitch in recipe.pitches
    ]
    read: list[Request] = [
        (text, str(rng.choice(recipe.voices)), int(rng.choice(recipe.rates)), int(rng.choice(recipe.pitches)))
        for text in training_sentences()[: recipe.sentences]
    ]
    audio = [trim(samples) for samples in speak_fresh([*said, *read])]
    spoken = [(request[1], samples) for request, samples in zip(said, audio, strict=False)]
    babble = audio[len(said) :]
    window = window_frames_for([len(s) / SAMPLE_RATE for s in [*(s for _, s in spoken), *voices]])
    length = (window - 1) * HOP + FRAME
    maker = _Maker(length, babble, rng)

    def features(samples: Floats) -> Floats:
        return window_features(log_mel(samples))

    # In the original recipe's order (one generator: the same phrase trains the same networks).
    copied = [(v, features(maker.change(maker.place(s)))) for v, s in spoken for _ in range(recipe.copies)]
    held = [vector for v, vector in copied if v in HELD_OUT]
    fit_x = [vector for v, vector in copied if v not in HELD_OUT]
    fit_x += [features(maker.change(maker.place(s))) for s in voices for _ in range(copies)]
    fit_y = [1] * len(fit_x)
    negatives = 0
    for samples in babble:
        for _ in range(recipe.negatives_per_sentence):
            fit_x.append(features(maker.change(maker.crop(samples))))
            fit_y.append(0)
            negatives += 1
    for kind in ("white", "pink", "brown"):
        for _ in range(40):
            fit_x.append(features(maker.change(0.05 * _noise(kind, length, rng))))
            fit_y.append(0)
    x = np.stack(fit_x)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    net = MLPClassifier(
        hidden_layer_sizes=(32,), alpha=1e-2, max_iter=200, random_state=recipe.seed, early_stopping=False
    )
    with threadpool_limits(1):  # a threaded BLAS on this small matrix only contends (10x slower)
        net.fit((x - mean) / scale, np.array(fit_y))
    spotter = KeywordSpotter(
        phrase=phrase,
        window_frames=window,
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        weights=tuple(np.asarray(w, dtype=np.float32) for w in net.coefs_),
        biases=tuple(np.asarray(b, dtype=np.float32) for b in net.intercepts_),
        threshold=0.5,
    )
    scores = spotter.score(np.stack(held)) if held else np.array([0.5], dtype=np.float32)
    threshold = float(np.quantile(scores, 1.0 - RECALL))
    _LOGGER.info(
        "keyword spotter for %s: %d positive and %d negative windows, threshold %.3f, %.1f s",
        phrase,
        sum(fit_y),
        len(fit_y) - sum(fit_y),
        threshold,
        time.monotonic() - started,
    )
    return KeywordSpotter(
        phrase=phrase,
        window_frames=window,
        mean=spotter.mean,
        scale=spotter.scale,
        weights=spotter.weights,
        biases=spotter.biases,
        threshold=min(0.5, threshold),
    )


def cache_dir() -> Path:
    base = os.environ.get("ONETEAM_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "oneteam" / "wake"


SEEDS = (7, 8, 9)
"""One network per seed (keyword/spotter.py, SpotterEnsemble)."""


def file_name(phrase: str, seed: int) -> str:
    """The file of one trained network (the recipe's version is part of the name)."""
    digest = hashlib.sha256(f"{TRAINING_VERSION}:{phrase}".encode()).hexdigest()[:16]
    return f"{digest}-{seed}.npz"


def trained_spotter(phrase: str) -> SpotterEnsemble:
    """The shipped or cached spotters for `phrase`, trained (and cached) the first time they are
    asked for (a household's enrolled ones come first: keyword/enroll.py, `enrolled_spotter`)."""
    members: list[KeywordSpotter] = []
    for seed in SEEDS:
        shipped = resources.files("oneteam.voice") / "lang" / "ko" / "wake" / file_name(phrase, seed)
        if shipped.is_file():
            with resources.as_file(shipped) as local:
                members.append(KeywordSpotter.load(local))
            continue
        path = cache_dir() / file_name(phrase, seed)
        if path.is_file():
            try:
                members.append(KeywordSpotter.load(path))
                continue
            except (OSError, ValueError, KeyError) as exc:
                _LOGGER.warning("wake: cached spotter %s unreadable (%s); training again", path, exc)
        spotter = train_spotter(phrase, Recipe(seed=seed))
        try:
            spotter.save(path)
        except OSError as exc:
            _LOGGER.warning("wake: could not cache the spotter at %s: %s", path, exc)
        members.append(spotter)
    return SpotterEnsemble(tuple(members))


def main() -> None:
    """Train the networks of a phrase into a folder: `python -m oneteam.voice.keyword.train PHRASE DIR`."""
    import sys

    phrase, folder = sys.argv[1], Path(sys.argv[2])
    for seed in SEEDS:
        train_spotter(phrase, Recipe(seed=seed)).save(folder / file_name(phrase, seed))


if __name__ == "__main__":
    main()
