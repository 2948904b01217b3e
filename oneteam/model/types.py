"""Device types and what each can do: commands, modes, ranges, compartments, queries.

The canonical values are English ids (`cool`, `wool`); what people call them lives in the
home file and the language YAML, never here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class DeviceType(StrEnum):
    """The kinds of device the hub knows."""

    AIR_CONDITIONER = "air_conditioner"
    WASHER = "washer"
    DRYER = "dryer"
    REFRIGERATOR = "refrigerator"
    AIR_PURIFIER = "air_purifier"
    ROBOT_CLEANER = "robot_cleaner"
    LIGHT = "light"
    TV = "tv"
    SWITCH = "switch"
    SENSOR = "sensor"
    DOOR_LOCK = "door_lock"
    GAS_VALVE = "gas_valve"
    OVEN = "oven"


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive numeric range."""

    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def text(self) -> str:
        """The range as `low–high` with integers shown without a decimal point."""
        return f"{_num(self.low)}–{_num(self.high)}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


PERCENT = Range(0, 100)
CHANNELS = Range(1, 999)


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeSpec:
    """What one device type can do."""

    type: DeviceType
    commands: tuple[str, ...]
    """Command names this type accepts, in the order people usually need them."""
    modes: tuple[str, ...] = ()
    """Canonical mode (or wash course) ids for `set_mode`."""
    fan_speeds: tuple[str, ...] = ()
    """Canonical fan speed ids for `set_fan_speed`."""
    temperature_range: Range | None = None
    """Settable temperature in °C, for types without compartments."""
    compartments: dict[str, Range] = field(default_factory=dict)
    """Compartment id → settable temperature range in °C (refrigerators)."""
    queries: tuple[str, ...] = ()
    """State attributes a person can ask about."""
    brightness_range: Range = PERCENT
    volume_range: Range = PERCENT
    channel_range: Range = CHANNELS

    def with_overrides(self, **changes: object) -> TypeSpec:
        """A copy with some fields replaced (a home file narrowing a range, say)."""
        return replace(self, **changes)  # type: ignore[arg-type]


_FAN_SPEEDS = ("low", "medium", "high", "auto")

_BUILTIN: tuple[TypeSpec, ...] = (
    TypeSpec(
        type=DeviceType.AIR_CONDITIONER,
        commands=(
            "turn_on",
            "turn_off",
            "set_temperature",
            "adjust_temperature",
            "set_mode",
            "set_fan_speed",
        ),
        modes=("cool", "dry", "fan", "auto", "heat"),
        fan_speeds=_FAN_SPEEDS,
        temperature_range=Range(18, 30),
        queries=("power", "temperature", "current_temperature", "mode", "fan_speed"),
    ),
    TypeSpec(
        type=DeviceType.WASHER,
        commands=("start", "pause", "stop", "set_mode"),
        modes=("standard", "wool", "bedding", "quick"),
        queries=("run_state", "remaining_time"),
    ),
    TypeSpec(
        type=DeviceType.DRYER,
        commands=("start", "pause", "stop"),
        queries=("run_state", "remaining_time"),
    ),
    TypeSpec(
        type=DeviceType.REFRIGERATOR,
        # turn_on/turn_off switch express freeze (급속냉동), the refrigerator itself stays on.
        commands=("set_temperature", "adjust_temperature", "turn_on", "turn_off"),
        compartments={"fridge": Range(1, 7), "freezer": Range(-23, -15)},
        queries=("temperature", "door"),
    ),
    TypeSpec(
        type=DeviceType.AIR_PURIFIER,
        commands=("turn_on", "turn_off", "set_mode", "set_fan_speed"),
        modes=("auto", "sleep"),
        fan_speeds=_FAN_SPEEDS,
        queries=("power", "air_quality", "mode"),
    ),
    TypeSpec(
        type=DeviceType.ROBOT_CLEANER,
        commands=("start", "pause", "stop", "return_to_base"),
        queries=("run_state", "battery"),
    ),
    TypeSpec(
        type=DeviceType.LIGHT,
        commands=("turn_on", "turn_off", "set_brightness", "adjust_brightness"),
        queries=("power", "brightness"),
    ),
    TypeSpec(
        type=DeviceType.TV,
        commands=("turn_on", "turn_off", "set_volume", "adjust_volume", "set_channel"),
        queries=("power", "volume", "channel"),
    ),
    TypeSpec(type=DeviceType.SWITCH, commands=("turn_on", "turn_off"), queries=("power",)),
    TypeSpec(type=DeviceType.SENSOR, commands=(), queries=("value",)),
    # Devices a stranger's voice must not open: partner clouds confirm their commands
    # (model/safety.py); `close` / `turn_off` are the safe way and not asked by default.
    TypeSpec(type=DeviceType.DOOR_LOCK, commands=("lock", "unlock"), queries=("locked",)),
    TypeSpec(type=DeviceType.GAS_VALVE, commands=("close", "open"), queries=("valve",)),
    TypeSpec(
        type=DeviceType.OVEN,
        commands=("turn_on", "turn_off", "set_temperature"),
        temperature_range=Range(50, 250),
        queries=("power", "temperature", "current_temperature"),
    ),
)


_BUILTIN_BY_TYPE = {spec.type: spec for spec in _BUILTIN}


def builtin_type_specs() -> dict[DeviceType, TypeSpec]:
    """The default capabilities of every device type (a home file may narrow them): a copy of one
    table built once (every home file read asks, hundreds at once when a cluster process takes
    over homes)."""
    return dict(_BUILTIN_BY_TYPE)
