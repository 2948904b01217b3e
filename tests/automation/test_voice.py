"""Routines and scenes by voice and text, through the hub's conversation path (real Kiwi, real hub,
real engine with the Korean presets) and through REST /api/conversation on a real `oneteam serve`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oneteam.automation import Engine
from oneteam.hub import EventQuery, Hub
from oneteam.model import Door, EventKind, Grant
from oneteam.voice.routine_words import recurrence
from tests.conftest import HubProcess, start_hub, stop_hub


async def _say(hub: Hub, text: str, grant: Grant | None = None, session: str = "t") -> Any:
    return await hub.converse(text, session=session, grant=grant)


async def test_a_scene_is_applied_by_its_name_as_the_routine(talking_home: tuple[Hub, Engine]) -> None:
    hub, engine = talking_home
    reply = await _say(hub, "영화 모드 켜 줘")
    assert reply.kind == "routine_run", reply
    assert "영화" in reply.text
    assert hub.state("light_living").attributes["brightness"] == 20
    assert hub.state("tv").attributes["power"] is True
    assert "light_living" in reply.changed_devices
    commands = await hub.events(EventQuery(kinds=(EventKind.COMMAND,), limit=50))
    assert any(e.device_id == "tv" and "routine:movie" in e.source for e in commands)
    assert engine.store.runs("movie")[0].trigger["by"].startswith("conversation")


async def test_a_routine_runs_by_name_and_a_question_never_runs_it(talking_home: tuple[Hub, Engine]) -> None:
    hub, engine = talking_home
    asked = await _say(hub, "외출 모드 켜져 있어?")
    assert asked.kind == "routine_query"
    assert asked.result["routine"] == "away" and asked.result["enabled"] is True
    assert engine.store.runs("away") == []  # a question never runs it
    ran = await _say(hub, "지금 외출 모드 해 줘")
    assert ran.kind == "routine_run" and ran.result["routine"] == "away"
    runs = engine.store.runs("away")
    assert len(runs) == 1 and runs[0].status == "done"
    assert hub.state("robot").attributes["run_state"] not in {"docked", "idle", "stopped"}
    assert all(hub.state(d).attributes["power"] is False for d in ("light_living", "light_bedroom"))


async def test_routines_are_listed_and_switched_off_by_voice(talking_home: tuple[Hub, Engine]) -> None:
    hub, engine = talking_home
    listed = await _say(hub, "루틴 뭐 있어?")
    assert listed.kind == "routine_list"
    assert "외출" in listed.text and "영화" in listed.text
    assert {r["id"] for r in listed.result["routines"]} >= {"away", "movie", "wake"}
    off = await _say(hub, "외출 모드 꺼 줘")
    assert off.kind == "routine_disable"
    assert engine.routines["away"].enabled is False
    assert engine.store.runs("away") == []  # switching off runs nothing
    await engine.set_enabled("wake", True)
    morning = await _say(hub, "아침 루틴 취소해 줘")  # the wake preset's spoken name
    assert morning.kind == "routine_disable" and morning.result["id"] == "wake"
    assert engine.routines["wake"].enabled is False
    english = await _say(hub, "turn off the home routine")
    assert english.kind == "routine_disable" and english.language == "en"
    assert engine.routines["home"].enabled is False


async def test_a_name_the_home_does_not_have_stays_none(talking_home: tuple[Hub, Engine]) -> None:
    hub, engine = talking_home
    before = {d: s.attributes for d, s in hub.states().items()}
    reply = await _say(hub, "파티 모드 해 줘")
    assert reply.kind == "none"
    assert "파티" in reply.text
    assert {d: s.attributes for d, s in hub.states().items()} == before
    assert engine.store.runs() == []
    # A device's own mode still goes to the dialog ("에어컨 제습 모드": which air conditioner?).
    asked_back = await _say(hub, "에어컨 제습 모드 켜 줘")
    assert asked_back.kind == "clarify"


async def test_a_recurring_automation_is_made_only_after_yes(talking_home: tuple[Hub, Engine]) -> None:
    hub, engine = talking_home
    before = set(engine.routines)
    asked = await _say(hub, "매일 아침 7시에 거실 불 켜 줘", session="a")
    assert asked.kind == "routine_confirm"
    assert asked.text.startswith("매일") and "거실 조명을 켤까요?" in asked.text
    assert set(engine.routines) == before  # nothing stored before the answer
    assert hub.state("light_living").attributes["power"] is False  # and nothing done now
    yes = await _say(hub, "응", session="a")
    assert yes.kind == "routine_create" and yes.result["created"] is True
    made = engine.routines[yes.result["id"]]
    data = engine.describe(made)
    assert data["triggers"] == [{"time": "07:00"}]
    assert data["actions"] == [{"device": "light_living", "command": "turn_on"}]
    assert engine.origins[made.id] == "voice"
    # A weekly one, refused: nothing is made.
    weekly = await _say(hub, "매주 토요일 오전 9시에 로봇청소기 돌려 줘", session="a")
    assert weekly.kind == "routine_confirm" and "토요일" in weekly.text
    no = await _say(hub, "아니", session="a")
    assert no.kind == "routine_create" and no.result["created"] is False
    assert set(engine.routines) == before | {made.id}
    # Without a time it asks for one and makes nothing; a yes without a question is no answer.
    untimed = await _say(hub, "평일마다 거실 불 켜 줘", session="b")
    assert untimed.kind == "none" and set(engine.routines) == before | {made.id}
    stray = await _say(hub, "응", session="b")
    assert stray.kind != "routine_create"


def test_recurrences_are_whole_words_and_a_single_day_is_not_one() -> None:
    found = recurrence("평일마다 저녁 6시에 에어컨 켜 줘", "ko")
    assert found is not None and found[0].weekdays == "weekdays" and found[1].startswith("저녁")
    weekly = recurrence("매주 금요일 밤 10시에 불 꺼 줘", "ko")
    assert weekly is not None and weekly[0].weekdays == ("fri",)
    assert recurrence("토요일에 청소기 돌려 줘", "ko") is None  # one Saturday, not every one
    assert recurrence("매일매일", "ko") is not None
    assert recurrence("매일밤", "ko") is None  # not a whole word


async def test_a_limited_grant_cannot_run_a_routine_that_reaches_further(
    talking_home: tuple[Hub, Engine],
) -> None:
    hub, engine = talking_home
    bedroom_only = Grant(principal="token:bedroom", door=Door.REST, rooms=frozenset({"bedroom"}))
    reply = await _say(hub, "영화 모드 켜 줘", grant=bedroom_only)
    assert reply.result.get("error") == "error.forbidden"
    assert "권한" in reply.text
    assert engine.store.runs("movie") == []
    assert hub.state("tv").attributes["power"] is False
    refused = await _say(hub, "매일 밤 10시에 거실 불 꺼 줘", grant=bedroom_only, session="g")
    assert refused.kind == "none" and refused.result.get("error") == "error.forbidden"
    assert (await _say(hub, "응", grant=bedroom_only, session="g")).kind != "routine_create"


# -- through REST, on a real server -----------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    hub = start_hub(tmp_path_factory.mktemp("voice-routines"))
    yield hub
    stop_hub(hub)


def _talk(server: HubProcess, text: str, session: str = "rest") -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/conversation",
        json={"text": text, "session": session},
        headers=server.headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_rest_conversation_runs_lists_and_creates_routines(server: HubProcess) -> None:
    ran = _talk(server, "영화 모드 켜 줘")
    assert ran["kind"] == "routine_run" and ran["result"]["routine"] == "movie"
    run = httpx.get(
        f"{server.url}/api/routines/runs/{ran['result']['run']}", headers=server.headers, timeout=10
    ).json()
    assert run["status"] in {"done", "partial"} and run["trigger"]["by"] not in {
        "",
        "api",
    }  # the token, not a default
    assert _talk(server, "귀가 모드 켜져 있어?")["kind"] == "routine_query"
    assert _talk(server, "없는모드 모드 실행해 줘")["kind"] == "none"
    asked = _talk(server, "주말마다 오전 10시에 거실 불 켜 줘", session="c")
    assert asked["kind"] == "routine_confirm" and "주말마다" in asked["text"]
    made = _talk(server, "네 만들어 줘", session="c")
    assert made["kind"] == "routine_create" and made["result"]["created"] is True
    stored = httpx.get(
        f"{server.url}/api/routines/{made['result']['id']}", headers=server.headers, timeout=10
    ).json()
    assert stored["triggers"] == [{"time": "10:00", "weekdays": [5, 6]}]  # Saturday, Sunday
    assert stored["enabled"] is True
