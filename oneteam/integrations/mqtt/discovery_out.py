"""Discovery out: the hub's own devices published with Home Assistant's MQTT convention.

Home Assistant, Node-RED or `mosquitto_sub` then see every virtual (and later ThinQ) device and
can drive it: commands arriving on `<base>/<device>/.../set` become hub `Command`s.

Wiring, for the hub's owner::

    will = Will("oneteam/status", "offline", "online")
    async with (
        MqttClient(settings, will=will, name="mqtt-export") as client,
        hub.subscribe("mqtt-export") as events,
    ):
        publisher = DiscoveryPublisher(client)
        await publisher.run(hub.devices(), hub.states(), events, hub.dispatch, lookup=hub.device)
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping, Sequence
from typing import Any

from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.const import (
    DEFAULT_BASE_TOPIC,
    DEFAULT_DISCOVERY_PREFIX,
    DOMAIN,
    HA_TO_MODE,
    HUB_NODE_ID,
    MAX_STATE_BYTES,
    MODE_TO_HA,
    PAYLOAD_OFFLINE,
    PAYLOAD_ONLINE,
    SPEED_PERCENT,
    STATUS_SUFFIX,
    TYPE_COMPONENTS,
)
from oneteam.integrations.mqtt.entity import DiscoveryError, check_id
from oneteam.model import Command, Device, DeviceType, Event, EventKind, OneteamError, State, StateValue

_LOGGER = logging.getLogger(__name__)

Execute = Callable[[Command], Awaitable[object]]


def _speed_of(pct: int) -> str:
    return "low" if pct <= SPEED_PERCENT["low"] else "medium" if pct <= SPEED_PERCENT["medium"] else "high"


class DiscoveryPublisher:
    """Publishes hub devices as discovery configs and states; turns MQTT commands into hub commands."""

    def __init__(
        self,
        client: MqttClient,
        prefix: str = DEFAULT_DISCOVERY_PREFIX,
        *,
        base_topic: str = DEFAULT_BASE_TOPIC,
        node_id: str = HUB_NODE_ID,
        queue_size: int = 1000,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.base = base_topic
        self.node_id = node_id
        self._devices: dict[str, Device] = {}
        self._attributes: dict[str, dict[str, StateValue]] = {}
        self._available: dict[str, bool] = {}
        self._commands: asyncio.Queue[Command] = asyncio.Queue(maxsize=queue_size)
        self.commands_dropped = 0
        self._warned: set[str] = set()

    async def run(
        self,
        devices: Sequence[Device],
        states: Mapping[str, State],
        events: AsyncIterable[Event],
        execute: Execute,
        *,
        lookup: Callable[[str], Device] | None = None,
    ) -> None:
        """Publish `devices`, keep their states current from `events`, carry out commands, until cancelled."""
        for device in devices:
            self._add(device, states.get(device.id))
        self.client.subscribe(f"{self.base}/+/set", self._on_command)
        self.client.subscribe(f"{self.base}/+/+/set", self._on_command)
        self.client.subscribe(f"{self.prefix}/{STATUS_SUFFIX}", self._on_birth)
        self.client.on_connection(lambda is_up: self.publish_all() if is_up else None)
        if self.client.connected.is_set():
            self.publish_all()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._command_worker(execute), name="mqtt-export-commands")
            group.create_task(self._follow(events, lookup), name="mqtt-export-events")

    def _add(self, device: Device, state: State | None) -> None:
        if device.integration == DOMAIN:
            return  # devices that came from MQTT are already there; publishing them again would echo
        try:
            check_id(device.id)
        except DiscoveryError as exc:
            self._warn_once(device.id, f"not published over MQTT: {exc}")  # a `/` or `+` would inject topics
            return
        self._devices[device.id] = device
        self._attributes[device.id] = dict(state.attributes) if state else {}
        self._available[device.id] = state.is_available if state else True

    async def _follow(self, events: AsyncIterable[Event], lookup: Callable[[str], Device] | None) -> None:
        async for event in events:
            device_id = event.device_id
            if device_id is None:
                continue
            if event.kind is EventKind.DEVICE_ADDED and lookup is not None and device_id not in self._devices:
                self._add(lookup(device_id), None)
                if device_id in self._devices:
                    self._publish_config(self._devices[device_id])
            elif event.kind is EventKind.DEVICE_REMOVED and device_id in self._devices:
                removed = self._devices.pop(device_id)
                component = TYPE_COMPONENTS.get(removed.type, "sensor")
                self.client.publish(self.config_topic(component, device_id), b"", qos=1, retain=True)
            elif device_id not in self._devices:
                continue
            elif event.kind is EventKind.STATE_CHANGED:
                self._attributes[device_id].update(event.data)
                self._publish_state(device_id)
            elif event.kind is EventKind.AVAILABILITY:
                self._available[device_id] = bool(event.data.get("is_available"))
                self._publish_availability(device_id)

    # -- publishing -------------------------------------------------------------------------

    def config_topic(self, component: str, device_id: str) -> str:
        """Where one device's discovery config lives."""
        return f"{self.prefix}/{component}/{self.node_id}/{device_id}/config"

    def publish_all(self) -> None:
        """Every config, state and availability (on connect, and when Home Assistant comes online)."""
        self.client.publish(f"{self.base}/{STATUS_SUFFIX}", PAYLOAD_ONLINE, qos=1, retain=True)
        for device in self._devices.values():
            self._publish_config(device)
            self._publish_state(device.id)
            self._publish_availability(device.id)

    def _publish_config(self, device: Device) -> None:
        component, config = self.config_for(device)
        self.client.publish(self.config_topic(component, device.id), json.dumps(config), qos=1, retain=True)

    def _publish_state(self, device_id: str) -> None:
        payload = self.state_payload(self._devices[device_id], self._attributes[device_id])
        self.client.publish(f"{self.base}/{device_id}/state", json.dumps(payload), qos=0, retain=True)

    def _publish_availability(self, device_id: str) -> None:
        payload = PAYLOAD_ONLINE if self._available.get(device_id, True) else PAYLOAD_OFFLINE
        self.client.publish(f"{self.base}/{device_id}/availability", payload, qos=1, retain=True)

    def config_for(self, device: Device) -> tuple[str, dict[str, Any]]:
        """(component, discovery config) for one hub device."""
        t = f"{self.base}/{device.id}"
        spec = device.spec
        component = TYPE_COMPONENTS.get(device.type, "sensor")
        config: dict[str, Any] = {
            "unique_id": device.id,
            "name": device.display_name,
            "state_topic": f"{t}/state",
            "availability": [{"topic": f"{self.base}/{STATUS_SUFFIX}"}, {"topic": f"{t}/availability"}],
            "availability_mode": "all",
            "device": {
                "identifiers": [f"oneteam_{device.id}"],
                "name": device.display_name,
                "manufacturer": device.manufacturer or "oneteam",
                "model": device.model or device.type.value,
                **({"suggested_area": device.room} if device.room else {}),
            },
        }
        if component == "light":
            config |= {"schema": "json", "command_topic": f"{t}/set"}
            if "set_brightness" in spec.commands:
                config |= {"brightness": True, "brightness_scale": 100}
        elif component in ("switch", "fan"):
            config |= {"command_topic": f"{t}/set", "value_template": "{{ value_json.state }}"}
        if component == "fan":
            config |= _fan_config(device, t)
        elif component == "climate":
            config |= _climate_config(device, t)
        elif component == "vacuum":
            config |= {"schema": "state", "command_topic": f"{t}/set"}
        elif component == "sensor":
            first = spec.queries[0] if spec.queries else "value"
            config |= {
                "value_template": f"{{{{ value_json.{first} }}}}",
                "json_attributes_topic": f"{t}/state",
            }
        return component, config

    def state_payload(self, device: Device, attributes: Mapping[str, StateValue]) -> dict[str, Any]:
        """The JSON state a device's discovery config reads."""
        power = attributes.get("power")
        on_off = "ON" if power else "OFF"
        if device.type is DeviceType.LIGHT:
            return {"state": on_off, "brightness": attributes.get("brightness")}
        if device.type is DeviceType.SWITCH:
            return {"state": on_off}
        if device.type is DeviceType.AIR_CONDITIONER:
            mode = attributes.get("mode")
            ha_mode = MODE_TO_HA.get(mode, "auto") if power and isinstance(mode, str) else "off"
            return {
                "mode": ha_mode,
                "temperature": attributes.get("temperature"),
                "current_temperature": attributes.get("current_temperature"),
                "fan_mode": attributes.get("fan_speed"),
            }
        if device.type is DeviceType.AIR_PURIFIER:
            speed = attributes.get("fan_speed")
            return {
                "state": on_off,
                "percentage": SPEED_PERCENT.get(speed, 0) if isinstance(speed, str) and power else 0,
                "preset_mode": attributes.get("mode"),
            }
        if device.type is DeviceType.ROBOT_CLEANER:
            return {"state": attributes.get("run_state"), "battery_level": attributes.get("battery")}
        return dict(attributes)

    # -- commands in ------------------------------------------------------------------------

    def _on_birth(self, topic: str, payload: bytes) -> None:
        if payload == PAYLOAD_ONLINE.encode():
            self.publish_all()

    def _on_command(self, topic: str, payload: bytes) -> None:
        parts = topic[len(self.base) + 1 :].split("/")
        device = self._devices.get(parts[0])
        if device is None or len(payload) > MAX_STATE_BYTES:
            return
        field = parts[1] if len(parts) == 3 else ""
        try:
            commands = self.commands_for(device, field, payload.decode())
        except (UnicodeDecodeError, ValueError) as exc:
            self._warn_once(topic, f"command payload refused: {exc}")
            return
        for command in commands:
            try:
                self._commands.put_nowait(command)
            except asyncio.QueueFull:
                self.commands_dropped += 1
                self._warn_once(
                    "queue", "MQTT commands arrive faster than the hub carries them out; dropping"
                )

    def commands_for(self, device: Device, field: str, text: str) -> list[Command]:
        """Hub commands for one MQTT command message; ValueError when the payload makes no sense."""
        if device.type is DeviceType.LIGHT and field == "":
            names = _light_command(text)
        elif device.type is DeviceType.ROBOT_CLEANER and field == "":
            names = [("return_to_base" if text == "return_home" else text, None)]
        elif field in ("", "power"):
            if text not in ("ON", "OFF"):
                raise ValueError(f"expected ON or OFF, got {text[:40]!r}")
            names = [("turn_on" if text == "ON" else "turn_off", None)]
        elif field in _FIELD_COMMANDS:
            is_on = bool(self._attributes.get(device.id, {}).get("power"))
            names = _FIELD_COMMANDS[field](device, text, is_on)
        else:
            raise ValueError(f"unknown command field {field!r}")
        return [Command(device_id=device.id, name=name, value=value, source="mqtt") for name, value in names]

    async def _command_worker(self, execute: Execute) -> None:
        while True:
            command = await self._commands.get()
            try:
                await execute(command)
            except OneteamError as exc:
                self._warn_once(f"{command.device_id}/{command.name}", f"command refused: {exc}")

    def _warn_once(self, key: str, message: str) -> None:
        if key in self._warned:
            return
        if len(self._warned) < 10_000:
            self._warned.add(key)
        _LOGGER.warning("%s: %s", key, message)


def _climate_config(device: Device, t: str) -> dict[str, Any]:
    spec = device.spec
    config: dict[str, Any] = {
        "mode_command_topic": f"{t}/mode/set",
        "mode_state_topic": f"{t}/state",
        "mode_state_template": "{{ value_json.mode }}",
        "modes": ["off", *(MODE_TO_HA[m] for m in spec.modes if m in MODE_TO_HA)],
        "power_command_topic": f"{t}/power/set",
        "current_temperature_topic": f"{t}/state",
        "current_temperature_template": "{{ value_json.current_temperature }}",
    }
    if "set_temperature" in spec.commands:
        config |= {
            "temperature_command_topic": f"{t}/temperature/set",
            "temperature_state_topic": f"{t}/state",
            "temperature_state_template": "{{ value_json.temperature }}",
        }
        if spec.temperature_range is not None:
            config |= {"min_temp": spec.temperature_range.low, "max_temp": spec.temperature_range.high}
    if "set_fan_speed" in spec.commands:
        config |= {
            "fan_mode_command_topic": f"{t}/fan_mode/set",
            "fan_mode_state_topic": f"{t}/state",
            "fan_mode_state_template": "{{ value_json.fan_mode }}",
            "fan_modes": list(spec.fan_speeds),
        }
    return config


def _fan_config(device: Device, t: str) -> dict[str, Any]:
    spec = device.spec
    config: dict[str, Any] = {}
    if any(s in SPEED_PERCENT for s in spec.fan_speeds):
        config |= {
            "percentage_command_topic": f"{t}/percentage/set",
            "percentage_state_topic": f"{t}/state",
            "percentage_value_template": "{{ value_json.percentage }}",
        }
    presets = list(dict.fromkeys([*spec.modes, *(("auto",) if "auto" in spec.fan_speeds else ())]))
    if presets:
        config |= {
            "preset_mode_command_topic": f"{t}/preset_mode/set",
            "preset_mode_state_topic": f"{t}/state",
            "preset_mode_value_template": "{{ value_json.preset_mode }}",
            "preset_modes": presets,
        }
    return config


_Named = list[tuple[str, float | str | None]]


def _light_command(text: str) -> _Named:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("light command must be a JSON object")
    if data.get("state") == "OFF":
        return [("turn_off", None)]
    brightness = data.get("brightness")
    if isinstance(brightness, int | float) and not isinstance(brightness, bool):
        return [("set_brightness", brightness)]
    return [("turn_on", None)]


def _mode_command(device: Device, text: str, is_on: bool) -> _Named:
    if text == "off":
        return [("turn_off", None)]
    # Home Assistant sets a mode to switch a climate device on; our hub keeps the two apart.
    named: _Named = [("set_mode", HA_TO_MODE.get(text, text))]
    return named if is_on else [("turn_on", None), *named]


def _percentage_command(device: Device, text: str, is_on: bool) -> _Named:
    pct = float(text)
    return [("turn_off", None)] if pct <= 0 else [("set_fan_speed", _speed_of(round(pct)))]


def _preset_command(device: Device, text: str, is_on: bool) -> _Named:
    return [("set_mode", text)] if text in device.spec.modes else [("set_fan_speed", text)]


_FIELD_COMMANDS: dict[str, Callable[[Device, str, bool], _Named]] = {
    "mode": _mode_command,
    "temperature": lambda device, text, is_on: [("set_temperature", float(text))],
    "fan_mode": lambda device, text, is_on: [("set_fan_speed", text)],
    "percentage": _percentage_command,
    "preset_mode": _preset_command,
}
