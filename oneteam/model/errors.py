"""Expected failures that can be explained to a person: each carries a message key and its facts."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class OneteamError(Exception):
    """An expected failure we can explain to a person."""

    key = "error.unknown"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params: dict[str, Any] = dict(params)

    def facts(self) -> Mapping[str, Any]:
        """The parameters the message template of `key` is rendered with."""
        return self.params


class NotFound(OneteamError):
    """Something asked for by id does not exist (a device, a model, a consent link)."""

    key = "error.not_found"


class DeviceNotFound(NotFound):
    """No device with this id in the home."""

    key = "error.device_not_found"

    def __init__(self, device_id: str) -> None:
        super().__init__(f"no device {device_id!r}", device=device_id)
        self.device_id = device_id


class InvalidCommand(OneteamError):
    """A command that cannot be carried out as given (base of the validation errors)."""

    key = "error.invalid_command"


class CommandNotSupported(InvalidCommand):
    """The device's type has no such command."""

    key = "error.command_not_supported"

    def __init__(self, device_id: str, command: str, allowed: list[str]) -> None:
        super().__init__(
            f"{device_id} does not support {command!r}; allowed: {', '.join(allowed)}",
            device=device_id,
            command=command,
            allowed=", ".join(allowed),
        )


class ValueProblem(StrEnum):
    """What is wrong with a refused value, for doors that answer in codes rather than words (the
    partner door's errorCode); the message key says it to people."""

    OUT_OF_RANGE = "out_of_range"
    NO_SUCH_CHANNEL = "no_such_channel"
    NOT_SUPPORTED = "not_supported"
    """Not among the device's options (a mode, fan speed, compartment or zone)."""
    BUSY_RUNNING = "busy_running"
    """Not while a cycle runs."""
    BATTERY_LOW = "battery_low"
    MALFORMED = "malformed"
    """Not a usable value at all (a missing number or direction, NaN)."""


class InvalidValue(InvalidCommand):
    """A value outside what the device accepts; `key` names the message, `problem` its kind."""

    def __init__(
        self, key: str, message: str, *, problem: ValueProblem = ValueProblem.MALFORMED, **params: Any
    ) -> None:
        super().__init__(message, **params)
        self.key = key
        self.problem = problem


class DeviceUnavailable(OneteamError):
    """The device is known but cannot be reached now (offline, vendor cloud down)."""

    key = "error.device_unavailable"

    def __init__(
        self, device_id: str, reason: str = "", *, reason_key: str | None = None, name: str | None = None
    ) -> None:
        super().__init__(
            f"device {device_id!r} is unavailable {reason}".strip(), device=device_id, name=name or device_id
        )
        self.device_id = device_id
        if reason_key:
            # The integration's own explanation (say, an expired vendor token and what to do).
            self.key = reason_key


class VendorError(OneteamError):
    """The appliance or its maker's cloud refused or failed; `reason` is its own words."""

    key = "error.vendor"

    def __init__(self, device_id: str, reason: str) -> None:
        super().__init__(f"{device_id}: {reason}", device=device_id, reason=reason)


class CommandPending(VendorError):
    """The device received the command but has not confirmed it within the window; its state is
    reported when it does (REST 202, partner PENDING). A VendorError for callers that do not care."""

    key = "error.command_pending"

    def __init__(self, device_id: str, reason: str, *, name: str | None = None) -> None:
        super().__init__(device_id, reason)
        self.params["name"] = name or device_id
