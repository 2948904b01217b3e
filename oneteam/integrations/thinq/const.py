"""Constants of the ThinQ integration: LG's enum values and the hub's canonical ids they map to.

LG's values come from the ThinQ Connect device profiles (as the `thinqconnect` SDK reads them);
the hub's ids are the canonical English ids of `oneteam.model` (`cool`, `medium`, `running`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "thinq"

# One hour, the window LG counts calls in ("rate limit on user requests per hour",
# thinq-connect/pythinqconnect#14; LG does not publish the figure).
BUDGET_WINDOW_S: Final = 3600.0
CONFIRM_S: Final = 5.0
"""How long a command waits for the appliance to show its effect before it is answered as pending."""

# Defaults chosen to stay far inside LG's unpublished hourly limit: 1,000 calls an hour for the
# whole account (one every 3.6 s), a fifth of it kept back for commands, and a device polled at
# most every 5 minutes while push is not running.
DEFAULT_CALLS_PER_HOUR: Final = 1000
DEFAULT_COMMAND_RESERVE: Final = 0.2
DEFAULT_POLL_INTERVAL_S: Final = 300.0
DEFAULT_JITTER: Final = 0.1
DEFAULT_REQUEST_TIMEOUT_S: Final = 10.0
# How often a running adapter looks at its settings file for a new token (one stat call).
CONFIG_CHECK_S: Final = 2.0
# Appliances added to or removed from the account show up within six hours (one call each time).
DEFAULT_REDISCOVER_S: Final = 6 * 3600.0
# While push is up, state arrives by MQTT; a slow poll still catches a lost message.
DEFAULT_PUSH_POLL_INTERVAL_S: Final = 1800.0
DEFAULT_BACKOFF_BASE_S: Final = 30.0
DEFAULT_BACKOFF_MAX_S: Final = 1800.0


class StateSource(StrEnum):
    """How the adapter hears of state changes now (health's `mode`)."""

    PUSH = "push"
    """LG's MQTT push is connected; a slow poll still catches a lost message."""
    POLLING = "polling"


class BackoffKind(StrEnum):
    """Why polling pauses (health's `backoff`, the warning key `thinq.backoff.<kind>`)."""

    RATE_LIMITED = "rate_limited"
    """LG said too many calls: commands wait too."""
    OUTAGE = "outage"
    """LG's cloud does not answer: every appliance is unavailable until it does."""


class PushEvent(StrEnum):
    """The SDK's push connection callbacks, as push.py hands them to the loop."""

    CONNECTED = "connected"
    """Also after the SDK reconnected by itself."""
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    """A connect or reconnect attempt failed."""
    CLOSED = "closed"
    """For good: the SDK never reconnects a closed connection."""


class Kind(StrEnum):
    """The appliance classes this integration drives (each maps to one hub DeviceType)."""

    AIR_CONDITIONER = "air_conditioner"
    WASHER = "washer"
    DRYER = "dryer"
    REFRIGERATOR = "refrigerator"
    AIR_PURIFIER = "air_purifier"
    ROBOT_CLEANER = "robot_cleaner"
    WASHTOWER = "washtower"
    """One ThinQ device that becomes two hub devices: its washer and its dryer."""


# ThinQ `deviceType` → the kind that drives it. Types the SDK knows but the hub has no type for
# (ovens, stylers, ...) are skipped with one log line.
DEVICE_TYPES: Final[dict[str, Kind]] = {
    "DEVICE_AIR_CONDITIONER": Kind.AIR_CONDITIONER,
    "DEVICE_WASHER": Kind.WASHER,
    "DEVICE_WASHTOWER_WASHER": Kind.WASHER,
    "DEVICE_DRYER": Kind.DRYER,
    "DEVICE_WASHTOWER_DRYER": Kind.DRYER,
    "DEVICE_WASHTOWER": Kind.WASHTOWER,
    "DEVICE_REFRIGERATOR": Kind.REFRIGERATOR,
    "DEVICE_AIR_PURIFIER": Kind.AIR_PURIFIER,
    "DEVICE_ROBOT_CLEANER": Kind.ROBOT_CLEANER,
}

AC_MODES: Final = {"COOL": "cool", "AIR_DRY": "dry", "FAN": "fan", "AUTO": "auto", "HEAT": "heat"}
PURIFIER_MODES: Final = {"AUTO": "auto", "SLEEP": "sleep", "CLEAN": "clean", "SILENT": "silent"}
FAN_SPEEDS: Final = {"LOW": "low", "MID": "medium", "HIGH": "high", "AUTO": "auto"}
AIR_QUALITY: Final = {"GOOD": "good", "NORMAL": "moderate", "BAD": "bad", "VERY_BAD": "very_bad"}

# Washer/dryer `currentState` → the hub's run_state (idle/running/paused/finished/...).
CYCLE_STATES: Final = {
    "POWER_OFF": "idle",
    "INITIAL": "idle",
    "SLEEP": "idle",
    "PAUSE": "paused",
    "FROZEN_PREVENT_PAUSE": "paused",
    "END": "finished",
    "ERROR": "error",
    "RESERVED": "scheduled",
}
ROBOT_STATES: Final = {
    "CLEANING": "cleaning",
    "HOMING": "returning",
    "CHARGING": "docked",
    "STANDBY": "docked",
    "SLEEP": "docked",
    "PAUSE": "paused",
    "ERROR": "error",
}
BATTERY_LEVELS: Final = {"HIGH": 100, "MID": 60, "LOW": 20, "WARNING": 5}

# Hub command → LG operation value, per kind. `pause` is LG's STOP: the course halts and waits.
CYCLE_OPERATIONS: Final = {"start": "START", "pause": "STOP", "stop": "POWER_OFF"}
ROBOT_OPERATIONS: Final = {"start": "START", "pause": "PAUSE", "stop": "STOP", "return_to_base": "HOMING"}
POWER_OPERATIONS: Final = {"turn_on": "POWER_ON", "turn_off": "POWER_OFF"}

# LG error codes (ThinQAPIErrorCodes) grouped by what oneteam does about them.
TOKEN_ERRORS: Final = frozenset({"1103", "1218", "1302", "1303", "1201", "1202"})
# 1309 (API not allowed again) and 2210 (retry the request) are LG's ways of saying "slow down":
# they get the rate-limit back-off, like HTTP 429.
RATE_LIMIT_ERRORS: Final = frozenset({"1306", "1309", "2210"})
OUTAGE_ERRORS: Final = frozenset({"2000", "2209", "2212", "2214", "0000"})
OFFLINE_ERRORS: Final = frozenset({"1222", "1223", "2205"})
# The appliance refused: code → i18n key of the reason told to the person.
REFUSALS: Final = {
    "2301": "thinq.refused.remote_off",
    "2302": "thinq.refused.in_state",
    "2303": "thinq.refused.in_error",
    "2304": "thinq.refused.power_off",
    "2305": "thinq.refused.in_mode",
    "1308": "thinq.refused.no_authority",
    "2207": "thinq.refused.invalid_command",
    "2208": "thinq.refused.failed",
    "1102": "thinq.refused.invalid_value",
}
# Words in LG's own message that name a more precise reason than its code (2302 "door open").
REASON_HINTS: Final = (("door", "thinq.refused.door_open"), ("child", "thinq.refused.child_lock"))
