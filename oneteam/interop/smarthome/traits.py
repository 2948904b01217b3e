"""Our model ⇄ the Google Smart Home vocabulary: device types, traits, SYNC attributes and QUERY
states (EXECUTE commands are turned into ours in `execute.py`).

Trait names and their fields follow developers.home.google.com/cloud-to-cloud/traits; the JSON
Schemas in shared/data/smarthome (google-home/smart-home-schema) check what we send in tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oneteam.i18n import render
from oneteam.model import Device, DeviceType, Home, State

TRAIT = "action.devices.traits."
_HANGUL = re.compile(r"[\uac00-\ud7a3]")

GOOGLE_TYPES: dict[DeviceType, str] = {
    DeviceType.AIR_CONDITIONER: "action.devices.types.AC_UNIT",
    DeviceType.WASHER: "action.devices.types.WASHER",
    DeviceType.DRYER: "action.devices.types.DRYER",
    DeviceType.REFRIGERATOR: "action.devices.types.REFRIGERATOR",
    DeviceType.AIR_PURIFIER: "action.devices.types.AIRPURIFIER",
    DeviceType.ROBOT_CLEANER: "action.devices.types.VACUUM",
    DeviceType.LIGHT: "action.devices.types.LIGHT",
    DeviceType.TV: "action.devices.types.TV",
    DeviceType.SWITCH: "action.devices.types.SWITCH",
    DeviceType.SENSOR: "action.devices.types.SENSOR",
    DeviceType.DOOR_LOCK: "action.devices.types.LOCK",
    DeviceType.GAS_VALVE: "action.devices.types.VALVE",
    DeviceType.OVEN: "action.devices.types.OVEN",
}

# Our AC modes → Google thermostat modes ("fan" is "fan-only" there); "off" means power off.
THERMOSTAT_MODES = {"cool": "cool", "dry": "dry", "fan": "fan-only", "auto": "auto", "heat": "heat"}
# Name of the Modes setting group per type: a washer's modes are wash courses.
MODE_GROUP = {DeviceType.WASHER: "course", DeviceType.AIR_PURIFIER: "mode"}
_RUNNING = {"running", "cleaning", "returning"}
# Google's SensorState AirQuality descriptive states for our Korean PM2.5 bands.
MAX_LISTED_CHANNELS = 200
"""SYNC lists a TV's channels one by one; beyond this many a partner is told only the first ones."""
_AIR_QUALITY = {"good": "good", "moderate": "moderate", "bad": "unhealthy", "very_bad": "very unhealthy"}


class TranslationError(Exception):
    """An EXECUTE command that our model cannot express; `code` is the Google error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True, kw_only=True)
class GoogleDevice:
    """One device as a partner sees it."""

    type: str
    traits: tuple[str, ...]
    attributes: Mapping[str, Any]


# What a sensor measures, from the unit it reports (an MQTT sensor's `unit_of_measurement`);
# a sensor without a unit is a thermometer, as the virtual one is.
_SENSOR_UNITS = {
    "°C": "temperature",
    "℃": "temperature",
    "C": "temperature",
    "°F": "fahrenheit",
    "%": "humidity",
    "µg/m³": "pm25",
    "μg/m³": "pm25",
    "ug/m3": "pm25",
    "ppm": "co2",
}
# SensorState numeric sensors: our kind → (Google sensor name, rawValueUnit).
_NUMERIC_SENSORS = {
    "pm25": ("PM2.5", "MICROGRAMS_PER_CUBIC_METER"),
    "co2": ("CarbonDioxideLevel", "PARTS_PER_MILLION"),
}


def sensor_kind(device: Device, state: State | None) -> str | None:
    """`temperature`, `fahrenheit`, `humidity`, `pm25`, `co2`, `other`, or None (not a sensor)."""
    if device.type is not DeviceType.SENSOR:
        return None
    unit = str(state.get("unit") or "°C").strip() if state is not None else "°C"
    return _SENSOR_UNITS.get(unit, "other")


def traits_of(device: Device, state: State | None = None) -> tuple[str, ...]:
    """The Google traits a device has, from what its type spec can do (and, for a sensor, the
    unit it reports: a humidity sensor is HumiditySetting, never a 65 °C thermometer)."""
    spec, commands = device.spec, set(device.spec.commands)
    kind = sensor_kind(device, state)
    traits: list[str] = []
    if {"turn_on", "turn_off"} <= commands and device.type is not DeviceType.REFRIGERATOR:
        traits.append("OnOff")
    if device.type is DeviceType.AIR_CONDITIONER and "set_temperature" in commands:
        traits.append("TemperatureSetting")
    if spec.fan_speeds and "set_fan_speed" in commands:
        traits.append("FanSpeed")
    if "set_brightness" in commands:
        traits.append("Brightness")
    if "set_volume" in commands:
        traits.append("Volume")
    if "set_channel" in commands:
        traits.append("Channel")
    if "start" in commands:
        traits.append("StartStop")
    if "lock" in commands:
        traits.append("LockUnlock")
    if "open" in commands:
        traits.append("OpenClose")
    if device.type in MODE_GROUP and spec.modes and "set_mode" in commands:
        traits.append("Modes")
    if "return_to_base" in commands:
        traits.append("Dock")
    if "remaining_time" in spec.queries:
        traits.append("RunCycle")
    traits.extend(_measuring_traits(device, kind))
    return tuple(TRAIT + t for t in traits)


def _measuring_traits(device: Device, kind: str | None) -> list[str]:
    """Traits of what a device measures: fridge compartments, a sensor's quantity, air quality."""
    out: list[str] = []
    if device.spec.compartments or kind in ("temperature", "fahrenheit") or device.type is DeviceType.OVEN:
        out.append("TemperatureControl")
    if kind == "humidity":
        out.append("HumiditySetting")
    if "air_quality" in device.spec.queries or kind in _NUMERIC_SENSORS:
        out.append("SensorState")
    return out


def _synonyms(names: tuple[str, ...], canonical: str) -> list[dict[str, Any]]:
    """Names split by language (Hangul → ko), the canonical id always among the English ones."""
    korean = [n for n in names if _HANGUL.search(n)]
    english = [canonical.replace("_", " ")] + [n for n in names if not _HANGUL.search(n)]
    out = [{"lang": "en", "synonyms": list(dict.fromkeys(english))}]
    if korean:
        out.append({"lang": "ko", "synonyms": korean})
    return out


def _catalog_list(key: str, language: str) -> list[str]:
    return [part.strip() for part in render(key, language).split(",") if part.strip()]


def describe(device: Device, home: Home, state: State | None = None) -> GoogleDevice:
    """The SYNC view of a device: its Google type, traits and attributes."""
    traits = traits_of(device, state)
    kind = sensor_kind(device, state)
    spec = device.spec
    attributes: dict[str, Any] = {}
    if TRAIT + "TemperatureSetting" in traits:
        limit = spec.temperature_range
        attributes["availableThermostatModes"] = ["off", "on"] + [
            THERMOSTAT_MODES[m] for m in spec.modes if m in THERMOSTAT_MODES
        ]
        attributes["thermostatTemperatureUnit"] = "C"
        if limit is not None:
            attributes["thermostatTemperatureRange"] = {
                "minThresholdCelsius": limit.low,
                "maxThresholdCelsius": limit.high,
            }
    if TRAIT + "FanSpeed" in traits:
        attributes["availableFanSpeeds"] = {
            "speeds": [
                {
                    "speed_name": speed,
                    "speed_values": [
                        {"speed_synonym": s["synonyms"], "lang": s["lang"]}
                        for s in _synonyms(home.fan_speed_names.get(speed, ()), speed)
                    ],
                }
                for speed in spec.fan_speeds
            ],
            "ordered": True,
        }
        attributes["reversible"] = False
    if TRAIT + "Volume" in traits:
        attributes.update(volumeMaxLevel=int(spec.volume_range.high), volumeCanMuteAndUnmute=False)
    if TRAIT + "Channel" in traits:
        # Channels are numbers only; a partner selects them with channelNumber.
        attributes["availableChannels"] = [
            {"key": str(n), "names": [str(n)], "number": str(n)} for n in listed_channels(device)
        ]
    attributes.update(_control_attributes(device, traits))
    if TRAIT + "Modes" in traits:
        group = MODE_GROUP[device.type]
        names = home.mode_names.get(device.type, {})
        attributes["availableModes"] = [
            {
                "name": group,
                "name_values": [
                    {"name_synonym": _catalog_list(f"interop.mode_name.{group}", lang), "lang": lang}
                    for lang in ("en", "ko")
                ],
                "settings": [
                    {
                        "setting_name": mode,
                        "setting_values": [
                            {"setting_synonym": s["synonyms"], "lang": s["lang"]}
                            for s in _synonyms(names.get(mode, ()), mode)
                        ],
                    }
                    for mode in spec.modes
                ],
                "ordered": False,
            }
        ]
    if TRAIT + "TemperatureControl" in traits:
        limit = spec.compartments.get("fridge") if spec.compartments else spec.temperature_range
        low, high = (limit.low, limit.high) if limit else (-40.0, 80.0)
        attributes["temperatureRange"] = {"minThresholdCelsius": low, "maxThresholdCelsius": high}
        attributes["temperatureUnitForUX"] = "C"
        if device.type is DeviceType.SENSOR:
            attributes["queryOnlyTemperatureControl"] = True
    if TRAIT + "HumiditySetting" in traits:
        attributes["queryOnlyHumiditySetting"] = True
    if TRAIT + "SensorState" in traits and kind in _NUMERIC_SENSORS:
        name, unit = _NUMERIC_SENSORS[kind]
        attributes["sensorStatesSupported"] = [{"name": name, "numericCapabilities": {"rawValueUnit": unit}}]
    elif TRAIT + "SensorState" in traits:
        attributes["sensorStatesSupported"] = [
            {
                "name": "AirQuality",
                "descriptiveCapabilities": {"availableStates": sorted(set(_AIR_QUALITY.values()))},
            },
            {"name": "PM2.5", "numericCapabilities": {"rawValueUnit": "MICROGRAMS_PER_CUBIC_METER"}},
        ]
    return GoogleDevice(type=GOOGLE_TYPES[device.type], traits=traits, attributes=attributes)


def _control_attributes(device: Device, traits: tuple[str, ...]) -> dict[str, Any]:
    """StartStop (zones a robot can clean alone) and OpenClose attributes."""
    out: dict[str, Any] = {}
    if TRAIT + "StartStop" in traits:
        out["pausable"] = "pause" in device.spec.commands
        if device.zones:
            out["availableZones"] = [zone_name(device, z) for z in device.zone_ids()]
    if TRAIT + "OpenClose" in traits:
        out["discreteOnlyOpenClose"] = True  # a gas valve is open or shut, never half-way
    return out


def as_number(value: object, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def google_state(device: Device, state: State) -> dict[str, Any]:
    """The QUERY view of a device's state (without `online`/`status`)."""
    traits = set(traits_of(device, state))
    kind = sensor_kind(device, state)
    attrs = state.attributes
    out: dict[str, Any] = {}
    power = bool(attrs.get("power", False))
    if TRAIT + "OnOff" in traits:
        out["on"] = power
    if TRAIT + "TemperatureSetting" in traits:
        mode = str(attrs.get("mode", "cool"))
        out["thermostatMode"] = THERMOSTAT_MODES.get(mode, "auto") if power else "off"
        out["thermostatTemperatureSetpoint"] = as_number(attrs.get("temperature"), 24.0)
        if "current_temperature" in attrs:
            out["thermostatTemperatureAmbient"] = as_number(attrs.get("current_temperature"))
    if TRAIT + "FanSpeed" in traits and attrs.get("fan_speed") is not None:
        out["currentFanSpeedSetting"] = str(attrs["fan_speed"])
    if TRAIT + "Brightness" in traits:
        out["brightness"] = round(as_number(attrs.get("brightness")))
    if TRAIT + "Volume" in traits:
        out.update(currentVolume=round(as_number(attrs.get("volume"))), isMuted=False)
    out.update(_cycle_state(device, traits, attrs))
    if TRAIT + "LockUnlock" in traits:
        out.update(isLocked=attrs.get("locked") is True, isJammed=False)
    if TRAIT + "OpenClose" in traits:
        out["openPercent"] = 100 if attrs.get("valve") == "open" else 0
    out.update(_measured_state(device, kind, traits, attrs))
    return out


def _measured_state(
    device: Device, kind: str | None, traits: set[str], attrs: Mapping[str, Any]
) -> dict[str, Any]:
    """TemperatureControl, HumiditySetting and SensorState states."""
    out: dict[str, Any] = {}
    if TRAIT + "TemperatureControl" in traits:
        if device.type is DeviceType.SENSOR:
            value = as_number(attrs.get("value"))
            if kind == "fahrenheit":
                value = round((value - 32) * 5 / 9, 1)
            out.update(temperatureSetpointCelsius=value, temperatureAmbientCelsius=value)
        elif device.type is DeviceType.OVEN:
            out.update(
                temperatureSetpointCelsius=as_number(attrs.get("temperature")),
                temperatureAmbientCelsius=as_number(attrs.get("current_temperature")),
            )
        else:
            out["temperatureSetpointCelsius"] = as_number(attrs.get("fridge_temperature"), 3.0)
    if TRAIT + "HumiditySetting" in traits:
        out["humidityAmbientPercent"] = max(0, min(100, round(as_number(attrs.get("value")))))
    if TRAIT + "SensorState" in traits and kind in _NUMERIC_SENSORS:
        out["currentSensorStateData"] = [
            {"name": _NUMERIC_SENSORS[kind][0], "rawValue": as_number(attrs.get("value"))}
        ]
    elif TRAIT + "SensorState" in traits:
        quality = _AIR_QUALITY.get(str(attrs.get("air_quality", "")), "moderate")
        out["currentSensorStateData"] = [
            {"name": "AirQuality", "currentSensorState": quality},
            {"name": "PM2.5", "rawValue": as_number(attrs.get("pm25"))},
        ]
    return out


def _cycle_state(device: Device, traits: set[str], attrs: Mapping[str, Any]) -> dict[str, Any]:
    """StartStop, Modes, Dock and RunCycle states of appliances that run a cycle."""
    out: dict[str, Any] = {}
    run_state = str(attrs.get("run_state", "idle"))
    if TRAIT + "StartStop" in traits:
        out.update(isRunning=run_state in _RUNNING, isPaused=run_state == "paused")
        zone = attrs.get("zone")
        if device.zones and zone and run_state in _RUNNING | {"paused"}:
            out["activeZones"] = [zone_name(device, str(zone))]
    if TRAIT + "Modes" in traits and attrs.get("mode") is not None:
        out["currentModeSettings"] = {MODE_GROUP[device.type]: str(attrs["mode"])}
    if TRAIT + "Dock" in traits:
        out["isDocked"] = run_state == "docked"
    if TRAIT + "RunCycle" in traits:
        remaining = round(as_number(attrs.get("remaining_time")))
        cycle = str(attrs.get("mode") or device.type.value) if run_state in _RUNNING | {"paused"} else "idle"
        out.update(
            currentRunCycle=[{"currentCycle": cycle, "lang": "en"}],
            currentTotalRemainingTime=remaining,
            currentCycleRemainingTime=remaining,
        )
    return out


def listed_channels(device: Device) -> range:
    """The channels SYNC lists for a TV: its channel range, at most MAX_LISTED_CHANNELS of them."""
    limit = device.spec.channel_range
    low = max(1, int(limit.low))
    return range(low, min(int(limit.high), low + MAX_LISTED_CHANNELS - 1) + 1)


def zone_name(device: Device, zone_id: str) -> str:
    """What SYNC calls a zone: its first name in the home file, or its id."""
    for zone in device.zones:
        if zone.id == zone_id:
            return zone.names[0] if zone.names else zone.id
    return zone_id
