"""`oneteam understand` starts small: the hub's storage, bus and configuration are not imported,
and Kiwi's tables are built once thanks to the noun cache (bench/bench_nlu_startup.py times it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Runs the command's real entry point in a fresh interpreter and reports what it imported (typer
# itself imports pydantic, so that is not ours to avoid).
PROBE = """
import json, sys
sys.argv = ["oneteam", "understand", "거실 불 꺼 줘"]
from oneteam.cli import main
try:
    main()
except SystemExit as exit:  # typer ends the command this way
    assert exit.code in (0, None), exit.code
heavy = ["asyncio", "oneteam.hub.sqlite_store", "oneteam.hub.config", "oneteam.hub.core"]
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def probe(cache_dir: Path) -> tuple[dict[str, object], list[str]]:
    env = {**os.environ, "ONETEAM_CACHE_DIR": str(cache_dir)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    answer, imported = done.stdout.strip().splitlines()
    return json.loads(answer), json.loads(imported)


def test_understand_imports_no_storage_bus_or_config(tmp_path: Path) -> None:
    answer, imported = probe(tmp_path)
    assert answer == {"kind": "command", "actions": [{"device": "light_living", "command": "turn_off"}]}
    assert imported == []


def test_the_noun_cache_is_written_once_and_gives_the_same_answer(tmp_path: Path) -> None:
    first, _ = probe(tmp_path)
    (cache,) = tmp_path.glob("kiwi-*-nouns.json")
    known = json.loads(cache.read_text(encoding="utf-8"))
    assert known["에어컨"] is True  # Kiwi reads it as one noun: not added as a user word
    assert known["로봇청소기"] is False  # a language word Kiwi splits: added to the shared analyser
    second, _ = probe(tmp_path)
    assert second == first


def test_a_damaged_noun_cache_is_ignored(tmp_path: Path) -> None:
    expected, _ = probe(tmp_path)
    (cache,) = tmp_path.glob("kiwi-*-nouns.json")
    cache.write_text("{not json", encoding="utf-8")
    assert probe(tmp_path)[0] == expected
    cache.write_text(json.dumps({"에어컨": "yes"}), encoding="utf-8")  # wrong type: asked again
    assert probe(tmp_path)[0] == expected
    assert json.loads(cache.read_text(encoding="utf-8"))["에어컨"] is True
