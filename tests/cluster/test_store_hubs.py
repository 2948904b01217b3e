"""Hubs of two homes on one shared PostgreSQL (a real server): each hub's members, sessions,
tokens and device changes are its own; a bearer value of home A is nobody in home B."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from oneteam.cluster.pgshared import HomeAccounts, HomeOverrides, SharedPostgres
from oneteam.hub import Hub, load_home
from oneteam.hub.accounts import Member, Role, SignInFailed
from oneteam.hub.device_overrides import DeviceOverride
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command
from tests.cluster.pg_fixtures import postgres_url, shared

__all__ = ["postgres_url", "shared"]


@pytest.fixture
async def hubs(shared: SharedPostgres, fixture_home_path: Path) -> AsyncIterator[tuple[Hub, Hub]]:
    home = load_home(fixture_home_path)
    async with AsyncExitStack() as stack:
        pair = []
        for home_id in ("home-a", "home-b"):
            hub = Hub(home, shared.storage(home_id))
            await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
            pair.append(await stack.enter_async_context(hub))
        yield pair[0], pair[1]


async def test_a_hub_keeps_its_state_on_its_homes_storage(
    shared: SharedPostgres, fixture_home_path: Path
) -> None:
    home = load_home(fixture_home_path)
    for step in range(2):
        hub = Hub(home, shared.storage("home-a"))
        await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
        async with hub:
            assert isinstance(hub.household.store, HomeAccounts)
            if step == 0:
                await hub.dispatch(Command(device_id="ac_bedroom", name="set_temperature", value=27))
            else:
                assert hub.state("ac_bedroom").attributes["temperature"] == 27
    assert "ac_bedroom" not in await shared.storage("home-b").load_states()


async def test_a_bearer_value_of_one_home_is_nobody_in_another(hubs: tuple[Hub, Hub]) -> None:
    a, b = hubs
    household_token = await a.create_token("tablet")
    assert await a.authenticate(household_token) is not None
    assert await b.authenticate(household_token) is None
    assert await b.household.caller(household_token) is None

    await a.household.ensure_owner()
    await a.household.add_member("mina", "adult", by=None, password="correct horse 7")
    _, member_token = await a.household.create_token("mina", "phone", by=None)
    session, _, _ = await a.household.sign_in("mina", "correct horse 7")
    link = await a.household.sign_in_link("mina")
    for value in (member_token, session):
        caller = await a.household.caller(value)
        assert caller is not None and caller.member is not None and caller.member.name == "mina"
        assert await b.household.caller(value) is None
    # Home B has no mina: its sign-in fails, its link redemption finds nothing, and a's link
    # still works afterwards in a (b's attempt did not use it up).
    assert [m.name for m in await b.household.members()] == []
    with pytest.raises(SignInFailed):
        await b.household.redeem_link(link)
    assert (await a.household.redeem_link(link))[2].name == "mina"
    assert await b.household.tokens(by=None) == []
    listed = await a.household.tokens(by=None)
    assert {t["name"] for t in listed} == {"tablet", "phone"}
    # Home B cannot revoke a's tokens by id; home A can.
    for t in listed:
        assert not await b.household.revoke_token(int(t["id"]), by=None)
    assert await a.household.caller(member_token) is not None
    assert await a.household.revoke_token(int(listed[0]["id"]), by=None)


async def test_a_members_removal_takes_only_that_homes_tokens(shared: SharedPostgres) -> None:
    a, b = shared.accounts("home-a"), shared.accounts("home-b")
    for store in (a, b):
        await store.open()
        await store.add_member_token("phone", "c" * 64, 1.0, door=None, member="mina", expires_at=None)
    for store in (a, b):
        await store.put_member(
            Member(
                name="mina",
                role=Role.ADULT,
                display="",
                password_hash=None,
                overrides={},
                expires_at=None,
                created_at=1.0,
            )
        )
    assert await a.delete_member("mina")
    assert await a.credential("c" * 64) is None
    credential = await b.credential("c" * 64)
    assert credential is not None and credential.member == "mina"
    assert [m.name for m in await b.members()] == ["mina"]


async def test_device_changes_are_per_home(shared: SharedPostgres) -> None:
    a, b = shared.overrides("home-a"), shared.overrides("home-b")
    assert isinstance(a, HomeOverrides)
    await a.put(DeviceOverride(device_id="tv", name="거실 티비", room="living", updated_at=1.0))
    await b.put(DeviceOverride(device_id="tv", hidden=True, updated_at=2.0))
    assert [(o.name, o.hidden) for o in await a.load()] == [("거실 티비", False)]
    assert [(o.name, o.hidden) for o in await b.load()] == [(None, True)]
    await b.delete("tv")
    assert await b.load() == [] and len(await a.load()) == 1
