"""The hub's state rule heard through voice: stopping an idle washer is refused with the reason,
the same rule REST (409) and the partner door (alreadyStopped) apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.voice.dialog import Conversation
from oneteam.voice.nlu import Understander

HOME = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval" / "home.yaml"


async def test_stopping_an_idle_washer_by_voice_says_it_is_not_running(tmp_path: Path) -> None:
    if not HOME.is_file():
        pytest.skip("shared/eval/home.yaml is not beside the repository")
    home = load_home(HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with hub:
        assert hub.state("washer").get("run_state") in {"idle", "finished"}
        reply = await Conversation(hub, Understander(home)).converse("세탁기 정지해 줘")
        assert reply.done[0]["error"] in {"error.state.already_stopped"}, reply
        assert "작동하고 있지 않아요" in reply.text
        assert reply.changed_devices == []
        assert hub.state("washer").get("run_state") in {"idle", "finished"}
