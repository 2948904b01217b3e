"""A run's steps, one after another: commands and scenes through `hub.dispatch` under the
routine's grant, delays and waits committed before sleeping (a restart can resume them), notices,
speech and nested runs; each step's result goes into the run's trace."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from oneteam.automation.conditions import value_matches
from oneteam.automation.definitions import command_of
from oneteam.automation.engine_state import EngineState
from oneteam.automation.model import (
    Action,
    Automation,
    CommandAction,
    DelayAction,
    NotifyAction,
    RunAction,
    SayAction,
    Scene,
    SceneAction,
    WaitAction,
)
from oneteam.automation.notify import Notice, deliver
from oneteam.automation.store import RunRecord
from oneteam.i18n import render
from oneteam.model import Event, EventKind, Grant, OneteamError, StateValue

_LOGGER = logging.getLogger(__name__)
MAX_DEPTH = 5
"""How deep `run` steps may nest (a → b → c ...)."""


_ALREADY = {
    "error.state.already_started": "start",
    "error.state.already_paused": "pause",
    "error.state.already_stopped": "stop",
    "error.state.already_docked": "return_to_base",
    "error.state.already_in_state": "*",
}
"""State-rule refusals (model/state_rules.py) that mean the step's target already holds, by command."""


class Steps(EngineState):
    """What each kind of step does."""

    async def _steps(
        self, routine: Automation, record: RunRecord, grant: Grant, *, resume: bool, depth: int
    ) -> str:
        for index in range(record.step, len(routine.actions)):
            action = routine.actions[index]
            record.step = index
            resume_at = record.resume_at if resume else None
            resume = False
            started, clock = time.time(), time.perf_counter()
            status, detail, stop = await self._do(action, routine, record, grant, resume_at, depth)
            record.trace["steps"].append(
                {
                    "index": index,
                    "action": _kind(action),
                    "status": status,
                    "at": started,
                    "ms": round((time.perf_counter() - clock) * 1000, 2),
                    **detail,
                }
            )
            record.step = index + 1
            record.resume_at = None
            if record.step < len(routine.actions):  # the last step's result comes with "finished"
                self._announce(record, "step", index=index, action=_kind(action), result=status)
            if stop:
                return "failed"
            if record.step < len(routine.actions):  # the last step is saved with the run's end
                await self._io(self.store.save_run, record)
        return "done"

    async def _do(  # noqa: PLR0911 (one return per kind of action)
        self,
        action: Action,
        routine: Automation,
        record: RunRecord,
        grant: Grant,
        resume_at: float | None,
        depth: int,
    ) -> tuple[str, dict[str, Any], bool]:
        match action:
            case CommandAction():
                result = await self._dispatch(action, grant)
                failed = not result["ok"]
                return ("failed" if failed else "ok"), result, failed and not action.continue_on_error
            case SceneAction():
                scene = self.routines.get(action.scene)
                if not isinstance(scene, Scene):
                    return "failed", {"scene": action.scene, "error": "automation.not_found"}, True
                results = await self.apply_scene(scene, grant)
                return scene_status(results), {"scene": scene.id, "results": results}, False
            case DelayAction():
                due = resume_at if resume_at is not None else time.time() + action.seconds
                record.resume_at = due
                await self._io(self.store.save_run, record)  # committed before sleeping: a restart resumes it
                await asyncio.sleep(max(0.0, due - time.time()))
                return "ok", {"seconds": action.seconds, **({"resumed": True} if resume_at else {})}, False
            case WaitAction():
                return await self._wait(action, record, resume_at)
            case NotifyAction():
                text = self._fill(action.text, record.trigger)
                notice = Notice(text=text, routine=routine.id, run=record.id, source=grant.source)
                outcome = await deliver(self.notifiers, notice, action.to)
                status = "ok" if not outcome["failed"] else "partial" if outcome["delivered"] else "failed"
                return status, {"text": text, **outcome}, False
            case SayAction():
                text = self._fill(action.text, record.trigger)
                self.hub.publish(
                    Event(
                        kind=EventKind.SAY,
                        data={"text": text, "routine": routine.id, "run": record.id},
                        source=grant.source,
                    )
                )
                return "ok", {"text": text}, False
            case RunAction():
                other = self.routines.get(action.routine)
                if not isinstance(other, Automation) or depth >= MAX_DEPTH:
                    return "failed", {"routine": action.routine, "error": "automation.not_found"}, True
                child = await self._io(
                    self.store.start_run, other.id, {"kind": "routine", "by": routine.id, "run": record.id}
                )
                await self._run(other, child, resume=False, depth=depth + 1)
                return (
                    ("ok" if child.status == "done" else "failed"),
                    {"routine": other.id, "run": child.id, "result": child.status},
                    child.status != "done",
                )

    def _fill(self, texts: Mapping[str, str], trigger: Mapping[str, Any]) -> dict[str, str]:
        """`{text}` and `{device}` in a notice from the event that started the run: a built-in
        notice passes a warning's or alert's own words on (`{text}` in each language)."""
        data = trigger.get("data") if isinstance(trigger.get("data"), dict) else {}
        assert isinstance(data, dict)
        device_id = trigger.get("device")
        device = self.hub.home_view().devices.get(device_id) if isinstance(device_id, str) else None
        filled: dict[str, str] = {}
        for lang, template in texts.items():
            if "{" not in template:
                filled[lang] = template
                continue
            words = data.get("text") if isinstance(data.get("text"), dict) else {}
            assert isinstance(words, dict)
            said = (
                words.get(lang) or data.get(f"message_{lang}") or render("automation.notice_fallback", lang)
            )
            name = device.name_in(lang) if device is not None else render("automation.notice_home", lang)
            filled[lang] = template.replace("{text}", str(said)).replace("{device}", name)
        return filled

    async def _dispatch(self, action: CommandAction, grant: Grant) -> dict[str, Any]:
        result: dict[str, Any] = {"device": action.device, "command": action.command}
        if action.value is not None:
            result["value"] = action.value
        try:
            await self.hub.dispatch(command_of(action, grant.source), grant=grant)
        except OneteamError as exc:
            if _ALREADY.get(exc.key) in (action.command, "*"):
                # The hub refused because the device is already where the step wants it (a docked
                # robot told to dock): for a routine the target state holds, so the step is done.
                return {**result, "ok": True, "already": exc.key}
            return {
                **result,
                "ok": False,
                "error": exc.key,
                "message": {
                    "ko": render(exc.key, "ko", **exc.params),
                    "en": render(exc.key, "en", **exc.params),
                },
            }
        except Exception as exc:  # an integration's bug is this device's failure, not the whole scene's
            _LOGGER.exception("command %s on %s failed unexpectedly", action.command, action.device)
            return {
                **result,
                "ok": False,
                "error": "error.unknown",
                "message": {"ko": repr(exc), "en": repr(exc)},
            }
        return {**result, "ok": True}

    async def apply_scene(self, scene: Scene, grant: Grant) -> list[dict[str, Any]]:
        """Every device at once, each device's targets in their order (an air conditioner is turned
        on before its temperature is set); one result per target, failures saying why in Korean
        and English."""
        by_device: dict[str, list[int]] = {}
        for index, target in enumerate(scene.targets):
            by_device.setdefault(target.device, []).append(index)
        results: list[dict[str, Any]] = [{} for _ in scene.targets]

        async def one_device(indexes: list[int]) -> None:
            for index in indexes:
                results[index] = await self._dispatch(scene.targets[index], grant)

        await asyncio.gather(*(one_device(indexes) for indexes in by_device.values()))
        return results

    async def _wait(
        self, action: WaitAction, record: RunRecord, resume_at: float | None
    ) -> tuple[str, dict[str, Any], bool]:
        deadline = resume_at if resume_at is not None else time.time() + action.timeout_s
        record.resume_at = deadline
        await self._io(self.store.save_run, record)
        started = time.time()
        while True:
            state = self.hub.states().get(action.device)
            value: StateValue = None
            if state is not None:
                value = (
                    state.is_available if action.attribute == "is_available" else state.get(action.attribute)
                )
            if value_matches(value, action.to, action.above, action.below):
                return (
                    "ok",
                    {
                        "device": action.device,
                        "attribute": action.attribute,
                        "value": value,
                        "waited_s": round(time.time() - started, 3),
                    },
                    False,
                )
            remaining = deadline - time.time()
            if remaining <= 0:
                detail = {
                    "device": action.device,
                    "attribute": action.attribute,
                    "value": value,
                    "timeout_s": action.timeout_s,
                }
                return "timeout", detail, not action.continue_on_timeout
            changed = self._changed.setdefault(action.device, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await changed.wait()


def scene_status(results: list[dict[str, Any]]) -> str:
    failed = sum(1 for r in results if not r["ok"])
    return "ok" if failed == 0 else "failed" if failed == len(results) else "partial"


def _kind(action: Action) -> str:
    return {
        CommandAction: "command",
        SceneAction: "scene",
        DelayAction: "delay",
        WaitAction: "wait",
        NotifyAction: "notify",
        SayAction: "say",
        RunAction: "run",
    }[type(action)]
