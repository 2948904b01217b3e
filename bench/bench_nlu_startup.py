"""`oneteam understand "<문장>"`: wall time of the whole command, start-up included.

Run: `.venv/bin/python bench/bench_nlu_startup.py`. Each round runs, as separate processes:
- anchor 1, `python -c pass`: the interpreter's own start;
- anchor 2, Kiwi loaded as the command loads it (constructor + one analysis, which builds its
  tables) — the part of the command that is the analyser's, not ours;
- `oneteam understand` with the Kiwi noun cache already written (every start after the first);
- `oneteam understand` with an empty cache directory (the first start on a machine).
The goal (issue 16) is under 3 s wall; the machine is shared, so the load average is printed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine

ROUNDS = 3
SENTENCE = "거실 에어컨 이십사 도로 맞춰 줘"
PYTHON = str(REPO / ".venv" / "bin" / "python")
ONETEAM = str(REPO / ".venv" / "bin" / "oneteam")
KIWI_LOAD = (
    "from kiwipiepy import Kiwi; "
    "Kiwi(load_multi_dict=False, load_default_dict=False).tokenize('거실 불 켜 줘')"
)


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr[-500:]}")
    return seconds


def main() -> None:
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f} at start")
    print(f"sentence: {SENTENCE!r} against the demo home, {ROUNDS} rounds")
    rows: dict[str, list[float]] = {
        "python -c pass (anchor)": [],
        "kiwipiepy load + first analysis (anchor)": [],
        "oneteam understand (cache written)": [],
        "oneteam understand (first start, no cache)": [],
    }
    labels = list(rows)
    with tempfile.TemporaryDirectory() as warm_dir:
        warm_env = {**os.environ, "ONETEAM_CACHE_DIR": warm_dir}
        wall([ONETEAM, "understand", SENTENCE], warm_env)  # writes the cache once
        for _ in range(ROUNDS):
            rows[labels[0]].append(wall([PYTHON, "-c", "pass"]))
            rows[labels[1]].append(wall([PYTHON, "-c", KIWI_LOAD]))
            rows[labels[2]].append(wall([ONETEAM, "understand", SENTENCE], warm_env))
            with tempfile.TemporaryDirectory() as cold_dir:
                cold_env = {**os.environ, "ONETEAM_CACHE_DIR": cold_dir}
                rows[labels[3]].append(wall([ONETEAM, "understand", SENTENCE], cold_env))
    for label, values in rows.items():
        rounds = "  ".join(f"{v:.2f}" for v in values)
        print(f"  {label:44} median {statistics.median(values):5.2f} s   rounds {rounds}")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
