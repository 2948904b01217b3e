"""The engine on a real hub: real bus, real dispatch, real SQLite, real clock (no mocked scheduler)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from oneteam.automation import AutomationStore, Engine
from oneteam.hub import Hub, parse_home
from oneteam.model import Command, EventKind, OneteamError
from tests.automation.conftest import DEMO_HOME, make_hub, wait_runs


def _clock_in(seconds: float) -> str:
    moment = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=9))) + dt.timedelta(
        seconds=seconds
    )
    return moment.strftime("%H:%M:%S")


async def _set(hub: Hub, device: str, name: str, value: Any = None) -> None:
    await hub.dispatch(Command(device_id=device, name=name, value=value, source="test"))


async def test_a_scene_applies_every_target_and_reports_the_one_that_failed(hub: Hub, engine: Engine) -> None:
    await _set(hub, "washer", "start")  # a running washer refuses a new course
    await engine.put(
        {
            "id": "evening",
            "names": {"ko": "저녁", "en": "Evening"},
            "targets": [
                {"device": "light_living", "command": "set_brightness", "value": 30},
                {"device": "washer", "command": "set_mode", "value": "wool"},
                {"device": "ac_living", "command": "turn_on"},  # before its temperature: in order per device
                {"device": "ac_living", "command": "set_temperature", "value": 26},
            ],
        }
    )
    record = await engine.run_now("evening")
    assert record.status == "partial"
    results = {r["device"]: r for r in record.trace["steps"][0]["results"]}
    assert results["light_living"]["ok"] and results["ac_living"]["ok"]
    assert [r["command"] for r in record.trace["steps"][0]["results"]][2:] == ["turn_on", "set_temperature"]
    assert results["washer"]["ok"] is False
    assert results["washer"]["error"] == "error.busy_running"
    assert "세탁기" in results["washer"]["message"]["ko"]
    assert results["washer"]["message"]["en"] != results["washer"]["message"]["ko"]
    assert hub.state("light_living").attributes["brightness"] == 30
    assert hub.state("ac_living").attributes["temperature"] == 26
    assert hub.state("washer").attributes["mode"] == "standard"
    stored = engine.store.run(record.id)
    assert stored is not None and stored.status == "partial"
    # The commands went through the one command path, as the routine's grant.
    events = [e async for e in _events(hub, EventKind.COMMAND)]
    assert any(e.source == "routine:evening" and e.device_id == "light_living" for e in events)


async def _events(hub: Hub, kind: EventKind) -> Any:
    from oneteam.hub import EventQuery

    for event in await hub.events(EventQuery(kinds=(kind,), limit=100)):
        yield event


async def test_a_state_trigger_with_for_fires_only_when_the_state_holds(hub: Hub, engine: Engine) -> None:
    await engine.put(
        {
            "id": "light_left_on",
            "triggers": [{"device": "light_kitchen", "attribute": "power", "to": True, "for": 1.0}],
            "actions": [{"device": "light_living", "command": "set_brightness", "value": 7}],
        }
    )
    await _set(hub, "light_kitchen", "turn_on")
    await asyncio.sleep(0.15)
    await _set(hub, "light_kitchen", "turn_off")  # off again before 1 s: no run
    await asyncio.sleep(1.2)
    assert engine.store.runs("light_left_on") == []
    started = time.time()
    await _set(hub, "light_kitchen", "turn_on")
    runs = await wait_runs(engine, "light_left_on")
    assert runs[0].status == "done"
    assert runs[0].trigger["for_s"] == 1.0
    assert runs[0].trigger["to"] is True
    assert runs[0].trace["steps"][0]["at"] - started >= 1.0
    assert hub.state("light_living").attributes["brightness"] == 7


async def test_a_threshold_trigger_fires_when_crossing_not_while_above(hub: Hub, engine: Engine) -> None:
    await _set(hub, "light_bedroom", "set_brightness", 10)
    await engine.put(
        {
            "id": "bright",
            "mode": "parallel",
            "triggers": [{"device": "light_bedroom", "attribute": "brightness", "above": 50}],
            "actions": [{"notify": {"ko": "밝아요", "en": "Bright"}}],
        }
    )
    for value in (70, 90, 30, 80):  # crosses upward twice: at 70 and at 80
        await _set(hub, "light_bedroom", "set_brightness", value)
        await asyncio.sleep(0.05)
    runs = await wait_runs(engine, "bright", 2)
    await asyncio.sleep(0.2)
    assert len(engine.store.runs("bright")) == 2
    assert [r.trigger["to"] for r in runs] == [70, 80]


async def test_time_and_cron_triggers_fire_on_the_real_clock(hub: Hub, engine: Engine) -> None:
    await engine.put(
        {
            "id": "soon",
            "triggers": [{"time": _clock_in(2.5)}],
            "actions": [{"device": "light_small", "command": "turn_on"}],
        }
    )
    await engine.put(
        {
            "id": "every_second",
            "mode": "parallel",
            "triggers": [{"cron": "* * * * * *"}],  # six fields: seconds last
            "actions": [{"say": "딩동"}],
        }
    )
    runs = await wait_runs(engine, "soon", within_s=6)
    assert runs[0].trigger["kind"] == "time"
    assert abs(runs[0].trigger["fired_at"] - runs[0].trigger["due_at"]) < 0.5
    assert hub.state("light_small").attributes["power"] is True
    ticks = await wait_runs(engine, "every_second", 2, within_s=4)
    assert ticks[1].trigger["due_at"] - ticks[0].trigger["due_at"] == 1.0


async def test_conditions_combine_and_the_trace_says_which_failed(hub: Hub, engine: Engine) -> None:
    await _set(hub, "ac_living", "turn_on")
    await _set(hub, "ac_living", "set_temperature", 22)
    await engine.put(
        {
            "id": "guarded",
            "mode": "queued",
            "triggers": [{"device": "light_living", "attribute": "power"}],
            "conditions": [
                {
                    "or": [
                        {"device": "ac_living", "attribute": "temperature", "below": 20},
                        {"weekday": list(range(7))},
                    ]
                },
                {"time": {"after": "00:00", "before": "23:59:59"}},
                {
                    "and": [
                        {"device": "tv", "attribute": "power", "is": True},
                        {"not": {"device": "ac_living", "attribute": "temperature", "above": 25}},
                    ]
                },
            ],
            "actions": [{"device": "light_kitchen", "command": "turn_on"}],
        }
    )
    await _set(hub, "light_living", "turn_on")  # the TV is off: the third condition fails
    stopped = await wait_runs(engine, "guarded")
    assert stopped[0].status == "stopped"
    assert [c["passed"] for c in stopped[0].trace["conditions"]] == [True, True, False]
    assert stopped[0].trace["steps"] == []
    await _set(hub, "tv", "turn_on")
    await _set(hub, "light_living", "turn_off")
    runs = await wait_runs(engine, "guarded", 2, done=lambda r: r.status in {"stopped", "done"})
    assert runs[-1].status == "done"
    assert all(c["passed"] for c in runs[-1].trace["conditions"])
    assert hub.state("light_kitchen").attributes["power"] is True


async def _toggle(hub: Hub, times: int) -> None:
    for i in range(times):
        await _set(hub, "light_small", "turn_on" if i % 2 == 0 else "turn_off")
        await asyncio.sleep(0.03)


async def _moded(engine: Engine, routine_id: str, mode: str, max_runs: int = 10) -> None:
    await engine.put(
        {
            "id": routine_id,
            "mode": mode,
            "max_runs": max_runs,
            "triggers": [{"device": "light_small", "attribute": "power"}],
            "actions": [{"delay": 1.0}, {"notify": routine_id}],
        }
    )


async def test_run_modes_single_restart_queued_parallel(hub: Hub, engine: Engine) -> None:
    await _moded(engine, "m_single", "single")
    await _moded(engine, "m_restart", "restart")
    await _moded(engine, "m_queued", "queued", max_runs=1)
    await _moded(engine, "m_parallel", "parallel", max_runs=2)
    await _toggle(hub, 3)
    await asyncio.sleep(3.5)
    statuses = {
        rid: [r.status for r in reversed(engine.store.runs(rid))]
        for rid in ("m_single", "m_restart", "m_queued", "m_parallel")
    }
    assert statuses["m_single"] == ["done"]
    assert statuses["m_restart"] == ["restarted", "restarted", "done"]
    assert statuses["m_queued"] == ["done", "done"]  # one waits, the third is dropped (max 1 waiting)
    assert statuses["m_parallel"] == ["done", "done"]
    queued = list(reversed(engine.store.runs("m_queued")))
    assert queued[0].finished_at is not None and queued[1].started_at >= queued[0].finished_at - 0.01
    parallel = list(reversed(engine.store.runs("m_parallel")))
    assert parallel[0].finished_at is not None and parallel[1].started_at < parallel[0].finished_at
    assert engine.stats["ignored"] == 2
    assert engine.stats["dropped"] == 2


async def test_a_trace_records_trigger_conditions_and_each_step(hub: Hub, engine: Engine) -> None:
    await engine.put(
        {"id": "cozy", "targets": [{"device": "light_living", "command": "set_brightness", "value": 40}]}
    )
    await engine.put(
        {
            "id": "traced",
            "triggers": [{"device": "tv", "attribute": "channel", "above": 10}],
            "conditions": [{"device": "tv", "attribute": "power", "is": True}],
            "actions": [
                {"scene": "cozy"},
                {"delay": "0.2s"},
                {"device": "ac_living", "command": "set_mode", "value": "dry"},
                {"wait": {"device": "ac_living", "attribute": "mode", "to": "dry", "timeout": 1}},
                {"say": {"ko": "준비됐어요", "en": "Ready"}},
            ],
        }
    )
    await _set(hub, "tv", "turn_on")
    async with hub.subscribe("test") as events:
        await _set(hub, "tv", "set_channel", 11)
        runs = await wait_runs(engine, "traced")
        said = [e async for e in _take(events, EventKind.SAY)]
    run = runs[0]
    assert run.status == "done"
    assert (
        run.trigger["kind"] == "state" and run.trigger["attribute"] == "channel" and run.trigger["to"] == 11
    )
    assert run.trigger["event_id"] > 0
    assert run.trace["conditions"][0]["passed"] is True
    steps = run.trace["steps"]
    assert [s["action"] for s in steps] == ["scene", "delay", "command", "wait", "say"]
    assert all(s["status"] == "ok" for s in steps)
    assert steps[1]["ms"] >= 200
    assert steps[2]["device"] == "ac_living" and steps[2]["value"] == "dry"
    assert steps[3]["value"] == "dry"
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    assert said[0].data["text"] == {"ko": "준비됐어요", "en": "Ready"}
    assert said[0].source == "routine:traced"


async def _take(events: Any, kind: EventKind) -> Any:
    async with asyncio.timeout(2):
        async for event in events:
            if event.kind is kind:
                yield event
                return


async def test_wash_finished_event_and_wait_with_timeout(tmp_path: Path) -> None:
    hub = await make_hub(tmp_path / "hub.sqlite3", time_scale=20_000)  # a course takes well under a second
    async with hub:
        engine = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"))
        await engine.start()
        try:
            await engine.put(
                {
                    "id": "laundry_done",
                    "triggers": [{"event": "finished", "device": "washer"}],
                    "actions": [{"notify": {"ko": "세탁이 끝났어요", "en": "The wash is done"}}],
                }
            )
            await engine.put(
                {
                    "id": "wash_then_dry",
                    "actions": [
                        {"device": "washer", "command": "start"},
                        {
                            "wait": {
                                "device": "washer",
                                "attribute": "run_state",
                                "to": "finished",
                                "timeout": 10,
                            }
                        },
                        {
                            "wait": {
                                "device": "dryer",
                                "attribute": "run_state",
                                "to": "finished",
                                "timeout": 0.3,
                            }
                        },
                        {"device": "dryer", "command": "start"},
                    ],
                }
            )
            record = await engine.run_now("wash_then_dry", wait_s=8)
            notified = await wait_runs(engine, "laundry_done")
        finally:
            await engine.stop()
    steps = record.trace["steps"]
    assert record.status == "done"
    assert steps[1]["status"] == "ok" and steps[1]["value"] == "finished"
    assert steps[2]["status"] == "timeout"  # the dryer never ran; the wait gives up and goes on
    assert steps[3]["status"] == "ok"
    assert notified[0].trigger["event"] == "finished" and notified[0].trigger["device"] == "washer"
    assert notified[0].trace["steps"][0]["action"] == "notify"


async def test_a_failed_command_stops_the_run_unless_told_to_continue(hub: Hub, engine: Engine) -> None:
    await _set(hub, "washer", "start")
    await engine.put(
        {
            "id": "strict",
            "actions": [
                {"device": "washer", "command": "set_mode", "value": "quick"},
                {"device": "light_living", "command": "turn_on"},
            ],
        }
    )
    record = await engine.run_now("strict", wait_s=3)
    assert record.status == "failed"
    assert [s["status"] for s in record.trace["steps"]] == ["failed"]
    assert record.trace["steps"][0]["error"] == "error.busy_running"


async def test_a_delay_resumes_after_a_restart_or_is_skipped_by_rule(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    first = await make_hub(path)
    async with first:
        engine = Engine(first, AutomationStore(path))
        await engine.start()
        for routine_id, seconds in (("long", 3.0), ("short", 0.2)):
            await engine.put(
                {
                    "id": routine_id,
                    "actions": [
                        {"device": "light_living", "command": "turn_on"},
                        {"delay": seconds},
                        {
                            "device": "light_kitchen",
                            "command": "set_brightness",
                            "value": 21 if routine_id == "long" else 9,
                        },
                    ],
                }
            )
        long_run = await engine.run_now("long")
        short_run = await engine.run_now("short")
        await asyncio.sleep(0.1)
        await engine.stop()  # the hub goes down in the middle of both delays
    await asyncio.sleep(1.5)  # "short" is now 1.4 s overdue, "long" still ahead
    second = await make_hub(path)
    async with second:
        engine = Engine(second, AutomationStore(path), grace_s=1.0)
        await engine.start()
        try:
            resumed = (await wait_runs(engine, "long", within_s=6))[0]
            skipped = engine.store.run(short_run.id)
            brightness = second.state("light_kitchen").attributes["brightness"]
        finally:
            await engine.stop()
    assert resumed.id == long_run.id and resumed.status == "done"
    assert [n["key"] for n in resumed.trace["notes"]] == ["automation.note_resumed"]
    assert [s["action"] for s in resumed.trace["steps"]] == ["command", "delay", "command"]
    assert resumed.trace["steps"][1]["resumed"] is True
    assert resumed.finished_at is not None and resumed.finished_at - resumed.started_at >= 3.0
    assert brightness == 21
    assert skipped is not None and skipped.status == "skipped"
    assert skipped.trace["notes"][0]["key"] == "automation.note_resume_skipped"
    assert skipped.trace["notes"][0]["late_s"] >= 0


async def test_a_time_trigger_missed_while_down_is_caught_up_or_skipped(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    first = await make_hub(path)
    async with first:
        engine = Engine(first, AutomationStore(path))
        await engine.start()
        # At the start of a second, so the whole-second time below is a full second away, not
        # one that falls while this first engine is still running.
        await asyncio.sleep(1.0 - time.time() % 1.0)
        for routine_id in ("catch_me", "also_caught"):
            await engine.put(
                {
                    "id": routine_id,
                    "triggers": [{"time": _clock_in(1.2)}],
                    "actions": [{"notify": routine_id}],
                }
            )
        await asyncio.sleep(0.3)
        await engine.stop()
    await asyncio.sleep(1.5)  # both times pass while the hub is down
    second = await make_hub(path)
    async with second:
        engine = Engine(second, AutomationStore(path), grace_s=60)
        await engine.start()
        caught = await wait_runs(engine, "catch_me")
        also_caught = await wait_runs(engine, "also_caught")
        await engine.stop()
    assert caught[0].status == "done" and caught[0].trigger["caught_up"] is True
    assert caught[0].trigger["late_s"] > 0
    assert also_caught[0].status == "done"
    # Down longer than the grace window: recorded as skipped, not silently dropped.
    third = await make_hub(path)
    async with third:
        store = AutomationStore(path)
        engine = Engine(third, store, grace_s=0.1)
        store.open()
        store.set_mark("clock", time.time() - 3 * 86400)  # as if the hub had been off for three days
        store.close()
        await engine.start()
        runs = engine.store.runs("catch_me", limit=10)
        await engine.stop()
    # One skipped run for the latest missed time (not one per missed day), saying how late it was.
    assert [r.status for r in runs] == ["skipped", "done"]
    note = runs[0].trace["notes"][0]
    assert note["key"] == "automation.note_missed"
    assert note["late_s"] >= 1 and note["grace_s"] == 0.1
    assert note["due_at"] == caught[0].trigger["due_at"]


async def test_a_routine_runs_another_and_refuses_unknown_ones(hub: Hub, engine: Engine) -> None:
    await engine.put(
        {"id": "inner", "actions": [{"device": "light_kitchen", "command": "set_brightness", "value": 55}]}
    )
    await engine.put({"id": "outer", "actions": [{"run": "inner"}, {"notify": "done"}]})
    record = await engine.run_now("outer", wait_s=3)
    assert record.status == "done"
    assert record.trace["steps"][0]["routine"] == "inner"
    assert hub.state("light_kitchen").attributes["brightness"] == 55
    try:
        await engine.put({"id": "loop", "actions": [{"run": "loop"}]})
    except OneteamError as exc:
        assert exc.key == "automation.unknown_routine"
    else:
        raise AssertionError("a routine that runs itself was accepted")


HOME_ROUTINES = """
location: {latitude: 35.1796, longitude: 129.0756}
scenes:
  - id: night_light
    targets: [{type: light, room: 안방, command: set_brightness, value: 5}]
routines:
  - id: door_left_open
    names: {ko: 냉장고 문 알림, en: Fridge door}
    triggers: [{device: fridge, attribute: door, to: open, for: 3m}]
    actions: [{notify: {ko: 냉장고 문이 열려 있어요, en: The fridge door is open}}]
  - id: broken
    actions: [{device: sauna, command: turn_on}]
"""


async def test_a_home_file_carries_routines_scenes_and_its_location(hub: Hub, tmp_path: Path) -> None:
    text = DEMO_HOME.read_text(encoding="utf-8") + HOME_ROUTINES
    parse_home(text)  # the hub accepts the sections and leaves them to this room
    engine = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"))
    await engine.start(home_text=text)
    try:
        assert engine.place.latitude == 35.1796  # Busan, from the home file
        assert engine.origins["door_left_open"] == "home"
        assert engine.get("night_light")
        assert "broken" not in engine.routines
        assert [(p["id"], p["key"]) for p in engine.problems] == [("home", "automation.unknown_device")]
        record = await engine.run_now("night_light")
        assert record.status == "done" and hub.state("light_bedroom").attributes["brightness"] == 5
    finally:
        await engine.stop()


async def test_event_triggers_filter_on_kind_device_and_data(hub: Hub, engine: Engine) -> None:
    from oneteam.model import Event

    await engine.put(
        {
            "id": "washer_offline",
            "mode": "parallel",
            "triggers": [{"event": "availability", "device": "washer", "data": {"is_available": False}}],
            "actions": [{"notify": {"ko": "세탁기 연결이 끊겼어요", "en": "The washer is offline"}}],
        }
    )
    await engine.put(
        {
            "id": "any_warning",
            "mode": "parallel",
            "triggers": [{"event": "warning"}],
            "actions": [{"say": "점검이 필요해요"}],
        }
    )
    # What an integration's sink and the maintenance service publish on the hub.
    hub.publish(Event(kind=EventKind.AVAILABILITY, device_id="washer", data={"is_available": True}))
    hub.publish(Event(kind=EventKind.AVAILABILITY, device_id="dryer", data={"is_available": False}))
    offline = hub.publish(
        Event(kind=EventKind.AVAILABILITY, device_id="washer", data={"is_available": False})
    )
    hub.publish(Event(kind=EventKind.WARNING, device_id="fridge", data={"probability": 0.8}))
    runs = await wait_runs(engine, "washer_offline")
    warned = await wait_runs(engine, "any_warning")
    await asyncio.sleep(0.2)
    assert len(engine.store.runs("washer_offline")) == 1
    assert runs[0].trigger["event_id"] == offline.id
    assert warned[0].trigger["device"] == "fridge" and warned[0].trigger["data"] == {"probability": 0.8}


async def test_replacing_a_time_trigger_rearms_it_and_disabling_stops_it(hub: Hub, engine: Engine) -> None:
    await engine.put({"id": "alarm", "triggers": [{"time": "03:00"}], "actions": [{"notify": "x"}]})
    await engine.put({"id": "alarm", "triggers": [{"time": _clock_in(1.0)}], "actions": [{"notify": "x"}]})
    runs = await wait_runs(engine, "alarm", within_s=3)
    assert runs[0].trigger["trigger"]["time"] != "03:00"
    await engine.put({"id": "ticker", "triggers": [{"cron": "* * * * * *"}], "actions": [{"notify": "t"}]})
    await wait_runs(engine, "ticker")
    await engine.set_enabled("ticker", False)
    count = len(engine.store.runs("ticker"))
    await asyncio.sleep(1.5)
    assert len(engine.store.runs("ticker")) == count


async def test_a_limited_caller_cannot_reach_further_through_a_routine(hub: Hub, engine: Engine) -> None:
    from oneteam.automation.definitions import commands_in
    from oneteam.model import Door, Grant, PermissionDenied

    kids_room = Grant(principal="token:kid", door=Door.REST, rooms=frozenset({"small_room"}))

    def allow(routines: Any, routine: Any) -> None:  # what the REST door hands the engine
        for action in commands_in(routine, routines):
            kids_room.refuse(hub.device(action.device), action.command)

    await engine.put(
        {"id": "own_room", "actions": [{"device": "light_small", "command": "turn_on"}]}, allow=allow
    )
    await engine.put({"id": "living", "targets": [{"device": "light_living", "command": "turn_off"}]})
    await engine.put({"id": "elsewhere", "actions": [{"device": "tv", "command": "turn_off"}]})
    refused = (
        {"id": "sneaky", "actions": [{"device": "ac_living", "command": "turn_off"}]},
        {"id": "via_scene", "actions": [{"scene": "living"}]},
        {"id": "via_run", "actions": [{"run": "own_room"}, {"run": "elsewhere"}]},
    )
    for body in refused:
        with pytest.raises(PermissionDenied):
            await engine.put(body, allow=allow)
        assert body["id"] not in engine.routines
    with pytest.raises(PermissionDenied):
        await engine.import_yaml(
            "routines: [{id: in_yaml, actions: [{device: light_small, command: turn_off}, "
            "{run: elsewhere}]}]",
            origin="api",
            allow=allow,
        )
    assert "in_yaml" not in engine.routines
    assert [r["id"] for r in (engine.describe(x) for x in engine.routines.values())] == [
        "own_room",
        "living",
        "elsewhere",
    ]


class _LateDevices:
    """An integration whose device joins while the hub runs (as MQTT discovery does)."""

    name = "late"

    def __init__(self) -> None:
        self.sink: Any = None
        self.commands: list[Command] = []

    async def devices(self) -> list[Any]:
        return []

    async def start(self, sink: Any, last_states: Any) -> None:
        self.sink = sink

    async def execute(self, command: Command) -> None:
        self.commands.append(command)
        self.sink.report_state(command.device_id, {"power": command.name == "turn_on"})

    async def stop(self) -> None:
        return None


async def test_a_stored_routine_waits_for_its_device_to_join(tmp_path: Path) -> None:
    from oneteam.model import Device, DeviceType, builtin_type_specs

    path = tmp_path / "hub.sqlite3"
    lamp = Device(
        id="mqtt_lamp", type=DeviceType.LIGHT, room="living_room", spec=builtin_type_specs()[DeviceType.LIGHT]
    )
    first = await make_hub(path)
    late = _LateDevices()
    await first.add_adapter(late)
    async with first:
        engine = Engine(first, AutomationStore(path))
        await engine.start()
        late.sink.add_device(lamp)
        await asyncio.sleep(0.05)
        await engine.put({"id": "lamp_on", "actions": [{"device": "mqtt_lamp", "command": "turn_on"}]})
        await engine.stop()
    second = await make_hub(path)
    late = _LateDevices()
    await second.add_adapter(late)
    async with second:
        engine = Engine(second, AutomationStore(path))
        await engine.start()
        try:
            assert "lamp_on" not in engine.routines  # the lamp has not been discovered yet
            assert engine.problems[0]["id"] == "lamp_on"
            late.sink.add_device(lamp)
            async with asyncio.timeout(3):
                while "lamp_on" not in engine.routines:
                    await asyncio.sleep(0.02)
            assert engine.problems == []
            record = await engine.run_now("lamp_on", wait_s=3)
        finally:
            await engine.stop()
    assert record.status == "done"
    assert [c.name for c in late.commands] == ["turn_on"]


async def test_a_failing_watcher_is_logged_and_restarted_not_lost(
    hub: Hub, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    await engine.put(
        {
            "id": "still_here",
            "triggers": [{"device": "light_small", "attribute": "power", "to": True}],
            "actions": [{"notify": "ok"}],
        }
    )
    real = engine.on_event
    failures: list[Any] = []

    def flaky(event: Any) -> None:  # one bad event (a bug) must not end the watching for good
        if not failures:
            failures.append(event)
            raise RuntimeError("bug while evaluating")
        real(event)

    engine.on_event = flaky  # type: ignore[method-assign]
    await _set(hub, "light_kitchen", "turn_on")
    await asyncio.sleep(0.8)  # the supervisor waits 0.5 s before starting the watcher again
    await _set(hub, "light_small", "turn_on")
    runs = await wait_runs(engine, "still_here")
    assert runs[0].status == "done"
    assert engine.stats["task_restarts"] == 1
    assert "automation task automation-events failed" in caplog.text


async def test_a_for_duration_running_at_a_restart_goes_on_from_when_it_began(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    body = {
        "id": "lights_left_on",
        "triggers": [{"device": "light_small", "attribute": "power", "to": True, "for": 2.0}],
        "actions": [{"notify": {"ko": "작은방 불이 켜져 있어요", "en": "The small room light is on"}}],
    }
    first = await make_hub(path)
    async with first:
        engine = Engine(first, AutomationStore(path))
        await engine.start()
        await engine.put(body)
        began = time.time()
        await _set(first, "light_small", "turn_on")
        await asyncio.sleep(0.3)
        await engine.stop()  # the hub goes down 0.3 s into the 2 s
    second = await make_hub(path)
    async with second:  # the light's state comes back from storage: still on
        engine = Engine(second, AutomationStore(path))
        await engine.start()
        try:
            runs = await wait_runs(engine, "lights_left_on", within_s=5)
        finally:
            await engine.stop()
    assert runs[0].trigger["restored"] is True
    assert runs[0].trigger["fired_at"] - began >= 2.0
    assert runs[0].trigger["fired_at"] - began < 3.5  # from when it began, not 2 s after the restart + more
    # Off while the hub was down: nothing fires after the next start.
    third = await make_hub(path)
    async with third:
        engine = Engine(third, AutomationStore(path))
        await engine.start()
        await _set(third, "light_small", "turn_off")
        await _set(third, "light_small", "turn_on")
        await engine.stop()
    fourth = await make_hub(path)
    async with fourth:
        await _set(fourth, "light_small", "turn_off")  # before the engine looks
        engine = Engine(fourth, AutomationStore(path))
        await engine.start()
        await asyncio.sleep(2.5)
        count = len(engine.store.runs("lights_left_on"))
        await engine.stop()
    assert count == 1
