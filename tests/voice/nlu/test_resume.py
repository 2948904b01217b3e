"""Going on with a paused cycle by voice: 계속/이어서/마저 (+ 돌려/해) is the hub's `resume`, which
continues a paused washer, dryer or robot and never begins a new cycle; 다시 돌려 starts (a start
continues a paused cycle as well, and begins a new one after it finished). A question in any of
these words never acts. Through the real hub: SQLite file, virtual appliances."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Home
from oneteam.voice.dialog import Conversation
from oneteam.voice.nlu import Action, Understander
from tests.voice.nlu.conftest import Understand

# Devices that start and pause, each said two ways, with the activity word that names it.
RESUMABLE = {"washer": ("세탁기", "빨래"), "dryer": ("건조기", "건조"), "robot": ("로봇청소기", "청소")}
# How people say "go on": a continue word with a start verb or a light verb, or a resume verb.
GO_ON = (
    "계속 돌려",
    "이어서 돌려 줘",
    "계속해",
    "이어서 해 줘",
    "마저 해",
    "재개해 줘",
    "하던 거 마저 해 줘",
    "계속 돌려 줄래?",
)
# The same words asking, reporting or refusing: none of these acts.
ASKING = (
    "계속 돌아가고 있어?",
    "계속 돌아가는 중이야?",
    "이어서 돌렸어?",
    "계속하고 있니?",
    "이어서 하고 있는지 확인해 줘",
    "계속 돌리지 마",
    "이어서 했는지 알아?",
)


@pytest.mark.parametrize("device", sorted(RESUMABLE))
@pytest.mark.parametrize("go_on", GO_ON)
def test_going_on_is_resume(understand: Understand, device: str, go_on: str) -> None:
    name, _ = RESUMABLE[device]
    assert understand(f"{name} {go_on}") == {
        "kind": "command",
        "actions": [{"device": device, "command": "resume"}],
    }


@pytest.mark.parametrize("device", sorted(RESUMABLE))
def test_an_activity_said_with_a_continue_word_is_resume(understand: Understand, device: str) -> None:
    _, activity = RESUMABLE[device]
    got = understand(f"{activity} 이어서 해 줘")
    assert got == {"kind": "command", "actions": [{"device": device, "command": "resume"}]}


@pytest.mark.parametrize("device", sorted(RESUMABLE))
@pytest.mark.parametrize("asking", ASKING)
def test_asking_in_those_words_never_acts(understand: Understand, device: str, asking: str) -> None:
    name, _ = RESUMABLE[device]
    assert understand(f"{name} {asking}")["kind"] not in ("command", "schedule")


def test_again_starts_and_other_actions_win_over_continue(understand: Understand) -> None:
    assert understand("세탁기 다시 돌려 줘")["actions"] == [{"device": "washer", "command": "start"}]
    # "계속" beside another action says how long, not "go on": 계속 켜 둬 keeps it on.
    assert understand("거실 불 계속 켜 둬")["actions"] == [{"device": "light_living", "command": "turn_on"}]
    assert understand("청소기 이어서 멈춰")["actions"] == [{"device": "robot", "command": "pause"}]


def test_a_device_that_does_not_pause_is_not_resumed(understand: Understand) -> None:
    assert understand("티비 계속 틀어 줘")["actions"] == [{"device": "tv", "command": "turn_on"}]
    assert understand("거실 에어컨 이어서 해 줘")["kind"] == "none"


def test_going_on_with_nothing_named_asks_which_of_those_that_pause(understand: Understand) -> None:
    got = understand("이어서 해 줘")
    assert got["kind"] == "clarify"
    assert sorted(got["candidates"]) == sorted(RESUMABLE)


def test_a_timed_resume_is_booked(understand: Understand) -> None:
    got = understand("10분 뒤에 세탁기 이어서 돌려 줘")
    assert got == {"kind": "schedule", "delay_s": 600, "actions": [{"device": "washer", "command": "resume"}]}


# -- through the hub --------------------------------------------------------------------------


@pytest.fixture
async def hub(tmp_path: Path, nlu_home: Home) -> AsyncIterator[Hub]:
    running = Hub(nlu_home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await running.add_adapter(VirtualAdapter(nlu_home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


async def test_a_paused_washer_goes_on_and_an_idle_one_does_not_start(
    hub: Hub, understander: Understander
) -> None:
    conversation = Conversation(hub, understander)
    refused = await conversation.converse("세탁기 이어서 돌려 줘", session="s")
    assert refused.changed_devices == []  # idle: nothing to go on with, and no new 40-minute wash
    assert hub.state("washer").get("run_state") != "running"
    await hub.dispatch(Action(device="washer", command="start").to_command())
    await hub.dispatch(Action(device="washer", command="pause").to_command())
    assert hub.state("washer").get("run_state") == "paused"
    reply = await conversation.converse("세탁기 계속 돌려", session="s")
    assert reply.kind == "command", reply
    assert hub.state("washer").get("run_state") == "running"
    assert "세탁기" in reply.text


@pytest.mark.parametrize("device", sorted(RESUMABLE))
def test_typed_tersely_a_device_and_a_continue_word_is_resume(understand: Understand, device: str) -> None:
    name, _ = RESUMABLE[device]
    assert understand(f"{name}계속") == {
        "kind": "command",
        "actions": [{"device": device, "command": "resume"}],
    }
    assert understand(f"{name} 계속?")["kind"] not in ("command", "schedule")
