"""eSpeak NG audio for training, made in a fresh process so that it is the same whatever this
process spoke before.

eSpeak NG keeps state inside the library from one utterance to the next: the same text, voice,
rate and pitch come out a few samples different after other speech, and initialising it again
does not reset that. A network fitted on such audio drifts with it (a seeded spotter for one
phrase scored 4 of 12 held-out sentences as the phrase when trained first in a process, 10 of 12
when trained after an enrolment had spoken other phrases). A child process starts from eSpeak's
initial state every time, so a phrase and a seed always give the same spotter.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Sequence

import numpy as np

from oneteam.voice.audio import SAMPLE_RATE
from oneteam.voice.espeak import SpeechEngineUnavailable, espeak
from oneteam.voice.keyword.features import Floats

Request = tuple[str, str, int, int]
"""Text, eSpeak voice, rate (words per minute), pitch (0-100)."""

_TIMEOUT_S = 900


def speak(text: str, voice: str, rate_wpm: int, pitch: int) -> Floats:
    """eSpeak NG at 16 kHz, float samples (in this process: for probes, not for training)."""
    engine = espeak()
    chunks: list[bytes] = []

    def sink(pcm: bytes) -> bool:
        chunks.append(pcm)
        return True

    engine.synthesize(text, voice, rate_wpm, sink, pitch=pitch)
    samples = np.frombuffer(b"".join(chunks), dtype="<i2").astype(np.float32) / 32768.0
    return resample(samples, engine.sample_rate / SAMPLE_RATE)


def resample(samples: Floats, factor: float) -> Floats:
    """Play `factor` times faster (linear interpolation; pitch moves with it)."""
    if factor == 1.0 or len(samples) < 2:
        return samples
    positions = np.arange(0, len(samples) - 1, factor)
    return np.asarray(np.interp(positions, np.arange(len(samples)), samples), dtype=np.float32)


def speak_fresh(requests: Sequence[Request]) -> list[Floats]:
    """Each request spoken in order by an eSpeak NG that spoke nothing before (a child process)."""
    if not requests:
        return []
    result = subprocess.run(
        [sys.executable, "-m", "oneteam.voice.keyword.speech"],
        input=json.dumps([list(r) for r in requests]).encode(),
        capture_output=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise SpeechEngineUnavailable(f"eSpeak NG could not speak in a child process: {reason[0]}")
    with np.load(io.BytesIO(result.stdout), allow_pickle=False) as data:
        return [data[f"a{i}"].astype(np.float32) for i in range(len(requests))]


def main() -> None:
    """Read requests (JSON on stdin), write their audio (.npz on stdout)."""
    requests = json.loads(sys.stdin.buffer.read())
    audio = {f"a{i}": speak(str(t), str(v), int(r), int(p)) for i, (t, v, r, p) in enumerate(requests)}
    out = io.BytesIO()
    np.savez(out, allow_pickle=False, **audio)
    sys.stdout.buffer.write(out.getvalue())


if __name__ == "__main__":
    main()
