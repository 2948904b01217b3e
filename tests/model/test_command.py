from __future__ import annotations

import pytest

from oneteam.hub import load_home
from oneteam.model import (
    Command,
    CommandNotSupported,
    Direction,
    Home,
    InvalidValue,
    validate_command,
)


@pytest.fixture(scope="module")
def home(fixture_home_path) -> Home:
    return load_home(fixture_home_path)


def test_air_conditioner_at_45_is_refused_naming_the_range(home: Home) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_command(
            Command(device_id="ac_living", name="set_temperature", value=45), home.device("ac_living")
        )
    assert caught.value.key == "error.temperature_out_of_range"
    assert caught.value.params["low"] == 18 and caught.value.params["high"] == 30


def test_brightness_above_100_is_rejected(home: Home) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_command(
            Command(device_id="light_living", name="set_brightness", value=140), home.device("light_living")
        )
    assert caught.value.key == "error.brightness_out_of_range"


def test_unknown_command_names_what_is_allowed(home: Home) -> None:
    with pytest.raises(CommandNotSupported) as caught:
        validate_command(Command(device_id="washer", name="set_temperature", value=40), home.device("washer"))
    assert "start" in caught.value.params["allowed"]


def test_wrong_compartment_is_refused(home: Home) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_command(
            Command(device_id="fridge", name="set_temperature", value=3, target="vegetable"),
            home.device("fridge"),
        )
    assert caught.value.key == "error.compartment_not_allowed"
    assert "freezer" in caught.value.params["allowed"]


def test_freezer_range_is_checked_per_compartment(home: Home) -> None:
    fridge = home.device("fridge")
    ok = validate_command(
        Command(device_id="fridge", name="set_temperature", value=-18, target="freezer"), fridge
    )
    assert ok.value == -18
    with pytest.raises(InvalidValue):
        validate_command(
            Command(device_id="fridge", name="set_temperature", value=-18, target="fridge"), fridge
        )


def test_compartment_is_inferred_from_the_value_when_not_given(home: Home) -> None:
    command = validate_command(
        Command(device_id="fridge", name="set_temperature", value=-20), home.device("fridge")
    )
    assert command.target == "freezer"


def test_mode_must_be_one_of_the_types_modes(home: Home) -> None:
    washer = home.device("washer")
    assert (
        validate_command(Command(device_id="washer", name="set_mode", value="wool"), washer).value == "wool"
    )
    with pytest.raises(InvalidValue) as caught:
        validate_command(Command(device_id="washer", name="set_mode", value="turbo"), washer)
    assert "bedding" in caught.value.params["allowed"]


def test_adjust_needs_a_direction_and_a_positive_amount(home: Home) -> None:
    ac = home.device("ac_living")
    with pytest.raises(InvalidValue):
        validate_command(Command(device_id="ac_living", name="adjust_temperature"), ac)
    with pytest.raises(InvalidValue):
        validate_command(
            Command(device_id="ac_living", name="adjust_temperature", direction=Direction.UP, value=-2), ac
        )
    ok = validate_command(
        Command(device_id="ac_living", name="adjust_temperature", direction=Direction.DOWN, value=2.0), ac
    )
    assert ok.value == 2 and isinstance(ok.value, int)


def test_text_where_a_number_is_needed_is_refused(home: Home) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_command(Command(device_id="tv", name="set_volume", value="loud"), home.device("tv"))
    assert caught.value.key == "error.number_required"


def test_commands_without_values_refuse_a_value(home: Home) -> None:
    with pytest.raises(InvalidValue):
        validate_command(Command(device_id="tv", name="turn_on", value=3), home.device("tv"))


def test_channel_must_be_whole(home: Home) -> None:
    with pytest.raises(InvalidValue):
        validate_command(Command(device_id="tv", name="set_channel", value=7.5), home.device("tv"))
