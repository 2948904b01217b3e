"""How home appliances wear out, and the telemetry they send while they do.

One sample summarises one day of use (a wash cycle, a day of compressor running). Each unit
has a hidden wear level in [0, 1]: flat at zero through a healthy phase, then rising along
`((day - onset) / degradation_days) ** exponent` until it reaches 1 at `life_days`, the day the
component fails. Exponents above 1 make the damage accelerate near the end, as spalling bearings
and growing leaks do. The telemetry mixes the wear signal with the operating conditions that
move the same readings in a healthy unit (load, room and outdoor temperature) and with sensor
noise, so a model has to tell a heavy load from a worn bearing.

Telemetry attributes (the names a STATE_CHANGED event carries):

| device | attribute | unit | healthy → failing |
|---|---|---|---|
| washer | `motor_current_a` | A | ~2.2 → ~3.2 (bearing drag) |
| washer | `vibration_mm_s` | mm/s RMS | ~2.5 → ~11 (bearing defect) |
| washer | `load_kg` | kg | condition, 2–9 |
| refrigerator | `compressor_duty_pct` | % of the day | ~35 → ~85 (compressor wear) |
| refrigerator | `ambient_temperature_c` | °C | condition, 18–32 |
| air_conditioner | `refrigerant_pressure_kpa` | kPa gauge, suction | ~820 → ~550 (leak) |
| air_conditioner | `outdoor_temperature_c` | °C | condition, 24–36 |
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from oneteam.model import DeviceType

MOTOR_CURRENT = "motor_current_a"
VIBRATION = "vibration_mm_s"
LOAD = "load_kg"
COMPRESSOR_DUTY = "compressor_duty_pct"
AMBIENT_TEMPERATURE = "ambient_temperature_c"
REFRIGERANT_PRESSURE = "refrigerant_pressure_kpa"
OUTDOOR_TEMPERATURE = "outdoor_temperature_c"

Physics = Callable[[float, random.Random], dict[str, float]]


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultProfile:
    """One way one kind of appliance fails, and the telemetry that shows it coming."""

    device_type: DeviceType
    component: str
    """The part that wears out: `drum_bearing`, `compressor`, `refrigerant`."""
    attributes: tuple[str, ...]
    """Telemetry attributes, in the order models use them; the first ones carry the wear signal."""
    signals: tuple[str, ...]
    """The attributes whose presence in an event marks it as this profile's telemetry."""
    life_days: tuple[float, float]
    """Range of the day the component fails, drawn uniformly per unit."""
    degradation_days: tuple[float, float]
    """Range of the length of the visible wear phase before failure."""
    exponent: tuple[float, float]
    """Range of the wear curve's exponent (1 linear, 2 accelerating)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemetrySample:
    """One day's telemetry of one unit, with the truth a simulator knows and a real device does not."""

    day: float
    """Days of use since the unit was new."""
    values: Mapping[str, float]
    """Attribute name → reading."""
    wear: float
    """Hidden wear level, 0 (new) to 1 (failed)."""
    days_to_failure: float
    """True remaining useful life in days."""


def _washer(wear: float, rng: random.Random) -> dict[str, float]:
    load_kg = rng.uniform(2.0, 9.0)
    # A worn bearing adds friction torque, so the motor draws more current for the same load.
    current_a = 1.7 + 0.09 * load_kg + 1.0 * wear**1.2 + rng.gauss(0.0, 0.08)
    # Bearing defects show first as vibration; impacts from spalled races come and go.
    impact = rng.uniform(0.0, 3.0) * wear if rng.random() < 0.4 * wear else 0.0
    vibration = 1.6 + 0.14 * load_kg + 8.5 * wear**1.5 + impact + abs(rng.gauss(0.0, 0.3))
    return {MOTOR_CURRENT: round(current_a, 3), VIBRATION: round(vibration, 3), LOAD: round(load_kg, 2)}


def _refrigerator(wear: float, rng: random.Random) -> dict[str, float]:
    ambient_c = rng.uniform(18.0, 32.0)
    # A warmer kitchen and a tired compressor both mean longer runs to hold the set temperature.
    duty = 32.0 + 1.5 * (ambient_c - 20.0) + 48.0 * wear**1.3 + rng.gauss(0.0, 2.5)
    return {
        COMPRESSOR_DUTY: round(min(max(duty, 5.0), 100.0), 2),
        AMBIENT_TEMPERATURE: round(ambient_c, 2),
    }


def _air_conditioner(wear: float, rng: random.Random) -> dict[str, float]:
    outdoor_c = rng.uniform(24.0, 36.0)
    # R-410A suction pressure near 5 °C evaporation is about 820 kPa gauge; it rises with the
    # outdoor temperature and falls as charge leaks out. Failure: 35 % of the charge is gone.
    lost_fraction = 0.35 * wear
    pressure = 820.0 + 9.0 * (outdoor_c - 30.0) - 760.0 * lost_fraction + rng.gauss(0.0, 12.0)
    return {REFRIGERANT_PRESSURE: round(pressure, 1), OUTDOOR_TEMPERATURE: round(outdoor_c, 2)}


PROFILES: Mapping[DeviceType, FaultProfile] = MappingProxyType(
    {
        DeviceType.WASHER: FaultProfile(
            device_type=DeviceType.WASHER,
            component="drum_bearing",
            attributes=(MOTOR_CURRENT, VIBRATION, LOAD),
            signals=(MOTOR_CURRENT, VIBRATION),
            life_days=(200.0, 900.0),
            degradation_days=(45.0, 110.0),
            exponent=(1.2, 2.2),
        ),
        DeviceType.REFRIGERATOR: FaultProfile(
            device_type=DeviceType.REFRIGERATOR,
            component="compressor",
            attributes=(COMPRESSOR_DUTY, AMBIENT_TEMPERATURE),
            signals=(COMPRESSOR_DUTY,),
            life_days=(300.0, 1500.0),
            degradation_days=(50.0, 120.0),
            exponent=(1.0, 2.0),
        ),
        DeviceType.AIR_CONDITIONER: FaultProfile(
            device_type=DeviceType.AIR_CONDITIONER,
            component="refrigerant",
            attributes=(REFRIGERANT_PRESSURE, OUTDOOR_TEMPERATURE),
            signals=(REFRIGERANT_PRESSURE,),
            life_days=(150.0, 1200.0),
            degradation_days=(40.0, 100.0),
            exponent=(0.9, 1.6),
        ),
    }
)

_PHYSICS: Mapping[DeviceType, Physics] = MappingProxyType(
    {
        DeviceType.WASHER: _washer,
        DeviceType.REFRIGERATOR: _refrigerator,
        DeviceType.AIR_CONDITIONER: _air_conditioner,
    }
)


def profile_for_attributes(names: object) -> FaultProfile | None:
    """The profile whose telemetry signals appear among `names` (a mapping or a set of names)."""
    if not isinstance(names, Mapping | set | frozenset | list | tuple):
        return None
    for profile in PROFILES.values():
        if all(signal in names for signal in profile.signals):
            return profile
    return None


class DegradingAppliance:
    """One unit of an appliance that wears out: call `advance()` once per simulated day of use.

    The wiring in `integrations/virtual` publishes each sample's `values` as a STATE_CHANGED
    event; `age_days` lets a demo start a unit part-way through its life.
    """

    def __init__(
        self,
        device_type: DeviceType,
        *,
        rng: random.Random | None = None,
        age_days: float = 0.0,
        life_days: float | None = None,
    ) -> None:
        profile = PROFILES.get(device_type)
        if profile is None:
            known = ", ".join(sorted(PROFILES))
            raise ValueError(f"no degradation model for {device_type!r}; known: {known}")
        self.profile = profile
        self.rng = rng or random.Random()
        self.life_days = life_days if life_days is not None else self.rng.uniform(*profile.life_days)
        span = min(self.rng.uniform(*profile.degradation_days), self.life_days)
        self.onset_day = self.life_days - span
        self.exponent = self.rng.uniform(*profile.exponent)
        self.day = age_days

    @property
    def days_to_failure(self) -> float:
        """True remaining useful life, in days (0 once failed)."""
        return max(self.life_days - self.day, 0.0)

    @property
    def wear(self) -> float:
        """Hidden wear level: 0 through the healthy phase, 1 at failure."""
        if self.day <= self.onset_day:
            return 0.0
        fraction = (self.day - self.onset_day) / (self.life_days - self.onset_day)
        return min(math.pow(fraction, self.exponent), 1.0)

    @property
    def has_failed(self) -> bool:
        """Whether the component has reached the end of its life."""
        return self.day >= self.life_days

    def sample(self) -> TelemetrySample:
        """Today's telemetry."""
        values = _PHYSICS[self.profile.device_type](self.wear, self.rng)
        return TelemetrySample(
            day=self.day,
            values=MappingProxyType(values),
            wear=self.wear,
            days_to_failure=self.days_to_failure,
        )

    def advance(self, days: float = 1.0) -> TelemetrySample:
        """Move `days` of use forward and return the telemetry of the new day."""
        self.day += days
        return self.sample()

    def repair(self) -> None:
        """Replace the worn component: the unit starts a new life from today."""
        profile = self.profile
        self.life_days = self.day + self.rng.uniform(*profile.life_days)
        self.onset_day = self.life_days - self.rng.uniform(*profile.degradation_days)
        self.exponent = self.rng.uniform(*profile.exponent)


def run_to_failure(
    device_type: DeviceType, rng: random.Random, *, healthy_days: tuple[float, float] = (20.0, 60.0)
) -> list[TelemetrySample]:
    """A unit's daily telemetry from some healthy days before wear shows until the day it fails.

    Starting a little before the wear onset (not from day 0) keeps fleets small: the long
    healthy stretch before it looks the same day after day.
    """
    unit = DegradingAppliance(device_type, rng=rng)
    unit.day = max(unit.onset_day - rng.uniform(*healthy_days), 0.0)
    samples = [unit.sample()]
    while not unit.has_failed:
        samples.append(unit.advance(1.0))
    return samples
