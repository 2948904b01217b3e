"""Which commands a partner cloud must confirm by default: the ones that open a home to harm.

A door lock, a gas valve and an oven confirm their dangerous commands even when the home file
says nothing (`confirm:` there can only raise the bar): locking asks "are you sure?", unlocking,
opening the gas and heating the oven ask for the PIN when the home file gives one (else an
acknowledgement). Closing a valve and switching an oven off are the safe way: not asked unless the
home file asks for every command.
"""

from __future__ import annotations

from dataclasses import dataclass

from oneteam.model.device import Confirmation, Device
from oneteam.model.types import DeviceType


@dataclass(frozen=True, slots=True)
class _Default:
    pin: frozenset[str]
    """Commands that take the PIN when the device has one."""
    ack: frozenset[str] = frozenset()
    """Commands that always need only an acknowledgement."""


_DEFAULTS: dict[DeviceType, _Default] = {
    DeviceType.DOOR_LOCK: _Default(pin=frozenset({"unlock"}), ack=frozenset({"lock"})),
    DeviceType.GAS_VALVE: _Default(pin=frozenset({"open"})),
    DeviceType.OVEN: _Default(pin=frozenset({"turn_on"})),
}


def confirmation_of(device: Device) -> Confirmation | None:
    """The confirmation a partner must bring for `device`: the home file's, raised to the type's
    default floor (a `confirm_commands` list narrower than the floor still asks an ack for the rest)."""
    default = _DEFAULTS.get(device.type)
    configured = device.confirm
    if default is None:
        return configured
    guarded = default.pin | default.ack
    if configured is None:  # the floor: an acknowledgement
        return Confirmation(kind="ack", commands=guarded)
    if configured.commands:
        return Confirmation(
            kind=configured.kind,
            pin=configured.pin,
            commands=configured.commands,
            ack_commands=configured.ack_commands | (guarded - configured.commands),
        )
    if configured.kind == "pin":
        # Every command confirmed, as the home file asks; the PIN only where the type takes it
        # (a lock: ack to lock, PIN to unlock).
        others = frozenset(device.spec.commands) - default.pin
        return Confirmation(kind="pin", pin=configured.pin, commands=default.pin, ack_commands=others)
    return configured
