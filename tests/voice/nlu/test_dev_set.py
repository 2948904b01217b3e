"""The development set keeps a floor: accuracy never falls below it, nothing off-topic is acted on.

The set is read from shared/eval (never copied into the repo) and scored by its own score.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from oneteam.voice.nlu import Understander
from tests.voice.nlu.conftest import EVAL

FLOOR = 0.98
REPO = Path(__file__).resolve().parents[3]
# This room's product files (other rooms answer for their own).
PRODUCT = [
    REPO / "oneteam" / "voice" / "nlu",
    REPO / "oneteam" / "voice" / "dialog.py",
    REPO / "oneteam" / "voice" / "replies.py",
    REPO / "oneteam" / "i18n" / "messages" / "ko" / "dialog.yaml",
    REPO / "oneteam" / "i18n" / "messages" / "en" / "dialog.yaml",
    REPO / "bench" / "bench_nlu.py",
]


@pytest.fixture(scope="module")
def dev_rows() -> list[dict[str, object]]:
    path = EVAL / "nlu_dev_ko.jsonl"
    if not path.is_file():
        pytest.skip("shared/eval/nlu_dev_ko.jsonl is not beside the repository")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev_set_accuracy_keeps_its_floor(
    understander: Understander, dev_rows: list[dict[str, object]], tmp_path: Path
) -> None:
    answers = tmp_path / "answers.jsonl"
    with answers.open("w", encoding="utf-8") as out:
        for row in dev_rows:
            utt, room = str(row["utt"]), row["context_room"]
            result = understander.understand(utt, room if isinstance(room, str) else None)
            out.write(
                json.dumps({"utt": utt, "context_room": room, "result": result.as_dict()}, ensure_ascii=False)
            )
            out.write("\n")
    scored = subprocess.run(
        [sys.executable, str(EVAL / "score.py"), str(EVAL / "nlu_dev_ko.jsonl"), str(answers), "--quiet"],
        capture_output=True,
        text=True,
        check=True,
    )
    last = scored.stdout.strip().splitlines()[-1]  # accuracy: N/M = P%
    right, total = (int(n) for n in last.split(":")[1].split("=")[0].split("/"))
    assert right / total >= FLOOR, scored.stdout


def test_off_topic_dev_sentences_are_never_acted_on(
    understander: Understander, dev_rows: list[dict[str, object]]
) -> None:
    off_topic = [
        row for row in dev_rows if isinstance(row["expect"], dict) and row["expect"]["kind"] == "none"
    ]
    acted = [
        row["utt"]
        for row in off_topic
        if understander.understand(str(row["utt"])).kind in ("command", "schedule")
    ]
    assert acted == []


def test_product_files_hold_no_dev_sentence(dev_rows: list[dict[str, object]]) -> None:
    sentences = {str(row["utt"]) for row in dev_rows if len(str(row["utt"])) >= 8}
    found = []
    for root in PRODUCT:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.suffix in (".py", ".yaml", ".yml", ".json", ".md") and path.is_file():
                text = path.read_text(encoding="utf-8", errors="ignore")
                found.extend(f"{path.relative_to(REPO)}: {s}" for s in sentences if s in text)
    assert found == []
