"""Devices that appear while the hub runs (MQTT discovery, a new ThinQ appliance) can be named at once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

from oneteam.hub import AdapterSink, Hub, SqliteStorage, load_home
from oneteam.model import Command, Device, DeviceType, State, builtin_type_specs
from oneteam.voice.dialog import Conversation


class LateArrivals:
    """A real adapter whose devices announce themselves after start, as discovery does."""

    name = "late"

    def __init__(self) -> None:
        self.sink: AdapterSink | None = None

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        self.sink = sink

    async def devices(self) -> Sequence[Device]:
        return []

    async def execute(self, command: Command) -> None:
        assert self.sink is not None
        self.sink.report_state(command.device_id, {"power": command.name == "turn_on"})

    async def stop(self) -> None:
        self.sink = None


async def test_a_device_discovered_after_start_is_understood(tmp_path: Path, fixture_home_path: Path) -> None:
    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    late = LateArrivals()
    await hub.add_adapter(late)
    async with hub:
        conversation = await asyncio.to_thread(Conversation, hub)
        before = await conversation.converse(
            "커피 머신 켜 줘", room=None, language=None, session="s", source="t"
        )
        assert before.kind == "none" and before.done == []
        assert late.sink is not None
        late.sink.add_device(
            Device(
                id="plug_coffee",
                type=DeviceType.SWITCH,
                room="kitchen",
                spec=builtin_type_specs()[DeviceType.SWITCH],
                names=("커피 머신", "coffee machine"),
                integration="late",
            )
        )
        after = await conversation.converse(
            "커피 머신 켜 줘", room=None, language=None, session="s", source="t"
        )
        assert after.kind == "command" and [a["device"] for a in after.done] == ["plug_coffee"]
        assert hub.state("plug_coffee").attributes["power"] is True
