"""Scenes and automations as plain typed data (no I/O): triggers → conditions → actions.

Device references here are always concrete device ids; presets and home files that name devices
by type and room are resolved to ids before they become these objects (see resolve.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from oneteam.model import StateValue

Texts = Mapping[str, str]
"""A text per language: {"ko": "...", "en": "..."}."""


class Mode(StrEnum):
    """What a trigger does while the automation is already running."""

    SINGLE = "single"
    """Ignore the new trigger."""
    RESTART = "restart"
    """Stop the running run and start again."""
    QUEUED = "queued"
    """Run after the current one (at most `max_runs` waiting)."""
    PARALLEL = "parallel"
    """Run beside it (at most `max_runs` at once)."""


# -- triggers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeTrigger:
    """At a time of day ("07:00", "07:00:30"), on some weekdays (0 = Monday; empty = every day)."""

    at: str
    weekdays: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CronTrigger:
    """A cron expression in the home's time zone (five fields, or six with seconds last)."""

    cron: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SunTrigger:
    """Sunrise or sunset at the home's location, shifted by `offset_s` (negative: before)."""

    event: str
    offset_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StateTrigger:
    """A device attribute changes (to one of `to`, from one of `from_`) or crosses a threshold,
    and stays so for `for_s` seconds."""

    device: str
    attribute: str
    to: tuple[StateValue, ...] = ()
    from_: tuple[StateValue, ...] = ()
    above: float | None = None
    below: float | None = None
    for_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EventTrigger:
    """A hub event of one kind (warning, alert, availability, finished, ...), optionally of one
    device and with some data fields equal to given values (`is_available: false`)."""

    kind: str
    device: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhraseTrigger:
    """A spoken or typed phrase (kept; matching it is the voice room's later step)."""

    phrase: str
    language: str = "ko"


Trigger = TimeTrigger | CronTrigger | SunTrigger | StateTrigger | EventTrigger | PhraseTrigger
TIME_TRIGGERS = (TimeTrigger, CronTrigger, SunTrigger)

# -- conditions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StateCondition:
    """A device attribute is one of `equals` (or the device is available, for `is_available`)."""

    device: str
    attribute: str
    equals: tuple[StateValue, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NumericCondition:
    """A numeric attribute is above and/or below limits (exclusive)."""

    device: str
    attribute: str
    above: float | None = None
    below: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeCondition:
    """Local time is in [after, before); a window may wrap midnight ("22:00"–"06:00")."""

    after: str | None = None
    before: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekdayCondition:
    """Today is one of `days` (0 = Monday)."""

    days: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class HolidayCondition:
    """Today is (or, with `is_holiday=False`, is not) a public holiday of `country`, lunar ones included."""

    is_holiday: bool = True
    country: str = "KR"


@dataclass(frozen=True, slots=True, kw_only=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    condition: Condition


Condition = (
    StateCondition
    | NumericCondition
    | TimeCondition
    | WeekdayCondition
    | HolidayCondition
    | AllOf
    | AnyOf
    | Not
)

# -- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandAction:
    """One device command, through `hub.dispatch` (a scene's target is one of these too)."""

    device: str
    command: str
    value: float | int | str | None = None
    direction: str | None = None
    target: str | None = None
    continue_on_error: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SceneAction:
    scene: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DelayAction:
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitAction:
    """Wait until a device attribute is one of `to` (or above/below a number), at most `timeout_s`."""

    device: str
    attribute: str
    to: tuple[StateValue, ...] = ()
    above: float | None = None
    below: float | None = None
    timeout_s: float = 600.0
    continue_on_timeout: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyAction:
    """A message for the household through the notifiers (the page and activity log, MQTT, a
    webhook; `speech` says it aloud): all but speech when `to` is empty, else those named."""

    text: Texts
    to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SayAction:
    """A sentence for the home's speakers: a SAY event."""

    text: Texts


@dataclass(frozen=True, slots=True, kw_only=True)
class RunAction:
    """Run another automation's actions (and wait for it)."""

    routine: str


Action = CommandAction | SceneAction | DelayAction | WaitAction | NotifyAction | SayAction | RunAction

# -- definitions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Scene:
    """Named target states, applied together."""

    id: str
    names: Texts
    targets: tuple[CommandAction, ...]
    enabled: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Automation:
    """When (triggers), only if (conditions), do (actions)."""

    id: str
    names: Texts
    triggers: tuple[Trigger, ...] = ()
    conditions: tuple[Condition, ...] = ()
    actions: tuple[Action, ...] = ()
    mode: Mode = Mode.SINGLE
    max_runs: int = 10
    """For queued: how many may wait; for parallel: how many may run at once."""
    enabled: bool = True


Routine = Automation | Scene


def name_of(routine: Routine, language: str) -> str:
    """The routine's name in `language` (Korean, then any, then its id)."""
    return (
        routine.names.get(language)
        or routine.names.get("ko")
        or next(iter(routine.names.values()), routine.id)
    )
