"""Talking to a real hub process over HTTP: understood, carried out through dispatch, answered."""

from __future__ import annotations

import httpx

from tests.conftest import HubProcess


def _say(hub: HubProcess, text: str, **extra: object) -> dict:  # type: ignore[type-arg]
    response = httpx.post(f"{hub.url}/api/conversation", json={"text": text, **extra}, headers=hub.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_korean_command_is_carried_out_and_answered_in_korean(hub_server: HubProcess) -> None:
    reply = _say(hub_server, "작은방 불 켜 줘")
    assert reply["kind"] == "command" and reply["language"] == "ko"
    assert reply["changed_devices"] == ["light_small"]
    assert "작은방" in reply["text"] or "조명" in reply["text"]
    state = httpx.get(f"{hub_server.url}/api/devices/light_small/state", headers=hub_server.headers).json()
    assert state["attributes"]["power"] is True
    events = httpx.get(
        f"{hub_server.url}/api/events",
        params={"device": "light_small", "kind": "command"},
        headers=hub_server.headers,
    ).json()["events"]
    assert events[0]["source"] == "rest:token:cli"  # the door and the token that asked


def test_an_english_request_gets_an_english_answer(hub_server: HubProcess) -> None:
    reply = _say(hub_server, "set the bedroom AC to 26 degrees")
    assert reply["language"] == "en" and reply["kind"] == "command"
    state = httpx.get(f"{hub_server.url}/api/devices/ac_bedroom/state", headers=hub_server.headers).json()
    assert state["attributes"]["temperature"] == 26


def test_a_refused_value_says_why(hub_server: HubProcess) -> None:
    reply = _say(hub_server, "거실 에어컨 40도로 해 줘")
    assert "18" in reply["text"] and "30" in reply["text"]
    state = httpx.get(f"{hub_server.url}/api/devices/ac_living/state", headers=hub_server.headers).json()
    assert state["attributes"]["temperature"] != 40


def test_a_schedule_is_booked_with_the_hub(hub_server: HubProcess) -> None:
    reply = _say(hub_server, "삼십 분 뒤에 주방 불 꺼 줘")
    assert reply["kind"] == "schedule"
    pending = httpx.get(f"{hub_server.url}/api/schedules", headers=hub_server.headers).json()["schedules"]
    booked = [s for s in pending if s["actions"][0]["device"] == "light_kitchen"]
    assert booked and booked[0]["actions"][0]["command"] == "turn_off"
    cancelled = httpx.delete(f"{hub_server.url}/api/schedules/{booked[0]['id']}", headers=hub_server.headers)
    assert cancelled.status_code == 200


def test_a_clarifying_question_and_its_answer_complete_the_request(hub_server: HubProcess) -> None:
    first = _say(hub_server, "에어컨 꺼 줘", session="kitchen-speaker")
    assert first["kind"] == "clarify"
    second = _say(hub_server, "안방", session="kitchen-speaker")
    assert second["kind"] == "command"
    assert [action["device"] for action in second["done"]] == ["ac_bedroom"]


def test_off_topic_chat_is_not_acted_on(hub_server: HubProcess) -> None:
    reply = _say(hub_server, "오늘 저녁 뭐 먹지?")
    assert reply["kind"] == "none" and reply["done"] == []


def test_bad_conversation_requests_are_422(hub_server: HubProcess) -> None:
    for body in ({"text": ""}, {"text": "x" * 501}, {"words": "불 켜"}, {"text": "불 켜", "language": "fr"}):
        response = httpx.post(f"{hub_server.url}/api/conversation", json=body, headers=hub_server.headers)
        assert response.status_code == 422, body
