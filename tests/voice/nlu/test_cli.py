"""`understand` as a command: one sentence, a JSONL set, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.voice.nlu.conftest import EVAL


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # A wide terminal keeps typer's error panel from wrapping the message.
    env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "oneteam.voice.nlu.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_one_sentence_prints_its_result(nlu_home: object) -> None:
    done = run("--home", str(EVAL / "home.yaml"), "부엌 불 꺼 줘")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "kind": "command",
        "actions": [{"device": "light_kitchen", "command": "turn_off"}],
    }


def test_a_set_is_answered_line_by_line_ignoring_expect(nlu_home: object, tmp_path: Path) -> None:
    lines = [
        {"utt": "불 켜", "context_room": "kitchen", "expect": {"kind": "none"}},
        {"utt": "오늘 날씨 어때?", "context_room": None},
    ]
    source = tmp_path / "set.jsonl"
    source.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    done = run("--home", str(EVAL / "home.yaml"), "--jsonl", str(source), "--out", str(out))
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert answers == [
        {
            "utt": "불 켜",
            "context_room": "kitchen",
            "result": {"kind": "command", "actions": [{"device": "light_kitchen", "command": "turn_on"}]},
        },
        {"utt": "오늘 날씨 어때?", "context_room": None, "result": {"kind": "none"}},
    ]


def test_bad_input_exits_2_with_a_message(nlu_home: object, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"utt": "불 켜"}\nnot json\n', encoding="utf-8")
    done = run("--home", str(EVAL / "home.yaml"), "--jsonl", str(broken))
    assert done.returncode == 2
    assert "broken.jsonl:2" in done.stderr
    assert "Traceback" not in done.stderr
    missing_home = run("--home", str(tmp_path / "nope.yaml"), "불 켜")
    assert missing_home.returncode == 2
    assert "Traceback" not in missing_home.stderr
    unknown_room = run("--home", str(EVAL / "home.yaml"), "--room", "garage", "불 켜")
    assert unknown_room.returncode == 2
