"""One shape for every warning and alert: ThinQ's, failure prediction's, epidemic exposure's.

A warning is about one problem of one device (or of the home). Its `id` stays the same while the
problem lasts, so a newer reading (14 days left, then 7) updates the same card in place instead of
adding another; a member acknowledging or dismissing it publishes the same id with a new status.
Producers render the texts (model/ does no I/O and knows no catalog); `key` and `params` keep the
message reproducible in a language added later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

Texts = Mapping[str, str]
"""Language code → text."""

_NO_TEXT: Texts = MappingProxyType({})
_NO_PARAMS: Mapping[str, str | int | float] = MappingProxyType({})

HOME = "home"
"""The `device_id` part of the id of a warning about the whole home."""


class Severity(StrEnum):
    """How soon someone should look."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class WarningStatus(StrEnum):
    """Where a warning stands for the household."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    """Someone saw it; it stays on the device's card."""
    DISMISSED = "dismissed"
    """Someone put it away; a new reading of the same problem brings it back."""


def warning_id(device_id: str | None, problem: str) -> str:
    """The stable id of one problem of one device: `<device or home>:<problem>`."""
    return f"{device_id or HOME}:{problem}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceWarning:
    """A warning or alert as every producer publishes it and the page and API read it."""

    key: str
    """The message key (i18n), e.g. `maintenance.warning.drain_pump`, `thinq.push_lost`."""
    problem: str
    """What is wrong, stable while it lasts: `drain_pump`, `thinq.push_lost`, `epidemic:SA:mers`."""
    source: str
    """Who warns: `maintenance`, `thinq`, `epidemic`, `hub`."""
    device_id: str | None = None
    params: Mapping[str, str | int | float] = field(default_factory=lambda: _NO_PARAMS)
    severity: Severity = Severity.WARNING
    text: Texts = field(default_factory=lambda: _NO_TEXT)
    """The message in each language."""
    advice: Texts = field(default_factory=lambda: _NO_TEXT)
    """What to do, in each language (may be empty)."""
    facts: Texts = field(default_factory=lambda: _NO_TEXT)
    """The plain facts in words, one line per language ("사우디아라비아 · 메르스")."""
    status: WarningStatus = WarningStatus.ACTIVE
    by: str = ""
    """Who acknowledged or dismissed it (a member, a token name)."""

    @property
    def id(self) -> str:
        """Stable per device and problem."""
        return warning_id(self.device_id, self.problem)

    def with_status(self, status: WarningStatus, by: str) -> DeviceWarning:
        """The same warning, acknowledged or dismissed by someone."""
        return replace(self, status=status, by=by)

    def as_data(self) -> dict[str, Any]:
        """The event's `data` (JSON-ready); `from_data` reads it back."""
        return {
            "warning_id": self.id,
            "key": self.key,
            "problem": self.problem,
            "source": self.source,
            "device_id": self.device_id,
            "params": dict(self.params),
            "severity": self.severity.value,
            "text": dict(self.text),
            "advice": dict(self.advice),
            "facts": dict(self.facts),
            "status": self.status.value,
            "by": self.by,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DeviceWarning | None:
        """The warning inside an event's data, or None for data that holds none (older events)."""
        try:
            key, problem, source = str(data["key"]), str(data["problem"]), str(data["source"])
            device = data.get("device_id")
            return cls(
                key=key,
                problem=problem,
                source=source,
                device_id=None if device is None else str(device),
                params=MappingProxyType(dict(data.get("params") or {})),
                severity=Severity(data.get("severity", Severity.WARNING)),
                text=_texts(data.get("text")),
                advice=_texts(data.get("advice")),
                facts=_texts(data.get("facts")),
                status=WarningStatus(data.get("status", WarningStatus.ACTIVE)),
                by=str(data.get("by") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _texts(value: object) -> Texts:
    if not isinstance(value, Mapping):
        return _NO_TEXT
    return MappingProxyType({str(k): str(v) for k, v in value.items()})
