"""The process's one Kiwi analyser, shared by every home, and what makes it cheap to start:
loading it early in a thread (`prestart`) and a small file remembering which words Kiwi already
reads as one noun (asking means building Kiwi's tables)."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)

KIWI_LOCK = threading.RLock()
"""One analysis at a time, and guards the analyser's set-up: conversations call in from worker
threads, and every home of the process shares the one analyser."""
_KIWI_OPTIONS: dict[str, Any] = {"load_multi_dict": False, "load_default_dict": False}
"""The multi-word dictionary (12 MB of compound proper nouns) and the default dictionary of proper
nouns are not needed for home requests and cost most of Kiwi's start-up."""
_PRESTARTED: list[threading.Thread] = []
_PRESTARTED_KIWI: list[Any] = []


def prestart() -> None:
    """Start loading Kiwi's model in a thread now, for a short-lived command that will need it
    after its other imports (`oneteam understand`); the shared analyser takes it over."""
    if _PRESTARTED or ANALYSER.kiwi is not None:
        return

    def load() -> None:
        from kiwipiepy import Kiwi

        # No tokenize here: the analyser's tables (half a second) are built once, on the first
        # analysis after the language's words are added; building them now would be thrown away.
        _PRESTARTED_KIWI.append(Kiwi(**_KIWI_OPTIONS))

    thread = threading.Thread(target=load, name="kiwi-prestart", daemon=True)
    _PRESTARTED.append(thread)
    thread.start()


def _fresh_kiwi() -> Any:
    """The prestarted analyser (once), or a new one."""
    if _PRESTARTED:
        _PRESTARTED[0].join()
        if _PRESTARTED_KIWI:
            return _PRESTARTED_KIWI.pop()
    from kiwipiepy import Kiwi

    return Kiwi(**_KIWI_OPTIONS)


class _Analyser:
    """The process's one Kiwi, shared by every home (a Kiwi holds ~250 MB and takes a second to
    build). Only the language's own words are added to it as user words; a home's names are
    kept whole per analysis instead (`KoreanTokenizer`), so one home's "뽀송이" never changes how
    another home's sentences split."""

    def __init__(self) -> None:
        self.kiwi: Any = None
        self.generation = 0
        """Moves when user words are added: what was judged against the analyser is judged again."""
        self._judged: set[str] = set()
        self._nouns: dict[str, bool] = {}

    def load(self, shared_words: Sequence[str]) -> Any:
        """The analyser, with `shared_words` it does not already read as one noun added."""
        with KIWI_LOCK:
            if self.kiwi is None:
                self.kiwi = _fresh_kiwi()
            new = [w for w in shared_words if w not in self._judged]
            if new or self.generation == 0:
                # Only words Kiwi does not already read as one noun are added: a user word also
                # shifts Kiwi's guesses around it ("세탁기" added again made "시작해줘" one noun).
                unknown = [w for w, noun in _one_nouns(self.kiwi, new).items() if not noun]
                for word in unknown:
                    self.kiwi.add_user_word(word, "NNG", 0)
                self._judged.update(new)
                self._nouns.clear()
                self.generation += 1
                _LOGGER.info("Kiwi loaded with %d of %d language words as user words", len(unknown), len(new))
            return self.kiwi

    def one_noun(self, word: str) -> bool:
        """Whether the analyser (as loaded) reads `word` alone as one noun; asked once a process."""
        with KIWI_LOCK:
            known = self._nouns.get(word)
            if known is None:
                tokens = self.kiwi.tokenize(word)
                known = self._nouns[word] = len(tokens) == 1 and str(tokens[0].tag).startswith("NN")
            return known


ANALYSER = _Analyser()


def _one_nouns(kiwi: Any, words: Sequence[str]) -> dict[str, bool]:
    """Whether Kiwi as shipped reads each word as one noun. Asking means analysing, which builds
    Kiwi's tables — and adding a user word afterwards makes it build them again (0.5 s each), so
    the answers are kept in a small file per Kiwi version; a short command then builds once."""
    known = _noun_cache()
    missing = [w for w in words if w not in known]
    for word in missing:
        tokens = kiwi.tokenize(word)
        known[word] = len(tokens) == 1 and str(tokens[0].tag).startswith("NN")
    if missing:
        _save_noun_cache(known)
    return {w: known[w] for w in words}


def _noun_cache_path() -> Path:
    from kiwipiepy import __version__ as kiwi_version

    base = os.environ.get("ONETEAM_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    if not os.environ.get("ONETEAM_CACHE_DIR"):
        root = root / "oneteam"
    options = "-".join(f"{k}={v}" for k, v in sorted(_KIWI_OPTIONS.items()))
    return root / f"kiwi-{kiwi_version}-{options}-nouns.json"


_NOUNS: dict[str, bool] = {}
_NOUNS_LOADED: list[bool] = []


def _noun_cache() -> dict[str, bool]:
    if not _NOUNS_LOADED:
        _NOUNS_LOADED.append(True)
        try:
            data = json.loads(_noun_cache_path().read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            _LOGGER.debug("no Kiwi noun cache: %s", exc)
        else:
            if isinstance(data, dict):
                _NOUNS.update({k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, bool)})
    return _NOUNS


def _save_noun_cache(known: dict[str, bool]) -> None:
    """Written whole through a temporary file (another process may read it at the same time);
    a cache that cannot be written only costs the next start half a second."""
    path = _noun_cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(known, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        _LOGGER.debug("Kiwi noun cache not written: %s", exc)
