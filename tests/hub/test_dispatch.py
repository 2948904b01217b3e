from __future__ import annotations

import pytest

from oneteam.hub import EventQuery, Hub
from oneteam.model import Command, DeviceNotFound, DeviceUnavailable, Direction, EventKind, InvalidValue


async def test_a_command_reaches_the_virtual_device_and_comes_back_as_events(hub: Hub) -> None:
    async with hub.subscribe("test") as events:
        state = await hub.dispatch(
            Command(device_id="ac_living", name="set_temperature", value=22, source="voice")
        )
        assert state.attributes["temperature"] == 22 and state.attributes["power"] is True
        first, second = await events.get(), await events.get()
    assert first.kind is EventKind.STATE_CHANGED and first.data["temperature"] == 22
    assert second.kind is EventKind.COMMAND and second.source == "voice"


async def test_an_invalid_command_changes_nothing_and_is_recorded(hub: Hub) -> None:
    before = hub.state("ac_living")
    with pytest.raises(InvalidValue):
        await hub.dispatch(Command(device_id="ac_living", name="set_temperature", value=45))
    assert hub.state("ac_living") == before
    history = await hub.events(EventQuery(device_id="ac_living", kinds=(EventKind.COMMAND_FAILED,)))
    assert history[0].data["error"] == "error.temperature_out_of_range"


async def test_unknown_device_is_not_found(hub: Hub) -> None:
    with pytest.raises(DeviceNotFound):
        await hub.dispatch(Command(device_id="oven", name="turn_on"))


async def test_relative_adjustments_stay_inside_the_range(hub: Hub) -> None:
    await hub.dispatch(Command(device_id="ac_living", name="set_temperature", value=29))
    state = await hub.dispatch(
        Command(device_id="ac_living", name="adjust_temperature", direction=Direction.UP, value=5)
    )
    assert state.attributes["temperature"] == 30
    await hub.dispatch(Command(device_id="tv", name="turn_on"))  # volume needs a TV that is on
    state = await hub.dispatch(Command(device_id="tv", name="adjust_volume", direction=Direction.DOWN))
    assert state.attributes["volume"] == 7


async def test_an_unavailable_device_refuses_commands(hub: Hub) -> None:
    hub._set_available("tv", False, "test unplugged it", "test")
    with pytest.raises(DeviceUnavailable):
        await hub.dispatch(Command(device_id="tv", name="turn_on"))
    assert hub.state("tv").is_available is False


async def test_several_commands_report_each_result(hub: Hub) -> None:
    results = await hub.dispatch_many(
        [
            Command(device_id="light_living", name="turn_off"),
            Command(device_id="light_living", name="set_brightness", value=140),
        ]
    )
    assert not isinstance(results[0], Exception)
    assert isinstance(results[1], InvalidValue)


async def test_an_unavailable_device_explains_with_its_integrations_reason(hub: Hub) -> None:
    hub._set_available("tv", False, "", "thinq", reason_key="thinq.token_invalid")
    with pytest.raises(DeviceUnavailable) as caught:
        await hub.dispatch(Command(device_id="tv", name="turn_on"))
    assert caught.value.key == "thinq.token_invalid"
    # Free text is never taken for a message key, dots or not.
    hub._set_available("tv", False, "firmware 1.2 is updating", "mqtt")
    with pytest.raises(DeviceUnavailable) as plain:
        await hub.dispatch(Command(device_id="tv", name="turn_on"))
    assert plain.value.key == "error.device_unavailable" and "firmware 1.2" in str(plain.value)
    hub._set_available("tv", True, "", "mqtt")
    hub._set_available("tv", False, "", "thinq", reason_key="thinq.token_invalid")
    assert caught.value.params["name"] == "TV"  # the device's name, which the integration's message uses
    hub._set_available("tv", True, "", "thinq")
    state = await hub.dispatch(Command(device_id="tv", name="turn_on"))
    assert state.attributes["power"] is True
