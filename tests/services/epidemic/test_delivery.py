"""The daily run on a real hub: one alert per person and day, on the TV, spoken in Korean, audited."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Event, EventKind
from oneteam.services.epidemic.delivery import alert_day, spoken_digits, tv_of
from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.schema import sample_risk_path
from oneteam.services.epidemic.service import EpidemicService
from oneteam.services.epidemic.store import EpidemicStore
from tests.services.epidemic.conftest import AS_OF, PEOPLE, write_known_records


@pytest.fixture
async def hub(tmp_path: Path, fixture_home_path: Path) -> AsyncIterator[Hub]:
    home = load_home(fixture_home_path)
    running = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


@pytest.fixture
def service(hub: Hub, tmp_path: Path, hasher: SubscriberHasher) -> EpidemicService:
    store = EpidemicStore(tmp_path / "oneteam.sqlite3")
    return EpidemicService(store, hasher, publish=hub.publish, tv_for=lambda _home: tv_of(hub.home))


async def _run(service: EpidemicService, records: Path, as_of: dt.datetime) -> tuple[int, int, list[Event]]:
    report = await asyncio.to_thread(service.run, records, sample_risk_path(), as_of=as_of, deliver=False)
    events = service.deliver_pending()
    return report.queued, report.duplicates, events


async def test_an_exposed_person_reaches_the_home_tv_once_a_day(
    hub: Hub, service: EpidemicService, tmp_path: Path, hasher: SubscriberHasher
) -> None:
    write_known_records(tmp_path / "records", hasher)
    link = service.link(PEOPLE["mother"], home_id="home", label="엄마")
    service.link(PEOPLE["son"], home_id="home")  # not exposed: no alert
    async with hub.subscribe("test") as events:
        queued, duplicates, published = await _run(service, tmp_path / "records", AS_OF)
        received = await asyncio.wait_for(anext(aiter(events)), timeout=5)
    assert (queued, duplicates, len(published)) == (1, 0, 1)
    assert received.kind == EventKind.ALERT and received.device_id == "tv" and received.id == published[0].id
    data = received.data
    assert (data["disease"], data["country"], data["hotline"], data["link_id"]) == (
        "dengue",
        "VN",
        "1339",
        link.id,
    )
    assert data["watch_until"] == "2026-12-03"  # left 5 days before AS_OF, 14 days of incubation, in KST
    assert "엄마님이 베트남에 다녀왔어요" in data["notice"]["ko"] and "12월 3일" in data["notice"]["ko"]
    assert "1339" in data["notice"]["ko"] and "일삼삼구" in data["speech"]["ko"]
    assert "Vietnam" in data["notice"]["en"] and "one three three nine" in data["speech"]["en"]
    (alert,) = service.alerts()
    assert alert.event_id == received.id and alert.delivered_at is not None

    # The same day again: nothing new. The next day: one reminder, not one per record.
    assert (await _run(service, tmp_path / "records", AS_OF + dt.timedelta(hours=3)))[:2] == (0, 1)
    assert (await _run(service, tmp_path / "records", AS_OF + dt.timedelta(days=1)))[:2] == (1, 0)


async def test_revoking_consent_stops_alerts(
    service: EpidemicService, tmp_path: Path, hasher: SubscriberHasher
) -> None:
    write_known_records(tmp_path / "records", hasher)
    link = service.link(PEOPLE["father"], home_id="home")
    service.revoke(link.id)
    queued, _, published = await _run(service, tmp_path / "records", AS_OF)
    assert queued == 0 and published == []
    actions = [entry.action for entry in service.store.audit_log()]
    assert actions == ["consent_granted", "consent_revoked", "run"]


async def test_phone_numbers_never_reach_the_database(
    service: EpidemicService, tmp_path: Path, hasher: SubscriberHasher
) -> None:
    write_known_records(tmp_path / "records", hasher)
    service.link(PEOPLE["mother"], home_id="home", label="엄마")
    await _run(service, tmp_path / "records", AS_OF)
    service.store.close()
    stored = _database_bytes(tmp_path)
    assert stored and b"01011112222" not in stored and b"1111-2222" not in stored


def _database_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.glob("oneteam.sqlite3*"))


def test_alert_day_is_the_korean_calendar_day() -> None:
    assert alert_day(dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)) == dt.date(2026, 11, 24)
    assert spoken_digits("1339", "ko") == "일삼삼구"
