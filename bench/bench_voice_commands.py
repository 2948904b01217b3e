"""Command recognition: command-sentence accuracy and real-time factor, per recognition mode.

Run: `.venv/bin/python bench/bench_voice_commands.py`. Commands are the eval home's device and
room names in everyday command frames (on, off, temperature, fan speed), spoken by eSpeak NG's
Korean voice through our normaliser (the only Korean voice here; eSpeak is hard for the model, so
these are harder than a person) plus the one real recorded command (Picovoice's lighting clip,
scored on its slot 파란색). A command counts as right when the recognised text, spaces removed and
numbers spelled out, equals the spoken form exactly. Modes: plain Vosk free-form (the anchor),
oneteam command mode (the default: grammar + garbage syllables, free-form only out of grammar),
and the old default (grammar cross-checked by free-form on every utterance). RTF = decode seconds
over audio seconds, 3 rounds. Out-of-grammar speech: the 15 Zeroth news clips must fall back.
"""

from __future__ import annotations

import datetime
import random
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, machine

from oneteam.hub import load_home
from oneteam.voice.asr import KoreanRecognizer, shared_model
from oneteam.voice.audio import AudioFormat, convert, read_wav
from oneteam.voice.grammar import build_grammar, speech_vocabulary
from oneteam.voice.normalize import normalize, spell_out_recognised_numbers
from oneteam.voice.tts import Speaker

SPEECH = SHARED / "data" / "speech_ko"
FRAMES = ("{name} 켜 줘", "{name} 꺼 줘", "{name} 온도 {n}도로 맞춰 줘", "{name} 바람 세기 {k}단으로 바꿔 줘")


def compact(text: str) -> str:
    return re.sub(r"\s+", "", spell_out_recognised_numbers(text))


def commands(rng: random.Random) -> list[str]:
    home = load_home(SHARED / "eval" / "home.yaml")
    names = sorted({d.names[0] for d in home.devices.values() if d.names and not d.names[0].isascii()})
    out = []
    for name in names:
        for frame in rng.sample(FRAMES, 2):
            out.append(frame.format(name=name, n=rng.randint(18, 28), k=rng.randint(1, 3)))
    return out


def main() -> None:
    load = subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()
    print(f"bench_voice_commands — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"  uptime: {load}")
    model = shared_model()
    grammar = build_grammar(load_home(SHARED / "eval" / "home.yaml"), speech_vocabulary(), model.is_known)
    modes = {
        "plain Vosk free-form (anchor)": (KoreanRecognizer(model), False),
        "command mode (default)": (KoreanRecognizer(model, grammar), True),
        "grammar + free-form cross-check (old default)": (
            KoreanRecognizer(model, grammar, verify=True),
            True,
        ),
    }
    speaker = Speaker()
    spoken = []
    for text in commands(random.Random(20)):
        audio = speaker.speak(text)
        spoken.append((text, convert(audio.pcm, AudioFormat(rate=audio.sample_rate, width=2, channels=1))))
    real = read_wav(SPEECH / "pv_rhino_test_within_context_ko.wav").data
    news = [read_wav(p).data for p in sorted(SPEECH.glob("zeroth_*.wav"))]
    print(f"  {len(spoken)} eSpeak NG commands, 1 real command clip, {len(news)} news clips (out of grammar)")
    for label, (recognizer, biased) in modes.items():
        right = fell_back = 0
        rtfs = []
        for _round in range(3):
            right = fell_back = 0
            audio_s = decode_s = 0.0
            for text, pcm in spoken:
                heard = recognizer.transcribe(pcm, biased=biased)
                right += compact(heard.raw_text) == compact(normalize(text))
                fell_back += heard.fell_back
                audio_s += heard.audio_s
                decode_s += heard.decode_s
            rtfs.append(decode_s / audio_s)
        real_heard = recognizer.transcribe(real, biased=biased)
        news_fell = sum(recognizer.transcribe(pcm, biased=biased).fell_back for pcm in news) if biased else 0
        print(
            f"  {label:<46} accuracy {right}/{len(spoken)} = {100 * right / len(spoken):5.1f} %  "
            f"RTF " + " / ".join(f"{r:.3f}" for r in rtfs) + f"  (fell back {fell_back}); real clip: "
            f"{'파란색 heard' if '파란색' in real_heard.text else 'missed'} ({real_heard.text}); "
            f"news fell back {news_fell}/{len(news)}"
        )


if __name__ == "__main__":
    main()
