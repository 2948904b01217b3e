"""NLU fixtures: the fixture home and one Understander for the whole session (Kiwi loads once)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oneteam.hub import load_home
from oneteam.model import Home
from oneteam.voice.nlu import Understander
from tests.conftest import FIXTURE_HOME

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
EVAL = SHARED / "eval"

Understand = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def nlu_home() -> Home:
    """The evaluation fixture home (the repository's copy of shared/eval/home.yaml)."""
    return load_home(FIXTURE_HOME)


@pytest.fixture(scope="session")
def understander(nlu_home: Home) -> Understander:
    """One understander over the fixture home."""
    return Understander(nlu_home)


@pytest.fixture(scope="session")
def understand(understander: Understander) -> Understand:
    """text, room → the result's eval JSON."""

    def run(text: str, room: str | None = None) -> dict[str, Any]:
        return understander.understand(text, room).as_dict()

    return run
