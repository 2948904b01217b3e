"""Reading a routine's parts: triggers (one per device for a `type` trigger), conditions (and/or/not
nested up to MAX_DEPTH) and actions (a `type` step becomes one per matching device)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from croniter import croniter

from oneteam.automation.model import (
    Action,
    AllOf,
    AnyOf,
    Condition,
    CronTrigger,
    DelayAction,
    EventTrigger,
    HolidayCondition,
    Not,
    NotifyAction,
    NumericCondition,
    PhraseTrigger,
    RunAction,
    SayAction,
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
from oneteam.automation.reading import Reader
from oneteam.model import EventKind

_EVENT_KINDS = {k.value for k in EventKind}
MAX_DEPTH = 8
"""How deeply and/or/not may nest."""


class RoutineReader(Reader):
    """A Reader that also reads triggers, conditions and actions."""

    def triggers(self, value: Any, path: str) -> list[Trigger]:
        """One trigger, or one per device when it names a device `type` (and `room`), so a preset
        such as "a wash finished" fits any home (none, with a note, when the home has no such device)."""
        item = self.mapping(value, path)
        if "type" not in item or "device" in item or not ("event" in item or "attribute" in item):
            return [self.trigger(item, path)]
        rest = {k: v for k, v in item.items() if k not in ("type", "room")}
        return [self.trigger({**rest, "device": d.id}, path) for d in self.devices_for(item, path)]

    def trigger(self, value: Any, path: str) -> Trigger:
        self.spend(path)
        item = self.mapping(value, path)
        if "time" in item:
            self.no_extra(item, {"time", "weekdays"}, path)
            days = self.days(item["weekdays"], f"{path}.weekdays") if "weekdays" in item else ()
            return TimeTrigger(at=self.clock(item["time"], f"{path}.time"), weekdays=days)
        if "cron" in item:
            self.no_extra(item, {"cron"}, path)
            expression = item["cron"]
            if not isinstance(expression, str) or not croniter.is_valid(expression):
                raise self.fail(
                    "automation.bad_cron", path, f"bad cron {expression!r}", value=str(expression)
                )
            return CronTrigger(cron=expression)
        if "sun" in item:
            self.no_extra(item, {"sun", "offset"}, path)
            if item["sun"] not in ("sunrise", "sunset"):
                raise self.fail(
                    "automation.bad_value", f"{path}.sun", "sunrise or sunset", value=str(item["sun"])
                )
            offset = self.duration(item.get("offset", 0), f"{path}.offset", signed=True)
            return SunTrigger(event=str(item["sun"]), offset_s=offset)
        if "event" in item:
            self.no_extra(item, {"event", "device", "data"}, path)
            if item["event"] not in _EVENT_KINDS:
                raise self.fail(
                    "automation.bad_event",
                    f"{path}.event",
                    "unknown event",
                    value=str(item["event"]),
                    allowed=", ".join(sorted(_EVENT_KINDS)),
                )
            device = self.device(item["device"], f"{path}.device").id if "device" in item else None
            return EventTrigger(
                kind=str(item["event"]), device=device, data=self.mapping(item.get("data", {}), path)
            )
        if "phrase" in item:
            self.no_extra(item, {"phrase", "language"}, path)
            return PhraseTrigger(
                phrase=self.texts(item["phrase"], f"{path}.phrase")["ko"],
                language=str(item.get("language", "ko")),
            )
        if "attribute" in item:
            self.no_extra(item, {"device", "attribute", "to", "from", "above", "below", "for"}, path)
            above, below = (
                self.number(item.get("above"), f"{path}.above"),
                self.number(item.get("below"), f"{path}.below"),
            )
            return StateTrigger(
                device=self.device(item.get("device"), f"{path}.device").id,
                attribute=self.attribute(item, path),
                to=self.values(item["to"]) if "to" in item else (),
                from_=self.values(item["from"]) if "from" in item else (),
                above=above,
                below=below,
                for_s=self.duration(item.get("for", 0), f"{path}.for"),
            )
        raise self.fail("automation.bad_trigger", path, "unknown trigger")

    def condition(self, value: Any, path: str, depth: int = 0) -> Condition:  # noqa: PLR0911
        self.spend(path)
        if depth > MAX_DEPTH:
            raise self.fail("automation.too_deep", path, "nested too deeply", limit=MAX_DEPTH)
        item = self.mapping(value, path)
        for key, kind in (("and", AllOf), ("or", AnyOf)):
            if key in item:
                parts = self.sequence(item[key], f"{path}.{key}")
                return kind(
                    conditions=tuple(
                        self.condition(c, f"{path}.{key}[{i}]", depth + 1) for i, c in enumerate(parts)
                    )
                )
        if "not" in item:
            return Not(condition=self.condition(item["not"], f"{path}.not", depth + 1))
        if "time" in item:
            window = self.mapping(item["time"], f"{path}.time")
            self.no_extra(window, {"after", "before"}, f"{path}.time")
            return TimeCondition(
                after=self.clock(window["after"], f"{path}.time.after") if "after" in window else None,
                before=self.clock(window["before"], f"{path}.time.before") if "before" in window else None,
            )
        if "weekday" in item:
            return WeekdayCondition(days=self.days(item["weekday"], f"{path}.weekday"))
        if "holiday" in item:
            self.no_extra(item, {"holiday", "country"}, path)
            return HolidayCondition(
                is_holiday=self.boolean(item["holiday"], f"{path}.holiday"),
                country=str(item.get("country", "KR")),
            )
        if "attribute" in item:
            device = self.device(item.get("device"), f"{path}.device").id
            attribute = self.attribute(item, path)
            if "is" in item:
                self.no_extra(item, {"device", "attribute", "is"}, path)
                return StateCondition(device=device, attribute=attribute, equals=self.values(item["is"]))
            self.no_extra(item, {"device", "attribute", "above", "below"}, path)
            above, below = (
                self.number(item.get("above"), f"{path}.above"),
                self.number(item.get("below"), f"{path}.below"),
            )
            if above is None and below is None:
                raise self.fail("automation.bad_condition", path, "give is, above or below")
            return NumericCondition(device=device, attribute=attribute, above=above, below=below)
        raise self.fail("automation.bad_condition", path, "unknown condition")

    def action(self, value: Any, path: str) -> Sequence[Action]:  # noqa: PLR0911
        self.spend(path)
        item = self.mapping(value, path)
        if "command" in item:
            return self.commands(item, path)
        if len(item) != 1 and "wait" not in item and set(item) != {"notify", "to"}:
            raise self.fail("automation.bad_action", path, "one action per step")
        if "scene" in item:
            return [SceneAction(scene=str(item["scene"]))]
        if "run" in item:
            return [RunAction(routine=str(item["run"]))]
        if "delay" in item:
            return [DelayAction(seconds=self.duration(item["delay"], f"{path}.delay"))]
        if "notify" in item:
            return [
                NotifyAction(text=self.texts(item["notify"], f"{path}.notify"), to=self.notifiers(item, path))
            ]
        if "say" in item:
            return [SayAction(text=self.texts(item["say"], f"{path}.say"))]
        if "wait" in item:
            wait = self.mapping(item["wait"], f"{path}.wait")
            self.no_extra(
                wait,
                {"device", "attribute", "to", "above", "below", "timeout", "continue_on_timeout"},
                f"{path}.wait",
            )
            to = self.values(wait["to"]) if "to" in wait else ()
            above = self.number(wait.get("above"), f"{path}.wait.above")
            below = self.number(wait.get("below"), f"{path}.wait.below")
            if not to and above is None and below is None:
                raise self.fail("automation.bad_condition", f"{path}.wait", "give to, above or below")
            return [
                WaitAction(
                    device=self.device(wait.get("device"), f"{path}.wait.device").id,
                    attribute=self.attribute(wait, f"{path}.wait"),
                    to=to,
                    above=above,
                    below=below,
                    timeout_s=self.duration(wait.get("timeout", 600), f"{path}.wait.timeout"),
                    continue_on_timeout=self.boolean(wait.get("continue_on_timeout", True), f"{path}.wait"),
                )
            ]
        raise self.fail("automation.bad_action", path, "unknown action")
