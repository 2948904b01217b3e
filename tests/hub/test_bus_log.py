"""The bus's shared log keeps only what some subscriber may still read, not always LOG_CAPACITY
events (every kept event is an object the garbage collector walks on each full pass)."""

from __future__ import annotations

from oneteam.hub.bus import EventBus
from oneteam.model import Event, EventKind


def _publish(bus: EventBus, first: int, count: int) -> None:
    for i in range(first, first + count):
        bus.publish(Event(kind=EventKind.STATE_CHANGED, device_id=f"d{i}"))


async def test_without_subscribers_nothing_is_kept_and_a_new_one_reads_from_the_next_event() -> None:
    bus = EventBus()
    _publish(bus, 0, 5000)
    assert len(bus._log) == 0
    async with bus.subscribe("late") as late:
        _publish(bus, 5000, 3)
        assert [late.get_nowait().device_id for _ in range(3)] == ["d5000", "d5001", "d5002"]
        assert late.dropped == 0


async def test_read_events_leave_the_log_and_unread_ones_stay_for_the_slowest_reader() -> None:
    bus = EventBus()
    async with bus.subscribe("fast", maxsize=10_000) as fast, bus.subscribe("slow", maxsize=3000) as slow:
        for n in range(10):
            _publish(bus, n * 500, 500)
            fast.take(500)
        assert fast.pending == 0
        # The slow reader has read nothing: its newest 3,000 are still there, the rest it lost.
        assert len(bus._log) >= 3000
        taken = slow.take(10_000)
        assert [e.device_id for e in bus.events_in(taken)] == [f"d{i}" for i in range(2000, 5000)]
        assert slow.dropped == 2000
        _publish(bus, 5000, 2048)  # both caught up before: at most a trim's interval stays
        fast.take(10_000)
        slow.take(10_000)
        _publish(bus, 7048, 1024)
        assert len(bus._log) <= 2048
        assert [e.device_id for e in bus.events_in(slow.take(10_000))][-1] == "d8071"
