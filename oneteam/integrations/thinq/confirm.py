"""Whether an appliance's read-back state shows a command took effect.

LG's cloud answers a control call before the appliance has acted; the status read right after may
still be the old one. A command whose effect is not visible within the window is answered as
pending (`CommandPending`: REST 202, partner PENDING), and the appliance's final state arrives by
push or the next poll like any other change, instead of being reported "done" on faith.
"""

from __future__ import annotations

from collections.abc import Mapping

from oneteam.model import Command, StateValue

_RUN_STATES: dict[str, frozenset[str]] = {
    "start": frozenset({"running", "cleaning"}),
    "resume": frozenset({"running", "cleaning"}),
    "pause": frozenset({"paused"}),
}


def expected_of(command: Command) -> dict[str, frozenset[StateValue]]:
    """Attribute → the values that show `command` took effect (empty: nothing to check)."""
    name, value = command.name, command.value
    if name in ("turn_on", "turn_off") and command.target is None:
        return {"power": frozenset({name == "turn_on"})}
    if name == "set_temperature" and value is not None:
        attribute = f"{command.target}_temperature" if command.target else "temperature"
        return {attribute: frozenset({value, float(value) if isinstance(value, int) else value})}
    if name in ("set_mode", "set_fan_speed") and value is not None:
        return {name.removeprefix("set_"): frozenset({value})}
    if name in _RUN_STATES:
        return {"run_state": frozenset(_RUN_STATES[name])}
    return {}


def shows(expected: Mapping[str, frozenset[StateValue]], attributes: Mapping[str, StateValue]) -> bool:
    """Whether `attributes` show the effect; an attribute the appliance does not report cannot be
    checked and counts as shown."""
    return all(attributes.get(k) in values for k, values in expected.items() if k in attributes)
