"""Preset routines per language, as editable YAML (`ko.yaml`)."""

from __future__ import annotations

from importlib import resources

from oneteam.automation.errors import AutomationInvalid

PRESET_LANGUAGES = ("ko",)


def preset_text(language: str) -> str:
    """The preset YAML of a language."""
    if language not in PRESET_LANGUAGES:
        raise AutomationInvalid(
            "automation.no_presets",
            "presets",
            f"no presets for {language!r}",
            language=language,
            allowed=", ".join(PRESET_LANGUAGES),
        )
    return (resources.files("oneteam.automation.presets") / f"{language}.yaml").read_text(encoding="utf-8")
