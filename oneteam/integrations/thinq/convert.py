"""ThinQ device list, profiles and status ⇄ oneteam's Device, TypeSpec and state attributes.

SDK types stop here and in control.py: the adapter holds an `Appliance`, whose `sdk` field is the
SDK's device object, and never looks inside it. What a device can do is read from its own profile
(an AC whose profile says 18–30 °C gets `temperature_range=Range(18, 30)`), never assumed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thinqconnect import (
    AirConditionerDevice,
    AirPurifierDevice,
    DryerDevice,
    RefrigeratorDevice,
    RobotCleanerDevice,
    WasherDevice,
    WashtowerDevice,
    WashtowerDryerDevice,
    WashtowerWasherDevice,
)
from thinqconnect.devices.const import Location, Property

from oneteam.i18n import render
from oneteam.integrations.thinq import const
from oneteam.integrations.thinq.const import Kind
from oneteam.model import Device, DeviceType, Range, StateValue, TypeSpec, builtin_type_specs

_LOGGER = logging.getLogger(__name__)

_CONSTRUCTORS: dict[str, Any] = {
    "DEVICE_AIR_CONDITIONER": AirConditionerDevice,
    "DEVICE_WASHER": WasherDevice,
    "DEVICE_WASHTOWER_WASHER": WashtowerWasherDevice,
    "DEVICE_DRYER": DryerDevice,
    "DEVICE_WASHTOWER_DRYER": WashtowerDryerDevice,
    "DEVICE_WASHTOWER": WashtowerDevice,
    "DEVICE_REFRIGERATOR": RefrigeratorDevice,
    "DEVICE_AIR_PURIFIER": AirPurifierDevice,
    "DEVICE_ROBOT_CLEANER": RobotCleanerDevice,
}
_BUILTIN = builtin_type_specs()
Attributes = dict[str, StateValue]


class UnsupportedAppliance(Exception):
    """A ThinQ device the hub cannot drive: unknown type, or a profile the SDK cannot read."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"{model}: {reason}")
        self.model = model
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedDevice:
    """One entry of LG's device list, checked."""

    thinq_id: str
    device_type: str
    model: str
    alias: str
    reportable: bool
    group_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Appliance:
    """One hub device backed by a ThinQ device (a WashTower gives two of these)."""

    device: Device
    thinq_id: str
    kind: Kind
    """The hub-facing class: washer or dryer for the parts of a WashTower."""
    sdk: Any
    """The SDK object commands go to (the washer's MAIN sub-device, a WashTower's part, ...)."""
    root: Any
    """The SDK device that status payloads are given to."""


def listed_devices(payload: object) -> list[ListedDevice]:
    """LG's device list as checked entries; malformed entries are skipped with a log line."""
    entries = payload if isinstance(payload, list) else []
    found: list[ListedDevice] = []
    for entry in entries:
        info = entry.get("deviceInfo") if isinstance(entry, dict) else None
        if not isinstance(info, dict) or not isinstance(entry.get("deviceId"), str):
            _LOGGER.warning("ThinQ device list entry without deviceId/deviceInfo skipped")
            continue
        found.append(
            ListedDevice(
                thinq_id=entry["deviceId"],
                device_type=str(info.get("deviceType", "")),
                model=str(info.get("modelName", "unknown model")),
                alias=str(info.get("alias") or info.get("modelName") or "ThinQ"),
                reportable=bool(info.get("reportable", True)),
                group_id=info.get("groupId") if isinstance(info.get("groupId"), str) else None,
            )
        )
    return found


def short_id(thinq_id: str) -> str:
    """A stable 8-character id for a ThinQ device id (LG's ids are long and carry no meaning)."""
    return hashlib.sha256(thinq_id.encode("utf-8")).hexdigest()[:8]


def build_appliances(
    api: Any, listed: ListedDevice, profile: object, rooms: Mapping[str, str]
) -> list[Appliance]:
    """The hub devices of one ThinQ device, built from its profile; UnsupportedAppliance if it cannot be."""
    kind = const.DEVICE_TYPES.get(listed.device_type)
    if kind is None:
        raise UnsupportedAppliance(listed.model, f"device type {listed.device_type} is not supported")
    if not isinstance(profile, dict):
        raise UnsupportedAppliance(listed.model, "profile is not an object")
    try:
        root = _CONSTRUCTORS[listed.device_type](
            thinq_api=api,
            device_id=listed.thinq_id,
            device_type=listed.device_type,
            model_name=listed.model,
            alias=listed.alias,
            reportable=listed.reportable,
            group_id=listed.group_id or "",
            profile=profile,
        )
        parts = _parts(kind, root)
        room = rooms.get(listed.alias) or rooms.get(listed.thinq_id)
        return [
            Appliance(
                device=_device(listed, part_kind, spec_for(part_kind, sdk), room, len(parts) > 1),
                thinq_id=listed.thinq_id,
                kind=part_kind,
                sdk=sdk,
                root=root,
            )
            for part_kind, sdk in parts
        ]
    # The SDK reads profiles without checking them: a malformed one surfaces as any of these.
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise UnsupportedAppliance(listed.model, f"profile not readable ({exc.__class__.__name__})") from exc


def _parts(kind: Kind, root: Any) -> list[tuple[Kind, Any]]:
    if kind is Kind.WASHTOWER:
        return [(Kind.WASHER, root.washer), (Kind.DRYER, root.dryer)]
    if kind is Kind.WASHER and not isinstance(root, WashtowerDevice):
        sub = root.get_sub_device(Location.MAIN)
        if sub is None:
            raise ValueError("washer profile has no MAIN location")
        return [(kind, sub)]
    return [(kind, root)]


def _device(listed: ListedDevice, kind: Kind, spec: TypeSpec, room: str | None, is_part: bool) -> Device:
    suffix = short_id(listed.thinq_id)
    if is_part:
        names = tuple(render(f"thinq.part.{kind.value}", lang, alias=listed.alias) for lang in ("ko", "en"))
    else:
        names = (listed.alias,)
    return Device(
        id=f"thinq_{kind.value}_{suffix}",
        type=DeviceType(kind.value),
        room=room,
        spec=spec,
        names=names,
        integration=const.DOMAIN,
        manufacturer="LG",
        model=listed.model,
    )


# -- profile → TypeSpec -----------------------------------------------------------------------


def _writable(profiles: Any, prop: str) -> Any:
    """The profile's writable values of `prop` (list, range dict or True), or None."""
    try:
        if not profiles.check_attribute_writable(prop):
            return None
        return profiles.get_property(prop).get("w")
    except (AttributeError, KeyError):
        return None


def _choices(profiles: Any, prop: str, table: Mapping[str, str]) -> tuple[str, ...]:
    values = _writable(profiles, prop)
    if not isinstance(values, list):
        return ()
    return tuple(table[v] for v in values if isinstance(v, str) and v in table)


def writable_range(profiles: Any, prop: str) -> Range | None:
    """The settable range of a range property, from the profile's `w` values."""
    values = _writable(profiles, prop)
    if not isinstance(values, dict) or "min" not in values or "max" not in values:
        return None
    return Range(float(values["min"]), float(values["max"]))


def _operations(profiles: Any, prop: str, table: Mapping[str, str]) -> tuple[str, ...]:
    values = _writable(profiles, prop)
    allowed = set(values) if isinstance(values, list) else set()
    return tuple(command for command, value in table.items() if value in allowed)


def ac_temperature_property(profiles: Any) -> str | None:
    """Which property sets an AC's target in °C: `targetTemperatureC` where writable, else the cool one."""
    for prop in (Property.TARGET_TEMPERATURE_C, Property.COOL_TARGET_TEMPERATURE_C):
        if writable_range(profiles, prop) is not None:
            return str(prop)
    return None


def spec_for(kind: Kind, sdk: Any) -> TypeSpec:
    """The TypeSpec of one appliance, from its profile."""
    profiles = sdk.profiles
    base = _BUILTIN[DeviceType(kind.value)]
    if kind is Kind.AIR_CONDITIONER:
        commands = list(_operations(profiles, Property.AIR_CON_OPERATION_MODE, const.POWER_OPERATIONS))
        temperature_prop = ac_temperature_property(profiles)
        limit = writable_range(profiles, temperature_prop) if temperature_prop else None
        if limit is not None:
            commands += ["set_temperature", "adjust_temperature"]
        modes = _choices(profiles, Property.CURRENT_JOB_MODE, const.AC_MODES)
        fans = _choices(profiles, Property.WIND_STRENGTH, const.FAN_SPEEDS)
        commands += ["set_mode"] * bool(modes) + ["set_fan_speed"] * bool(fans)
        return base.with_overrides(
            commands=tuple(commands), modes=modes, fan_speeds=fans, temperature_range=limit
        )
    if kind in (Kind.WASHER, Kind.DRYER):
        prop = Property.WASHER_OPERATION_MODE if kind is Kind.WASHER else Property.DRYER_OPERATION_MODE
        return base.with_overrides(commands=_operations(profiles, prop, const.CYCLE_OPERATIONS), modes=())
    if kind is Kind.REFRIGERATOR:
        return _fridge_spec(sdk, base)
    if kind is Kind.AIR_PURIFIER:
        commands = list(_operations(profiles, Property.AIR_PURIFIER_OPERATION_MODE, const.POWER_OPERATIONS))
        modes = _choices(profiles, Property.CURRENT_JOB_MODE, const.PURIFIER_MODES)
        fans = _choices(profiles, Property.WIND_STRENGTH, const.FAN_SPEEDS)
        commands += ["set_mode"] * bool(modes) + ["set_fan_speed"] * bool(fans)
        return base.with_overrides(commands=tuple(commands), modes=modes, fan_speeds=fans)
    return base.with_overrides(
        commands=_operations(profiles, Property.CLEAN_OPERATION_MODE, const.ROBOT_OPERATIONS)
    )


def fridge_express_property(profiles: Any) -> str | None:
    """The property that switches express freeze (급속냉동): `rapidFreeze`, or `expressMode`."""
    for prop in (Property.RAPID_FREEZE, Property.EXPRESS_MODE):
        if _writable(profiles, prop) is not None:
            return str(prop)
    return None


def _fridge_spec(sdk: Any, base: TypeSpec) -> TypeSpec:
    compartments: dict[str, Range] = {}
    for name, location in (("fridge", Location.FRIDGE), ("freezer", Location.FREEZER)):
        sub = sdk.get_sub_device(location)
        limit = writable_range(sub.profiles, Property.TARGET_TEMPERATURE_C) if sub is not None else None
        if limit is not None:
            compartments[name] = limit
    commands = ["set_temperature", "adjust_temperature"] if compartments else []
    if fridge_express_property(sdk.profiles) is not None:
        commands += ["turn_on", "turn_off"]
    return base.with_overrides(
        commands=tuple(commands), compartments=compartments, queries=(*base.queries, "express_freeze")
    )


# -- status → attributes ----------------------------------------------------------------------


def attributes_of(appliance: Appliance) -> Attributes:
    """The hub attributes of an appliance from the status its SDK object last received."""
    sdk, kind = appliance.sdk, appliance.kind
    if kind is Kind.AIR_CONDITIONER:
        return _power_mode_fan(sdk, Property.AIR_CON_OPERATION_MODE, const.AC_MODES) | {
            "temperature": _number(
                sdk.get_status(Property.TARGET_TEMPERATURE_C)
                or sdk.get_status(Property.COOL_TARGET_TEMPERATURE_C)
            ),
            "current_temperature": _number(sdk.get_status(Property.CURRENT_TEMPERATURE_C)),
        }
    if kind in (Kind.WASHER, Kind.DRYER):
        return _cycle(sdk)
    if kind is Kind.REFRIGERATOR:
        return _fridge(sdk)
    if kind is Kind.AIR_PURIFIER:
        level = sdk.get_status(Property.TOTAL_POLLUTION_LEVEL)
        return _power_mode_fan(sdk, Property.AIR_PURIFIER_OPERATION_MODE, const.PURIFIER_MODES) | {
            "air_quality": const.AIR_QUALITY.get(str(level)) if level is not None else None
        }
    state = sdk.get_status(Property.CURRENT_STATE)
    percent = sdk.get_status(Property.BATTERY_PERCENT)
    level = sdk.get_status(Property.BATTERY_LEVEL)
    return {
        "run_state": _mapped(state, const.ROBOT_STATES),
        "battery": _number(percent) if percent is not None else const.BATTERY_LEVELS.get(str(level)),
    }


def _power_mode_fan(sdk: Any, power_prop: str, modes: Mapping[str, str]) -> Attributes:
    power = sdk.get_status(power_prop)
    return {
        "power": None if power is None else power == "POWER_ON",
        "mode": _mapped(sdk.get_status(Property.CURRENT_JOB_MODE), modes),
        "fan_speed": _mapped(sdk.get_status(Property.WIND_STRENGTH), const.FAN_SPEEDS),
    }


def _cycle(sdk: Any) -> Attributes:
    state = sdk.get_status(Property.CURRENT_STATE)
    hours = _number(sdk.get_status(Property.REMAIN_HOUR)) or 0
    minutes = _number(sdk.get_status(Property.REMAIN_MINUTE)) or 0
    remote = sdk.get_status(Property.REMOTE_CONTROL_ENABLED)
    run_state = None if state is None else const.CYCLE_STATES.get(str(state), "running")
    return {
        "run_state": run_state,
        "remaining_time": int(hours * 3600 + minutes * 60),
        "remote_start": None if remote is None else bool(remote),
    }


def _fridge(sdk: Any) -> Attributes:
    out: Attributes = {}
    for name, location in (("fridge", Location.FRIDGE), ("freezer", Location.FREEZER)):
        sub = sdk.get_sub_device(location)
        if sub is not None:
            out[f"{name}_temperature"] = _number(sub.get_status(Property.TARGET_TEMPERATURE_C))
    door = sdk.get_sub_device(Location.MAIN)
    door_state = door.get_status(Property.DOOR_STATE) if door is not None else None
    if door_state is not None:
        out["door"] = "open" if door_state == "OPEN" else "closed"
    express = fridge_express_property(sdk.profiles)
    if express is not None:
        value = sdk.get_status(express)
        out["express_freeze"] = None if value is None else bool(value)
    return out


def _mapped(value: object, table: Mapping[str, str]) -> str | None:
    if value is None:
        return None
    return table.get(str(value), str(value).lower())


def _number(value: object) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else float(value)
