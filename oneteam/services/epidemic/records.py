"""What the epidemic store keeps, as frozen records: consent links, alerts (queued and delivered)
and audit-log lines. store.py reads and writes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentLink:
    """An explicit, revocable permission for one person's alerts to reach one home."""

    id: str
    home_id: str
    label: str
    """How the household calls the person (`엄마`); may be empty."""
    language: str
    created_at: float
    revoked_at: float | None

    @property
    def is_live(self) -> bool:
        """Whether alerts may still use this link."""
        return self.revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        """The link as JSON: who and where, never the number or its key."""
        return {
            "id": self.id,
            "home_id": self.home_id,
            "label": self.label,
            "language": self.language,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "is_live": self.is_live,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRecord:
    """One alert for one home on one day."""

    id: int
    link_id: str
    home_id: str
    alert_day: str
    disease: str
    country: str
    watch_until: float
    payload: Mapping[str, Any]
    """What the home is told (texts per language, dates, hotline): see delivery.alert_payload."""
    created_at: float
    delivered_at: float | None
    event_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAlert:
    """An alert to queue for one consent link."""

    link_id: str
    disease: str
    country: str
    watch_until: float
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: float
    action: str
    link_id: str | None
    home_id: str | None
    alert_id: int | None
    detail: str


def consent_from_row(row: tuple[object, ...]) -> ConsentLink:
    """A consent link from its row (id, home_id, label, language, created_at, revoked_at)."""
    return ConsentLink(
        id=str(row[0]),
        home_id=str(row[1]),
        label=str(row[2]),
        language=str(row[3]),
        created_at=float(row[4]),  # type: ignore[arg-type]
        revoked_at=None if row[5] is None else float(row[5]),  # type: ignore[arg-type]
    )
