"""Reading routine sentences: one language's routine words (`nlu/lang/<lang>/routines.yaml`),
the recurrence a spoken automation starts with ("매일 아침", "평일마다"), which routines a sentence
names and with what verb, and a yes or no to a confirmation. Pure text work over the hub's routine
catalog; `voice/routines.py` (`RoutineTalk`) decides and acts on what these functions read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from oneteam.hub.routines import RoutineEntry
from oneteam.i18n import render

_SPACE = re.compile(r"[\s\"'“”‘’.,!~…·]+")


def norm(text: str) -> str:
    """Lower case, no spaces or punctuation (a question mark is kept apart by the caller)."""
    return _SPACE.sub("", text).replace("?", "").lower()


@dataclass(frozen=True, slots=True)
class Words:
    """One language's routine words (nlu/lang/<lang>/routines.yaml), normalised."""

    suffixes: tuple[str, ...]
    particles: tuple[str, ...]
    leads: tuple[str, ...]
    activate: tuple[str, ...]
    disable: tuple[str, ...]
    listing: tuple[str, ...]
    every_day: tuple[str, ...]
    groups: dict[str, str]
    group_endings: tuple[str, ...]
    every_week: tuple[str, ...]
    days: dict[str, str]
    day_endings: tuple[str, ...]
    day_repeat_endings: tuple[str, ...]
    yes: tuple[str, ...]
    no: tuple[str, ...]


def _longest_first(items: Any) -> tuple[str, ...]:
    return tuple(sorted({norm(str(i)) for i in items or ()}, key=len, reverse=True))


@cache
def words(language: str) -> Words:
    folder = resources.files("oneteam.voice.nlu") / "lang" / language
    data = yaml.safe_load((folder / "routines.yaml").read_text(encoding="utf-8")) or {}
    return Words(
        suffixes=_longest_first(data.get("suffixes")),
        particles=_longest_first(data.get("particles")),
        leads=_longest_first(data.get("leads")),
        activate=_longest_first(data.get("activate")),
        disable=_longest_first(data.get("disable")),
        listing=_longest_first(data.get("list")),
        every_day=_longest_first(data.get("every_day")),
        groups={norm(k): str(v) for k, v in (data.get("groups") or {}).items()},
        group_endings=_longest_first(data.get("group_endings")),
        every_week=_longest_first(data.get("every_week")),
        days={norm(k): str(v) for k, v in (data.get("days") or {}).items()},
        day_endings=_longest_first(data.get("day_endings")),
        day_repeat_endings=_longest_first(data.get("day_repeat_endings")),
        # "agree"/"refuse", not yes/no: YAML 1.1 reads a bare `yes:` key as True.
        yes=_longest_first(data.get("agree")),
        no=_longest_first(data.get("refuse")),
    )


def strip_leading(text: str, options: tuple[str, ...]) -> str:
    """`text` without leading words from `options`, repeatedly ("를좀켜줘" → "켜줘")."""
    changed = True
    while changed:
        changed = False
        for option in options:
            if option and text.startswith(option):
                text, changed = text[len(option) :], True
                break
    return text


def only_of(text: str, options: tuple[str, ...]) -> bool:
    """`text` is made of words from `options` alone (or is empty)."""
    return not strip_leading(text, options)


def starts_with(text: str, options: tuple[str, ...]) -> bool:
    return any(o and text.startswith(o) for o in options)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When a spoken automation repeats: every day, weekdays, weekend or some days of the week."""

    weekdays: str | tuple[str, ...] | None
    """None: every day."""
    spoken: str
    """The span that said it, as written ("매일", "매주 토요일")."""

    def words(self, language: str) -> str:
        if self.weekdays is None:
            return render("routines.every.day", language)
        if isinstance(self.weekdays, str):
            return render(f"routines.every.{self.weekdays}", language)
        days = render("routines.and", language).join(
            render(f"routines.days.{d}", language) for d in self.weekdays
        )
        return render("routines.every.days", language, days=days)


def recurrence(text: str, language: str) -> tuple[Recurrence, str] | None:
    """The recurrence a sentence starts with and the rest of the sentence, or None."""
    w = words(language)
    # Walk the original text so the rest keeps its spaces for the parser.
    for end in range(1, min(len(text), 24) + 1):
        rest = text[end:]
        if rest[:1] not in ("", " ") and not rest[:1].isdigit():
            continue  # only whole words ("매일 아침", "평일마다 7시")
        found = _read_recurrence(norm(text[:end]), w)
        if found is not None:
            return Recurrence(weekdays=found[0], spoken=text[:end].strip()), rest.strip()
    return None


def _read_recurrence(head: str, w: Words) -> tuple[str | tuple[str, ...] | None] | None:
    """(weekdays,) when `head` says a recurrence (weekdays None: every day), else None."""
    if head in w.every_day:
        return (None,)
    for word, group in w.groups.items():
        if any(head == word + ending for ending in w.group_endings):
            return (group,)
    for prefix in (*w.every_week, ""):
        if not head.startswith(prefix):
            continue
        body = head[len(prefix) :]
        for day, code in w.days.items():
            # "매주 토요일(에)" or "토요일마다"; a bare "토요일에" is one Saturday, not every one.
            endings = w.day_endings if prefix else w.day_repeat_endings
            if any(body == day + ending for ending in endings):
                return ((code,),)
    return None


@dataclass(slots=True)
class Match:
    """The routine(s) a sentence names, the lead words before and the words after the name."""

    entries: list[RoutineEntry] = field(default_factory=list)
    lead: str = ""
    rest: str = ""
    spoken: str = ""


def yes_no(text: str, lang: str) -> bool | None:
    """True or False when a sentence answers a confirmation with yes or no, else None."""
    w, said = words(lang), norm(text)
    if starts_with(said, w.no):
        return False
    if starts_with(said, w.yes):
        return True
    return None


def find(catalog: list[RoutineEntry], text: str, lang: str) -> Match:
    """The routine(s) a sentence names at its start (after lead words), with what follows."""
    w, said = words(lang), norm(text)
    keys: list[tuple[str, RoutineEntry]] = []
    for entry in catalog:
        for name in {*entry.names.values(), *entry.phrases, entry.id}:
            normal = norm(name)
            if normal:
                keys.append((normal, entry))
                base = normal
                for suffix in w.suffixes:  # "외출 모드" also answers to "외출"
                    if base.endswith(suffix) and len(base) > len(suffix):
                        keys.append((base[: -len(suffix)], entry))
    keys.sort(key=lambda k: len(k[0]), reverse=True)
    for normal, _entry in keys:
        at = said.find(normal)
        if at < 0 or not only_of(said[:at], w.leads):
            continue
        rest = strip_leading(said[at + len(normal) :], (*w.suffixes, *w.particles))
        same = {e.id for n, e in keys if n == normal}
        chosen = [e for e in catalog if e.id in same]
        return Match(entries=chosen, lead=said[:at], rest=rest, spoken=normal)
    # No name fits whole: a spoken name before 모드/루틴 that is part of some names ("아침 루틴").
    for suffix in w.suffixes:
        at = said.find(suffix)
        if at <= 0:
            continue
        spoken = strip_leading(said[:at], w.leads)
        rest = strip_leading(said[at + len(suffix) :], (*w.suffixes, *w.particles))
        partial = [e for e in catalog if spoken and any(spoken in norm(n) for n in e.names.values())]
        return Match(entries=partial, lead="", rest=rest, spoken=spoken)
    return Match()


def verb_of(match: Match, lang: str) -> str | None:
    """activate, disable, or None (no verb this room knows)."""
    w = words(lang)
    lead_words = []
    lead = match.lead
    while lead:
        word = next((o for o in w.leads if o and lead.startswith(o)), None)
        if word is None:
            break
        lead_words.append(word)
        lead = lead[len(word) :]
    if starts_with(match.rest, w.disable) or any(word in w.disable for word in lead_words):
        return "disable"
    if starts_with(match.rest, w.activate) or (lang == "en" and lead_words and not match.rest):
        return "activate"
    return None
