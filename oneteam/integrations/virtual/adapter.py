"""The virtual integration: every device of the home marked `integration: virtual` is simulated here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping, Sequence

from oneteam.hub.adapter import AdapterSink
from oneteam.integrations.virtual.appliances import APPLIANCES, Appliance
from oneteam.model import Command, Device, DeviceNotFound, Home, State

_LOGGER = logging.getLogger(__name__)


class VirtualAdapter:
    """Simulated appliances with a time scale: `time_scale=60` runs a 60-minute course in a minute."""

    name = "virtual"

    def __init__(self, home: Home, *, time_scale: float = 1.0, tick_s: float = 1.0, seed: int = 0) -> None:
        self._devices = [d for d in home.devices.values() if d.integration == self.name]
        self.time_scale = time_scale
        self.tick_s = tick_s
        rng = random.Random(seed)
        self._appliances: dict[str, Appliance] = {
            d.id: APPLIANCES[d.type](d, random.Random(rng.random())) for d in self._devices
        }
        self._sink: AdapterSink | None = None
        self._ticker: asyncio.Task[None] | None = None

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        """Restore stored states, report every appliance's state, and start simulated time."""
        self._sink = sink
        for device_id, appliance in self._appliances.items():
            stored = last_states.get(device_id)
            if stored is not None:
                appliance.restore(stored.attributes)
        self.report_all()
        self._ticker = asyncio.create_task(self._tick_loop(), name="virtual-ticker")

    async def devices(self) -> Sequence[Device]:
        """The simulated devices."""
        return list(self._devices)

    def report_all(self) -> None:
        """Report every appliance's full state (after the hub registered the devices)."""
        if self._sink is None:
            return
        for device_id, appliance in self._appliances.items():
            self._sink.report_state(device_id, dict(appliance.attributes))

    async def execute(self, command: Command) -> None:
        """Carry out a command on the simulated appliance."""
        appliance = self._appliances.get(command.device_id)
        if appliance is None:
            raise DeviceNotFound(command.device_id)
        changes = appliance.execute(command)
        if changes and self._sink is not None:
            self._sink.report_state(command.device_id, changes)

    def advance(self, simulated_s: float) -> None:
        """Move every appliance forward by `simulated_s` seconds and report what changed."""
        if self._sink is None:
            return
        for device_id, appliance in self._appliances.items():
            outcome = appliance.advance(simulated_s)
            if outcome.changes:
                self._sink.report_state(device_id, outcome.changes)
            for kind, data in outcome.events:
                self._sink.report_event(device_id, kind, data)

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            self.advance((now - last) * self.time_scale)
            last = now

    async def stop(self) -> None:
        """Stop simulated time."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
