"""Routines from YAML, checked against the home at the edge; times, sun and holidays."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import yaml

from oneteam.automation import AutomationInvalid, Engine
from oneteam.automation.definitions import Devices, parse_duration, parse_routine, routine_to_dict
from oneteam.automation.model import (
    Automation,
    CommandAction,
    EventTrigger,
    Scene,
    StateTrigger,
    SunTrigger,
    TimeTrigger,
)
from oneteam.automation.presets import preset_text
from oneteam.automation.timing import Place, in_window, is_holiday, last_fire, next_fire
from oneteam.hub import Hub, load_home, parse_home
from oneteam.i18n import render
from tests.automation.conftest import DEMO_HOME

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="module")
def devices() -> Devices:
    home = load_home(DEMO_HOME)
    return Devices(devices=home.devices, rooms=home.rooms)


def _refusal(data: object, devices: Devices) -> AutomationInvalid:
    with pytest.raises(AutomationInvalid) as caught:
        parse_routine(data, devices)
    return caught.value


def _both(error: AutomationInvalid) -> tuple[str, str]:
    return render(error.key, "ko", **error.params), render(error.key, "en", **error.params)


def test_an_unknown_device_is_refused_with_where_and_why(devices: Devices) -> None:
    error = _refusal({"id": "x", "actions": [{"device": "sauna", "command": "turn_on"}]}, devices)
    assert error.key == "automation.unknown_device"
    ko, en = _both(error)
    assert ko == "x.actions[0].device: 'sauna' 기기가 이 집에 없어요."
    assert en == "x.actions[0].device: this home has no device 'sauna'."


def test_a_command_the_device_lacks_is_refused_with_the_devices_commands(devices: Devices) -> None:
    error = _refusal(
        {"id": "x", "targets": [{"device": "tv", "command": "set_temperature", "value": 20}]}, devices
    )
    assert error.key == "automation.step_refused"
    assert error.params["reason_key"] == "error.command_not_supported"
    ko, en = _both(error)
    assert ko.startswith("x.targets[0]: tv에서는 'set_temperature' 명령을 쓸 수 없어요.")
    assert "set_volume" in ko and "set_volume" in en
    assert en != ko


def test_a_value_out_of_range_is_refused_with_the_range(devices: Devices) -> None:
    step = {"device": "ac_living", "command": "set_temperature", "value": 35}
    error = _refusal({"id": "x", "actions": [{"delay": 1}, step]}, devices)
    ko, en = _both(error)
    assert "x.actions[1]" in ko and "18" in ko and "30" in ko and "35" in ko
    assert "x.actions[1]" in en and "18" in en and "35" in en
    assert error.params["reason_key"] == "error.temperature_out_of_range"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"id": "x", "actions": []}, "automation.empty"),
        ({"id": "a b", "actions": [{"notify": "hi"}]}, "automation.bad_id"),
        ({"id": "x", "mode": "often", "actions": [{"notify": "hi"}]}, "automation.bad_mode"),
        ({"id": "x", "triggers": [{"time": "25:00"}], "actions": [{"notify": "hi"}]}, "automation.bad_time"),
        (
            {"id": "x", "triggers": [{"cron": "every day"}], "actions": [{"notify": "hi"}]},
            "automation.bad_cron",
        ),
        (
            {"id": "x", "triggers": [{"event": "explosion"}], "actions": [{"notify": "hi"}]},
            "automation.bad_event",
        ),
        ({"id": "x", "actions": [{"delay": "soon"}]}, "automation.bad_duration"),
        ({"id": "x", "actions": [{"dance": True}]}, "automation.bad_action"),
        (
            {"id": "x", "conditions": [{"weekday": ["funday"]}], "actions": [{"notify": "x"}]},
            "automation.bad_weekday",
        ),
        ({"id": "x", "actions": [{"scene": "nowhere"}]}, None),
        ({"id": "x", "colour": "red", "actions": [{"notify": "hi"}]}, "automation.unknown_field"),
    ],
)
def test_structural_mistakes_have_their_own_keys_in_both_catalogs(
    data: dict[str, object], key: str | None, devices: Devices
) -> None:
    if key is None:  # a scene reference is checked against the stored routines, not here
        parse_routine(data, devices)
        return
    error = _refusal(data, devices)
    assert error.key == key
    ko, en = _both(error)
    assert error.key not in {ko, en} and ko != en
    assert "{" not in ko.replace("{ko, en}", "") and "{" not in en.replace("{ko, en}", "")


def test_every_message_key_exists_in_both_languages() -> None:
    from importlib import resources

    def keys(language: str) -> set[str]:
        text = (resources.files("oneteam.i18n") / "messages" / language / "automation.yaml").read_text(
            "utf-8"
        )
        out: set[str] = set()

        def walk(prefix: str, node: object) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            else:
                out.add(prefix)

        walk("", yaml.safe_load(text))
        return out

    assert keys("ko") == keys("en")
    assert len(keys("ko")) > 40


def test_a_full_definition_reads_back_the_same_after_export(devices: Devices) -> None:
    data = {
        "id": "night",
        "names": {"ko": "밤", "en": "Night"},
        "mode": "queued",
        "max_runs": 3,
        "triggers": [
            {"time": "22:30", "weekdays": ["mon", "금"]},
            {"cron": "0 7 * * 1-5"},
            {"sun": "sunset", "offset": "-30m"},
            {"device": "fridge", "attribute": "door", "to": "open", "for": "3m"},
            {"device": "ac_living", "attribute": "current_temperature", "above": 28},
            {"event": "availability", "device": "washer", "data": {"is_available": False}},
            {"event": "warning"},
            {"phrase": "잘 자"},
        ],
        "conditions": [
            {"or": [{"weekday": "weekend"}, {"holiday": True}]},
            {"not": {"time": {"after": "02:00", "before": "05:00"}}},
            {"device": "tv", "attribute": "power", "is": True},
        ],
        "actions": [
            {"type": "light", "room": "안방", "command": "set_brightness", "value": 10},
            {"delay": "1m30s"},
            {"wait": {"device": "washer", "attribute": "run_state", "to": "finished", "timeout": "2h"}},
            {"notify": {"ko": "잘 자요", "en": "Good night"}},
            {"say": "잘 자요"},
        ],
    }
    parsed = parse_routine(data, devices).routine
    assert isinstance(parsed, Automation)
    assert parsed.triggers[0] == TimeTrigger(at="22:30", weekdays=(0, 4))
    assert parsed.triggers[2] == SunTrigger(event="sunset", offset_s=-1800.0)
    assert parsed.triggers[3] == StateTrigger(device="fridge", attribute="door", to=("open",), for_s=180.0)
    assert parsed.actions[0] == CommandAction(device="light_bedroom", command="set_brightness", value=10)
    again = parse_routine(
        yaml.safe_load(yaml.safe_dump(routine_to_dict(parsed), allow_unicode=True)), devices
    )
    assert again.routine == parsed


def test_type_and_room_steps_fit_any_home_and_missing_devices_are_noted(tmp_path: object) -> None:
    small = parse_home(
        "id: studio\nrooms:\n  main: {names: [거실]}\n"
        "devices:\n  - {id: lamp, type: light, room: main, names: [스탠드]}\n"
        "  - {id: cool, type: air_conditioner, room: main, names: [에어컨]}\n"
    )
    devices = Devices(devices=small.devices, rooms=small.rooms)
    presets = yaml.safe_load(preset_text("ko"))
    movie = parse_routine(presets["scenes"][0], devices, kind="scene")
    assert isinstance(movie.routine, Scene)
    assert [(t.device, t.command) for t in movie.routine.targets] == [
        ("lamp", "set_brightness"),
        ("cool", "turn_on"),
        ("cool", "set_temperature"),
    ]
    assert [n["type"] for n in movie.notes] == ["tv"]
    assert render(movie.notes[0]["key"], "ko", **movie.notes[0]).startswith(
        "movie.targets[1]: 이 집에 tv 기기가 없어서"
    )
    away = parse_routine(presets["routines"][0], devices, kind="automation")
    assert {n["type"] for n in away.notes} == {"tv", "robot_cleaner"}
    assert isinstance(away.routine, Automation) and len(away.routine.actions) == 3  # lamp, cool, notify
    laundry = parse_routine(presets["routines"][4], devices, kind="automation")
    assert isinstance(laundry.routine, Automation) and laundry.routine.triggers == ()  # no washer here
    assert laundry.notes[0]["type"] == "washer"


async def test_presets_install_on_the_demo_home_and_the_wake_routine_starts_off(
    hub: Hub, engine: Engine
) -> None:
    result = await engine.import_yaml(preset_text("ko"), origin="preset", strict=False)
    assert sorted(result["imported"]) == [
        "away",
        "drying_done",
        "epidemic_notice",
        "home",
        "laundry_done",
        "movie",
        "sleep",
        "wake",
        "warning_notice",
    ]
    assert result["notes"] == []  # the demo home has every device the presets name
    assert engine.get("wake").enabled is False
    assert engine.get("away").enabled is True
    again = await engine.import_yaml(preset_text("ko"), origin="preset", replace_existing=False, strict=False)
    assert again["imported"] == [] and len(again["skipped"]) == 9
    laundry = engine.get("laundry_done")
    assert isinstance(laundry, Automation) and laundry.triggers[0] == EventTrigger(
        kind="finished", device="washer"
    )


def test_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("1h30m") == 5400
    assert parse_duration("00:03:00") == 180
    assert parse_duration("-30m") == -1800
    assert parse_duration(2.5) == 2.5
    assert parse_duration("soon") is None
    assert parse_duration(True) is None


def _at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SEOUL).timestamp()


def test_time_triggers_follow_the_local_calendar() -> None:
    place = Place()
    friday_evening = _at("2026-12-04T20:00:00")  # a Friday
    weekday_seven = TimeTrigger(at="07:00", weekdays=(0, 1, 2, 3, 4))
    assert next_fire(weekday_seven, friday_evening, place) == _at("2026-12-07T07:00:00")  # Monday
    saturdays = TimeTrigger(at="09:15:30", weekdays=(5,))
    assert next_fire(saturdays, friday_evening, place) == _at("2026-12-05T09:15:30")
    from oneteam.automation.model import CronTrigger

    assert next_fire(CronTrigger(cron="30 6 * * 0"), friday_evening, place) == _at("2026-12-06T06:30:00")
    # Three days down: only the latest missed time is returned for catching up.
    assert last_fire(TimeTrigger(at="07:00"), friday_evening - 3 * 86400, friday_evening, place) == _at(
        "2026-12-04T07:00:00"
    )


def test_sunrise_and_sunset_in_seoul_and_elsewhere() -> None:
    seoul = Place()
    midnight = _at("2026-12-03T00:00:00")
    rise = dt.datetime.fromtimestamp(next_fire(SunTrigger(event="sunrise"), midnight, seoul) or 0, SEOUL)
    assert (rise.hour, rise.date().day) == (7, 3) and 20 <= rise.minute <= 40  # Seoul, early December: ~07:30
    sunset = next_fire(SunTrigger(event="sunset", offset_s=-1800), midnight, seoul) or 0
    local = dt.datetime.fromtimestamp(sunset, SEOUL)
    assert (local.hour, 35 <= local.minute <= 50) == (16, True)  # ~17:13 less half an hour
    jeju = Place(latitude=33.4996, longitude=126.5312)
    jeju_rise = next_fire(SunTrigger(event="sunrise"), midnight, jeju) or 0
    assert 0 < rise.timestamp() - jeju_rise < 900  # further south, in winter: the sun rises a little earlier


def test_korean_holidays_include_the_lunar_ones_and_time_windows_wrap_midnight() -> None:
    place = Place()
    assert is_holiday(_at("2026-02-17T12:00:00"), place)  # 설날 (lunar new year)
    assert is_holiday(_at("2026-09-25T12:00:00"), place)  # 추석
    assert is_holiday(_at("2026-10-09T12:00:00"), place)  # 한글날
    assert not is_holiday(_at("2026-12-03T12:00:00"), place)
    assert in_window(_at("2026-12-03T23:30:00"), "22:00", "06:00", place)
    assert in_window(_at("2026-12-03T05:59:00"), "22:00", "06:00", place)
    assert not in_window(_at("2026-12-03T12:00:00"), "22:00", "06:00", place)


async def test_yaml_aliases_cannot_blow_a_small_text_up(hub: Hub, engine: Engine) -> None:
    import time

    lines = ["a0: &a0 {device: tv, attribute: power, is: true}"]
    for n in range(1, 25):  # 2**24 conditions once expanded
        lines.append(f"a{n}: &a{n} {{and: [*a{n - 1}, *a{n - 1}]}}")
    lines.append("routines: [{id: laughs, conditions: [*a24], actions: [{notify: hi}]}]")
    started = time.perf_counter()
    with pytest.raises(AutomationInvalid) as caught:
        await engine.import_yaml("\n".join(lines), origin="api")
    assert caught.value.key in {"automation.too_large", "automation.too_deep"}
    assert time.perf_counter() - started < 2
    assert "laughs" not in engine.routines


def test_deep_nesting_and_non_finite_numbers_are_refused(devices: Devices) -> None:
    condition: dict[str, object] = {"device": "tv", "attribute": "power", "is": True}
    for _ in range(12):
        condition = {"not": condition}
    error = _refusal({"id": "x", "conditions": [condition], "actions": [{"notify": "x"}]}, devices)
    assert error.key == "automation.too_deep"
    assert render(error.key, "en", **error.params).endswith("may nest at most 8 levels.")
    error = _refusal({"id": "x", "actions": [{"delay": float("nan")}]}, devices)
    assert error.key == "automation.bad_duration"
    error = _refusal({"id": "x", "actions": [{"delay": float("inf")}]}, devices)
    assert error.key == "automation.bad_duration"
