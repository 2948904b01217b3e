"""ThinQ benchmarks against the local fake ThinQ Connect cloud, through the real SDK (nothing reaches LG).

Figures: command round trip (beside a bare SDK status call), state-change → hub event latency by
polling and by push (beside the poll interval / a bare MQTT hop), API calls per device per hour
at the default budget, 200 appliances on one account against the budget, and calls spent during
a rate-limit storm. Hours are compressed (the budget window and every interval divided by the
same factor), so an hour of LG's accounting takes seconds; figures are given back in real units.

Run: `.venv/bin/python bench/bench_thinq.py` (about a minute and a half).
"""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, percentile, summary_ms

from oneteam.hub import Hub, SqliteStorage
from oneteam.integrations.thinq import ThinqAdapter, ThinqConfig
from oneteam.model import Command, EventKind, Home
from tests.integrations.thinq.fake_mqtt import MosquittoBroker, why_no_broker
from tests.integrations.thinq.fake_server import TEST_CA, FakeThinqServer, Fault

HOME_FIXTURES = (
    "air_conditioner",
    "washer",
    "dryer",
    "washtower",
    "refrigerator",
    "air_purifier",
    "robot_cleaner",
)
AC_ID = "ac-0c1f6a2e-1d4b-4a57-9d3e-2f6a8b1c0d01"


def config(scale: float, **changes: Any) -> ThinqConfig:
    """The default settings with every interval divided by `scale` (the hour compressed alike)."""
    defaults = ThinqConfig.model_validate({"access_token": "test-token", "country": "KR", "use_push": False})
    polling = defaults.polling
    scaled = polling.model_copy(
        update={
            "interval_s": polling.interval_s / scale,
            "backoff_base_s": polling.backoff_base_s / scale,
            "backoff_max_s": polling.backoff_max_s / scale,
            "push_interval_s": polling.push_interval_s / scale,
        }
    )
    return defaults.model_copy(update={"polling": scaled, **changes})


async def started(
    server: FakeThinqServer, settings: ThinqConfig, folder: Path, scale: float = 1.0
) -> tuple[Hub, ThinqAdapter]:
    adapter = ThinqAdapter(
        settings, connector_factory=server.connector_factory, seed=7, budget_window_s=3600 / scale
    )
    hub = Hub(Home(id="bench"), SqliteStorage(folder / f"hub-{time.monotonic_ns()}.sqlite3"))
    await hub.add_adapter(adapter)
    await hub.__aenter__()
    return hub, adapter


async def event_latency(hub: Hub, server: FakeThinqServer, samples: int, max_wait_s: float) -> list[float]:
    """Seconds from an appliance changing by itself to the hub's STATE_CHANGED event."""
    ac = next(d.id for d in hub.devices() if d.type.value == "air_conditioner")
    rng = random.Random(3)
    latencies: list[float] = []
    async with hub.subscribe("bench", maxsize=10_000) as events:
        for index in range(samples):
            await asyncio.sleep(rng.uniform(0, max_wait_s / 4))
            changed_at = time.monotonic()
            server.fake.change(
                AC_ID,
                {"airQualitySensor": {"PM2": index}, "airFlow": {"windStrength": ("LOW", "HIGH")[index % 2]}},
            )
            async with asyncio.timeout(max_wait_s):
                while True:
                    event = await events.get()
                    if event.kind is EventKind.STATE_CHANGED and event.device_id == ac:
                        break
            latencies.append(time.monotonic() - changed_at)
    return latencies


async def round_trips(folder: Path) -> None:
    async with FakeThinqServer() as server:
        for fixture in HOME_FIXTURES:
            server.fake.add(fixture)
        hub, _ = await started(server, config(1.0), folder)
        ac = next(d.id for d in hub.devices() if d.type.value == "air_conditioner")
        command_s: list[float] = []
        for index in range(200):
            began = time.perf_counter()
            await hub.dispatch(Command(device_id=ac, name="set_temperature", value=18 + index % 12))
            command_s.append(time.perf_counter() - began)
        from thinqconnect import ThinQApi

        anchor_s: list[float] = []
        async with aiohttp.ClientSession(connector=server.connector_factory()) as session:
            api = ThinQApi(
                session=session, access_token="test-token", country_code="KR", client_id="bench-anchor"
            )
            for _ in range(200):
                began = time.perf_counter()
                await api.async_get_device_status(AC_ID)
                anchor_s.append(time.perf_counter() - began)
        await hub.__aexit__(None, None, None)
    print(f"command round trip (hub.dispatch → SDK control + status read-back): {summary_ms(command_s)}")
    print(f"  anchor: one bare SDK status call to the same fake:             {summary_ms(anchor_s)}")


async def polling_latency(folder: Path) -> None:
    scale = 300.0  # the default 300 s interval runs in 1 s
    async with FakeThinqServer() as server:
        for fixture in HOME_FIXTURES:
            server.fake.add(fixture)
        settings = config(scale)
        hub, adapter = await started(server, settings, folder, scale)
        latencies = await event_latency(hub, server, 24, 3.0)
        interval_s = adapter.poller.interval_s
        await hub.__aexit__(None, None, None)
    real = [v * scale for v in latencies]
    print(
        f"state change → hub event by polling, default settings ({len(HOME_FIXTURES)} ThinQ devices): "
        f"p50 {percentile(real, 50):.0f} s  p99 {percentile(real, 99):.0f} s  "
        f"mean {statistics.fmean(real):.0f} s"
    )
    print(f"  anchor: the poll interval the budget allows: {interval_s * scale:.0f} s (jitter ±10 %)")


async def push_latency(folder: Path) -> None:
    reason = why_no_broker()
    if reason is not None:
        print(f"state change → hub event by push: not measured ({reason})")
        return
    async with (
        MosquittoBroker(folder / "broker") as broker,
        FakeThinqServer(broker_port=broker.plain_port) as server,
    ):
        for fixture in HOME_FIXTURES:
            server.fake.add(fixture)
        TEST_CA.cert_pem.write_to_path(str(folder / "root.pem"))
        settings = config(1.0, use_push=True, push_root_ca=folder / "root.pem")
        hub, adapter = await started(server, settings, folder)
        for _ in range(250):
            if adapter.mode == "push":
                break
            await asyncio.sleep(0.02)
        latencies = await event_latency(hub, server, 100, 2.0)
        await hub.__aexit__(None, None, None)
    print(f"state change → hub event by push (SDK MQTT client, Mosquitto mTLS): {summary_ms(latencies)}")


async def budget_200(folder: Path) -> None:
    scale = 720.0  # one hour of LG's accounting in 5 s
    window_s = 3600 / scale
    async with FakeThinqServer() as server:
        fixtures = ("air_conditioner", "washer", "dryer", "refrigerator", "air_purifier", "robot_cleaner")
        for index in range(200):
            server.fake.add(
                fixtures[index % len(fixtures)], device_id=f"dev-{index:04d}", alias=f"appliance {index}"
            )
        hub, adapter = await started(server, config(scale), folder, scale)
        discovered_at = time.monotonic()
        await asyncio.sleep(3 * window_s)
        calls = [c.at for c in server.fake.calls]
        interval_s = adapter.poller.interval_s * scale
        await hub.__aexit__(None, None, None)
    worst = max(sum(1 for t in calls if start <= t < start + window_s) for start in calls)
    steady = sum(1 for t in calls if discovered_at + 2 * window_s <= t < discovered_at + 3 * window_s)
    budget = ThinqConfig.model_validate({"access_token": "x", "country": "KR"}).polling.calls_per_hour
    print(
        f"200 appliances, one account: busiest hour {worst} calls (budget {budget}); "
        f"steady hour {steady} calls = {steady / 200:.1f} calls per device per hour, "
        f"poll every {interval_s:.0f} s; "
        f"{len(hub.devices())} devices"
    )


async def per_device_default(folder: Path) -> None:
    scale = 720.0
    window_s = 3600 / scale
    async with FakeThinqServer() as server:
        for fixture in HOME_FIXTURES:
            server.fake.add(fixture)
        hub, _ = await started(server, config(scale), folder, scale)
        began = time.monotonic()
        await asyncio.sleep(2 * window_s)
        hour = sum(1 for c in server.fake.calls if began + window_s <= c.at < began + 2 * window_s)
        await hub.__aexit__(None, None, None)
    per_device = hour / len(HOME_FIXTURES)
    print(
        "API calls per device per hour at the default budget ",
        f"({len(HOME_FIXTURES)} devices): {per_device:.1f}",
        sep="",
    )


async def rate_limit_storm(folder: Path) -> None:
    scale = 720.0
    window_s = 3600 / scale
    async with FakeThinqServer() as server:
        for fixture in HOME_FIXTURES:
            server.fake.add(fixture)
        hub, adapter = await started(server, config(scale), folder, scale)
        server.fake.fail(Fault(429, "1306", "Exceeded User API calls", retry_after="0"), times=10_000)
        began = time.monotonic()
        await asyncio.sleep(window_s)
        refused = sum(1 for c in server.fake.calls if c.at >= began and c.status == 429)
        await hub.__aexit__(None, None, None)
    print(
        f"calls made during one hour of 429 answers: {refused} "
        f"(exponential back-off from {adapter.config.polling.backoff_base_s * scale:.0f} s, capped at "
        f"{adapter.config.polling.backoff_max_s * scale:.0f} s; a tight loop would make thousands)"
    )


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        await round_trips(path)
        await polling_latency(path)
        await push_latency(path)
        await per_device_default(path)
        await budget_200(path)
        await rate_limit_storm(path)


if __name__ == "__main__":
    asyncio.run(main())
