"""Group commit: a flush returns only after the transaction holding its writes ended, and says how.

The writer is driven by a commit function the test holds open, so each moment (batch taken,
batch in flight, next batch queued) is reached on purpose rather than by timing."""

from __future__ import annotations

import asyncio

import pytest

from oneteam.hub.group_commit import GroupCommit, StorageFailed
from oneteam.model import Event, EventKind, State


class _HeldCommit:
    """Commits only when the test lets it; records each batch; fails the batches it is told to."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.ended = 0
        self.fail_next = False

    async def __call__(self, states: list[tuple[str, State]], events: list[tuple[str, Event]]) -> None:
        self.started.set()
        await self.release.wait()
        self.release.clear()
        self.started.clear()
        self.ended += 1
        failing, self.fail_next = self.fail_next, False
        if failing:
            raise OSError("disk gone")
        self.batches.append([event.id for _, event in events])

    async def end_one(self) -> None:
        """Let the batch being committed end, and wait until it has."""
        await self.started.wait()
        ended = self.ended
        self.release.set()
        while self.ended == ended:
            await asyncio.sleep(0.001)


def _event(n: int) -> Event:
    return Event(kind=EventKind.ALERT, id=n)


@pytest.fixture
async def held() -> tuple[GroupCommit, _HeldCommit]:
    commit = _HeldCommit()
    writer = GroupCommit(commit, (OSError,))
    writer.start()
    return writer, commit


async def test_a_flush_waits_for_the_batch_in_flight_and_for_the_next_one(
    held: tuple[GroupCommit, _HeldCommit],
) -> None:
    writer, commit = held
    writer.put_event(_event(1))
    first = asyncio.ensure_future(writer.flush())
    await commit.started.wait()  # batch 1 taken: nothing queued now
    late = asyncio.ensure_future(writer.flush())  # its writes may be in batch 1
    await asyncio.sleep(0)  # `late` is waiting before event 2 is written
    writer.put_event(_event(2))
    both = asyncio.ensure_future(writer.flush())  # event 2 goes in batch 2
    await asyncio.sleep(0.05)
    assert not first.done() and not late.done() and not both.done()  # nothing acknowledged yet
    await commit.end_one()
    await asyncio.wait_for(asyncio.gather(first, late), 5)
    assert commit.batches == [[1]]
    await commit.started.wait()
    assert not both.done()  # batch 2 still open
    await commit.end_one()
    await asyncio.wait_for(both, 5)
    assert commit.batches == [[1], [2]]
    await writer.stop()


async def test_a_failed_batch_in_flight_fails_a_flush_even_when_the_next_batch_commits(
    held: tuple[GroupCommit, _HeldCommit],
) -> None:
    writer, commit = held
    writer.put_event(_event(1))
    await commit.started.wait()  # event 1 is in the batch in flight
    writer.put_event(_event(2))
    flushing = asyncio.ensure_future(writer.flush())  # everything before it: events 1 and 2
    await asyncio.sleep(0)
    commit.fail_next = True
    await commit.end_one()  # batch 1 fails
    assert not flushing.done()
    await commit.end_one()  # batch 2 commits
    with pytest.raises(StorageFailed, match="disk gone"):
        await asyncio.wait_for(flushing, 5)
    assert commit.batches == [[2]]
    writer.put_event(_event(3))  # the writer goes on
    again = asyncio.ensure_future(writer.flush())
    await commit.end_one()
    await asyncio.wait_for(again, 5)
    assert commit.batches == [[2], [3]]
    await writer.stop()


async def test_cancelling_one_waiting_flush_leaves_the_others_waiting_and_acknowledged(
    held: tuple[GroupCommit, _HeldCommit],
) -> None:
    writer, commit = held
    writer.put_event(_event(1))
    flushes = [asyncio.ensure_future(writer.flush()) for _ in range(3)]
    await commit.started.wait()
    flushes[1].cancel()
    await asyncio.sleep(0.05)
    assert flushes[1].cancelled() and not flushes[0].done() and not flushes[2].done()
    await commit.end_one()
    await asyncio.wait_for(asyncio.gather(flushes[0], flushes[2]), 5)
    assert commit.batches == [[1]]
    await writer.stop()


async def test_a_flush_with_nothing_written_returns_at_once_and_a_closed_writer_refuses(
    held: tuple[GroupCommit, _HeldCommit],
) -> None:
    writer, commit = held
    await asyncio.wait_for(writer.flush(), 1)
    assert commit.batches == []
    await writer.stop()
    writer.put_event(_event(1))
    with pytest.raises(StorageFailed, match="not open"):
        await writer.flush()
