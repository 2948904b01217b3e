"""Discovery and control of every appliance kind through the real SDK against the fake cloud."""

from __future__ import annotations

import pytest

from oneteam.i18n import render
from oneteam.integrations.thinq.errors import ThinqRefused
from oneteam.model import Command, CommandNotSupported, Direction, EventKind, InvalidValue
from tests.integrations.thinq.conftest import HubFactory, device_id, next_event
from tests.integrations.thinq.fake_server import FakeThinqServer


async def test_discovery_makes_a_hub_device_of_every_supported_appliance(make_hub: HubFactory) -> None:
    hub, adapter = await make_hub()
    types = sorted(d.type.value for d in hub.devices())
    assert types == [
        "air_conditioner",
        "air_conditioner",
        "air_purifier",
        "dryer",
        "dryer",
        "refrigerator",
        "robot_cleaner",
        "washer",
        "washer",
    ]
    assert all(d.integration == "thinq" and d.manufacturer == "LG" for d in hub.devices())
    assert sorted(adapter.skipped) == ["AS-BROKEN1", "S5MB"]
    fridge = hub.state(device_id(hub, "refrigerator"))
    assert fridge.attributes["fridge_temperature"] == 3 and fridge.attributes["door"] == "closed"
    assert hub.state(device_id(hub, "robot_cleaner")).attributes["battery"] == 100


async def test_a_washtower_is_a_washer_and_a_dryer_in_one_room(make_hub: HubFactory) -> None:
    hub, _ = await make_hub()
    parts = [d for d in hub.devices() if d.model == "W20WHN"]
    assert sorted(d.type.value for d in parts) == ["dryer", "washer"]
    assert {d.room for d in parts} == {"laundry_room"}
    assert "워시타워 세탁기" in next(d for d in parts if d.type.value == "washer").names


async def test_ac_takes_temperature_mode_fan_and_power_and_the_cloud_keeps_them(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, _ = await make_hub()
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    async with hub.subscribe("t") as events:
        state = await hub.dispatch(Command(device_id=ac, name="set_temperature", value=21))
        changed = await next_event(events, EventKind.STATE_CHANGED, ac)
    assert state.attributes["temperature"] == 21 and changed.data["temperature"] == 21
    await hub.dispatch(Command(device_id=ac, name="turn_on"))
    await hub.dispatch(Command(device_id=ac, name="set_mode", value="dry"))
    await hub.dispatch(Command(device_id=ac, name="set_fan_speed", value="medium"))
    state = await hub.dispatch(
        Command(device_id=ac, name="adjust_temperature", direction=Direction.UP, value=2)
    )
    attributes = state.attributes
    assert (attributes["power"], attributes["mode"], attributes["fan_speed"], attributes["temperature"]) == (
        True,
        "dry",
        "medium",
        23,
    )
    status = server.fake.appliances["ac-0c1f6a2e-1d4b-4a57-9d3e-2f6a8b1c0d01"].status
    assert (
        status["airFlow"]["windStrength"] == "MID" and status["airConJobMode"]["currentJobMode"] == "AIR_DRY"
    )


async def test_ac_refuses_a_temperature_outside_its_own_profile_range(make_hub: HubFactory) -> None:
    hub, _ = await make_hub()
    living = device_id(hub, "air_conditioner", "거실 에어컨")
    with pytest.raises(InvalidValue) as refused:
        await hub.dispatch(Command(device_id=living, name="set_temperature", value=31))
    assert (refused.value.params["low"], refused.value.params["high"]) == (18, 30)
    small = device_id(hub, "air_conditioner", "안방 에어컨")
    with pytest.raises(InvalidValue) as refused:
        await hub.dispatch(Command(device_id=small, name="set_temperature", value=27))
    assert refused.value.params["high"] == 26
    assert "26도" in render(refused.value.key, "ko", **refused.value.params)
    with pytest.raises(InvalidValue):
        await hub.dispatch(Command(device_id=small, name="set_mode", value="heat"))
    state = await hub.dispatch(Command(device_id=small, name="set_temperature", value=25))
    assert state.attributes["temperature"] == 25


async def test_washer_starts_pauses_and_stops(make_hub: HubFactory) -> None:
    hub, _ = await make_hub()
    washer = device_id(hub, "washer", "트롬 세탁기")
    state = await hub.dispatch(Command(device_id=washer, name="start"))
    assert state.attributes["run_state"] == "running" and state.attributes["remaining_time"] == 3600
    assert (await hub.dispatch(Command(device_id=washer, name="pause"))).attributes["run_state"] == "paused"
    assert (await hub.dispatch(Command(device_id=washer, name="stop"))).attributes["run_state"] == "idle"


async def test_washer_course_is_not_offered_because_thinq_connect_has_no_course_control(
    make_hub: HubFactory,
) -> None:
    hub, _ = await make_hub()
    with pytest.raises(CommandNotSupported):
        await hub.dispatch(
            Command(device_id=device_id(hub, "washer", "트롬 세탁기"), name="set_mode", value="wool")
        )


async def test_remote_start_off_gives_the_washers_own_reason_in_korean(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    server.fake.change(
        "wm-4f1e2d3c-6b5a-4978-8a1b-0c2d3e4f5a03", {"remoteControlEnable": {"remoteControlEnabled": False}}
    )
    hub, _ = await make_hub()
    washer = device_id(hub, "washer", "트롬 세탁기")
    with pytest.raises(ThinqRefused) as refused:
        await hub.dispatch(Command(device_id=washer, name="start"))
    assert refused.value.key == "thinq.refused.remote_off"
    assert "원격 제어가 꺼져" in render(refused.value.key, "ko", **refused.value.params)
    assert hub.state(washer).attributes["remote_start"] is False


async def test_an_open_door_gives_the_dryers_own_reason_in_korean(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    server.fake.appliances["dr-9a8b7c6d-5e4f-4031-9b2a-1c0d9e8f7a04"].door_open = True
    hub, _ = await make_hub()
    dryer = device_id(hub, "dryer", "트롬 건조기")
    with pytest.raises(ThinqRefused) as refused:
        await hub.dispatch(Command(device_id=dryer, name="start"))
    assert refused.value.key == "thinq.refused.door_open"
    assert "문이 열려" in render(refused.value.key, "ko", **refused.value.params)
    assert hub.state(dryer).attributes["run_state"] == "idle"


async def test_washtower_parts_are_driven_separately(make_hub: HubFactory, server: FakeThinqServer) -> None:
    hub, _ = await make_hub()
    washer = device_id(hub, "washer", "워시타워 세탁기")
    dryer = device_id(hub, "dryer", "워시타워 건조기")
    await hub.dispatch(Command(device_id=dryer, name="start"))
    assert hub.state(dryer).attributes["run_state"] == "running"
    assert hub.state(washer).attributes["run_state"] == "idle"
    status = server.fake.appliances["wt-1d2c3b4a-9f8e-4d7c-b6a5-f4e3d2c1b005"].status
    assert status["dryer"]["runState"]["currentState"] == "RUNNING"


async def test_refrigerator_compartments_and_express_freeze(make_hub: HubFactory) -> None:
    hub, _ = await make_hub()
    fridge = device_id(hub, "refrigerator")
    state = await hub.dispatch(Command(device_id=fridge, name="set_temperature", value=-20))
    assert state.attributes["freezer_temperature"] == -20 and state.attributes["fridge_temperature"] == 3
    state = await hub.dispatch(Command(device_id=fridge, name="set_temperature", value=5, target="fridge"))
    assert state.attributes["fridge_temperature"] == 5
    with pytest.raises(InvalidValue):
        await hub.dispatch(Command(device_id=fridge, name="set_temperature", value=9, target="fridge"))
    state = await hub.dispatch(Command(device_id=fridge, name="turn_on"))
    assert state.attributes["express_freeze"] is True


async def test_a_half_degree_the_fridge_cannot_take_is_refused_before_reaching_lg(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, _ = await make_hub()
    before = server.fake.count("/control")
    with pytest.raises(InvalidValue) as refused:
        await hub.dispatch(
            Command(device_id=device_id(hub, "refrigerator"), name="set_temperature", value=3.5)
        )
    assert refused.value.key == "thinq.step_not_allowed" and server.fake.count("/control") == before


async def test_air_purifier_power_mode_and_fan(make_hub: HubFactory) -> None:
    hub, _ = await make_hub()
    purifier = device_id(hub, "air_purifier")
    await hub.dispatch(Command(device_id=purifier, name="turn_on"))
    await hub.dispatch(Command(device_id=purifier, name="set_mode", value="sleep"))
    state = await hub.dispatch(Command(device_id=purifier, name="set_fan_speed", value="high"))
    assert (state.attributes["power"], state.attributes["mode"], state.attributes["fan_speed"]) == (
        True,
        "sleep",
        "high",
    )
    assert state.attributes["air_quality"] == "good"


async def test_robot_cleaner_starts_and_returns_to_base(make_hub: HubFactory) -> None:
    hub, _ = await make_hub()
    robot = device_id(hub, "robot_cleaner")
    assert (await hub.dispatch(Command(device_id=robot, name="start"))).attributes["run_state"] == "cleaning"
    state = await hub.dispatch(Command(device_id=robot, name="return_to_base"))
    assert state.attributes["run_state"] == "returning"


async def test_appliances_added_or_removed_on_the_account_join_or_leave_the_hub(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, adapter = await make_hub(rediscover_s=0.1)
    robot = device_id(hub, "robot_cleaner")
    async with hub.subscribe("t") as events:
        del server.fake.appliances["rc-5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e08"]
        new_ac = server.fake.add("air_conditioner", device_id="ac-new", alias="작은방 에어컨")
        removed = await next_event(events, EventKind.DEVICE_REMOVED, robot)
        added = await next_event(events, EventKind.DEVICE_ADDED)
    assert removed.device_id == robot and new_ac == "ac-new"
    assert "작은방 에어컨" in hub.device(str(added.device_id)).names
    assert sorted(adapter.skipped) == ["AS-BROKEN1", "S5MB"]  # skipped once, not at every look


async def test_a_korean_sentence_drives_a_thinq_appliance_through_the_same_understanding(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    import asyncio

    from oneteam.voice.dialog import Conversation

    # Loading Kiwi (in a thread, as `oneteam serve` does) can still hold the interpreter for a
    # second on a busy machine, so this test allows the cloud more than the suite's 1 s and waits
    # until the appliances are reachable: it is about understanding and dispatch, not time-outs.
    hub, _ = await make_hub(request_timeout_s=10.0)
    conversation = await asyncio.to_thread(Conversation, hub)
    await asyncio.to_thread(conversation.understander.warm_up)
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    washer = device_id(hub, "washer", "트롬 세탁기")
    async with asyncio.timeout(20):
        while not (hub.state(ac).is_available and hub.state(washer).is_available):
            await asyncio.sleep(0.05)
    reply = await conversation.converse(
        "거실 에어컨 24도로 맞춰줘", room=None, language=None, session="s", source="voice"
    )
    assert reply.kind == "command"
    assert [a["device"] for a in reply.done] == [ac]
    assert hub.state(ac).attributes["temperature"] == 24
    washer = device_id(hub, "washer", "트롬 세탁기")
    reply = await conversation.converse(
        "트롬 세탁기 시작해 줘", room=None, language=None, session="s", source="voice"
    )
    assert reply.kind == "command" and reply.done == [{"device": washer, "command": "start"}]
    assert hub.state(washer).attributes["run_state"] == "running"
