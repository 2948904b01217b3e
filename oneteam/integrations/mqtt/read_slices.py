"""How MQTT is read: 64 KiB at a time, and how much of it one turn of the event loop may do (all
the process's clients together).

A cluster process that takes over a dead process's homes signs in a client per home, and the
broker answers each with its retained discovery and states at once: ~185 clients readable in one
loop turn, each reading its whole burst, held the loop for about a second per turn (measured,
issue #21), and a command to a just-taken home needs a dozen turns (request, token check, writer,
answer). With a budget per turn, a client that finds it spent stops reading and comes back on the
next turn, after the other ready callbacks: the burst takes as long, but everything else on the
loop gets a turn every READ_SLICE_S or so.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

READ_SLICE_S = 0.02
"""MQTT reading per loop turn, all clients together, before the rest of the loop gets its turn."""


class ReadSlice:
    """The reading done in the current loop turn, for all the clients on one loop."""

    __slots__ = ("_loop", "_reset_pending", "budget_s", "spent")

    def __init__(self, loop: asyncio.AbstractEventLoop, budget_s: float = READ_SLICE_S) -> None:
        self._loop = loop
        self.budget_s = budget_s
        self.spent = 0.0
        self._reset_pending = False

    def exhausted(self, extra_s: float = 0.0) -> bool:
        """Whether this turn's reading (plus `extra_s` not yet charged) has used the budget."""
        return self.spent + extra_s >= self.budget_s

    def charge(self, seconds: float) -> None:
        """Count `seconds` of reading against this turn. The count starts again on the next turn:
        a callback scheduled now runs only then (asyncio runs the callbacks ready at a turn's
        start), ahead of the clients that put their reading off to it."""
        self.spent += seconds
        if not self._reset_pending:
            self._reset_pending = True
            self._loop.call_soon(self._reset)

    def _reset(self) -> None:
        self.spent = 0.0
        self._reset_pending = False


class BufferedSocket:
    """A socket that reads 64 KiB at a time and hands paho the small pieces it asks for."""

    __slots__ = ("_buffer", "_position", "_sock")

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buffer = b""
        self._position = 0

    def recv(self, size: int) -> bytes:
        if self._position >= len(self._buffer):
            self._buffer = self._sock.recv(65536)  # BlockingIOError / SSLWantReadError pass to paho
            self._position = 0
            if not self._buffer:
                return b""
        chunk = self._buffer[self._position : self._position + size]
        self._position += len(chunk)
        return chunk

    def has_data(self) -> bool:
        return self._position < len(self._buffer)

    def pending(self) -> int:
        extra = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return len(self._buffer) - self._position + int(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


_SLICES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReadSlice] = weakref.WeakKeyDictionary()


def read_slice(loop: asyncio.AbstractEventLoop) -> ReadSlice:
    """The loop's shared read budget (one per loop, made on first use)."""
    found = _SLICES.get(loop)
    if found is None:
        found = _SLICES[loop] = ReadSlice(loop)
    return found


def clock() -> float:
    """The clock reading is measured with."""
    return time.perf_counter()
