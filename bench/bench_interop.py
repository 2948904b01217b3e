"""Partner-door figures, each beside an anchor measured in the same run on the same machine:

1. EXECUTE round trip through the partner door (OAuth bearer → fulfillment → hub.dispatch) vs a
   direct REST command (hub token → /api/devices/{id}/commands), alternating, p50/p99.
2. SYNC for a home of 1,000 devices vs GET /api/devices for the same home.
3. Report-state latency, from a device change to the partner's endpoint receiving the signed push,
   vs the same change reaching an in-process bus subscriber.
4. Report-state pushes per real state change (a change of what QUERY answers) while simulated
   appliances tick telemetry, beside the states the pusher looked at (what it pushed before it
   sent only changes) in the same run.

Run: .venv/bin/python bench/bench_interop.py [--n 300] [--pushes-only]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import free_port, machine, summary_ms

from oneteam.api import smarthome as smarthome_api
from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, parse_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.interop.smarthome import ALL_DEVICES, SmartHomeService
from oneteam.interop.smarthome.traits import describe, google_state
from oneteam.model import Command, EventKind, OneteamError

_TYPES = ("light", "air_conditioner", "tv", "washer", "switch", "air_purifier", "robot_cleaner", "dryer")


def home_yaml(devices: int) -> str:
    """A home file with `devices` simulated devices spread over ten rooms."""
    rooms = "\n".join(f"  room{r}: {{names: [room {r}]}}" for r in range(10))
    rows = "\n".join(
        f"  - {{id: dev{i}, type: {_TYPES[i % len(_TYPES)]}, room: room{i % 10}, names: [device {i}]}}"
        for i in range(devices)
    )
    ac = "  - {id: ac_living, type: air_conditioner, room: room0, names: [living room AC]}"
    return f"id: bench\nname: bench\nrooms:\n{rooms}\ndevices:\n{ac}\n{rows}\n"


class _Serve:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning", lifespan="off"))
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Serve:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task:
            await self.task


async def _link(service: SmartHomeService, hub: Hub, report_url: str) -> str:
    """A partner with an access token covering every device (issued by the real OAuth server)."""
    partner, _ = service.store.add_partner(
        "bench", ["https://p.example/cb"], rate_per_minute=10**6, report_url=report_url
    )
    link = service.store.create_link(
        partner.client_id, hub.home.id, (ALL_DEVICES,), "devices.read devices.control"
    )
    access = "ota_" + secrets.token_urlsafe(32)
    service.store.save_tokens(link.id, partner.client_id, access, None, link.scope, 3600, 3600)
    return access


async def run(n: int, devices: int) -> None:
    received: dict[float, float] = {}
    seen = asyncio.Event()
    partner_app = FastAPI()

    @partner_app.post("/homegraph")
    async def receive(request: Request) -> Response:
        body = await request.json()
        for device_id, state in body.get("payload", {}).get("devices", {}).get("states", {}).items():
            if device_id == "ac_living":
                received[float(state.get("thermostatTemperatureSetpoint") or 0)] = time.perf_counter()
                seen.set()
        return Response(status_code=200)

    with tempfile.TemporaryDirectory() as folder:
        home = parse_home(home_yaml(devices))
        hub = Hub(home, SqliteStorage(Path(folder) / "oneteam.sqlite3"))
        await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
        async with hub, _Serve(partner_app) as partner_side:
            token = await hub.create_token("bench")
            async with SmartHomeService(hub, Path(folder) / "oneteam.sqlite3") as service:
                app = create_app(
                    hub, extra_routers=[smarthome_api.router], public_routers=[smarthome_api.public_router]
                )
                app.state.smarthome = service
                async with _Serve(app) as api, httpx.AsyncClient(base_url=api.url, timeout=30) as client:
                    access = await _link(service, hub, f"{partner_side.url}/homegraph")
                    await _execute_vs_rest(client, access, token, n)
                    await _sync_vs_list(client, access, token, len(hub.devices()))
                    _fresh_entries(hub)
                    await _report_latency(hub, received, seen, n=min(n, 100))
    print(f"machine: {machine()}")


async def _execute_vs_rest(client: httpx.AsyncClient, access: str, token: str, n: int) -> None:
    door, rest = [], []
    partner_headers = {"Authorization": f"Bearer {access}"}
    hub_headers = {"Authorization": f"Bearer {token}"}
    for i in range(n):
        value = 18 + i % 12
        body = {
            "requestId": str(i),
            "inputs": [
                {
                    "intent": "action.devices.EXECUTE",
                    "payload": {
                        "commands": [
                            {
                                "devices": [{"id": "ac_living"}],
                                "execution": [
                                    {
                                        "command": "action.devices.commands.ThermostatTemperatureSetpoint",
                                        "params": {"thermostatTemperatureSetpoint": value},
                                    }
                                ],
                            }
                        ]
                    },
                }
            ],
        }
        start = time.perf_counter()
        answer = await client.post("/api/smarthome/fulfillment", json=body, headers=partner_headers)
        door.append(time.perf_counter() - start)
        assert answer.json()["payload"]["commands"][0]["status"] == "SUCCESS"
        start = time.perf_counter()
        answer = await client.post(
            "/api/devices/ac_living/commands",
            json={"command": "set_temperature", "value": value},
            headers=hub_headers,
        )
        rest.append(time.perf_counter() - start)
        assert answer.status_code == 200
    print(f"EXECUTE through the partner door (n={n}): {summary_ms(door)}")
    print(f"  anchor, direct REST command   (n={n}): {summary_ms(rest)}")


async def _sync_vs_list(client: httpx.AsyncClient, access: str, token: str, count: int) -> None:
    sync, listing = [], []
    # The first SYNC builds every device's entry (kept until the device or home changes).
    start = time.perf_counter()
    cold = await client.post(
        "/api/smarthome/fulfillment",
        json={"requestId": "s", "inputs": [{"intent": "action.devices.SYNC"}]},
        headers={"Authorization": f"Bearer {access}"},
    )
    print(f"first SYNC of {count} devices (entries built): {(time.perf_counter() - start) * 1000:.1f} ms")
    assert len(cold.json()["payload"]["devices"]) == count
    for _ in range(10):
        start = time.perf_counter()
        answer = await client.post(
            "/api/smarthome/fulfillment",
            json={"requestId": "s", "inputs": [{"intent": "action.devices.SYNC"}]},
            headers={"Authorization": f"Bearer {access}"},
        )
        sync.append(time.perf_counter() - start)
        assert len(answer.json()["payload"]["devices"]) == count
        start = time.perf_counter()
        await client.get("/api/devices", headers={"Authorization": f"Bearer {token}"})
        listing.append(time.perf_counter() - start)
    print(f"SYNC of {count} devices (10 runs):            {summary_ms(sync)}")
    print(f"  anchor, GET /api/devices same home (10 runs): {summary_ms(listing)}")


def _fresh_entries(hub: Hub) -> None:
    """Anchor: describing and encoding every device afresh, which every SYNC did before entries
    were kept (the HTTP round trip comes on top)."""
    times = []
    for _ in range(10):
        start = time.perf_counter()
        for device in hub.devices():
            json.dumps(describe(device, hub.home, hub.state(device.id)).attributes, ensure_ascii=False)
        times.append(time.perf_counter() - start)
    print(f"  anchor, every entry built and encoded afresh, in process (10 runs): {summary_ms(times)}")


async def _report_latency(hub: Hub, received: dict[float, float], seen: asyncio.Event, n: int) -> None:
    pushes, bus = [], []
    async with hub.subscribe("bench-anchor") as events:
        for i in range(n):
            value = 18 + (i % 2) * 10  # alternate 18 / 28 so every step is a change
            received.clear()
            seen.clear()
            start = time.perf_counter()
            await hub.dispatch(Command(device_id="ac_living", name="set_temperature", value=value))
            while True:
                event = await events.get()
                if event.device_id == "ac_living" and "temperature" in event.data:
                    bus.append(time.perf_counter() - start)
                    break
            async with asyncio.timeout(5):
                while float(value) not in received:
                    await seen.wait()
                    seen.clear()
            pushes.append(received[float(value)] - start)
            await asyncio.sleep(0.25)  # let the batch window close so each change is its own push
    print(f"report state, change → partner endpoint (n={n}, batch window 0.2 s): {summary_ms(pushes)}")
    print(f"  anchor, change → in-process bus subscriber (n={n}):              {summary_ms(bus)}")


_RUN = {
    "air_conditioner": "turn_on",
    "air_purifier": "turn_on",
    "washer": "start",
    "dryer": "start",
    "robot_cleaner": "start",
}


async def pushes_per_change(devices: int, seconds: float) -> None:
    """Run ticking appliances (ACs cooling, washers counting down, robots draining, sensors and
    wear telemetry) for `seconds` and count what reaches the partner per real state change."""
    received = {"states": 0, "pushes": 0}
    partner_app = FastAPI()

    @partner_app.post("/homegraph")
    async def receive(request: Request) -> Response:
        body = await request.json()
        received["pushes"] += 1
        received["states"] += len(body.get("payload", {}).get("devices", {}).get("states", {}))
        return Response(status_code=200)

    with tempfile.TemporaryDirectory() as folder:
        home = parse_home(home_yaml(devices))
        hub = Hub(home, SqliteStorage(Path(folder) / "oneteam.sqlite3"))
        # Real time, one tick a second (the adapter's default), wear telemetry at 100 days a day.
        await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=1.0, wear_day_s=864.0))
        async with (
            hub,
            _Serve(partner_app) as partner_side,
            SmartHomeService(hub, Path(folder) / "oneteam.sqlite3") as service,
        ):
            await _link(service, hub, f"{partner_side.url}/homegraph")
            for device in hub.devices():
                if name := _RUN.get(device.type.value):
                    with contextlib.suppress(OneteamError):  # one already running stays so
                        await hub.dispatch(Command(device_id=device.id, name=name))
            await asyncio.sleep(1.0)  # the commands' own pushes leave first
            pusher = service.pusher
            base_states, base_considered = received["states"], pusher.stats.states_considered
            seen: dict[str, dict[str, object]] = {}
            real = 0
            async with hub.subscribe("bench-real-changes") as events:
                for device in hub.devices():
                    seen[device.id] = google_state(device, hub.state(device.id))
                deadline = time.perf_counter() + seconds
                while (left := deadline - time.perf_counter()) > 0:
                    try:
                        event = await asyncio.wait_for(events.get(), timeout=left)
                    except TimeoutError:
                        break
                    if event.kind is not EventKind.STATE_CHANGED or event.device_id is None:
                        continue
                    now = google_state(hub.device(event.device_id), hub.state(event.device_id))
                    if now != seen.get(event.device_id):
                        real += 1
                        seen[event.device_id] = now
            await asyncio.sleep(0.5)  # the last batch window closes
            sent = received["states"] - base_states
            considered = pusher.stats.states_considered - base_considered
    print(
        f"report state while appliances tick ({devices + 1} devices, {seconds:.0f} s): "
        f"{real} real state changes, {sent} device states pushed → "
        f"{sent / max(real, 1):.2f} per real change"
    )
    print(
        f"  anchor, states the pusher looked at (pushed before only changes were sent): "
        f"{considered} → {considered / max(real, 1):.2f} per real change"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="EXECUTE/REST pairs (report-state uses up to 100)")
    parser.add_argument("--devices", type=int, default=999, help="extra devices (plus ac_living)")
    parser.add_argument("--pushes-only", action="store_true", help="only the pushes-per-change figure")
    args = parser.parse_args()
    if not args.pushes_only:
        asyncio.run(run(args.n, args.devices))
    asyncio.run(pushes_per_change(min(args.devices, 99), 20.0))
    if args.pushes_only:
        print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
