"""`--help` in the reader's language, with value labels in words instead of `<bool>` / `<str>`.

The commands are written with English help (typer reads it from the code); Korean readers get the
texts of help_ko.yaml instead, matched by the English text, so a command of any room is covered
without importing a catalog there. A flag shows no value label at all; other values a plain word
(숫자 / NUMBER, 경로 / PATH); choices stay as they are.
"""

from __future__ import annotations

import importlib
import re
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


@cache
def click_words() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """Typer's own words (its gettext ids: section titles, "No such command") → Korean, and the
    usage errors of the click typer carries (plain English sentences) as patterns → Korean."""
    text = (resources.files("oneteam.cli") / "click_ko.yaml").read_text(encoding="utf-8")
    table = yaml.safe_load(text) or {}
    words = {str(k): str(v) for k, v in (table.get("words") or {}).items()}
    errors = [(re.compile(str(k), re.DOTALL), str(v)) for k, v in (table.get("errors") or {}).items()]
    return words, errors


_GETTEXT_MODULES = ("typer.core", "typer.rich_utils")
"""The modules that bind gettext's `_` for their messages at import."""
_METAVARS = {
    "ko": {"options": "[옵션]", "subcommand": "명령 [인자]..."},
    "en": {"options": "[OPTIONS]", "subcommand": "COMMAND [ARGS]..."},
}
_language = ["en"]
"""The language typer's and click's words are in now (set by `localize`)."""
_PANELS_EN: dict[str, str] = {}


def _gettext(message: str) -> str:
    return click_words()[0].get(message, message) if _language[0] == "ko" else message


def korean_error(message: str) -> str:
    """A usage error click wrote, in Korean when the language is (unknown ones stay as written)."""
    if _language[0] != "ko":
        return message
    for pattern, template in click_words()[1]:
        found = pattern.fullmatch(message)
        if found is not None:
            return template.format(
                **{k: korean_error(v) if k == "message" else v for k, v in found.groupdict().items()}
            )
    return message


def _wrap_format(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def format_message(self: Any) -> str:
        return korean_error(original(self))

    format_message.__wrapped__ = original  # type: ignore[attr-defined]
    return format_message


def _wrap_usage(original: Callable[..., None]) -> Callable[..., None]:
    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        original(self, prog, args, _gettext("Usage:") + " " if prefix is None else prefix)

    write_usage.__wrapped__ = original  # type: ignore[attr-defined]
    return write_usage


def _click_in(language: str) -> None:
    """Typer and the click it carries have no Korean catalog: typer's `_` reads click_ko.yaml's
    words, the usage line's "Usage:" and every usage error's text go through it too (when the
    language is Korean), and typer's panel titles are set to Korean or back."""
    from typer import _click, rich_utils
    from typer import exceptions as typer_exceptions

    _language[0] = language
    for name in _GETTEXT_MODULES:
        module = importlib.import_module(name)
        module._ = _gettext  # type: ignore[attr-defined]
    formatter = _click.formatting.HelpFormatter
    if not hasattr(formatter.write_usage, "__wrapped__"):
        formatter.write_usage = _wrap_usage(formatter.write_usage)  # type: ignore[method-assign]
    for kind in [*vars(_click.exceptions).values(), *vars(typer_exceptions).values()]:
        method = vars(kind).get("format_message") if isinstance(kind, type) else None
        if method is not None and not hasattr(method, "__wrapped__"):
            setattr(kind, "format_message", _wrap_format(method))  # noqa: B010 (any exception class)
    for key, text in _PANELS_KO.items():
        _PANELS_EN.setdefault(key, getattr(rich_utils, key))
        setattr(rich_utils, key, text if language == "ko" else _PANELS_EN[key])


def localize(command: Any, language: str) -> None:
    """Put the help of `command` and all under it in `language`, and its value labels in words;
    the usage line, section titles and usage errors click and typer write follow too."""
    table = korean_help() if language == "ko" else {}
    _click_in(language)
    metavars = _METAVARS.get(language, _METAVARS["en"])
    for cmd in commands(command):
        if hasattr(cmd, "options_metavar"):
            cmd.options_metavar = metavars["options"]
        if hasattr(cmd, "subcommand_metavar"):
            cmd.subcommand_metavar = metavars["subcommand"]
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
