"""Routines back to plain data: the mapping `parse_routine` reads (what export writes and the
store keeps)."""

from __future__ import annotations

from typing import Any

from oneteam.automation.model import (
    Action,
    AllOf,
    AnyOf,
    CommandAction,
    Condition,
    CronTrigger,
    DelayAction,
    EventTrigger,
    HolidayCondition,
    Mode,
    Not,
    NotifyAction,
    NumericCondition,
    PhraseTrigger,
    Routine,
    RunAction,
    SayAction,
    Scene,
    SceneAction,
    StateCondition,
    StateTrigger,
    SunTrigger,
    TimeCondition,
    TimeTrigger,
    Trigger,
    WaitAction,
    WeekdayCondition,
)


def routine_to_dict(routine: Routine) -> dict[str, Any]:
    """The mapping `parse_routine` reads (what export writes)."""
    out: dict[str, Any] = {"id": routine.id, "names": dict(routine.names)}
    if not routine.enabled:
        out["enabled"] = False
    if isinstance(routine, Scene):
        out["targets"] = [_command_dict(t) for t in routine.targets]
        return out
    if routine.mode is not Mode.SINGLE:
        out["mode"] = routine.mode.value
    if routine.max_runs != 10:
        out["max_runs"] = routine.max_runs
    out["triggers"] = [trigger_to_dict(t) for t in routine.triggers]
    if routine.conditions:
        out["conditions"] = [condition_to_dict(c) for c in routine.conditions]
    out["actions"] = [action_to_dict(a) for a in routine.actions]
    return out


def trigger_to_dict(trigger: Trigger) -> dict[str, Any]:  # noqa: PLR0912
    """One trigger as plain data."""
    match trigger:
        case TimeTrigger():
            return {"time": trigger.at, **({"weekdays": list(trigger.weekdays)} if trigger.weekdays else {})}
        case CronTrigger():
            return {"cron": trigger.cron}
        case SunTrigger():
            return {"sun": trigger.event, **({"offset": trigger.offset_s} if trigger.offset_s else {})}
        case StateTrigger():
            out: dict[str, Any] = {"device": trigger.device, "attribute": trigger.attribute}
            for name, value in (("to", trigger.to), ("from", trigger.from_)):
                if value:
                    out[name] = list(value)
            for name, number in (("above", trigger.above), ("below", trigger.below)):
                if number is not None:
                    out[name] = number
            if trigger.for_s:
                out["for"] = trigger.for_s
            return out
        case EventTrigger():
            event: dict[str, Any] = {"event": trigger.kind}
            if trigger.device:
                event["device"] = trigger.device
            if trigger.data:
                event["data"] = dict(trigger.data)
            return event
        case PhraseTrigger():
            return {"phrase": trigger.phrase, "language": trigger.language}


def condition_to_dict(condition: Condition) -> dict[str, Any]:  # noqa: PLR0911
    """One condition as plain data."""
    match condition:
        case StateCondition():
            return {
                "device": condition.device,
                "attribute": condition.attribute,
                "is": list(condition.equals),
            }
        case NumericCondition():
            out: dict[str, Any] = {"device": condition.device, "attribute": condition.attribute}
            if condition.above is not None:
                out["above"] = condition.above
            if condition.below is not None:
                out["below"] = condition.below
            return out
        case TimeCondition():
            window = {k: v for k, v in (("after", condition.after), ("before", condition.before)) if v}
            return {"time": window}
        case WeekdayCondition():
            return {"weekday": list(condition.days)}
        case HolidayCondition():
            return {"holiday": condition.is_holiday, "country": condition.country}
        case AllOf():
            return {"and": [condition_to_dict(c) for c in condition.conditions]}
        case AnyOf():
            return {"or": [condition_to_dict(c) for c in condition.conditions]}
        case Not():
            return {"not": condition_to_dict(condition.condition)}


def action_to_dict(action: Action) -> dict[str, Any]:  # noqa: PLR0911
    """One action as plain data."""
    match action:
        case CommandAction():
            return _command_dict(action)
        case SceneAction():
            return {"scene": action.scene}
        case DelayAction():
            return {"delay": action.seconds}
        case WaitAction():
            wait: dict[str, Any] = {"device": action.device, "attribute": action.attribute}
            if action.to:
                wait["to"] = list(action.to)
            if action.above is not None:
                wait["above"] = action.above
            if action.below is not None:
                wait["below"] = action.below
            wait["timeout"] = action.timeout_s
            if not action.continue_on_timeout:
                wait["continue_on_timeout"] = False
            return {"wait": wait}
        case NotifyAction():
            return {"notify": dict(action.text), **({"to": list(action.to)} if action.to else {})}
        case SayAction():
            return {"say": dict(action.text)}
        case RunAction():
            return {"run": action.routine}


def _command_dict(action: CommandAction) -> dict[str, Any]:
    out: dict[str, Any] = {"device": action.device, "command": action.command}
    for name in ("value", "direction", "target"):
        if getattr(action, name) is not None:
            out[name] = getattr(action, name)
    if action.continue_on_error:
        out["continue_on_error"] = True
    return out
