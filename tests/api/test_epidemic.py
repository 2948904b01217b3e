"""The epidemic API: consent links and alerts, token-protected, on a real hub and app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from oneteam.api import epidemic
from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.services.epidemic import (
    EpidemicService,
    EpidemicStore,
    SubscriberHasher,
    sample_risk_path,
    tv_of,
)
from tests.services.epidemic.conftest import AS_OF, OPERATOR_KEY, PEOPLE, write_known_records


@dataclass
class Api:
    client: httpx.AsyncClient
    service: EpidemicService
    headers: dict[str, str]


@pytest.fixture
async def api(tmp_path: Path, fixture_home_path: Path) -> AsyncIterator[Api]:
    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with hub:
        service = EpidemicService(
            EpidemicStore(tmp_path / "oneteam.sqlite3"),
            SubscriberHasher(OPERATOR_KEY),
            publish=hub.publish,
            tv_for=lambda _home: tv_of(hub.home),
            default_home_id=home.id,
        )
        app = create_app(hub, extra_routers=[epidemic.router])
        app.state.epidemic = service
        token = await hub.create_token("test")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield Api(client, service, {"Authorization": f"Bearer {token}"})
        service.store.close()


async def test_every_endpoint_needs_the_token(api: Api) -> None:
    for method, path in (
        ("GET", "/api/epidemic/consents"),
        ("POST", "/api/epidemic/consents"),
        ("GET", "/api/epidemic/alerts"),
        ("DELETE", "/api/epidemic/consents/x"),
    ):
        assert (await api.client.request(method, path)).status_code == 401


async def test_consent_is_created_listed_and_revoked(api: Api) -> None:
    created = await api.client.post(
        "/api/epidemic/consents", headers=api.headers, json={"phone": "010-1234-5678", "label": "엄마"}
    )
    assert created.status_code == 201
    link = created.json()
    assert link["is_live"] and link["label"] == "엄마" and "phone" not in link and "1234" not in created.text
    listed = (await api.client.get("/api/epidemic/consents", headers=api.headers)).json()["consents"]
    assert [item["id"] for item in listed] == [link["id"]]
    revoked = await api.client.delete(f"/api/epidemic/consents/{link['id']}", headers=api.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (await api.client.get("/api/epidemic/consents", headers=api.headers)).json()["consents"] == []
    everything = await api.client.get(
        "/api/epidemic/consents", params={"include_revoked": "true"}, headers=api.headers
    )
    assert len(everything.json()["consents"]) == 1


async def test_a_bad_phone_number_is_422_and_not_echoed(api: Api) -> None:
    response = await api.client.post(
        "/api/epidemic/consents", headers=api.headers, json={"phone": "02-555-01234"}
    )
    assert response.status_code == 422 and "555" not in response.text
    assert "Korean mobile" in response.json()["error"]["message"]


async def test_unknown_ids_are_404_with_a_message(api: Api) -> None:
    headers = {**api.headers, "Accept-Language": "en"}
    for method, path in (
        ("GET", "/api/epidemic/consents/cl_nope"),
        ("DELETE", "/api/epidemic/consents/cl_nope"),
        ("GET", "/api/epidemic/alerts/999"),
    ):
        response = await api.client.request(method, path, headers=headers)
        assert response.status_code == 404 and response.json()["error"]["message"].startswith("No ")


async def test_alerts_of_a_run_are_listed_with_their_texts_and_events(api: Api, tmp_path: Path) -> None:
    hasher = SubscriberHasher(OPERATOR_KEY)
    write_known_records(tmp_path / "records", hasher)
    await api.client.post("/api/epidemic/consents", headers=api.headers, json={"phone": PEOPLE["cousin"]})
    await asyncio.to_thread(
        api.service.run, tmp_path / "records", sample_risk_path(), as_of=AS_OF, deliver=False
    )
    delivered = (await api.client.post("/api/epidemic/deliveries", headers=api.headers)).json()
    assert delivered["delivered"] == 1
    alerts = (await api.client.get("/api/epidemic/alerts", headers=api.headers)).json()["alerts"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["disease"], alert["country"], alert["event_id"]) == (
        "ebola",
        "CD",
        delivered["event_ids"][0],
    )
    assert "콩고민주공화국" in alert["notice"]["ko"] and alert["hotline"] == "1339"
    one = (await api.client.get(f"/api/epidemic/alerts/{alert['id']}", headers=api.headers)).json()
    assert one == alert
    events = (await api.client.get("/api/events", params={"kind": "alert"}, headers=api.headers)).json()[
        "events"
    ]
    assert events[0]["device_id"] == "tv" and events[0]["data"]["alert_id"] == alert["id"]
