"""Command recognition: command-sentence accuracy and real-time factor, per recognition mode.

Run: `.venv/bin/python bench/bench_voice_commands.py`. Commands are the eval home's device and
room names in everyday command frames (on, off, temperature, fan speed), spoken by eSpeak NG's
Korean voice through our normaliser (the only Korean voice here; eSpeak is hard for the model, so
these are harder than a person) plus the one real recorded command (Picovoice's lighting clip,
scored on its slot 파란색). A command counts as right when the recognised text, spaces removed and
numbers spelled out, equals the spoken form exactly. Modes: plain Vosk free-form (the anchor),
free-form on the process's reused free-form recogniser (what a fallback decodes with since
2026-12-04 20:31), oneteam command mode (the default: grammar + garbage syllables, free-form only
out of grammar; finished grammar and free-form recognisers reused), the same with recognisers built
per utterance (before 2026-12-04 10:30), and the old default (grammar cross-checked by free-form on
every utterance).
RTF = decode seconds over audio seconds, CPU (process time) and wall, with the load average beside
each round (`--rounds`, 3 by default); "grammar decoder CPU RTF" is the grammar decoder's own CPU
(its thread's time) over all the commands' audio, whether or not they then fell back.
Out-of-grammar speech: Picovoice's out-of-context clip and the 15 Zeroth news clips must fall back.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, machine

from oneteam.hub import load_home
from oneteam.voice.asr import KoreanRecognizer, VoskModel, shared_model
from oneteam.voice.audio import AudioFormat, convert, read_wav
from oneteam.voice.grammar import Grammar, build_grammar, speech_vocabulary
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()
    print(f"bench_voice_commands — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"  uptime: {uptime}")
    model = shared_model()
    grammar = build_grammar(load_home(SHARED / "eval" / "home.yaml"), speech_vocabulary(), model.is_known)
    modes = {
        "plain Vosk free-form (anchor)": (KoreanRecognizer(model, reuse=False), False),
        "free-form, recogniser reused (fallbacks' now)": (KoreanRecognizer(model), False),
        "command mode (default)": (KoreanRecognizer(model, grammar), True),
        "command mode, recogniser per utterance (before)": (
            KoreanRecognizer(model, grammar, reuse=False),
            True,
        ),
        "grammar + free-form cross-check (old default)": (
            KoreanRecognizer(model, grammar, verify=True, reuse=False),
            True,
        ),
    }
    speaker = Speaker()
    spoken = []
    for text in commands(random.Random(20)):
        audio = speaker.speak(text)
        spoken.append((text, convert(audio.pcm, AudioFormat(rate=audio.sample_rate, width=2, channels=1))))
    real = read_wav(SPEECH / "pv_rhino_test_within_context_ko.wav").data
    out_of_context = read_wav(SPEECH / "pv_rhino_test_out_of_context_ko.wav").data
    news = [read_wav(p).data for p in sorted(SPEECH.glob("zeroth_*.wav"))]
    print(f"  {len(spoken)} eSpeak NG commands, 1 real command clip, {len(news)} news clips (out of grammar)")
    # Modes take turns on each utterance, so a change of machine load falls on all of them alike;
    # CPU RTF (process CPU time over audio time: the decoders are single-threaded) is the figure
    # that load hardly moves, wall RTF is printed beside it.
    audio_s = sum(len(pcm) for _, pcm in spoken) / 32_000
    for round_no in range(args.rounds):
        load = os.getloadavg()[0]
        stats = {
            label: dict.fromkeys(("right", "fell", "wall", "cpu", "gcpu", "in_cpu", "in_audio"), 0.0)
            for label in modes
        }
        for text, pcm in spoken:
            for label, (recognizer, biased) in modes.items():
                row = stats[label]
                started = time.process_time()
                stream = recognizer.stream(biased=biased)
                for start in range(0, len(pcm), 8000):
                    stream.accept(pcm[start : start + 8000])
                heard = stream.finish()
                used = time.process_time() - started
                row["cpu"] += used
                row["gcpu"] += stream.grammar_cpu_s()
                row["wall"] += heard.decode_s
                row["right"] += compact(heard.raw_text) == compact(normalize(text))
                row["fell"] += heard.fell_back
                if biased and not heard.fell_back:
                    row["in_cpu"] += used
                    row["in_audio"] += heard.audio_s
        for label, (_, biased) in modes.items():
            row = stats[label]
            in_grammar = f"{row['in_cpu'] / row['in_audio']:.3f}" if row["in_audio"] else "-"
            grammar_rtf = f"{row['gcpu'] / audio_s:.3f}" if biased else "-"
            print(
                f"  round {round_no + 1} (load {load:4.1f}) {label:<50} "
                f"accuracy {row['right']:.0f}/{len(spoken)}  "
                f"CPU RTF {row['cpu'] / audio_s:.3f}  wall RTF {row['wall'] / audio_s:.3f}  "
                f"fell back {row['fell']:.0f}; grammar decoder CPU RTF {grammar_rtf}; "
                f"CPU RTF of those read in grammar {in_grammar}"
            )
    for label, (recognizer, biased) in modes.items():
        started = time.process_time()
        real_heard = recognizer.transcribe(real, biased=biased)
        real_rtf = (time.process_time() - started) / real_heard.audio_s
        ooc_fell = recognizer.transcribe(out_of_context, biased=biased).fell_back if biased else False
        # The news clips (170 s, free-form after the grammar) for the default only: same rules elsewhere.
        news_fell = "-"
        if label == "command mode (default)":
            news_fell = (
                f"{sum(recognizer.transcribe(pcm, biased=biased).fell_back for pcm in news)}/{len(news)}"
            )
        print(
            f"  {label:<50} real clip: {'파란색 heard' if '파란색' in real_heard.text else 'missed'} "
            f"({real_heard.text}, CPU RTF {real_rtf:.3f}, fell back {real_heard.fell_back}); "
            f"out-of-context clip fell back {ooc_fell}; news fell back {news_fell}"
        )
    first_command(model, grammar, [pcm for _, pcm in spoken[:FIRSTS]])


FIRSTS = 7


def first_command(model: VoskModel, grammar: Grammar, commands: list[bytes]) -> None:
    """A process's first command, each on a new recogniser: warmed on quiet noise as it was made
    (the default) beside a cold one (the anchor: built for the utterance)."""
    rtf: dict[str, list[float]] = {"warmed": [], "cold": []}
    for pcm in commands:
        for label, recognizer in (
            ("warmed", KoreanRecognizer(model, grammar)),
            ("cold", KoreanRecognizer(model, grammar, reuse=False)),
        ):
            stream = recognizer.stream()
            for start in range(0, len(pcm), 8000):
                stream.accept(pcm[start : start + 8000])
            stream.finish()
            rtf[label].append(stream.grammar_cpu_s() / (len(pcm) / 32_000))
    print(
        f"  a process's first command ({len(commands)} eSpeak NG commands, a new recogniser each): "
        f"grammar decoder CPU RTF {statistics.mean(rtf['warmed']):.3f} warmed as made (default), "
        f"{statistics.mean(rtf['cold']):.3f} cold (anchor); load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
