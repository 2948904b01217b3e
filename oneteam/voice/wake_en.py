"""English wake words: the microWakeWord models the pymicro-wakeword wheel ships (nothing is
downloaded: okay_nabu, hey_jarvis, hey_mycroft, alexa), served beside the Korean phrase.

Each model reads the wheel's own 10 ms features and fires when its smoothed probability passes the
cut-off the model ships with; after a detection it is reset so one utterance wakes once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from oneteam.voice.audio import SAMPLE_RATE, SAMPLE_WIDTH
from oneteam.voice.wake_model import Detection

_LOGGER = logging.getLogger(__name__)

_BYTES_PER_S = SAMPLE_RATE * SAMPLE_WIDTH


def english_models() -> tuple[str, ...]:
    """The English wake models installed (none when pymicro-wakeword is absent)."""
    try:
        from pymicro_wakeword import Model
    except ImportError:
        return ()
    return tuple(model.value for model in Model)


class EnglishWakeDetector:
    """One stream's English detectors: feed 16 kHz 16-bit mono PCM, get detections."""

    def __init__(self, names: Iterable[str]) -> None:
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

        self._models: dict[str, Any] = {name: MicroWakeWord.from_builtin(Model(name)) for name in names}
        self._features = MicroWakeWordFeatures()
        self._position = 0

    def feed(self, pcm: bytes) -> list[Detection]:
        """Feed audio; the wake words detected in it."""
        found: list[Detection] = []
        self._position += len(pcm)
        at_s = self._position / _BYTES_PER_S
        for features in self._features.process_streaming(pcm):
            for name, model in self._models.items():
                if model.process_streaming(features):
                    _LOGGER.info("wake: %s at %.2f s", name, at_s)
                    found.append(Detection(name=name, confidence=1.0, start_s=at_s, end_s=at_s))
                    model.reset()
        return found

    def finish(self) -> list[Detection]:
        """The stream has ended (the models decide as audio arrives: nothing is pending)."""
        return []
