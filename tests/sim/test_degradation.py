"""The appliance degradation physics: wear grows to failure and shows in the telemetry."""

from __future__ import annotations

import random
import statistics

import pytest

from oneteam.model import DeviceType
from oneteam.sim import (
    COMPRESSOR_DUTY,
    MOTOR_CURRENT,
    PROFILES,
    REFRIGERANT_PRESSURE,
    VIBRATION,
    DegradingAppliance,
    profile_for_attributes,
    run_to_failure,
)


def _early_late(device_type: DeviceType, attribute: str, seed: int = 3) -> tuple[float, float]:
    samples = run_to_failure(device_type, random.Random(seed))
    early = statistics.mean(s.values[attribute] for s in samples[:10])
    late = statistics.mean(s.values[attribute] for s in samples[-5:])
    return early, late


@pytest.mark.parametrize("device_type", list(PROFILES))
def test_wear_is_zero_when_healthy_and_reaches_one_at_failure(device_type: DeviceType) -> None:
    unit = DegradingAppliance(device_type, rng=random.Random(1))
    assert unit.wear == 0.0
    unit.day = unit.onset_day + (unit.life_days - unit.onset_day) / 2
    assert 0.0 < unit.wear < 1.0
    unit.day = unit.life_days
    assert unit.wear == 1.0
    assert unit.has_failed
    assert unit.days_to_failure == 0.0


@pytest.mark.parametrize("device_type", list(PROFILES))
def test_run_to_failure_has_daily_samples_with_falling_days_left(device_type: DeviceType) -> None:
    samples = run_to_failure(device_type, random.Random(7))
    days_left = [s.days_to_failure for s in samples]
    assert days_left == sorted(days_left, reverse=True)
    assert days_left[-1] == 0.0
    assert all(set(s.values) == set(PROFILES[device_type].attributes) for s in samples)
    wear = [s.wear for s in samples]
    assert wear == sorted(wear)


def test_worn_washer_bearing_draws_more_current_and_vibrates_more() -> None:
    early_current, late_current = _early_late(DeviceType.WASHER, MOTOR_CURRENT)
    early_vibration, late_vibration = _early_late(DeviceType.WASHER, VIBRATION)
    assert late_current > early_current + 0.5
    assert late_vibration > early_vibration * 2


def test_worn_compressor_runs_a_longer_share_of_the_day() -> None:
    early, late = _early_late(DeviceType.REFRIGERATOR, COMPRESSOR_DUTY)
    assert late > early + 25


def test_leaking_air_conditioner_loses_suction_pressure() -> None:
    early, late = _early_late(DeviceType.AIR_CONDITIONER, REFRIGERANT_PRESSURE)
    assert late < early - 150


def test_same_seed_gives_same_telemetry() -> None:
    first = run_to_failure(DeviceType.WASHER, random.Random(42))
    second = run_to_failure(DeviceType.WASHER, random.Random(42))
    assert [s.values for s in first] == [s.values for s in second]


def test_unit_can_start_part_way_through_its_life() -> None:
    unit = DegradingAppliance(DeviceType.WASHER, rng=random.Random(5), age_days=100.0, life_days=120.0)
    assert unit.days_to_failure == pytest.approx(20.0)
    sample = unit.advance(2.0)
    assert sample.day == pytest.approx(102.0)
    assert sample.days_to_failure == pytest.approx(18.0)


def test_repair_starts_a_new_life() -> None:
    unit = DegradingAppliance(DeviceType.REFRIGERATOR, rng=random.Random(2), age_days=50.0, life_days=55.0)
    unit.repair()
    assert unit.wear == 0.0
    assert unit.days_to_failure >= PROFILES[DeviceType.REFRIGERATOR].life_days[0]


def test_device_without_degradation_model_is_refused() -> None:
    with pytest.raises(ValueError, match="no degradation model"):
        DegradingAppliance(DeviceType.LIGHT)


def test_profile_is_found_from_telemetry_attribute_names() -> None:
    assert profile_for_attributes({MOTOR_CURRENT: 2.0, VIBRATION: 3.0}) is PROFILES[DeviceType.WASHER]
    assert profile_for_attributes({REFRIGERANT_PRESSURE: 800.0}) is PROFILES[DeviceType.AIR_CONDITIONER]
    assert profile_for_attributes({"power": True}) is None
    assert profile_for_attributes(3) is None
