"""Commands waiting for their device to report the commanded state: an MQTT command counts as done
only when the device's own state says so (or, for a device without a state topic, when the broker
acknowledged it)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from oneteam.model import StateValue


class Waiter:
    """One command waiting for its device to report the commanded state."""

    __slots__ = ("delivered", "expected", "future")

    def __init__(self, expected: dict[str, StateValue] | None, future: asyncio.Future[None]) -> None:
        self.expected = expected
        self.future = future
        self.delivered = False
        """The broker acknowledged every message: the device has it, only its answer is missing."""


class Waiters:
    """The waiting commands, per device."""

    def __init__(self) -> None:
        self._by_device: dict[str, list[Waiter]] = {}

    def add(self, device_id: str, expected: dict[str, StateValue] | None) -> Waiter:
        """Wait for `expected` (None: any state report) from `device_id`."""
        waiter = Waiter(expected, asyncio.get_running_loop().create_future())
        self._by_device.setdefault(device_id, []).append(waiter)
        return waiter

    def discard(self, device_id: str, waiter: Waiter) -> None:
        """The command is over, confirmed or not."""
        waiters = self._by_device.get(device_id, [])
        if waiter in waiters:
            waiters.remove(waiter)
        if not waiters:
            self._by_device.pop(device_id, None)

    def settle(self, device_id: str, state: Mapping[str, StateValue]) -> None:
        """The device reported `state`: every command it now satisfies is confirmed."""
        for waiter in self._by_device.get(device_id, ()):
            expected = waiter.expected
            if not waiter.future.done() and (
                expected is None or all(state.get(k) == v for k, v in expected.items())
            ):
                waiter.future.set_result(None)

    def cancel_all(self) -> None:
        """The adapter stops: nothing is confirmed any more."""
        for waiters in self._by_device.values():
            for waiter in waiters:
                waiter.future.cancel()
        self._by_device.clear()
