"""Report state out: signed, batched pushes with retries, dead letters, and requestSync."""

from __future__ import annotations

import asyncio
import time

import httpx

from oneteam.interop.smarthome import sign, verify
from oneteam.model import Command, Event, EventKind
from tests.conftest import free_port
from tests.interop.smarthome.conftest import Door, link_account


def test_signature_checks_key_body_and_freshness() -> None:
    now = int(time.time())
    header = sign("key", b'{"a":1}', now)
    assert verify("key", b'{"a":1}', header, now=now)
    assert not verify("other", b'{"a":1}', header, now=now)
    assert not verify("key", b'{"a":2}', header, now=now)
    assert not verify("key", b'{"a":1}', header, now=now + 3600)
    assert not verify("key", b'{"a":1}', "garbage", now=now)


async def test_a_burst_of_changes_leaves_as_few_signed_batches(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        await link_account(client, door, partner, secret)
    for level in range(10, 60, 5):
        await door.hub.dispatch(Command(device_id="light_living", name="set_brightness", value=level))
    await door.hub.dispatch(Command(device_id="tv", name="turn_on"))
    push = await door.endpoint.wait_for(
        lambda p: p["body"]["payload"]["devices"]["states"].get("light_living", {}).get("brightness") == 55
    )
    assert push["signed"] and push["kind"] == "reportState"
    pushes = [p for p in door.endpoint.pushes if p["kind"] == "reportState"]
    assert len(pushes) < 11  # eleven changes, coalesced into fewer pushes
    assert any("tv" in p["body"]["payload"]["devices"]["states"] for p in pushes)


async def test_only_devices_the_link_covers_are_pushed(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        await link_account(client, door, partner, secret, devices=["tv"])
    await door.hub.dispatch(Command(device_id="light_kitchen", name="turn_on"))
    await door.hub.dispatch(Command(device_id="tv", name="turn_on"))
    await door.endpoint.wait_for(lambda p: "tv" in p["body"]["payload"]["devices"]["states"])
    await asyncio.sleep(0.2)
    assert not any("light_kitchen" in p["body"]["payload"]["devices"]["states"] for p in door.endpoint.pushes)


async def test_failed_pushes_are_retried(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        await link_account(client, door, partner, secret)
    door.endpoint.fail_next = 2
    await door.hub.dispatch(Command(device_id="tv", name="turn_on"))
    await door.endpoint.wait_for(lambda p: p["body"]["payload"]["devices"]["states"].get("tv", {}).get("on"))
    assert door.service.pusher.stats.retries >= 2 and door.service.pusher.stats.dead_letters == 0


async def test_an_unreachable_partner_counts_dead_letters(door: Door) -> None:
    partner, secret = door.add_partner(report_url=f"http://127.0.0.1:{free_port()}/homegraph")  # nobody there
    async with httpx.AsyncClient() as client:
        await link_account(client, door, partner, secret)
    await door.hub.dispatch(Command(device_id="tv", name="turn_on"))
    async with asyncio.timeout(5):
        while door.service.pusher.stats.dead_letters == 0:
            await asyncio.sleep(0.05)
    assert door.service.pusher.stats.dead_by_partner == {partner.client_id: 1}


async def test_devices_added_or_removed_ask_the_partner_to_sync(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        await link_account(client, door, partner, secret)
    door.hub.publish(Event(kind=EventKind.DEVICE_ADDED, device_id="new_lamp", source="mqtt"))
    push = await door.endpoint.wait_for(lambda p: p["kind"] == "requestSync")
    assert push["signed"] and push["body"] == {"agentUserId": door.hub.home.id, "async": True}


async def test_only_changed_reportable_states_are_pushed(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        await link_account(client, door, partner, secret)
    pusher = door.service.pusher
    await door.hub.dispatch(Command(device_id="tv", name="turn_on"))
    first = await door.endpoint.wait_for(lambda p: "tv" in p["body"]["payload"]["devices"]["states"])
    # The first report of a device carries its whole state ...
    assert first["body"]["payload"]["devices"]["states"]["tv"] == {
        "online": True,
        "on": True,
        "currentVolume": door.hub.state("tv").get("volume"),
        "isMuted": False,
    }
    # ... telemetry ticks the partner cannot see (wear sensors) and repeats of a state push nothing ...
    for tick in range(20):
        door.hub._apply("tv", {"panel_hours": 1000 + tick}, "virtual")  # as an adapter reports
    await door.hub.dispatch(Command(device_id="tv", name="turn_on"))
    await asyncio.sleep(0.3)
    assert [p for p in door.endpoint.pushes if p["kind"] == "reportState"] == [first]
    assert pusher.stats.states_unchanged >= 1
    # ... and a real change sends only what changed, in the reportStateAndNotification shape.
    await door.hub.dispatch(Command(device_id="tv", name="set_volume", value=33))
    push = await door.endpoint.wait_for(lambda p: p is not first and p["kind"] == "reportState")
    body = push["body"]
    assert set(body) == {"requestId", "agentUserId", "payload"} and body["agentUserId"]
    assert body["payload"]["devices"]["states"] == {"tv": {"currentVolume": 33}}
    assert push["signed"]
