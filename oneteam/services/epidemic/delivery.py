"""From an exposure to what a home sees and hears: the alert's texts, and its event on the hub.

The TV shows `notice`, the speaker says `speech` in the link's language; both languages travel in
the event so any screen can show either. The hub gives the event its id; that id is written to
the alert row and to the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from oneteam.i18n import LANGUAGES, render
from oneteam.model import DeviceType, Event, EventKind, Home
from oneteam.model.warning import DeviceWarning, Severity
from oneteam.services.epidemic.engine import Exposure
from oneteam.services.epidemic.records import AlertRecord, ConsentLink
from oneteam.services.epidemic.schema import RiskList, countries
from oneteam.services.epidemic.store import EpidemicStore

_LOGGER = logging.getLogger(__name__)

KST = dt.timezone(dt.timedelta(hours=9), "KST")
"""Korea keeps one offset all year (no summer time), so a fixed zone is exact."""
SOURCE = "epidemic"

Publish = Callable[[Event], Event]
"""hub.publish: takes an event, returns it with its id."""
TvFinder = Callable[[str], str | None]
"""home id → the device id of the home's TV (None: no TV; the alert still reaches the API)."""


def alert_day(moment: dt.datetime) -> dt.date:
    """The Korean calendar day of a moment: alerts are one per person per day."""
    return moment.astimezone(KST).date()


def spoken_digits(number: str, language: str) -> str:
    """A hotline read digit by digit (`1339` → `일삼삼구`), as call-centre numbers are said."""
    names = render("epidemic.digit_names", language).split(",")
    separator = "" if language == "ko" else " "
    return separator.join(names[int(ch)] for ch in number if ch.isdigit())


class AlertRenderer:
    """Builds the payload of each alert; alerts that say the same thing share one payload object."""

    def __init__(self, risk: RiskList) -> None:
        self._risk = risk
        self._cache: dict[tuple[str, str, dt.date, str, str], dict[str, Any]] = {}

    def payload(self, exposure: Exposure, *, label: str, language: str) -> dict[str, Any]:
        """Everything the home is told about one exposure, in every language."""
        watch = exposure.watch_until.astimezone(KST).date()
        key = (exposure.country, exposure.disease, watch, label, language)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = _payload(self._risk, *key)
        return cached


def alert_payload(exposure: Exposure, link: ConsentLink, risk: RiskList) -> dict[str, Any]:
    """Everything the home is told about one exposure, in every language."""
    return AlertRenderer(risk).payload(exposure, label=link.label, language=link.language)


def _payload(
    risk: RiskList, country_id: str, disease: str, watch: dt.date, label: str, language: str
) -> dict[str, Any]:
    entry = risk.entry(country_id, disease)
    country = countries()[country_id]
    texts: dict[str, dict[str, str]] = {"notice": {}, "speech": {}}
    for lang in LANGUAGES:
        who = (
            render("epidemic.who_named", lang, label=label) if label else render("epidemic.who_someone", lang)
        )
        params = {
            "who": who,
            "country": country.names[lang],
            "disease": entry.names[lang],
            "symptoms": entry.symptoms[lang],
            "advice": entry.advice[lang],
            "hotline": risk.hotline,
            "hotline_spoken": spoken_digits(risk.hotline, lang),
            "month": watch.month,
            "day": watch.day,
            "date": watch.strftime("%d %B %Y").lstrip("0"),
        }
        texts["notice"][lang] = render("epidemic.notice", lang, **params)
        texts["speech"][lang] = render("epidemic.speech", lang, **params)
    return {
        "service": SOURCE,
        "disease": disease,
        "disease_name": dict(entry.names),
        "country": country_id,
        "country_name": dict(country.names),
        "watch_until": watch.isoformat(),
        "hotline": risk.hotline,
        "symptoms": dict(entry.symptoms),
        "language": language,
        "is_example": risk.is_example,
        **texts,
    }


def tv_of(home: Home) -> str | None:
    """The TV of a home (the first one, living-room TVs first), or None."""
    tvs = [d for d in home.devices.values() if d.type == DeviceType.TV]
    tvs.sort(key=lambda d: (d.room != "living_room", d.id))
    return tvs[0].id if tvs else None


def alert_warning(payload: Mapping[str, Any], device_id: str | None) -> DeviceWarning:
    """The shared warning shape of an alert: one card per country and disease, its fields in words."""
    names = (payload.get("country_name") or {}, payload.get("disease_name") or {})
    until = str(payload.get("watch_until", ""))
    facts = {
        lang: render(
            "warnings.epidemic_facts",
            lang,
            country=names[0].get(lang, payload.get("country", "")),
            disease=names[1].get(lang, payload.get("disease", "")),
            until=until,
        )
        for lang in LANGUAGES
    }
    return DeviceWarning(
        key="epidemic.notice",
        problem=f"epidemic:{payload.get('country', '')}:{payload.get('disease', '')}",
        source=SOURCE,
        device_id=device_id,
        params={"country": str(payload.get("country", "")), "disease": str(payload.get("disease", ""))},
        severity=Severity.WARNING,
        text=dict(payload.get("notice") or {}),
        facts=facts,
    )


def alert_event(alert: AlertRecord, device_id: str | None) -> Event:
    """The hub event of an alert."""
    data = {
        **alert.payload,
        **alert_warning(alert.payload, device_id).as_data(),
        "alert_id": alert.id,
        "link_id": alert.link_id,
        "home_id": alert.home_id,
    }
    return Event(kind=EventKind.ALERT, device_id=device_id, data=data, source=SOURCE, at=time.time())


class AlertDelivery:
    """Publishes queued alerts on the hub and records each delivery."""

    def __init__(self, store: EpidemicStore, publish: Publish, tv_for: TvFinder) -> None:
        self._store = store
        self._publish = publish
        self._tv_for = tv_for

    def deliver_pending(self) -> list[Event]:
        """Publish every alert not delivered yet; returns the published events."""
        published: list[Event] = []
        for alert in self._store.pending():
            device_id = self._tv_for(alert.home_id)
            event = self._publish(alert_event(alert, device_id))
            self._store.mark_delivered(alert.id, event.id, device_id)
            published.append(event)
        if published:
            _LOGGER.info("delivered %d epidemic alerts", len(published))
        return published
