from __future__ import annotations

from pathlib import Path

import pytest

from oneteam.hub import HomeFileError, load_home, parse_home
from oneteam.hub.homefile_reading import MAX_HOME_BYTES, MAX_HOME_DEPTH
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


@pytest.mark.parametrize(
    "text",
    [
        "rooms: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "rooms: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
        "".join(" " * i + "- \n" for i in range(0, 400, 1)),
    ],
)
def test_nesting_deeper_than_the_limit_is_a_problem_not_a_crash(text: str) -> None:
    with pytest.raises(HomeFileError) as raised:
        parse_home(text, "deep.yaml")
    (problem,) = raised.value.problems
    assert problem.key == "too_deep" and problem.line >= 1
    assert str(MAX_HOME_DEPTH) in problem.text("en") and "깊게" in problem.text("ko")


def test_a_home_file_is_read_up_to_a_size_cap(tmp_path: Path) -> None:
    with pytest.raises(HomeFileError) as raised:
        load_home("/dev/zero")  # endless: reading stops at the cap
    assert raised.value.problems[0].key == "too_large"
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_HOME_BYTES + "\n")
    with pytest.raises(HomeFileError) as raised:
        load_home(big)
    assert "1048576" in raised.value.problems[0].text("en")


def test_the_shipped_homes_are_within_the_limits(fixture_home_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "oneteam" / "homes" / "demo.yaml"
    for path in (demo, fixture_home_path):
        assert path.stat().st_size < MAX_HOME_BYTES
        assert load_home(path).devices
