"""Google EXECUTE commands turned into our `Command`s: which trait each command needs, and one
handler per command that reads and checks its params against the device (a thermostat mode, a
channel, a vacuum zone) and answers the steps to dispatch, or a `TranslationError` with the
Google error code. What a device is and says in Google's words stays in `traits.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oneteam.interop.smarthome.traits import (
    MODE_GROUP,
    THERMOSTAT_MODES,
    TRAIT,
    TranslationError,
    as_number,
    listed_channels,
    traits_of,
    zone_name,
)
from oneteam.model import Command, Device, Direction, State
from oneteam.model.state_rules import RESUME

_C = "action.devices.commands."
_FROM_THERMOSTAT = {v: k for k, v in THERMOSTAT_MODES.items()}


def to_commands(device: Device, state: State, command: str, params: Mapping[str, Any]) -> list[Command]:
    """Our commands for one Google EXECUTE command on one device, or TranslationError."""
    traits = set(traits_of(device, state))
    name = command.removeprefix(_C)
    # The washer example upstream spells it PauseUnPause; the trait index says PauseUnpause.
    if name == "PauseUnPause":
        name = "PauseUnpause"
    needed = _COMMAND_TRAIT.get(name)
    if needed is None or TRAIT + needed not in traits:
        raise TranslationError("functionNotSupported", f"{device.id} has no {command}")
    return [
        Command(device_id=device.id, name=n, value=v, direction=d, target=t)
        for n, v, d, t in _HANDLERS[name](device, state, params)
    ]


_COMMAND_TRAIT = {
    "OnOff": "OnOff",
    "ThermostatTemperatureSetpoint": "TemperatureSetting",
    "ThermostatSetMode": "TemperatureSetting",
    "SetFanSpeed": "FanSpeed",
    "BrightnessAbsolute": "Brightness",
    "setVolume": "Volume",
    "volumeRelative": "Volume",
    "selectChannel": "Channel",
    "relativeChannel": "Channel",
    "StartStop": "StartStop",
    "PauseUnpause": "StartStop",
    "SetModes": "Modes",
    "Dock": "Dock",
    "SetTemperature": "TemperatureControl",
    "LockUnlock": "LockUnlock",
    "OpenClose": "OpenClose",
}

_Step = tuple[str, Any, Direction | None, str | None]
_Handler = Callable[[Device, State, Mapping[str, Any]], list[_Step]]


def _param(params: Mapping[str, Any], key: str) -> Any:
    if key not in params:
        raise TranslationError("protocolError", f"missing param {key!r}")
    return params[key]


def _flag(params: Mapping[str, Any], key: str) -> bool:
    value = _param(params, key)
    if not isinstance(value, bool):
        raise TranslationError("protocolError", f"param {key!r} must be true or false")
    return value


def _simple(ours: str, key: str) -> _Handler:
    return lambda device, state, params: [(ours, _param(params, key), None, None)]


def _on_off(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    return [("turn_on" if _flag(params, "on") else "turn_off", None, None, None)]


def _thermostat_mode(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    mode = _param(params, "thermostatMode")
    if mode in ("off", "on"):
        return [(f"turn_{mode}", None, None, None)]
    if mode not in _FROM_THERMOSTAT:
        raise TranslationError("notSupported", f"thermostat mode {mode!r} is not available")
    return [("set_mode", _FROM_THERMOSTAT[mode], None, None)]


def _fan_speed(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    if "fanSpeed" not in params:
        raise TranslationError("notSupported", "only named fan speeds are supported")
    return [("set_fan_speed", params["fanSpeed"], None, None)]


def _volume_relative(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    steps = _param(params, "relativeSteps")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps == 0:
        raise TranslationError("valueOutOfRange", "relativeSteps must be a non-zero integer")
    return [("adjust_volume", abs(steps), Direction.UP if steps > 0 else Direction.DOWN, None)]


def _select_channel(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    value = params.get("channelNumber", params.get("channelCode"))
    try:
        number = int(str(value))
    except ValueError:
        raise TranslationError("noAvailableChannel", f"no channel {value!r}") from None
    if number not in listed_channels(device):
        raise TranslationError("noAvailableChannel", f"channel {number} is not in the TV's list")
    return [("set_channel", number, None, None)]


def _relative_channel(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    change = _param(params, "relativeChannelChange")
    if not isinstance(change, int) or isinstance(change, bool):
        raise TranslationError("valueOutOfRange", "relativeChannelChange must be an integer")
    number = round(as_number(state.get("channel"), 1.0)) + change
    if number not in listed_channels(device):
        raise TranslationError("noAvailableChannel", f"channel {number} is not in the TV's list")
    return [("set_channel", number, None, None)]


def _zone_id(device: Device, asked: str) -> str:
    """The zone a partner named (by any of its names or its id); notSupported for any other, so
    cleaning "the kitchen" never cleans the whole home."""
    wanted = asked.strip().casefold()
    for zone in device.zones:
        if wanted in {zone.id.casefold(), *(n.casefold() for n in zone.names)}:
            return zone.id
    known = ", ".join(zone_name(device, z) for z in device.zone_ids()) or "none"
    raise TranslationError("notSupported", f"{device.id} has no zone {asked!r} (zones: {known})")


def _start_stop(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    start = _flag(params, "start")
    zones = params.get("multipleZones") or ([params["zone"]] if params.get("zone") is not None else [])
    if not zones:
        return [("start" if start else "stop", None, None, None)]
    if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
        raise TranslationError("protocolError", "zone and multipleZones name zones as strings")
    if not start:  # stopping is never limited to a zone: the robot stops
        return [("stop", None, None, None)]
    if len(zones) > 1:
        raise TranslationError("notSupported", f"{device.id} cleans one zone at a time")
    return [("start", _zone_id(device, zones[0]), None, None)]


def _pause(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    # Unpausing only continues a paused cycle: the hub refuses `resume` on an idle washer.
    return [("pause" if _flag(params, "pause") else RESUME, None, None, None)]


def _set_modes(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    settings = _param(params, "updateModeSettings")
    group = MODE_GROUP[device.type]
    if not isinstance(settings, Mapping) or set(settings) != {group}:
        raise TranslationError("notSupported", f"{device.id} has only the mode setting {group!r}")
    return [("set_mode", settings[group], None, None)]


def _dock(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    return [("return_to_base", None, None, None)]


def _set_temperature(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    target = "fridge" if device.spec.compartments else None
    return [("set_temperature", _param(params, "temperature"), None, target)]


def _lock_unlock(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    return [("lock" if _flag(params, "lock") else "unlock", None, None, None)]


def _open_close(device: Device, state: State, params: Mapping[str, Any]) -> list[_Step]:
    percent = _param(params, "openPercent")
    if isinstance(percent, bool) or not isinstance(percent, int | float) or percent not in (0, 100):
        raise TranslationError("discreteOnlyOpenClose", f"{device.id} is only fully open or closed")
    return [("open" if percent == 100 else "close", None, None, None)]


_HANDLERS: dict[str, _Handler] = {
    "OnOff": _on_off,
    "ThermostatTemperatureSetpoint": _simple("set_temperature", "thermostatTemperatureSetpoint"),
    "ThermostatSetMode": _thermostat_mode,
    "SetFanSpeed": _fan_speed,
    "BrightnessAbsolute": _simple("set_brightness", "brightness"),
    "setVolume": _simple("set_volume", "volumeLevel"),
    "volumeRelative": _volume_relative,
    "selectChannel": _select_channel,
    "relativeChannel": _relative_channel,
    "StartStop": _start_stop,
    "PauseUnpause": _pause,
    "SetModes": _set_modes,
    "Dock": _dock,
    "SetTemperature": _set_temperature,
    "LockUnlock": _lock_unlock,
    "OpenClose": _open_close,
}
