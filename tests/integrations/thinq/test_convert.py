"""Profiles decide what a hub device can do; unknown or malformed profiles are skipped by model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oneteam.integrations.thinq.convert import (
    UnsupportedAppliance,
    attributes_of,
    build_appliances,
    listed_devices,
)
from oneteam.model import Range

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load(name: str) -> tuple[Any, Any, Any]:
    folder = FIXTURES / name
    return tuple(
        json.loads((folder / f"{part}.json").read_text(encoding="utf-8"))
        for part in ("device", "profile", "status")
    )  # type: ignore[return-value]


def build(name: str, profile: Any = None) -> list[Any]:
    device, stored_profile, status = load(name)
    [entry] = listed_devices([device])
    appliances = build_appliances(None, entry, stored_profile if profile is None else profile, {})
    appliances[0].root.set_status(status)
    return appliances


def test_the_ac_range_modes_and_fan_speeds_come_from_its_profile() -> None:
    [ac] = build("air_conditioner_small")
    spec = ac.device.spec
    assert spec.temperature_range == Range(18, 26)
    assert spec.modes == ("cool", "dry") and spec.fan_speeds == ("low", "high")
    assert attributes_of(ac)["temperature"] == 22


def test_a_profile_without_writable_power_offers_no_power_commands() -> None:
    _, profile, _ = load("air_purifier")
    profile["property"]["operation"]["airPurifierOperationMode"]["mode"] = ["r"]
    [purifier] = build("air_purifier", profile)
    assert "turn_on" not in purifier.device.spec.commands and "set_mode" in purifier.device.spec.commands


def test_a_malformed_profile_is_rejected_naming_the_model() -> None:
    with pytest.raises(UnsupportedAppliance) as rejected:
        build("malformed_air_purifier")
    assert rejected.value.model == "AS-BROKEN1"


@pytest.mark.parametrize(
    "broken", [[], {"property": {"temperatureInUnits": "C"}}, {"property": {"airFlow": 3}}, "text"]
)
def test_profiles_of_the_wrong_shape_are_rejected_not_crashed_on(broken: Any) -> None:
    with pytest.raises(UnsupportedAppliance):
        build("air_conditioner", broken)


def test_an_unknown_device_type_is_rejected() -> None:
    with pytest.raises(UnsupportedAppliance) as rejected:
        build("styler")
    assert "DEVICE_STYLER" in rejected.value.reason


def test_device_list_entries_without_ids_are_skipped() -> None:
    device, _, _ = load("washer")
    assert [d.model for d in listed_devices([{"deviceInfo": {}}, device, "junk"])] == ["F21VDSK"]
    assert listed_devices({"not": "a list"}) == []
