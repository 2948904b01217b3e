"""The shared language of oneteam: plain typed data, no I/O. Every other room speaks it."""

from oneteam.model.access import Door, Grant, PermissionDenied
from oneteam.model.command import Command, CommandName, Direction, validate_command
from oneteam.model.device import Device, Home, Room
from oneteam.model.errors import (
    CommandNotSupported,
    CommandPending,
    DeviceNotFound,
    DeviceUnavailable,
    InvalidCommand,
    InvalidValue,
    NotFound,
    OneteamError,
    ValueProblem,
    VendorError,
)
from oneteam.model.event import Event, EventKind
from oneteam.model.state import State, StateValue
from oneteam.model.types import DeviceType, Range, TypeSpec, builtin_type_specs

__all__ = [
    "Command",
    "CommandName",
    "CommandNotSupported",
    "CommandPending",
    "Device",
    "DeviceNotFound",
    "DeviceType",
    "DeviceUnavailable",
    "Direction",
    "Door",
    "Event",
    "EventKind",
    "Grant",
    "Home",
    "InvalidCommand",
    "InvalidValue",
    "NotFound",
    "OneteamError",
    "PermissionDenied",
    "Range",
    "Room",
    "State",
    "StateValue",
    "TypeSpec",
    "ValueProblem",
    "VendorError",
    "builtin_type_specs",
    "validate_command",
]
