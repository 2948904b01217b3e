"""Hub errors → the partner API's error codes (developers.home.google.com/cloud-to-cloud/intents/
errors-exceptions): one table per kind of refusal (a refused value, a state conflict, the other
hub errors), so every error the hub raises answers with a code the partner knows.
"""

from __future__ import annotations

from oneteam.model import (
    CommandNotSupported,
    DeviceNotFound,
    DeviceUnavailable,
    InvalidValue,
    OneteamError,
    PermissionDenied,
    ValueProblem,
    VendorError,
)
from oneteam.model.state_rules import Conflict, StateConflict

# What is wrong with a refused value → the API's error codes
# (developers.home.google.com/cloud-to-cloud/intents/errors-exceptions); every kind has one.
_VALUE_CODES = {
    ValueProblem.OUT_OF_RANGE: "valueOutOfRange",
    ValueProblem.NO_SUCH_CHANNEL: "noAvailableChannel",
    ValueProblem.NOT_SUPPORTED: "notSupported",
    ValueProblem.BUSY_RUNNING: "actionUnavailableWhileRunning",
    ValueProblem.BATTERY_LOW: "lowBattery",
    ValueProblem.MALFORMED: "protocolError",
}


# The hub's state rule (oneteam/model/state_rules.py) → the API's codes.
_CONFLICT_CODES = {
    Conflict.ALREADY_STARTED: "alreadyStarted",
    Conflict.ALREADY_PAUSED: "alreadyPaused",
    Conflict.ALREADY_STOPPED: "alreadyStopped",
    Conflict.NOT_PAUSED: "alreadyStopped",
    Conflict.ALREADY_DOCKED: "alreadyDocked",
    Conflict.ALREADY_IN_STATE: "alreadyInState",
    Conflict.TURNED_OFF: "deviceTurnedOff",
}


def error_code(error: OneteamError) -> str:
    """The API's error code for a hub error."""
    if isinstance(error, StateConflict):
        return _CONFLICT_CODES[error.conflict]
    if isinstance(error, InvalidValue):
        return _VALUE_CODES[error.problem]
    for kind, code in _ERROR_CODES:
        if isinstance(error, kind):
            return code
    return "transientError"


_ERROR_CODES: tuple[tuple[type[OneteamError], str], ...] = (
    (DeviceNotFound, "deviceNotFound"),
    (PermissionDenied, "authFailure"),
    (DeviceUnavailable, "deviceOffline"),
    (CommandNotSupported, "functionNotSupported"),
    (VendorError, "hardError"),
)
