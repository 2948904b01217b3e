"""Routines by voice within a member's permissions: a routine or scene that commands a device the
caller is not shown is not listed or described (running it by name is refused, as before).
Real Kiwi, real hub, the Korean presets."""

from __future__ import annotations

from oneteam.automation import Engine
from oneteam.hub import Hub
from oneteam.hub.routines import routines_of
from oneteam.model import Door, Grant


async def test_routines_listed_by_voice_are_those_whose_devices_the_caller_is_shown(
    talking_home: tuple[Hub, Engine],
) -> None:
    hub, _engine = talking_home
    everyone = await hub.converse("루틴 뭐 있어?", session="owner")
    every_id = {r["id"] for r in everyone.result["routines"]}
    assert "movie" in every_id  # the scene sets the living room's light and the TV
    child = Grant(principal="member:minji", door=Door.CONVERSATION, rooms=frozenset({"small_room"}))
    listed = await hub.converse("루틴 뭐 있어?", session="child", grant=child)
    shown = {r["id"] for r in listed.result.get("routines", [])}
    assert "movie" not in shown and "영화" not in listed.text
    assert shown < every_id
    devices = hub.home_view().devices
    asked = await hub.converse("영화 모드 켜져 있어?", session="child", grant=child)
    assert asked.kind == "none" and "movie" not in str(asked.result) and "켜져" not in asked.text
    assert all(devices[d].room == "small_room" for d in _devices_of(hub, shown))


def _devices_of(hub: Hub, ids: set[str]) -> set[str]:
    return {d for e in routines_of(hub).catalog() if e.id in ids for d in e.devices}
