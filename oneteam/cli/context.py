"""What every command shares: the language of its messages and how it prints."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from rich.console import Console

from oneteam.i18n import LANGUAGES, language_from_environment, render


@dataclass
class Output:
    """Language and output helpers of one CLI run."""

    language: str = "ko"

    def __post_init__(self) -> None:
        self.console = Console()
        self.errors = Console(stderr=True)

    def t(self, key: str, **params: object) -> str:
        """A message in the run's language."""
        return render(key, self.language, **params)

    def json(self, data: Any) -> None:
        """Print one JSON document (for scripts)."""
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def fail(self, message: str, code: int = 2) -> NoReturn:
        """Print a message to stderr and exit (2: the user can fix it; 1: anything else)."""
        self.errors.print(f"[red]{message}[/red]", highlight=False)
        raise typer.Exit(code)


OUT = Output()


def set_language(language: str | None) -> None:
    """Choose the language of messages for this run."""
    chosen = language or language_from_environment()
    if chosen not in LANGUAGES:
        OUT.fail(f"--lang must be one of {', '.join(LANGUAGES)}")
    OUT.language = chosen
    # Commands of other rooms read the language from the environment (they cannot import the CLI).
    os.environ["ONETEAM_LANG"] = chosen
