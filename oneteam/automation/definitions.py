"""Routines and scenes from YAML/JSON mappings and back, checked against the home at the edge.

One shape serves the REST body, the home file's `routines:`/`scenes:` and the presets. A step may
name a device by id, or by `type` (and `room`, by id or by any of its names) so a preset fits any
home: such a step becomes one step per matching device, and one that matches nothing is dropped
with a note. Unknown devices, commands a device lacks and values out of range are refused with
the reason (AutomationInvalid), before anything is stored.

The parts: reading.py (values), parts.py (triggers, conditions, actions), serialize.py (back
to plain data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from oneteam.automation.errors import AutomationInvalid
from oneteam.automation.model import Automation, CommandAction, Mode, Routine, RunAction, Scene, SceneAction
from oneteam.automation.parts import RoutineReader
from oneteam.automation.reading import (
    MAX_DURATION_S,
    MAX_NODES,
    NOTIFIER_NAMES,
    Devices,
    clock_seconds,
    command_of,
    parse_duration,
)
from oneteam.automation.serialize import action_to_dict, condition_to_dict, routine_to_dict, trigger_to_dict

__all__ = [
    "MAX_DURATION_S",
    "MAX_NODES",
    "MAX_STEPS",
    "NOTIFIER_NAMES",
    "Devices",
    "Parsed",
    "action_to_dict",
    "check_references",
    "clock_seconds",
    "command_of",
    "commands_in",
    "condition_to_dict",
    "parse_duration",
    "parse_routine",
    "routine_to_dict",
    "trigger_to_dict",
]

_ID = re.compile(r"^[\w가-힣][\w가-힣\-]{0,63}$")
MAX_STEPS = 200
"""Steps one automation may hold."""


@dataclass(slots=True)
class Parsed:
    """A checked routine and what was dropped from it on the way."""

    routine: Routine
    notes: list[dict[str, Any]] = field(default_factory=list)


def parse_routine(data: Any, home: Devices, *, kind: str | None = None, where: str = "") -> Parsed:
    """A scene (`targets:`) or an automation (`actions:`) from a mapping; AutomationInvalid if wrong."""
    reader = RoutineReader(home, where)
    mapping = reader.mapping(data, where or "routine")
    routine_id = mapping.get("id")
    if not isinstance(routine_id, str) or not _ID.match(routine_id):
        raise AutomationInvalid(
            "automation.bad_id", f"{where}id", f"bad id {routine_id!r}", id=str(routine_id)
        )
    reader.where = f"{where}{routine_id}."
    is_scene = kind == "scene" if kind else "targets" in mapping
    known = {"id", "names", "name", "enabled", "kind"} | (
        {"targets"} if is_scene else {"triggers", "conditions", "actions", "mode", "max_runs"}
    )
    reader.no_extra(mapping, known, "")
    names = reader.names(mapping.get("names", mapping.get("name")), routine_id)
    enabled = reader.boolean(mapping.get("enabled", True), "enabled")
    routine: Routine
    if is_scene:
        targets = tuple(
            t
            for i, item in enumerate(reader.sequence(mapping.get("targets"), "targets"))
            for t in reader.commands(item, f"targets[{i}]")
        )
        if not targets:
            raise AutomationInvalid("automation.empty", f"{reader.where}targets", "a scene needs targets")
        routine = Scene(id=routine_id, names=names, targets=targets, enabled=enabled)
    else:
        mode_text = mapping.get("mode", "single")
        if mode_text not in {m.value for m in Mode}:
            raise AutomationInvalid(
                "automation.bad_mode", f"{reader.where}mode", f"mode {mode_text!r}", value=str(mode_text)
            )
        max_runs = mapping.get("max_runs", 10)
        if isinstance(max_runs, bool) or not isinstance(max_runs, int) or not 1 <= max_runs <= 1000:
            raise AutomationInvalid(
                "automation.bad_number", f"{reader.where}max_runs", "max_runs is 1–1000", value=str(max_runs)
            )
        triggers = tuple(
            trigger
            for i, t in enumerate(reader.sequence(mapping.get("triggers", []), "triggers"))
            for trigger in reader.triggers(t, f"triggers[{i}]")
        )
        conditions = tuple(
            reader.condition(c, f"conditions[{i}]")
            for i, c in enumerate(reader.sequence(mapping.get("conditions", []), "conditions"))
        )
        actions = tuple(
            a
            for i, item in enumerate(reader.sequence(mapping.get("actions"), "actions"))
            for a in reader.action(item, f"actions[{i}]")
        )
        if not actions:
            raise AutomationInvalid(
                "automation.empty", f"{reader.where}actions", "an automation needs actions"
            )
        if len(actions) > MAX_STEPS:
            raise AutomationInvalid(
                "automation.bad_number", f"{reader.where}actions", "too many steps", value=str(len(actions))
            )
        routine = Automation(
            id=routine_id,
            names=names,
            triggers=triggers,
            conditions=conditions,
            actions=actions,
            mode=Mode(mode_text),
            max_runs=max_runs,
            enabled=enabled,
        )
    return Parsed(routine, reader.notes)


def check_references(routines: Mapping[str, Routine], routine: Routine) -> None:
    """A scene or `run` step must name a routine that exists (a routine may not run itself)."""
    if not isinstance(routine, Automation):
        return
    for i, action in enumerate(routine.actions):
        where = f"{routine.id}.actions[{i}]"
        if isinstance(action, SceneAction) and not isinstance(routines.get(action.scene), Scene):
            raise AutomationInvalid(
                "automation.unknown_scene", where, f"no scene {action.scene}", scene=action.scene
            )
        if isinstance(action, RunAction) and (
            action.routine == routine.id or not isinstance(routines.get(action.routine), Automation)
        ):
            raise AutomationInvalid(
                "automation.unknown_routine", where, f"no routine {action.routine}", routine=action.routine
            )


def commands_in(routine: Routine, routines: Mapping[str, Routine]) -> list[CommandAction]:
    """Every command a routine may send, through its scenes and the routines it runs."""
    found: list[CommandAction] = []
    seen: set[str] = set()
    pending = [routine]
    while pending:
        current = pending.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        steps = current.targets if isinstance(current, Scene) else current.actions
        for step in steps:
            if isinstance(step, CommandAction):
                found.append(step)
            elif isinstance(step, SceneAction | RunAction):
                other = routines.get(step.scene if isinstance(step, SceneAction) else step.routine)
                if other is not None:
                    pending.append(other)
    return found
