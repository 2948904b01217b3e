"""A refused value says what kind of problem it is (ValueProblem), so a door that answers in codes
(the partner door's errorCode) maps the kind, never the wording's message key."""

from __future__ import annotations

import pytest

from oneteam.hub import load_home
from oneteam.interop.smarthome import error_code
from oneteam.model import Command, Home, InvalidValue, ValueProblem, validate_command


@pytest.fixture(scope="module")
def home(fixture_home_path) -> Home:
    return load_home(fixture_home_path)


@pytest.mark.parametrize(
    ("command", "problem", "code"),
    [
        (
            Command(device_id="ac_living", name="set_temperature", value=45),
            ValueProblem.OUT_OF_RANGE,
            "valueOutOfRange",
        ),
        (
            Command(device_id="light_living", name="set_brightness", value=140),
            ValueProblem.OUT_OF_RANGE,
            "valueOutOfRange",
        ),
        (
            Command(device_id="tv", name="set_channel", value=2.5),
            ValueProblem.NO_SUCH_CHANNEL,
            "noAvailableChannel",
        ),
        (
            Command(device_id="ac_living", name="set_mode", value="sauna"),
            ValueProblem.NOT_SUPPORTED,
            "notSupported",
        ),
        (
            Command(device_id="fridge", name="set_temperature", value=3, target="vegetable"),
            ValueProblem.NOT_SUPPORTED,
            "notSupported",
        ),
        (
            Command(device_id="light_living", name="set_brightness", value="bright"),
            ValueProblem.MALFORMED,
            "protocolError",
        ),
    ],
)
def test_each_refusal_names_its_problem_and_the_partner_code_follows_it(
    home: Home, command: Command, problem: ValueProblem, code: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_command(command, home.device(command.device_id))
    assert caught.value.problem is problem
    assert error_code(caught.value) == code


def test_the_partner_code_depends_on_the_problem_not_the_message_key() -> None:
    renamed = InvalidValue("error.some_new_wording", "too hot", problem=ValueProblem.OUT_OF_RANGE)
    assert error_code(renamed) == "valueOutOfRange"
    assert error_code(InvalidValue("error.temperature_out_of_range", "no kind given")) == "protocolError"


def test_every_problem_has_a_partner_code() -> None:
    codes = {error_code(InvalidValue("error.x", "x", problem=problem)) for problem in ValueProblem}
    assert "transientError" not in codes and len(codes) == len(ValueProblem)
