"""`--help` in the reader's language, with value labels in words instead of `<bool>` / `<str>`.

The commands are written with English help (typer reads it from the code); Korean readers get the
texts of help_ko.yaml instead, matched by the English text, so a command of any room is covered
without importing a catalog there. A flag shows no value label at all; other values a plain word
(숫자 / NUMBER, 경로 / PATH); choices stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any

import yaml

from oneteam.i18n import LANGUAGES, language_from_environment

_WORDS = {
    "ko": {"str": "글자", "text": "글자", "int": "숫자", "float": "숫자", "path": "경로", "file": "파일",
           "directory": "폴더", "datetime": "날짜", "list": "…"},
    "en": {"str": "TEXT", "text": "TEXT", "int": "NUMBER", "float": "NUMBER", "path": "PATH", "file": "FILE",
           "directory": "FOLDER", "datetime": "DATE", "list": "…"},
}  # fmt: skip


@cache
def korean_help() -> dict[str, str]:
    """English help text → Korean help text."""
    text = (resources.files("oneteam.cli") / "help_ko.yaml").read_text(encoding="utf-8")
    table = yaml.safe_load(text) or {}
    return {str(k): str(v) for k, v in table.items()}


def language_of(argv: Sequence[str]) -> str:
    """The language a run asks for before typer parses it: `--lang X`, else the environment's."""
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1] if argv[index + 1] in LANGUAGES else "ko"
        if arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
            return value if value in LANGUAGES else "ko"
    return language_from_environment()


def commands(command: Any) -> Iterator[Any]:
    """A click command and every command under it."""
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from commands(sub)


def value_word(label: str | None, language: str) -> str | None:
    """`<int range>` → 숫자, `<bool>` → nothing, `<a|b>` → a|b."""
    if label is None:
        return None
    bare = label.strip("<>")
    if bare == "bool":
        return ""
    head = bare.split("[", 1)[0].split(" ", 1)[0]
    word = _WORDS[language].get(head)
    if word is None:
        return bare
    return f"{_WORDS[language].get(bare.split('[', 1)[1].rstrip(']'), word)}…" if head == "list" else word


_PANELS_KO = {
    "ARGUMENTS_PANEL_TITLE": "인자",
    "OPTIONS_PANEL_TITLE": "옵션",
    "COMMANDS_PANEL_TITLE": "명령",
    "ERRORS_PANEL_TITLE": "오류",
    "DEFAULT_STRING": "[기본: {}]",
    "ENVVAR_STRING": "[환경 변수: {}]",
    "REQUIRED_LONG_STRING": "[필수]",
    "ABORTED_TEXT": "중단했어요.",
    "RICH_HELP": "도움말은 [blue]'{command_path} {help_option}'[/]",
}


def localize(command: Any, language: str) -> None:
    """Put the help of `command` and all under it in `language`, and its value labels in words."""
    table = korean_help() if language == "ko" else {}
    if language == "ko":
        from typer import rich_utils  # the panel titles typer draws around options and commands

        for name, text in _PANELS_KO.items():
            setattr(rich_utils, name, text)
    for cmd in commands(command):
        cmd.get_help_option = _help_option(cmd.get_help_option, table, language)
        if cmd.help:
            cmd.help = table.get(cmd.help, cmd.help)
        if getattr(cmd, "short_help", None):
            cmd.short_help = table.get(cmd.short_help, cmd.short_help)
        for param in cmd.params:
            if getattr(param, "help", None):
                param.help = table.get(param.help, param.help)
            original = getattr(param, "display_type_rich", None)
            if original is not None:
                param.display_type_rich = _in_words(original, language)


def _help_option(
    original: Callable[[Any], Any], table: dict[str, str], language: str
) -> Callable[[Any], Any]:
    """The `--help` option click adds to every command, with its help and label localized too."""

    def option(ctx: Any) -> Any:
        made = original(ctx)
        if made is not None:
            made.help = table.get(made.help, made.help)
            made.display_type_rich = _in_words(made.display_type_rich, language)
        return made

    return option


def _in_words(original: Callable[[Any], str | None], language: str) -> Callable[[Any], str | None]:
    def display(ctx: Any) -> str | None:
        return value_word(original(ctx), language)

    return display
