"""Many MQTT devices in one process: they announce themselves, report state and obey commands.

Devices are grouped behind gateways, one MQTT connection each, the way one Zigbee2MQTT bridge
serves hundreds of devices: the gateway's will marks all of its devices offline if it vanishes.
Each device publishes one JSON state topic; its discovery config reads fields out of it with
`{{ value_json.<field> }}` templates, as Zigbee2MQTT's configs do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.const import (
    DEFAULT_DISCOVERY_PREFIX,
    HA_TO_MODE,
    PAYLOAD_OFFLINE,
    PAYLOAD_ONLINE,
    SPEED_PERCENT,
    STATUS_SUFFIX,
)
from oneteam.integrations.mqtt.settings import BrokerSettings, Will

_LOGGER = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("light", "switch", "climate", "fan", "vacuum", "sensor")


@dataclass(slots=True)
class SimulatedDevice:
    """One simulated device: its state, and the commands it obeyed (the last 256)."""

    id: str
    component: str
    base: str
    """Topic root of the device: `<sim base>/<gateway>/<id>`."""
    state: dict[str, Any]
    received: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=256))

    @property
    def state_topic(self) -> str:
        """Where the device reports its JSON state."""
        return f"{self.base}/state"

    def config(self, availability_topic: str) -> dict[str, Any]:
        """The discovery config, in Home Assistant's (unabbreviated) keys."""
        t = self.base
        config: dict[str, Any] = {
            "unique_id": self.id,
            "name": self.id.replace("_", " "),
            "availability": [{"topic": availability_topic}],
            "device": {
                "identifiers": [self.id],
                "name": self.id,
                "manufacturer": "oneteam",
                "model": "simulator",
            },
        }
        state = self.state_topic
        if self.component == "light":
            config |= {
                "schema": "json",
                "state_topic": state,
                "command_topic": f"{t}/set",
                "brightness": True,
            }
        elif self.component in ("switch", "fan"):
            config |= {
                "state_topic": state,
                "command_topic": f"{t}/set",
                "value_template": "{{ value_json.state }}",
            }
        if self.component == "fan":
            config |= {
                "percentage_state_topic": state,
                "percentage_value_template": "{{ value_json.percentage }}",
                "percentage_command_topic": f"{t}/set/percentage",
                "preset_mode_state_topic": state,
                "preset_mode_value_template": "{{ value_json.preset_mode }}",
                "preset_mode_command_topic": f"{t}/set/preset_mode",
                "preset_modes": ["auto", "sleep"],
            }
        elif self.component == "climate":
            config |= {
                "mode_state_topic": state,
                "mode_state_template": "{{ value_json.mode }}",
                "mode_command_topic": f"{t}/set/mode",
                "modes": ["off", "cool", "dry", "fan_only", "auto", "heat"],
                "temperature_state_topic": state,
                "temperature_state_template": "{{ value_json.temperature }}",
                "temperature_command_topic": f"{t}/set/temperature",
                "current_temperature_topic": state,
                "current_temperature_template": "{{ value_json.current_temperature }}",
                "fan_mode_state_topic": state,
                "fan_mode_state_template": "{{ value_json.fan_mode }}",
                "fan_mode_command_topic": f"{t}/set/fan_mode",
                "fan_modes": ["auto", "low", "medium", "high"],
                "min_temp": 18,
                "max_temp": 30,
            }
        elif self.component == "vacuum":
            config |= {"schema": "state", "state_topic": state, "command_topic": f"{t}/set"}
        elif self.component == "sensor":
            config |= {
                "state_topic": state,
                "value_template": "{{ value_json.temperature }}",
                "unit_of_measurement": "°C",
                "device_class": "temperature",
            }
        return config

    def obey(self, field_name: str, payload: str) -> bool:
        """Carry out a command; whether the state changed shape enough to report."""
        self.received.append((field_name, payload))
        s = self.state
        if self.component == "light" and field_name == "":
            try:
                command = json.loads(payload)
            except json.JSONDecodeError:
                return False
            if not isinstance(command, dict):
                return False
            s["state"] = command.get("state", s["state"])
            if isinstance(command.get("brightness"), int):
                s["brightness"] = max(0, min(255, command["brightness"]))
        elif field_name == "" and self.component in ("switch", "fan"):
            s["state"] = "ON" if payload == "ON" else "OFF"
        elif field_name == "" and self.component == "vacuum":
            s["state"] = {
                "start": "cleaning",
                "pause": "paused",
                "stop": "idle",
                "return_to_base": "returning",
            }.get(payload, s["state"])
        elif field_name == "mode" and (payload == "off" or payload in HA_TO_MODE):
            s["mode"] = payload
        elif field_name == "temperature":
            s["temperature"] = _number(payload, s["temperature"])
        elif field_name in ("fan_mode", "preset_mode"):
            s[field_name] = payload
        elif field_name == "percentage":
            s["percentage"] = int(_number(payload, s["percentage"]))
            s["state"] = "ON" if s["percentage"] > 0 else "OFF"
        return True

    def drift(self, rng: random.Random) -> None:
        """Time passes: temperatures wander, batteries drain."""
        if self.component == "sensor":
            self.state["temperature"] = round(self.state["temperature"] + rng.uniform(-0.2, 0.2), 1)
        elif self.component == "climate":
            self.state["current_temperature"] = round(24 + rng.uniform(-1, 1), 1)
        elif self.component == "vacuum" and self.state["state"] == "cleaning":
            self.state["battery_level"] = max(0, self.state["battery_level"] - 1)


def _number(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default


def _initial_state(component: str, rng: random.Random) -> dict[str, Any]:
    if component == "light":
        return {"state": "OFF", "brightness": 128}
    if component == "switch":
        return {"state": "OFF"}
    if component == "fan":
        return {"state": "OFF", "percentage": SPEED_PERCENT["low"], "preset_mode": "auto"}
    if component == "climate":
        return {"mode": "off", "temperature": 24, "current_temperature": 26.5, "fan_mode": "auto"}
    if component == "vacuum":
        return {"state": "docked", "battery_level": 100}
    return {"temperature": round(rng.uniform(18, 28), 1)}


def make_devices(
    count: int, *, base: str, per_gateway: int, kinds: Sequence[str] = KINDS, seed: int = 0
) -> list[list[SimulatedDevice]]:
    """`count` devices of the given kinds in turn, grouped into gateways of `per_gateway`."""
    rng = random.Random(seed)
    gateways: list[list[SimulatedDevice]] = []
    for index in range(count):
        gateway = index // per_gateway
        if gateway == len(gateways):
            gateways.append([])
        component = kinds[index % len(kinds)]
        device_id = f"sim_{component}_{index:05d}"
        gateways[gateway].append(
            SimulatedDevice(
                id=device_id,
                component=component,
                base=f"{base}/gw{gateway}/{device_id}",
                state=_initial_state(component, rng),
            )
        )
    return gateways


class Gateway:
    """One MQTT connection serving a group of simulated devices."""

    def __init__(
        self, settings: BrokerSettings, devices: list[SimulatedDevice], *, name: str, base: str, prefix: str
    ) -> None:
        self.name = name
        self.prefix = prefix
        self.availability_topic = f"{base}/{name}/availability"
        self.devices = {d.id: d for d in devices}
        self.client = MqttClient(
            settings, will=Will(self.availability_topic, PAYLOAD_OFFLINE, PAYLOAD_ONLINE), name=f"sim-{name}"
        )
        self._base = f"{base}/{name}/"
        self.published = 0

    def start(self) -> None:
        """Subscribe to commands and to the hub's birth message; announce on every (re)connect."""
        self.client.subscribe(f"{self._base}+/set", self._on_command)
        self.client.subscribe(f"{self._base}+/set/+", self._on_command)
        self.client.subscribe(f"{self.prefix}/{STATUS_SUFFIX}", self._on_birth)
        self.client.on_connection(lambda is_up: self.announce() if is_up else None)

    def announce(self) -> None:
        """Publish every device's discovery config (retained) and its state."""
        for device in self.devices.values():
            topic = f"{self.prefix}/{device.component}/{device.id}/config"
            self.client.publish(topic, json.dumps(device.config(self.availability_topic)), qos=1, retain=True)
            self.report(device)

    def report(self, device: SimulatedDevice) -> None:
        """Publish one device's state (retained, so a restarted hub gets it at once)."""
        self.client.publish(device.state_topic, json.dumps(device.state), qos=0, retain=True)
        self.published += 1

    def _on_birth(self, topic: str, payload: bytes) -> None:
        if payload == PAYLOAD_ONLINE.encode():
            self.announce()

    def _on_command(self, topic: str, payload: bytes) -> None:
        rest = topic[len(self._base) :].split("/")
        device = self.devices.get(rest[0])
        if device is None:
            return
        if device.obey(rest[2] if len(rest) == 3 else "", payload.decode(errors="replace")):
            self.report(device)


REPORTS_TASK = "simulator-reports"


class Simulator:
    """`count` devices behind gateways; `async with` connects them, `start_reports` keeps them
    talking. The report loop is owned by the simulator's supervisor: named, logged when it fails
    and restarted after a back-off (the gateways' MQTT clients supervise their own tasks)."""

    def __init__(
        self,
        settings: BrokerSettings,
        count: int,
        *,
        per_gateway: int = 1000,
        base: str = "oneteam-sim",
        prefix: str = DEFAULT_DISCOVERY_PREFIX,
        kinds: Sequence[str] = KINDS,
        seed: int = 0,
        on_failure: Callable[[str, BaseException], None] | None = None,
        backoff_base_s: float = 1.0,
    ) -> None:
        groups = make_devices(count, base=base, per_gateway=per_gateway, kinds=kinds, seed=seed)
        self.gateways = [
            Gateway(settings, group, name=f"gw{i}", base=base, prefix=prefix)
            for i, group in enumerate(groups)
        ]
        self._rng = random.Random(seed)
        self._stack = AsyncExitStack()
        self.supervisor = Supervisor(
            "simulator",
            on_failure=None if on_failure is None else lambda name, _devices, exc: on_failure(name, exc),
            backoff_base_s=backoff_base_s,
        )
        """Owns the report loop (`start_reports`)."""

    @property
    def devices(self) -> dict[str, SimulatedDevice]:
        """Every simulated device by id."""
        return {d.id: d for g in self.gateways for d in g.devices.values()}

    @property
    def published(self) -> int:
        """State messages published so far."""
        return sum(g.published for g in self.gateways)

    async def __aenter__(self) -> Simulator:
        self._stack.push_async_callback(self.supervisor.stop)
        self.supervisor.start()
        for gateway in self.gateways:
            gateway.start()
            await self._stack.enter_async_context(gateway.client)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    def start_reports(self, interval_s: float, tick_s: float = 0.1) -> None:
        """Run `run_reports` as the supervised task `simulator-reports` until the simulator closes."""
        self.supervisor.spawn(REPORTS_TASK, lambda: self.run_reports(interval_s, tick_s))

    async def wait_connected(self, timeout_s: float) -> bool:
        """Whether every gateway connected within `timeout_s`."""
        results = [await g.client.wait_connected(timeout_s) for g in self.gateways]
        return all(results)

    def gateway_of(self, device_id: str) -> Gateway:
        """The gateway serving a device."""
        return next(g for g in self.gateways if device_id in g.devices)

    async def run_reports(self, interval_s: float, tick_s: float = 0.1) -> None:
        """Every device reports its state once per `interval_s`, spread evenly over the interval."""
        devices = [(g, d) for g in self.gateways for d in g.devices.values()]
        if not devices:
            return
        per_tick = len(devices) * tick_s / interval_s
        carry = 0.0
        position = 0
        while True:
            await asyncio.sleep(tick_s)
            carry += per_tick
            due, carry = int(carry), carry - int(carry)
            for _ in range(due):
                gateway, device = devices[position]
                position = (position + 1) % len(devices)
                if gateway.client.connected.is_set():
                    device.drift(self._rng)
                    gateway.report(device)
