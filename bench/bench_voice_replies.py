"""Spoken replies people understand: reply text → speech engine → recogniser → character error rate.

Run: `.venv/bin/python bench/bench_voice_replies.py [--per-template 1]`. Every reply template of the
Korean dialog catalogue (i18n/messages/ko/dialog.yaml, fragments such as single words left out) is
filled with varied numbers and the home's names, spoken by each available engine, resampled to
16 kHz and read back by plain Vosk free-form with the packaged Korean model. CER = character edit
distance over the reference's length, summed, whitespace removed; the reference is the reply as
it is read aloud (numbers in words, by our normaliser), and Vosk's bracketed digits are spelled out
the same way before scoring.

Engines: eSpeak NG Korean given the raw text (the anchor: what `oneteam speak` did before any
normalising), eSpeak NG with our normaliser at the old rate, normaliser + prosody (slower rate, a
sentence at a time with pauses) given the words as written, as pronounced Hangul (pronounce.py) and
as eSpeak phonemes of that (espeak_phonemes.py), MBROLA's Korean voice when the system has one, and
a Piper voice when ONETEAM_PIPER_MODEL names one (none ships).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine
from rapidfuzz.distance import Levenshtein

from oneteam.i18n import render
from oneteam.voice.asr import KoreanRecognizer, shared_model
from oneteam.voice.audio import AudioFormat, convert
from oneteam.voice.espeak import espeak
from oneteam.voice.normalize import normalize, spell_out_recognised_numbers
from oneteam.voice.tts import EspeakEngine, Speaker, load_engine

FRAGMENT_SECTIONS = (
    "words",
    "periods",
    "native_numbers",
    "states",
    "modes",
    "fan_speeds",
    "compartments",
    "aspects",
)
DEVICES = ("거실 에어컨", "공기청정기", "안방 불", "TV", "세탁기", "로봇청소기", "냉장고", "거실 불")


def templates() -> list[str]:
    """Message keys of every whole reply in the Korean dialog catalogue."""
    path = resources.files("oneteam.i18n") / "messages" / "ko" / "dialog.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    keys: list[str] = []

    def walk(node: object, key: str) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, f"{key}.{name}")
        elif isinstance(node, str) and not any(f".{s}." in f"{key}." for s in FRAGMENT_SECTIONS):
            keys.append(key.lstrip("."))

    walk(data, "")
    return keys


def fill(key: str, rng: random.Random) -> str:
    """The template rendered with varied numbers and names."""
    n = rng.choice([1, 2, 3, 5, 7, 12, 18, 24, 27, 30, 45, 60, 100, 250])
    params: dict[str, object] = {
        "device": rng.choice(DEVICES),
        "name": rng.choice(DEVICES),
        "room": rng.choice(["거실", "안방", "주방"]),
        "aspect": rng.choice(["온도", "밝기", "볼륨"]),
        "value": rng.choice(
            [f"{rng.randint(16, 30)}도", f"{rng.randint(1, 5)}단", f"{rng.randint(1, 100)}%"]
        ),
        "amount": f"{rng.randint(1, 5)}도",
        "number": n,
        "count": rng.randint(1, 9),
        "hours": rng.choice(["한", "두", "세"]),
        "hour": rng.randint(1, 12),
        "minute": rng.choice([5, 10, 15, 30, 45]),
        "clock": f"{rng.randint(1, 12)}시 {rng.choice([10, 20, 30])}분",
        "when": rng.choice([f"{rng.randint(2, 50)}분 뒤에", f"오후 {rng.randint(1, 11)}시에"]),
        "duration": f"{rng.randint(1, 3)}시간 {rng.choice([10, 20, 30])}분",
        "mode": rng.choice(["냉방", "제습", "표준"]),
        "fridge": f"{rng.randint(1, 6)}도",
        "freezer": f"영하 {rng.randint(15, 22)}도",
        "state": rng.choice(["켜짐", "꺼짐"]),
        "target": rng.choice(["냉동실", "냉장실"]),
        "options": "거실 불, 안방 불",
        "items": "거실 불과 안방 불",
        "period": rng.choice(["오전", "오후"]),
    }
    return render(key, "ko", **params)


def compact(text: str) -> str:
    return re.sub(r"[\s.,!?…·:]+", "", spell_out_recognised_numbers(text))


Engine = Callable[[str], tuple[bytes, int]]


def espeak_raw(rate_wpm: int) -> Engine:
    """eSpeak NG Korean given the text as written."""

    def speak(text: str) -> tuple[bytes, int]:
        chunks: list[bytes] = []

        def sink(pcm: bytes) -> bool:
            chunks.append(pcm)
            return True

        engine = espeak()
        engine.synthesize(text, "ko", rate_wpm, sink)
        return b"".join(chunks), engine.sample_rate

    return speak


def speaker_engine(speaker: Speaker) -> Engine:
    def speak(text: str) -> tuple[bytes, int]:
        audio = speaker.speak(text)
        return audio.pcm, audio.sample_rate

    return speak


def engines() -> dict[str, Engine]:
    found: dict[str, Engine] = {
        "eSpeak NG ko, raw text, 175 wpm (anchor)": espeak_raw(175),
        "eSpeak NG ko + normaliser, 165 wpm": speaker_engine(
            Speaker(EspeakEngine(rate_wpm=165, pause_ms=0, reading="written"))
        ),
        "eSpeak NG ko + normaliser + prosody, as written (default)": speaker_engine(
            Speaker(EspeakEngine(reading="written"))
        ),
        "eSpeak NG ko + normaliser + pronounced Hangul + prosody": speaker_engine(
            Speaker(EspeakEngine(reading="pronounced"))
        ),
        "eSpeak NG ko + normaliser + pronounced, eSpeak phonemes": speaker_engine(
            Speaker(EspeakEngine(reading="phonemes"))
        ),
    }
    if shutil.which("mbrola") and Path("/usr/share/mbrola/ko1").exists():
        found["MBROLA ko1"] = speaker_engine(Speaker(EspeakEngine(voice="mb-ko1")))
    piper = os.environ.get("ONETEAM_PIPER_MODEL")
    if piper:
        found[f"Piper {Path(piper).name}"] = speaker_engine(Speaker(load_engine(Path(piper))))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-template", type=int, default=1, help="fillings per template")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N replies (0: all)")
    parser.add_argument(
        "--skip", default="", help="leave out engines whose name contains one of these (comma-separated)"
    )
    args = parser.parse_args()
    load = subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()
    print(f"bench_voice_replies — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"  uptime: {load}")
    rng = random.Random(20)
    replies = [fill(key, rng) for key in templates() for _ in range(args.per_template)]
    if args.limit:
        replies = replies[: args.limit]
    print(f"  {len(replies)} replies from {len(templates())} templates")
    print(
        "  MBROLA: "
        + ("found" if shutil.which("mbrola") else "no mbrola package in apt (apt-cache search mbrola: none)")
    )
    if not os.environ.get("ONETEAM_PIPER_MODEL"):
        print("  Piper: no voice supplied (set ONETEAM_PIPER_MODEL to a .onnx voice to score one)")
    recognizer = KoreanRecognizer(shared_model())
    worst: dict[str, list[tuple[float, str, str]]] = {}
    for name, engine in engines().items():
        if any(part and part in name for part in args.skip.split(",")):
            continue
        errors = chars = 0
        audio_s = 0.0
        started = time.perf_counter()
        worst[name] = []
        for text in replies:
            pcm, rate = engine(text)
            audio_s += len(pcm) / (2 * rate)
            heard = recognizer.transcribe(
                convert(pcm, AudioFormat(rate=rate, width=2, channels=1)), biased=False
            )
            reference = compact(normalize(text))
            distance = Levenshtein.distance(compact(heard.raw_text), reference)
            errors += distance
            chars += len(reference)
            worst[name].append((distance / max(1, len(reference)), text, heard.raw_text))
        print(
            f"  {name:<56} CER {100 * errors / chars:5.1f} %  ({errors}/{chars} chars, "
            f"{audio_s / len(replies):.1f} s of speech per reply, {time.perf_counter() - started:.0f} s)"
        )
    for name, rows in worst.items():
        print(f"  worst 5, {name}:")
        for cer, text, reading in sorted(rows, reverse=True)[:5]:
            print(f"    {100 * cer:5.1f} %  {text}  →  {reading}")


if __name__ == "__main__":
    main()
