"""Hub commands → the SDK's control calls for each appliance class.

`control_call` returns the coroutine to await, so the adapter owns timing, budget and errors.
Commands reach here validated against the appliance's own profile (see convert.spec_for).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from thinqconnect.devices.const import Location, Property

from oneteam.integrations.thinq import const
from oneteam.integrations.thinq.const import Kind
from oneteam.integrations.thinq.convert import (
    Appliance,
    ac_temperature_property,
    fridge_express_property,
    writable_range,
)
from oneteam.model import Command, CommandNotSupported, InvalidValue


def control_call(appliance: Appliance, command: Command, current: dict[str, Any]) -> Awaitable[Any]:
    """The SDK call that carries out `command`; `current` is the device's last known attributes."""
    sdk, kind, name = appliance.sdk, appliance.kind, command.name
    if kind in (Kind.WASHER, Kind.DRYER) and name in const.CYCLE_OPERATIONS:
        value = const.CYCLE_OPERATIONS[name]
        if kind is Kind.WASHER:
            return sdk.set_washer_operation_mode(value)  # type: ignore[no-any-return]
        return sdk.set_dryer_operation_mode(value)  # type: ignore[no-any-return]
    if kind is Kind.ROBOT_CLEANER and name in const.ROBOT_OPERATIONS:
        return sdk.set_clean_operation_mode(const.ROBOT_OPERATIONS[name])  # type: ignore[no-any-return]
    if kind is Kind.AIR_CONDITIONER:
        return _air_conditioner(appliance, command, current)
    if kind is Kind.AIR_PURIFIER:
        return _air_purifier(appliance, command)
    if kind is Kind.REFRIGERATOR:
        return _refrigerator(appliance, command, current)
    raise CommandNotSupported(appliance.device.id, name, list(appliance.device.spec.commands))


def _air_conditioner(appliance: Appliance, command: Command, current: dict[str, Any]) -> Awaitable[Any]:
    sdk, name = appliance.sdk, command.name
    if name in const.POWER_OPERATIONS:
        return sdk.set_air_con_operation_mode(const.POWER_OPERATIONS[name])  # type: ignore[no-any-return]
    if name == "set_mode":
        return sdk.set_current_job_mode(_lg_value(const.AC_MODES, command.value))  # type: ignore[no-any-return]
    if name == "set_fan_speed":
        return sdk.set_wind_strength(_lg_value(const.FAN_SPEEDS, command.value))  # type: ignore[no-any-return]
    prop = ac_temperature_property(sdk.profiles)
    if prop is None:
        raise CommandNotSupported(appliance.device.id, name, list(appliance.device.spec.commands))
    target = _temperature(appliance, command, current.get("temperature"))
    _check_step(appliance, sdk.profiles, prop, target)
    if prop == Property.TARGET_TEMPERATURE_C:
        return sdk.do_multi_attribute_command(  # type: ignore[no-any-return]
            {Property.TARGET_TEMPERATURE_C: target, Property.TEMPERATURE_UNIT: "C"}
        )
    return sdk.set_cool_target_temperature_c(target)  # type: ignore[no-any-return]


def _air_purifier(appliance: Appliance, command: Command) -> Awaitable[Any]:
    sdk, name = appliance.sdk, command.name
    if name in const.POWER_OPERATIONS:
        return sdk.set_air_purifier_operation_mode(const.POWER_OPERATIONS[name])  # type: ignore[no-any-return]
    if name == "set_mode":
        return sdk.set_current_job_mode(_lg_value(const.PURIFIER_MODES, command.value))  # type: ignore[no-any-return]
    return sdk.set_wind_strength(_lg_value(const.FAN_SPEEDS, command.value))  # type: ignore[no-any-return]


def _refrigerator(appliance: Appliance, command: Command, current: dict[str, Any]) -> Awaitable[Any]:
    sdk, name = appliance.sdk, command.name
    if name in ("turn_on", "turn_off"):
        prop = fridge_express_property(sdk.profiles)
        return sdk.do_attribute_command(prop, name == "turn_on")  # type: ignore[no-any-return]
    target_name = command.target or "fridge"
    location = Location.FRIDGE if target_name == "fridge" else Location.FREEZER
    sub = sdk.get_sub_device(location)
    target = _temperature(appliance, command, current.get(f"{target_name}_temperature"))
    _check_step(appliance, sub.profiles, Property.TARGET_TEMPERATURE_C, target)
    return sub.set_target_temperature_c(target)  # type: ignore[no-any-return]


def _temperature(appliance: Appliance, command: Command, current: object) -> int | float:
    """The °C to set: the command's value, or for adjust_* the current value moved and kept in range."""
    if command.name == "set_temperature":
        value = float(command.value or 0)
    else:
        step = float(command.value) if isinstance(command.value, int | float) else 1.0
        base = float(current) if isinstance(current, int | float) else 0.0
        value = base + step if command.direction == "up" else base - step
        spec = appliance.device.spec
        limit = spec.compartments.get(command.target or "fridge") if spec.compartments else None
        limit = limit or spec.temperature_range
        if limit is not None:
            value = max(limit.low, min(limit.high, value))
    return int(value) if value.is_integer() else value


def _check_step(appliance: Appliance, profiles: Any, prop: str, value: float) -> None:
    """LG accepts only values on the profile's step (AC 18–30 step 1, some fridges step 1)."""
    limit = writable_range(profiles, prop)
    values = profiles.get_property(prop).get("w") if limit is not None else None
    step = float(values.get("step", 1)) if isinstance(values, dict) else 1.0
    if (
        limit is not None
        and step > 0
        and abs(((value - limit.low) / step) - round((value - limit.low) / step)) > 1e-9
    ):
        raise InvalidValue(
            "thinq.step_not_allowed",
            f"{value} is not on the {step} °C step of {appliance.device.id}",
            device=appliance.device.display_name,
            value=value,
            step=int(step) if step.is_integer() else step,
        )


def _lg_value(table: dict[str, str], canonical: object) -> str:
    """LG's value for a canonical id (`medium` → `MID`); unknown ids travel upper-cased."""
    for lg_value, ours in table.items():
        if ours == canonical:
            return lg_value
    return str(canonical).upper()
