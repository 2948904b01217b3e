from __future__ import annotations

import asyncio
from collections import deque

from oneteam.hub import EventBus, Hub
from oneteam.model import Command, Event, EventKind


async def test_a_full_subscriber_drops_its_own_events_and_counts_them() -> None:
    bus = EventBus()
    async with bus.subscribe("slow", maxsize=2) as slow, bus.subscribe("fast", maxsize=100) as fast:
        for i in range(10):
            bus.publish(Event(kind=EventKind.STATE_CHANGED, device_id=f"d{i}"))
        assert slow.dropped == 8 and slow.pending == 10
        assert fast.dropped == 0 and fast.pending == 10
        assert [slow.get_nowait().device_id for _ in range(2)] == ["d8", "d9"]
        assert [(await fast.get()).device_id for _ in range(10)] == [f"d{i}" for i in range(10)]
        assert bus.dropped_total == 8
    assert bus.subscriber_count == 0


async def test_a_slow_subscriber_does_not_stall_dispatch(hub: Hub) -> None:
    received: list[Event] = []

    async with (
        hub.subscribe("never-reads", maxsize=5) as stalled,
        hub.subscribe("reader", maxsize=10_000) as reader,
    ):

        async def read() -> None:
            async for event in reader:
                received.append(event)

        task = asyncio.create_task(read())
        async with asyncio.timeout(10):
            for i in range(300):
                await hub.dispatch(
                    Command(device_id="light_living", name="set_brightness", value=i % 100 + 1)
                )
        await asyncio.sleep(0.05)
        task.cancel()
    assert stalled.dropped > 0
    commands = [e for e in received if e.kind is EventKind.COMMAND]
    assert len(commands) == 300
    assert hub.state("light_living").attributes["brightness"] == 100  # the last value sent: 299 % 100 + 1


async def test_take_reads_ranges_and_counts_what_a_slow_reader_lost() -> None:
    bus = EventBus()
    async with bus.subscribe("slow", maxsize=3) as slow, bus.subscribe("fast", maxsize=100) as fast:
        for i in range(10):
            bus.publish(Event(kind=EventKind.STATE_CHANGED, device_id=f"d{i}"))
        first = fast.take(4)
        assert [e.device_id for e in bus.events_in(first)] == ["d0", "d1", "d2", "d3"]
        assert [e.device_id for e in bus.events_in(fast.take(100))] == [f"d{i}" for i in range(4, 10)]
        assert not fast.take(100) and fast.dropped == 0
        assert [e.device_id for e in bus.events_in(slow.take(100))] == ["d7", "d8", "d9"]
        assert slow.dropped == 7 and bus.dropped_total == 7
        waiting = asyncio.create_task(fast.take_batch(100))
        await asyncio.sleep(0)
        assert not waiting.done()
        bus.publish(Event(kind=EventKind.STATE_CHANGED, device_id="d10"))
        taken = await asyncio.wait_for(waiting, 1)
        assert [e.device_id for e in bus.events_in(taken)] == ["d10"]


async def test_events_in_reads_either_end_of_a_full_log_and_backlog_is_the_furthest_behind() -> None:
    bus = EventBus()
    bus._log = deque(maxlen=100)  # a small log, so that it wraps
    async with bus.subscribe("behind", maxsize=100) as behind, bus.subscribe("ahead", maxsize=100) as ahead:
        for i in range(250):
            bus.publish(Event(kind=EventKind.STATE_CHANGED, device_id=f"d{i}"))
        for sequences in (range(150, 160), range(240, 250), range(190, 215), range(150, 250)):
            assert [e.device_id for e in bus.events_in(sequences)] == [f"d{i}" for i in sequences]
        assert bus.backlog == 100  # each has skipped ahead to the newest 100 of 250
        ahead.take(100)
        assert bus.backlog == 100 and ahead.pending == 0
        behind.take(60)
        assert bus.backlog == 40
        waiting = asyncio.create_task(ahead.wait())
        await asyncio.sleep(0)
        assert not waiting.done()
        bus.publish(Event(kind=EventKind.STATE_CHANGED, device_id="d250"))
        await asyncio.wait_for(waiting, 1)
        await asyncio.wait_for(behind.wait(), 1)  # events already there: at once
