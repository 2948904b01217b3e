"""What a command may do given the device's current state: the one rule every door shares.

`Hub.dispatch` calls `check_state` before an integration sees a command, so REST, voice, routines
and a partner's EXECUTE get the same answer: stopping an idle washer, pausing a paused one,
starting a running cycle or docking a docked robot is refused with a `StateConflict` instead of
being answered "done" while nothing happened. The decisions per device type are in
docs/state-rules.md.

`resume` is a hub-level command: it only continues a paused cycle (it becomes `start` once the
device is seen paused), so "unpause" can never begin a new 40-minute wash.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from oneteam.model.command import Command, validate_command
from oneteam.model.device import Device
from oneteam.model.errors import CommandNotSupported, OneteamError
from oneteam.model.state import State
from oneteam.model.types import DeviceType

RESUME = "resume"
"""Continue a paused cycle; refused unless the device is paused (accepted by types that pause)."""


class Conflict(StrEnum):
    """Why a command does not fit the device's state (each has a message key `error.state.<value>`)."""

    ALREADY_STARTED = "already_started"
    ALREADY_PAUSED = "already_paused"
    ALREADY_STOPPED = "already_stopped"
    NOT_PAUSED = "not_paused"
    ALREADY_DOCKED = "already_docked"
    ALREADY_IN_STATE = "already_in_state"
    TURNED_OFF = "turned_off"


class StateConflict(OneteamError):
    """The command contradicts the device's current state; REST answers 409."""

    def __init__(self, conflict: Conflict, device: Device, command: str, run_state: str = "") -> None:
        super().__init__(
            f"{device.id}: {command} refused, {conflict.value} (state {run_state or '-'})",
            device=device.name_in("ko"),
            device_en=device.name_in("en"),
            command=command,
        )
        self.key = f"error.state.{conflict.value}"
        self.conflict = conflict


_CYCLES = {DeviceType.WASHER, DeviceType.DRYER}
_CYCLE_STOPPED = {"idle", "finished"}
_ROBOT_STOPPED = {"docked", "idle", "charging"}
# Settings that need the appliance on and must not switch it on by themselves. An AC setpoint is
# not here: it runs the AC at that temperature, visibly (docs/state-rules.md says why).
_NEEDS_POWER: dict[DeviceType, frozenset[str]] = {
    DeviceType.TV: frozenset({"set_volume", "adjust_volume"}),
    # An oven never starts heating because someone changed its temperature.
    DeviceType.OVEN: frozenset({"set_temperature"}),
}


def base_name(name: str) -> str:
    """The command a device (and a permission) sees: `resume` is a kind of `start`."""
    return "start" if name == RESUME else name


def check_state(command: Command, device: Device, state: State) -> Command:
    """The validated command to carry out given `state`: the type's limits first (a value out of
    range is that, whatever the state), then the state rule (StateConflict)."""
    name = command.name
    if name == RESUME:
        if not {"start", "pause"} <= set(device.spec.commands):
            raise CommandNotSupported(device.id, name, list(device.spec.commands))
        validated = validate_command(replace(command, name="start"), device)
    else:
        validated = validate_command(command, device)
    kind = device.type
    if kind in _CYCLES:
        conflict = _cycle_conflict(name, _run_state(state))
    elif kind is DeviceType.ROBOT_CLEANER:
        conflict = _robot_conflict(name, _run_state(state))
    elif kind in _NEEDS_POWER and name in _NEEDS_POWER[kind] and state.get("power") is False:
        conflict = Conflict.TURNED_OFF
    else:
        return validated  # no rule for this type and command (most commands: lights, switches)
    if conflict is not None:
        raise StateConflict(conflict, device, name, _run_state(state))
    return validated


def _run_state(state: State) -> str:
    return str(state.get("run_state") or "")


def _cycle_conflict(name: str, run_state: str) -> Conflict | None:
    """Washer and dryer: idle/finished → running ⇄ paused. An unknown, error or scheduled state
    is left to the appliance (its own answer is the truth there)."""
    running, paused, stopped = run_state == "running", run_state == "paused", run_state in _CYCLE_STOPPED
    if name == "start" and running:
        return Conflict.ALREADY_STARTED
    if name == RESUME:
        return Conflict.ALREADY_STARTED if running else None if paused else Conflict.NOT_PAUSED
    if name == "pause":
        return Conflict.ALREADY_PAUSED if paused else Conflict.ALREADY_STOPPED if stopped else None
    if name == "stop" and stopped:
        return Conflict.ALREADY_STOPPED
    return None


_ROBOT_RULES: dict[str, dict[str, Conflict]] = {
    # command → run_state → why it is refused; a state not named is accepted.
    "start": {"cleaning": Conflict.ALREADY_STARTED},
    "pause": {
        "paused": Conflict.ALREADY_PAUSED,
        # Only a cleaning robot pauses; one heading home or parked has no cycle to hold.
        **dict.fromkeys(_ROBOT_STOPPED | {"returning"}, Conflict.ALREADY_STOPPED),
    },
    "stop": dict.fromkeys(_ROBOT_STOPPED, Conflict.ALREADY_STOPPED),
    "return_to_base": {"docked": Conflict.ALREADY_DOCKED, "returning": Conflict.ALREADY_IN_STATE},
}


def _robot_conflict(name: str, run_state: str) -> Conflict | None:
    """Robot cleaner: docked/idle → cleaning ⇄ paused, → returning → docked."""
    if name == RESUME:
        if run_state == "cleaning":
            return Conflict.ALREADY_STARTED
        return None if run_state == "paused" else Conflict.NOT_PAUSED
    return _ROBOT_RULES.get(name, {}).get(run_state)
