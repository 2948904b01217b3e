"""The keyword spotter of the wake phrase: trained here from eSpeak NG audio, seeded and spoken by
a fresh eSpeak NG each time (keyword/speech.py), so the same phrase and seed give the same spotter
whatever the process spoke before."""

from __future__ import annotations

import numpy as np
import pytest

from oneteam.voice.keyword.features import log_mel
from oneteam.voice.keyword.speech import speak, speak_fresh
from oneteam.voice.keyword.spotter import KeywordSpotter
from oneteam.voice.keyword.train import Recipe, catalogue_sentences, train_spotter, training_sentences

pytestmark = pytest.mark.slow

_SMALL = Recipe(
    voices=("ko", "ko+m1", "ko+f1", "ko+m3", "ko+f2"),
    rates=(140, 190),
    pitches=(40, 70),
    copies=3,
    sentences=40,
)
"""A small recipe (the product's uses 16 voices x 4 rates x 4 pitches); ko+m3 and ko+f2 are held out."""


def _peak(spotter: KeywordSpotter, samples: np.ndarray) -> float:
    """The best score of any window over the samples (padded with a little silence)."""
    padded = np.concatenate([np.zeros(4000, np.float32), samples, np.zeros(4000, np.float32)])
    frames = log_mel(padded)
    size = spotter.window_frames
    if len(frames) < size:
        frames = np.concatenate([np.repeat(frames[:1], size - len(frames), axis=0), frames])
    return max(spotter.score_window(frames[end - size : end]) for end in range(size, len(frames) + 1, 10))


def test_trained_from_espeak_it_tells_the_phrase_from_other_speech(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = train_spotter("빅스비", _SMALL)
    # Saved and loaded, it scores the same.
    first.save(tmp_path / "s.npz")
    loaded = KeywordSpotter.load(tmp_path / "s.npz")
    # Probes spoken afresh too: eSpeak's output drifts with what the process spoke before.
    unheard = catalogue_sentences()[1::2]
    voice = ("ko+m5", 170, 55)
    probe, *sentences = speak_fresh([("빅스비", *voice), *((text, *voice) for text in unheard[:12])])
    assert _peak(loaded, probe) == pytest.approx(_peak(first, probe), abs=1e-6)
    # A voice it never heard says the phrase; it never heard these sentences either (the odd half
    # of the catalogue is the bench's false-wake material).
    assert _peak(first, probe) >= 0.5
    assert set(unheard).isdisjoint(training_sentences())
    scores = [_peak(first, samples) for samples in sentences]
    # A gate, not the judge (the Vosk stages verify): this small recipe must turn down at least half
    # of the sentences at the product's threshold (0.8) and score the phrase above most of them.
    assert sum(s >= 0.8 for s in scores) <= 6, scores
    assert _peak(first, probe) > float(np.median(scores)), scores


def test_training_hears_the_same_audio_whatever_the_process_spoke_before() -> None:
    requests = [("빅스비", "ko+m1", 140, 40), ("코뿔소", "ko", 180, 70)]
    before = speak_fresh(requests)
    # This process's own eSpeak speaks other things in between; the fresh one does not hear them.
    for text in catalogue_sentences()[:5]:
        speak(text, "ko+f2", 200, 90)
    after = speak_fresh(requests)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert all(len(a) > 0.3 * 16_000 for a in before)
