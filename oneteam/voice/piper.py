"""A Piper/VITS-style ONNX voice, for operators who supply one (model.onnx + model.onnx.json).

Piper voices take eSpeak NG IPA phonemes mapped to ids by the config's `phoneme_id_map`, with
`^` at the start, `$` at the end and `_` (pad) after every phoneme, and return float audio. Only
onnxruntime is needed; no voice is shipped or downloaded.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oneteam.voice.audio import to_int16
from oneteam.voice.espeak import SpeechEngineUnavailable, espeak

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PiperConfig:
    """What a Piper voice's JSON config says about how to feed it."""

    sample_rate: int
    espeak_voice: str
    phoneme_ids: dict[str, tuple[int, ...]]
    noise_scale: float = 0.667
    length_scale: float = 1.0
    noise_w: float = 0.8


def read_config(path: Path) -> PiperConfig:
    """Parse a Piper voice config; SpeechEngineUnavailable when it is not one."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        inference = data.get("inference", {})
        return PiperConfig(
            sample_rate=int(data["audio"]["sample_rate"]),
            espeak_voice=str(data.get("espeak", {}).get("voice", "ko")),
            phoneme_ids={str(k): tuple(int(i) for i in v) for k, v in data["phoneme_id_map"].items()},
            noise_scale=float(inference.get("noise_scale", 0.667)),
            length_scale=float(inference.get("length_scale", 1.0)),
            noise_w=float(inference.get("noise_w", 0.8)),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SpeechEngineUnavailable(f"{path} is not a Piper voice config ({exc})") from exc


class PiperEngine:
    """Speaks with a Piper ONNX voice, phonemised by eSpeak NG."""

    def __init__(self, model: Path, config: Path | None = None) -> None:
        try:
            onnxruntime = importlib.import_module("onnxruntime")
        except ImportError as exc:
            raise SpeechEngineUnavailable(
                "onnxruntime is not installed (pip install oneteam[voice])"
            ) from exc
        self.config = read_config(config or model.with_name(model.name + ".json"))
        self.name = f"piper:{model.stem}"
        self.sample_rate = self.config.sample_rate
        try:
            self._session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise SpeechEngineUnavailable(f"cannot load {model}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}

    def phoneme_ids(self, phonemes: str) -> list[int]:
        """Phonemes as the voice's ids: `^`, each known phoneme followed by pad, `$`."""
        table = self.config.phoneme_ids
        ids = list(table.get("^", ()))
        pad = table.get("_", ())
        for phoneme in phonemes:
            if phoneme in table:
                ids.extend(table[phoneme])
                ids.extend(pad)
        ids.extend(table.get("$", ()))
        return ids

    def synthesize(self, text: str, sink: Callable[[bytes], bool]) -> None:
        """Phonemise, run the voice, hand the audio to `sink`."""
        ids = self.phoneme_ids(espeak().phonemes(text, self.config.espeak_voice))
        feeds: dict[str, Any] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array(
                [self.config.noise_scale, self.config.length_scale, self.config.noise_w], dtype=np.float32
            ),
        }
        if "sid" in self._inputs:
            feeds["sid"] = np.array([0], dtype=np.int64)
        audio = np.asarray(self._session.run(None, feeds)[0], dtype=np.float64).reshape(-1)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 1.0:
            audio = audio / peak
        sink(to_int16(audio))
