"""Household enrolment, leave-one-out on the real wake recordings (issue 20).

Run: `.venv/bin/python bench/bench_wake_enroll.py [--minutes 60]`. Nothing is downloaded.

Two phrases occur twice among the real clips (빅스비, 코뿔소). For each occurrence in turn, the phrase
is enrolled from the OTHER occurrence alone (`oneteam.voice.keyword.enroll`: cut where the wake
grammar reads it, fitted in changed copies beside eSpeak NG's voices), and the keyword first stage
with the enrolled networks is scored on the held-out occurrence, as recorded and varied (the 7
kinds of bench_wake.py). No clip is ever tested on after being trained on. False wakes and CPU: the
independent hour of bench_wake.py (held-out items, seed 23), detected with each enrolled phrase,
and with the default vosk first stage for each phrase and the default 원팀아 (where each wake falls).
Beside each figure (same run): the eSpeak-only keyword networks, the default vosk first stage and
the anchor, plain Vosk free-form containing the phrase.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine
from bench_wake import (
    DEFAULT_PHRASE,
    SPEECH,
    Trial,
    anchor_hits,
    assemble,
    detect,
    non_wake_items,
    positive_trials,
    to_pcm,
)

from oneteam.voice.asr import shared_model
from oneteam.voice.audio import read_wav
from oneteam.voice.keyword.enroll import enroll, phrase_audio
from oneteam.voice.wake import WakeDetector
from oneteam.voice.wake_model import WakeModel

FOLDS = (
    ("코뿔소", "pv_porcupine_multiple_keywords_ko.wav", "pv_picovoice_koppulso_seumateu_jomyeong_ko.wav"),
    ("코뿔소", "pv_picovoice_koppulso_seumateu_jomyeong_ko.wav", "pv_porcupine_multiple_keywords_ko.wav"),
    ("빅스비", "pv_porcupine_multiple_keywords_ko.wav", "pv_porcupine_bixby.wav"),
    ("빅스비", "pv_porcupine_bixby.wav", "pv_porcupine_multiple_keywords_ko.wav"),
)


def _wakes(wake: WakeModel, pcm: bytes, chunk: int = 3200) -> tuple[list[str], float, int]:
    """(stream time and confidence of each wake, CPU seconds, stage 1 candidates): where a false
    wake falls, so the stretch of the hour can be found and listened to."""
    detector = WakeDetector(wake)
    started = time.process_time()
    found = [d for start in range(0, len(pcm), chunk) for d in detector.feed(pcm[start : start + chunk])]
    found += detector.finish()
    cpu = time.process_time() - started
    return [f"{d.start_s:.1f} s ({d.confidence:.2f})" for d in found], cpu, detector.candidates


def _uptime() -> str:
    return subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the independent hour")
    parser.add_argument("--seed", type=int, default=23, help="shuffle of the independent hour")
    args = parser.parse_args()
    print(f"bench_wake_enroll — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"  uptime: {_uptime()}")
    model = shared_model()
    real, varied, _ = positive_trials(np.random.default_rng(20))
    items = non_wake_items(np.random.default_rng(args.seed), held_out=True)
    hour, _ = assemble(items, args.minutes * 60, seed=args.seed)
    hour_pcm = to_pcm(hour)
    del hour
    hour_h = len(hour_pcm) / (2 * 16000 * 3600)
    print(f"  independent hour: {len(items)} held-out items, {hour_h * 60:.1f} min (seed {args.seed})")
    total = {"enrolled": [0, 0], "espeak": [0, 0], "vosk": [0, 0], "anchor": [0, 0]}
    cache = Path(tempfile.mkdtemp(prefix="oneteam-enrol-"))
    plain = {p: WakeModel(model, [p], first_stage="keyword") for p in {f[0] for f in FOLDS}}
    default = {p: WakeModel(model, [p], first_stage="vosk") for p in {f[0] for f in FOLDS}}
    for number, (phrase, enrol_file, test_file) in enumerate(FOLDS):
        os.environ["ONETEAM_CACHE_DIR"] = str(cache / str(number))
        voice = phrase_audio(default[phrase], read_wav(SPEECH / enrol_file).data, enrol_file)
        started = time.process_time()
        enroll(phrase, [voice], replace=True)
        train_cpu = time.process_time() - started
        enrolled = WakeModel(model, [phrase], first_stage="keyword")
        tests: list[Trial] = [t for t in (*real, *varied) if t.label.startswith(f"{test_file}:{phrase}")]
        misses = {"enrolled": 0, "espeak": 0, "vosk": 0, "anchor": 0}
        for trial in tests:
            for label, wake in (("enrolled", enrolled), ("espeak", plain[phrase]), ("vosk", default[phrase])):
                if detect(wake, trial.pcm)[0] == 0:
                    misses[label] += 1
                    print(f"    missed ({label}): {trial.label}")
            misses["anchor"] += anchor_hits(model, trial.pcm, phrase) == 0
        for label, count in misses.items():
            total[label][0] += count
            total[label][1] += len(tests)
        found, cpu, candidates, decoded, _ = detect(enrolled, hour_pcm)
        n = len(tests)
        print(
            f"  fold {number + 1}: {phrase} enrolled from {enrol_file} ({len(voice) / 16000:.2f} s cut, "
            f"3 networks in {train_cpu:.0f} s CPU), tested on {test_file} as recorded + 7 varied: "
            f"misses enrolled {misses['enrolled']}/{n}, eSpeak-only {misses['espeak']}/{n}, "
            f"vosk first stage {misses['vosk']}/{n}, anchor free-form {misses['anchor']}/{n}; "
            f"independent hour: {found} false wakes = {found / hour_h:.2f}/h, CPU "
            f"{100 * cpu / (hour_h * 3600):.2f} % of a core, stage 1 decoded "
            f"{100 * decoded / (hour_h * 3600):.1f} %, proposed {candidates} (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    for label, (missed, count) in total.items():
        print(f"  all folds, {label:<8}: misses {missed}/{count} = {100 * missed / max(1, count):.1f} %")
    hours = {**default, DEFAULT_PHRASE: WakeModel(model, [DEFAULT_PHRASE], first_stage="vosk")}
    for phrase, wake in sorted(hours.items()):
        woke, cpu, candidates = _wakes(wake, hour_pcm)
        print(
            f"  vosk first stage, {phrase}, independent hour: {len(woke) / hour_h:.2f} false wakes/h "
            f"({len(woke)} of {candidates} stage 1 candidates; at {', '.join(woke) or '-'}), CPU "
            f"{100 * cpu / (hour_h * 3600):.2f} % (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    print(f"  uptime: {_uptime()}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
