"""What showing a member only their devices costs the WebSocket's batched stream.

A household token (no limit) takes the batch body every subscriber shares: each event encoded once,
the body joined once per range. A child's socket is shown only lights and the TV, so its batch is
joined for it alone from the shared encoded texts, skipping the other devices' events. Printed: the
shared body (the anchor, measured in the same run) and the child's, per 1,000 events of a mixed
home (every device reporting in turn), after the texts are encoded once.

Run: `.venv/bin/python bench/bench_member_views.py`
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine

from oneteam.api.ws import _fanout, _shown_to
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Door, Event, EventKind

DEMO_HOME = Path(__file__).resolve().parents[1] / "oneteam" / "homes" / "demo.yaml"
EVENTS = 1000
ROUNDS = 200


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = load_home(DEMO_HOME)
        hub = Hub(home, SqliteStorage(Path(folder) / "bench.sqlite3"))
        await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
        async with hub:
            await hub.household.ensure_owner("mom")
            await hub.household.add_member("minji", "child", by=None)
            child = (await hub.household.member("minji")).grant(Door.WS, hub.devices())
            devices = [d.id for d in hub.devices()]
            async with hub.subscribe("bench", maxsize=EVENTS * 2) as subscription:
                for index in range(EVENTS):
                    device = devices[index % len(devices)]
                    hub.publish(Event(kind=EventKind.STATE_CHANGED, device_id=device, data={"n": index}))
                sequences = await subscription.take_batch(EVENTS)
            fanout, bus, shown = _fanout(hub.bus), hub.bus, _shown_to(hub, child)
            fanout.body(bus, sequences)  # encode each text once, as the first subscriber does

            def per_1000(work: object) -> float:
                started = time.perf_counter()
                for _ in range(ROUNDS):
                    fanout._bodies.clear()  # the shared body joined afresh each round, like a new range
                    work()  # type: ignore[operator]
                return (time.perf_counter() - started) / ROUNDS * 1e6 / len(sequences)  # ms per 1,000

            shared = per_1000(lambda: fanout.body(bus, sequences))
            filtered = per_1000(lambda: fanout.shown_body(bus, sequences, shown))
            kept = fanout.shown_body(bus, sequences, shown).count('"id"')
    print(machine())
    print(f"events in the batch: {len(sequences)}; the child is shown {kept} of them")
    print(f"anchor  shared batch body (household token): {shared:7.1f} ms per 1,000 events")
    print(f"member  child's own batch body (filtered):     {filtered:7.1f} ms per 1,000 events")


if __name__ == "__main__":
    asyncio.run(main())
