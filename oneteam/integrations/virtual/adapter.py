"""The virtual integration: every device of the home marked `integration: virtual` is simulated here."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence

from oneteam.hub.adapter import AdapterSink
from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.virtual.appliance import Appliance
from oneteam.integrations.virtual.appliances import APPLIANCES
from oneteam.model import Command, Device, DeviceNotFound, Home, State
from oneteam.sim import PROFILES, DegradingAppliance

SECONDS_PER_DAY = 86400.0
_DEFAULT_AGE_FRACTION = (0.0, 0.6)  # units start somewhere in the first 60 % of their life

_LOGGER = logging.getLogger(__name__)


class VirtualAdapter:
    """Simulated appliances with a time scale: `time_scale=60` runs a 60-minute course in a minute."""

    name = "virtual"

    def __init__(
        self,
        home: Home,
        *,
        time_scale: float = 1.0,
        tick_s: float = 1.0,
        seed: int = 0,
        wear_day_s: float = SECONDS_PER_DAY,
        days_left: Mapping[str, float] | None = None,
    ) -> None:
        """`wear_day_s`: simulated seconds per day of wear (lower it to watch appliances age);
        `days_left`: device id → days until its wearing part fails, for demos and tests."""
        self._devices = [d for d in home.devices.values() if d.integration == self.name]
        self.time_scale = time_scale
        self.tick_s = tick_s
        self.wear_day_s = wear_day_s
        rng = random.Random(seed)
        self._appliances: dict[str, Appliance] = {
            d.id: APPLIANCES[d.type](d, random.Random(rng.random())) for d in self._devices
        }
        self._wear = {
            d.id: _wearing_part(d, random.Random(rng.random()), (days_left or {}).get(d.id))
            for d in self._devices
            if d.type in PROFILES
        }
        self._wear_clock_s = 0.0
        self._sink: AdapterSink | None = None
        self.supervisor = Supervisor(
            "virtual", on_failure=self._task_failed, on_recovered=self._task_recovered
        )
        """Owns the simulated clock: if an appliance's simulation raises, the ticker is logged and
        restarted, and the appliances are unavailable meanwhile."""

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        """Restore stored states, report every appliance's state, and start simulated time."""
        self._sink = sink
        for device_id, appliance in self._appliances.items():
            stored = last_states.get(device_id)
            if stored is not None:
                appliance.restore(stored.attributes)
        self.report_all()
        self.supervisor.start()
        self.supervisor.spawn("virtual-ticker", self._tick_loop, devices=list(self._appliances))

    async def devices(self) -> Sequence[Device]:
        """The simulated devices."""
        return list(self._devices)

    def report_all(self) -> None:
        """Report every appliance's full state (after the hub registered the devices)."""
        if self._sink is None:
            return
        for device_id, appliance in self._appliances.items():
            self._sink.report_state(device_id, dict(appliance.attributes))
        for device_id, part in self._wear.items():
            self._sink.report_state(device_id, dict(part.sample().values))

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
        self._wear_clock_s += simulated_s
        while self._wear_clock_s >= self.wear_day_s:
            # A day of use: each wearing part ages and reports its telemetry (motor current, ...).
            self._wear_clock_s -= self.wear_day_s
            for device_id, part in self._wear.items():
                self._sink.report_state(device_id, dict(part.advance(1.0).values))

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
        await self.supervisor.stop()

    def _task_failed(self, name: str, devices: list[str], error: BaseException) -> None:
        if self._sink is not None:
            for device_id in devices:
                self._sink.report_availability(
                    device_id, False, "clock task down", reason_key="hub.task_down"
                )

    def _task_recovered(self, name: str, devices: list[str]) -> None:
        if self._sink is not None:
            for device_id in devices:
                self._sink.report_availability(device_id, True)


def _wearing_part(device: Device, rng: random.Random, days_left: float | None) -> DegradingAppliance:
    """The part of an appliance that wears out, somewhere in its life (or `days_left` from failure)."""
    if days_left is None:
        unit = DegradingAppliance(device.type, rng=rng)
        unit.day = unit.life_days * rng.uniform(*_DEFAULT_AGE_FRACTION)
        return unit
    age_days = 365.0
    return DegradingAppliance(device.type, rng=rng, age_days=age_days, life_days=age_days + days_left)
