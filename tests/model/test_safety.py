"""Which commands of a door lock, gas valve and oven a partner must confirm: the type's floor, and
what a home file's `confirm:` adds to it (never less)."""

from __future__ import annotations

from oneteam.hub import parse_home
from oneteam.model.safety import confirmation_of


def _kinds(entry: str, commands: tuple[str, ...]) -> dict[str, str | None]:
    device = next(iter(parse_home(f"devices:\n  - {entry}\n").devices.values()))
    confirm = confirmation_of(device)
    assert confirm is not None
    return {c: confirm.kind_for(c) for c in commands}


def test_the_floor_without_a_word_in_the_home_file() -> None:
    assert _kinds("{id: d, type: door_lock}", ("lock", "unlock")) == {"lock": "ack", "unlock": "ack"}
    assert _kinds("{id: g, type: gas_valve}", ("open", "close")) == {"open": "ack", "close": None}
    oven = _kinds("{id: o, type: oven}", ("turn_on", "turn_off", "set_temperature"))
    assert oven == {"turn_on": "ack", "turn_off": None, "set_temperature": None}


def test_a_pin_goes_where_the_type_takes_it_and_everything_else_is_acknowledged() -> None:
    lock = _kinds('{id: d, type: door_lock, confirm: pin, pin: "2580"}', ("lock", "unlock"))
    assert lock == {"lock": "ack", "unlock": "pin"}
    valve = _kinds('{id: g, type: gas_valve, confirm: pin, pin: "2580"}', ("open", "close"))
    assert valve == {"open": "pin", "close": "ack"}


def test_a_narrow_list_in_the_home_file_still_keeps_the_floor() -> None:
    lock = _kinds(
        '{id: d, type: door_lock, confirm: pin, pin: "2580", confirm_commands: [unlock]}', ("lock", "unlock")
    )
    assert lock == {"lock": "ack", "unlock": "pin"}
    oven = _kinds("{id: o, type: oven, confirm: ack}", ("turn_on", "turn_off", "set_temperature"))
    assert oven == {"turn_on": "ack", "turn_off": "ack", "set_temperature": "ack"}


def test_other_types_confirm_only_what_the_home_file_says() -> None:
    device = next(iter(parse_home("devices:\n  - {id: w, type: washer}\n").devices.values()))
    assert confirmation_of(device) is None
