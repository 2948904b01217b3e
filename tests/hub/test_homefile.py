from __future__ import annotations

from pathlib import Path

import pytest

from oneteam.hub import HomeFileError, load_home, parse_home
from oneteam.model import DeviceType, Range


def test_the_fixture_home_loads_as_is(fixture_home_path: Path) -> None:
    home = load_home(fixture_home_path)
    assert len(home.devices) == 12 and len(home.rooms) == 5
    assert home.device("fridge").spec.compartments["freezer"] == Range(-23, -15)
    assert home.mode_names[DeviceType.WASHER]["bedding"] == ("이불", "이불 코스")
    assert home.fan_speed_names["high"][0] == "강풍"
    assert home.device("ac_living").spec.temperature_range == Range(18, 30)


def test_every_problem_is_reported_with_its_line() -> None:
    text = """rooms:
  living: {names: [거실]}
devices:
  - id: lamp
    type: light
    room: attic
  - id: blender
    type: blender
  - id: lamp
    type: light
  - type: tv
"""
    with pytest.raises(HomeFileError) as caught:
        parse_home(text, "home.yaml")
    lines = {(p.line, p.message.split()[0]) for p in caught.value.problems}
    messages = " | ".join(p.message for p in caught.value.problems)
    assert (6, "device") in lines  # unknown room 'attic' on line 6
    assert any(p.line == 8 and "blender" in p.message for p in caught.value.problems)
    assert "duplicate device id 'lamp'" in messages
    assert "missing id" in messages


def test_broken_yaml_names_its_line() -> None:
    with pytest.raises(HomeFileError) as caught:
        parse_home("rooms:\n  a: {names: [x]\ndevices: []\n")
    assert caught.value.problems[0].line >= 2
    assert "YAML" in caught.value.problems[0].message


def test_a_type_section_narrows_ranges_and_rejects_unknown_commands() -> None:
    text = """types:
  air_conditioner:
    temperature_range: [16, 28]
    commands: [turn_on, fly]
"""
    with pytest.raises(HomeFileError) as caught:
        parse_home(text)
    assert "fly" in caught.value.problems[0].message and caught.value.problems[0].line == 4
    home = parse_home("types:\n  air_conditioner:\n    temperature_range: [16, 28]\n")
    assert home.types[DeviceType.AIR_CONDITIONER].temperature_range == Range(16, 28)


def test_empty_and_unreadable_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(HomeFileError):
        parse_home("")
    with pytest.raises(HomeFileError):
        load_home(tmp_path / "missing.yaml")
