"""Group commit of many homes with `max_rows`: a home a flush waits for goes in the next batch
whole, other homes' backlog in bounded batches after it, and every write is still committed once.

The writer is driven by a commit function the test holds open, so each batch is taken on purpose
rather than by timing."""

from __future__ import annotations

import asyncio

from oneteam.hub.group_commit import GroupCommit
from oneteam.model import Event, EventKind, State


class _HeldCommit:
    """Commits one batch each time the test lets it; records each batch's (home, event id)."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.states: list[list[tuple[str, str]]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, states: list[tuple[str, State]], events: list[tuple[str, Event]]) -> None:
        self.started.set()
        await self.release.wait()
        self.release.clear()
        self.started.clear()
        self.batches.append([(home, event.id) for home, event in events])
        self.states.append([(home, state.device_id) for home, state in states])

    async def end_one(self) -> None:
        """Let the batch being committed end, and wait until it has."""
        await self.started.wait()
        ended = len(self.batches)
        self.release.set()
        while len(self.batches) == ended:
            await asyncio.sleep(0.001)


def _event(n: int) -> Event:
    return Event(kind=EventKind.ALERT, id=n)


async def test_a_flushed_home_goes_ahead_of_a_backlog_and_nothing_is_lost() -> None:
    commit = _HeldCommit()
    writer = GroupCommit(commit, (OSError,), max_rows=10)
    writer.start()
    for n in range(1, 101):  # a takeover's re-attaching devices: 100 rows of another home
        writer.put_event(_event(n), "busy")
    await commit.started.wait()  # the first batch is in flight
    writer.put_event(_event(1), "command")
    writer.put_state(State(device_id="light", attributes={"on": True}), "command")
    flushed = asyncio.create_task(writer.flush("command"))
    await commit.end_one()  # the batch that was in flight
    await commit.end_one()  # the next: the command's home whole, 10 rows of the backlog
    await asyncio.wait_for(flushed, 5)
    assert len(commit.batches[0]) == 10
    assert commit.states[1] == [("command", "light")]
    assert ("command", 1) in commit.batches[1]
    assert sum(1 for home, _ in commit.batches[1] if home == "busy") == 10
    # The rest of the backlog follows in batches of at most 10 rows, every row once.
    while sum(len(b) for b in commit.batches) < 101:
        await commit.end_one()
    assert all(len(b) <= 10 for b in commit.batches[2:])
    busy = sorted(n for batch in commit.batches for home, n in batch if home == "busy")
    assert busy == list(range(1, 101))
    stopping = asyncio.create_task(writer.stop())
    await asyncio.sleep(0.01)
    assert stopping.done()


async def test_a_flush_of_every_home_takes_the_whole_backlog_in_one_batch() -> None:
    commit = _HeldCommit()
    writer = GroupCommit(commit, (OSError,), max_rows=10)
    writer.start()
    writer.put_event(_event(1), "first")
    await commit.started.wait()
    for n in range(1, 51):
        writer.put_event(_event(n), f"home-{n % 7}")
    flushed = asyncio.create_task(writer.flush())
    await commit.end_one()
    await commit.end_one()
    await asyncio.wait_for(flushed, 5)
    assert len(commit.batches[1]) == 50
    await writer.stop()


async def test_without_max_rows_a_batch_takes_everything_queued() -> None:
    commit = _HeldCommit()
    writer = GroupCommit(commit, (OSError,))
    writer.start()
    writer.put_event(_event(1), "first")
    await commit.started.wait()
    for n in range(1, 51):
        writer.put_event(_event(n), f"home-{n % 7}")
    flushed = asyncio.create_task(writer.flush("home-1"))
    await commit.end_one()
    await commit.end_one()
    await asyncio.wait_for(flushed, 5)
    assert len(commit.batches[1]) == 50
    await writer.stop()
