"""A Vosk model folder for command recognition: the packaged model's files linked, tighter search.

Vosk reads its decoder settings (beam, max-active, lattice-beam) from the model folder's
conf/model.conf and offers no per-recogniser setter, so a grammar decoder with a narrower search
needs a model folder of its own. Its files are symbolic links to the packaged model's; only
conf/model.conf is written. Loading it costs a second copy of the model in memory (~0.5 GB RSS,
measured in BENCHMARKS.md), which is why command mode over it is opt-in.

Why max-active and not the beam: on eSpeak NG commands (speech the model barely believes) the
grammar search keeps up to 3,000 tokens a frame across the 2,100 garbage syllables; 1,000 cuts the
grammar decoder's CPU by about a third and reads the real command clip the same, while a beam of
8 instead of 10 changed that reading (바꿔 줘 → 닥 꺼져).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from oneteam.voice.asr import VoskModel, model_dir, shared_model

COMMAND_SEARCH: dict[str, str] = {"--max-active": "1000"}
"""The decoder settings command mode overrides in the packaged model.conf."""


def command_model_dir(base: Path, settings: dict[str, str] | None = None, cache: Path | None = None) -> Path:
    """A folder beside `cache` (the user's cache by default) that links `base`'s files and carries
    `base`'s conf/model.conf with `settings` applied; made once, then reused."""
    overrides = COMMAND_SEARCH if settings is None else settings
    conf = _merged_conf((base / "conf" / "model.conf").read_text(encoding="utf-8"), overrides)
    key = hashlib.sha256(f"{base.resolve()}\n{conf}".encode()).hexdigest()[:16]
    root = cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "oneteam"
    target = root / f"vosk-command-{key}"
    if (target / "conf" / "model.conf").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    # Built aside and renamed into place, so two processes starting at once never see half a folder.
    staging = Path(tempfile.mkdtemp(prefix=".vosk-command-", dir=root))
    for entry in base.resolve().iterdir():
        if entry.name != "conf":
            (staging / entry.name).symlink_to(entry)
    (staging / "conf").mkdir()
    for entry in (base / "conf").resolve().iterdir():
        if entry.name != "model.conf":
            (staging / "conf" / entry.name).symlink_to(entry)
    (staging / "conf" / "model.conf").write_text(conf, encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:
        # Another process made it first; theirs is the same.
        _remove(staging)
    return target


def _merged_conf(text: str, overrides: dict[str, str]) -> str:
    """model.conf's lines with `overrides` replacing (or adding) their options."""
    lines: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        option = line.split("=", 1)[0].strip()
        if option in overrides:
            lines.append(f"{option}={overrides[option]}")
            seen.add(option)
        elif line.strip():
            lines.append(line.strip())
    lines.extend(f"{option}={value}" for option, value in overrides.items() if option not in seen)
    return "\n".join(lines) + "\n"


def _remove(folder: Path) -> None:
    """Delete a staging folder of links and one conf folder."""
    for entry in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if entry.is_dir() and not entry.is_symlink():
            entry.rmdir()
        else:
            entry.unlink()
    folder.rmdir()


def shared_command_model(base: Path | None = None) -> VoskModel:
    """The process's one command-mode model over `base` (the packaged Korean model by default)."""
    return shared_model(command_model_dir(base or model_dir()))
