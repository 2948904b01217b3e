"""Device state and events in words for the command line: `전원 켜짐 · 설정 온도 24°C`, not `power=True`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oneteam.i18n import render

TELEMETRY = frozenset(
    {
        # Sensors and countdowns that change on their own, every few seconds.
        "current_temperature", "remaining_time", "pm25", "air_quality", "battery", "cleaned_s", "updated_at",
        # Daily wear telemetry the failure prediction reads.
        "motor_current_a", "vibration_mm_s", "load_kg", "compressor_duty_pct", "ambient_temperature_c",
        "refrigerant_pressure_kpa", "outdoor_temperature_c",
    }
)  # fmt: skip
"""Attributes whose changes `oneteam events` hides unless asked (`--all`)."""

_CELSIUS = frozenset({"temperature", "current_temperature", "fridge_temperature", "freezer_temperature"})
_PERCENT = frozenset({"brightness", "volume", "battery"})
_NAMED = frozenset({"mode", "fan_speed", "run_state", "air_quality"})


def _known(key: str, language: str, **params: Any) -> str | None:
    text = render(key, language, **params)
    return None if text == key else text


def attribute_name(name: str, language: str) -> str:
    """`fan_speed` → 바람 세기; an attribute without a word keeps its name."""
    return _known(f"words.attr.{name}", language) or name


def _unit(name: str) -> tuple[str, Any] | None:
    """The message key that shows a number of this attribute, and how to turn the number first."""
    if name in _CELSIUS:
        return "words.value.celsius", None
    if name in _PERCENT:
        return "words.value.percent", None
    if name == "remaining_time":
        return "words.value.minutes", lambda seconds: -(-int(seconds) // 60)
    if name == "pm25":
        return "words.value.pm25", None
    return None


def value_text(name: str, value: Any, language: str) -> str:
    """One attribute's value in words: 켜짐, 24°C, 80%, 냉방, 12분."""
    if isinstance(value, bool):
        on_off = name in ("power", "is_available", "express_freeze")
        word = ("on" if value else "off") if on_off else ("yes" if value else "no")
        return render(f"words.value.{word}", language)
    unit = _unit(name)
    if unit is not None and isinstance(value, int | float):
        key, convert = unit
        number = convert(value) if convert else round(value, 1) if isinstance(value, float) else value
        return render(key, language, value=number)
    text = None
    if name == "door" and value in ("open", "closed"):
        text = render(f"words.value.{value}", language)
    elif name in _NAMED and isinstance(value, str):
        text = _known(f"words.value.{name}.{value}", language)
    return text or str(round(value, 1) if isinstance(value, float) else value)


def state_words(attributes: Mapping[str, Any], language: str, *, skip: frozenset[str] = frozenset()) -> str:
    """`전원 켜짐 · 설정 온도 24°C · 모드 냉방`."""
    return " · ".join(
        f"{attribute_name(k, language)} {value_text(k, v, language)}"
        for k, v in attributes.items()
        if k not in skip
    )


def type_name(device_type: str, language: str) -> str:
    """`air_conditioner` → 에어컨."""
    return _known(f"words.type.{device_type}", language) or device_type


def kind_name(kind: str, language: str) -> str:
    """`state_changed` → 상태 변경."""
    return _known(f"words.kind.{kind}", language) or kind
