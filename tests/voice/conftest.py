"""Voice fixtures: the Korean model loaded once per test session, the fixture home, the speech clips."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from oneteam.hub import load_home
from oneteam.model import Home
from oneteam.voice.asr import KoreanRecognizer, VoskModel, shared_model
from oneteam.voice.grammar import Grammar, build_grammar, speech_vocabulary
from tests.conftest import FIXTURE_HOME

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SPEECH = SHARED / "data" / "speech_ko"


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    """Recorded Korean speech with transcripts (shared/data/speech_ko)."""
    if not (SPEECH / "transcripts.tsv").is_file():
        pytest.skip("shared/data/speech_ko is not beside the repository")
    return SPEECH


@pytest.fixture(scope="session")
def transcripts(speech_dir: Path) -> dict[str, str]:
    """Clip file name → exact transcript."""
    with (speech_dir / "transcripts.tsv").open(encoding="utf-8") as handle:
        return {row["file"]: row["transcript"] for row in csv.DictReader(handle, delimiter="\t")}


@pytest.fixture(scope="session")
def home() -> Home:
    """The evaluation fixture home (the repository's copy of shared/eval/home.yaml)."""
    return load_home(FIXTURE_HOME)


@pytest.fixture(scope="session")
def vosk_model() -> VoskModel:
    """The Korean model, loaded once for the whole session."""
    return shared_model()


@pytest.fixture(scope="session")
def grammar(vosk_model: VoskModel) -> Grammar:
    """The fixture home's grammar over the model's vocabulary.

    Built from its own copy of the home: the session's `home` is handed to hubs that add and rename
    devices, and a grammar built after them depended on which tests had run first.
    """
    path = SHARED / "eval" / "home.yaml"
    if not path.is_file():
        pytest.skip("shared/eval/home.yaml is not beside the repository")
    return build_grammar(load_home(path), speech_vocabulary(), vosk_model.is_known)


@pytest.fixture(scope="session")
def recognizer(vosk_model: VoskModel, grammar: Grammar) -> KoreanRecognizer:
    """A home-biased recogniser."""
    return KoreanRecognizer(vosk_model, grammar)
