"""The collector policy of a process serving many homes (cluster/heap.py), on the real collector.

Objects that exist when homes were opened are frozen: a full collection then walks only newer ones
(measured here by what `gc.collect` reports and by the frozen count). A cycle left by a home closed
since is not lost for good: `step` reclaims it once the closes settled, or when the last reclaim
is old, and not before.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from oneteam.cluster.heap import RECLAIM_AFTER_CLOSE_S, RECLAIM_EVERY_S, RECLAIM_SPACING_S, Heap


class _Node:
    """A home's part that points back at its home (a reference cycle, as real hubs hold)."""

    def __init__(self) -> None:
        self.home: _Node | None = None


def _cycle() -> tuple[_Node, weakref.ref[_Node]]:
    a, b = _Node(), _Node()
    a.home, b.home = b, a
    return a, weakref.ref(b)


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    """The test process's own heap is not left frozen for the tests after these."""
    yield
    gc.unfreeze()


def test_objects_of_open_homes_are_kept_out_of_collections() -> None:
    heap = Heap(now=0.0)
    held = [_Node() for _ in range(10_000)]
    heap.opened()
    assert gc.get_freeze_count() >= len(held)
    # Newer objects are still collected as usual.
    first, newer = _cycle()
    del first
    gc.collect()
    assert newer() is None


def test_a_closed_homes_cycle_waits_for_the_settled_reclaim() -> None:
    start = 100.0
    heap = Heap(now=start - RECLAIM_SPACING_S)
    home, gone = _cycle()
    heap.opened()
    del home  # the home is closed: its cycle is garbage, but frozen
    heap.closed(now=start)
    gc.collect()
    assert gone() is not None, "a frozen cycle is out of an ordinary collection's sight"

    assert not heap.step(now=start + RECLAIM_AFTER_CLOSE_S / 2)  # closes may still be coming
    heap.closed(now=start + 1.0)  # another one: the wait starts again
    assert not heap.step(now=start + RECLAIM_AFTER_CLOSE_S)
    assert gone() is not None

    assert heap.step(now=start + 1.0 + RECLAIM_AFTER_CLOSE_S)
    assert gone() is None
    assert heap.reclaims == 1
    assert gc.get_freeze_count() > 0, "what is left is kept out of sight again"
    assert not heap.step(now=start + 2.0 + RECLAIM_AFTER_CLOSE_S), "nothing closed since"


def test_reclaims_after_closes_are_spaced() -> None:
    heap = Heap(now=0.0)
    heap.opened()
    heap.closed(now=RECLAIM_SPACING_S)
    assert heap.step(now=RECLAIM_SPACING_S + RECLAIM_AFTER_CLOSE_S)
    lost, gone = _cycle()
    heap.opened()
    del lost
    later = RECLAIM_SPACING_S + RECLAIM_AFTER_CLOSE_S + 1.0
    heap.closed(now=later)  # more homes lost soon after: no second pause yet
    assert not heap.step(now=later + RECLAIM_AFTER_CLOSE_S)
    assert gone() is not None
    assert heap.step(now=2 * RECLAIM_SPACING_S + RECLAIM_AFTER_CLOSE_S)
    assert gone() is None and heap.reclaims == 2


def test_without_closes_frozen_objects_are_looked_at_every_reclaim_period() -> None:
    heap = Heap(now=0.0)
    lost, gone = _cycle()
    heap.opened()
    del lost  # something else that ended (a connection replaced, say)
    assert not heap.step(now=RECLAIM_EVERY_S - 1)
    assert gone() is not None
    assert heap.step(now=RECLAIM_EVERY_S)
    assert gone() is None
