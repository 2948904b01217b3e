"""Household members, sessions, links and members' tokens, on SQLite and a real PostgreSQL alike.

A real hub (demo home, virtual appliances) on each backend; a second `Household` on the same
database plays the CLI's process, to show that its changes are seen by the hub's next check.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, Storage, load_home
from oneteam.hub.accounts import AccountError, Member, MemberExists, NotAllowed, Role, SignInFailed
from oneteam.hub.accounts_db import accounts_for
from oneteam.hub.household import Household
from oneteam.hub.postgres_store import PostgresStorage
from oneteam.hub.tokens import hash_token
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Door, Grant, PermissionDenied
from tests.interop.smarthome.conftest import DEMO_HOME


@pytest.fixture
async def hub(make_storage: Callable[[], Storage]) -> AsyncIterator[Hub]:
    home = load_home(DEMO_HOME)
    running = Hub(home, make_storage())
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


async def _family(household: Household) -> None:
    await household.ensure_owner("mom")
    await household.add_member("dad", "adult", by=None, password="dad-secret-1")
    await household.add_member(
        "minji", "child", by=None, password="minji-pass", overrides={"rooms": ["small_room"], "allow": ["tv"]}
    )
    await household.add_member("visitor", "guest", by=None, password="guest-pass")


def test_role_defaults_and_member_overrides() -> None:
    home = load_home(DEMO_HOME)
    devices = list(home.devices.values())
    child = Member(name="minji", role=Role.CHILD)
    allowed = child.grant(Door.REST, devices).devices
    assert allowed == {"light_living", "light_bedroom", "light_kitchen", "light_small", "tv"}
    kid = Member(name="minji", role=Role.CHILD, overrides={"rooms": ["small_room"], "allow": ["tv"]})
    assert kid.grant(Door.REST, devices).devices == {"light_small", "tv"}
    guest = Member(name="g", role=Role.GUEST, overrides={"deny": ["ac_bedroom"]})
    assert guest.grant(Door.WS, devices).devices == {
        "light_living", "light_bedroom", "light_kitchen", "light_small", "tv", "ac_living", "purifier"
    }  # fmt: skip
    adult = Member(name="dad", role=Role.ADULT)
    assert adult.grant(Door.REST, devices).devices is None  # no limit: devices added later too
    # The owner cannot be narrowed, even by a stored override.
    owner = Member(name="mom", role=Role.OWNER, overrides={"deny": ["washer"]})
    assert owner.grant(Door.REST, devices).devices is None
    assert kid.grant(Door.VOICE, devices).source == "voice:member:minji"


async def test_sign_in_sessions_expire_and_sign_out(hub: Hub) -> None:
    household = hub.household
    await _family(household)
    session, expires, member = await household.sign_in("minji", "minji-pass")
    assert member.role is Role.CHILD and expires > time.time() + 6 * 86400
    grant = await hub.grant_for(session, Door.REST)
    assert grant is not None and grant.principal == "member:minji" and grant.devices == {"light_small", "tv"}
    for name, password in (("minji", "wrong-pass"), ("nobody", "minji-pass"), ("mom", "")):
        with pytest.raises(SignInFailed):
            await household.sign_in(name, password)
    assert await household.sign_out(session)
    assert await hub.grant_for(session, Door.REST) is None
    stored = await household.store.credential(hash_token(session))
    assert stored is None  # only hashes were ever stored, and this one is gone


async def test_a_child_is_refused_the_washer_at_dispatch(hub: Hub) -> None:
    await _family(hub.household)
    session, _, _ = await hub.household.sign_in("minji", "minji-pass")
    grant = await hub.grant_for(session, Door.REST)
    assert grant is not None
    with pytest.raises(PermissionDenied):
        await hub.dispatch(Command(device_id="washer", name="start"), grant=grant)
    await hub.dispatch(Command(device_id="light_small", name="turn_on"), grant=grant)
    assert hub.state("light_small").get("power") is True
    assert hub.state("washer").get("run_state") != "running"


async def test_a_sign_in_link_works_once_and_not_late(hub: Hub) -> None:
    household = hub.household
    owner = await household.ensure_owner()
    assert owner.name == "owner" and owner.password_hash is None
    code = await household.sign_in_link("owner")
    session, _, member = await household.redeem_link(code)
    assert member.role is Role.OWNER and await hub.grant_for(session, Door.REST) is not None
    with pytest.raises(SignInFailed):
        await household.redeem_link(code)  # used up
    late = await household.sign_in_link("owner", ttl_s=0.01)
    await asyncio.sleep(0.05)
    with pytest.raises(SignInFailed):
        await household.redeem_link(late)
    with pytest.raises(SignInFailed):
        await household.redeem_link("ol_not-a-code")


async def test_member_tokens_are_named_expire_and_end_with_their_member(hub: Hub) -> None:
    household = hub.household
    await _family(household)
    token_id, token = await household.create_token("minji", "tablet", by=None, door="voice")
    grant = await hub.grant_for(token, Door.REST)
    assert grant is not None and grant.source == "voice:member:minji"  # the door it was made for
    _, short = await household.create_token("dad", "script", by=None, expires_at=time.time() + 0.05)
    assert await hub.grant_for(short, Door.REST) is not None
    await asyncio.sleep(0.1)
    assert await hub.grant_for(short, Door.REST) is None  # expired
    listed = {row["id"]: row for row in await household.tokens(by=None)}
    assert listed[token_id]["member"] == "minji" and listed[token_id]["name"] == "tablet"
    await household.remove_member("minji", by=None)
    assert await hub.grant_for(token, Door.REST) is None
    assert token_id not in {row["id"] for row in await household.tokens(by=None)}


async def test_a_guest_expires_with_their_sessions_and_tokens(hub: Hub) -> None:
    household = hub.household
    await household.ensure_owner()
    await household.add_member("visitor", "guest", by=None, password="guest-pass")
    stored = await household.member("visitor")
    assert stored.expires_at is not None and stored.expires_at - time.time() > 23 * 3600  # a day by default
    session, _, _ = await household.sign_in("visitor", "guest-pass")
    _, token = await household.create_token("visitor", "phone", by=None)
    await household.update_member("visitor", by=None, expires_at=time.time() + 0.05)
    await asyncio.sleep(0.1)
    assert await hub.grant_for(session, Door.REST) is None
    assert await hub.grant_for(token, Door.REST) is None
    with pytest.raises(SignInFailed):
        await household.sign_in("visitor", "guest-pass")
    await household.add_member("cousin", "adult", by=None)
    demoted = await household.update_member("cousin", by=None, role="guest")
    assert demoted.expires_at is not None  # becoming a guest brings an expiry
    kept = await household.update_member("cousin", by=None, clear_expiry=True)
    assert kept.expires_at is not None  # and a guest cannot be made to stay for ever


async def test_household_tokens_from_before_members_belong_to_the_owner(hub: Hub) -> None:
    old = await hub.create_token("kitchen-tablet")  # a `tokens` row without a member
    await hub.household.ensure_owner("mom")
    grant = await hub.grant_for(old, Door.REST)
    assert grant is not None and grant.principal == "token:kitchen-tablet" and grant.devices is None
    caller = await hub.household.caller(old)
    assert caller is not None and caller.role is Role.OWNER
    rows = await hub.household.tokens(by=None)
    assert rows[0]["member"] == "mom" and rows[0]["household"] is True


async def test_who_may_manage_whom(hub: Hub) -> None:
    household = hub.household
    await _family(household)
    _, dad_token = await household.create_token("dad", "phone", by=None)
    _, kid_token = await household.create_token("minji", "tablet", by=None)
    dad, kid = await household.caller(dad_token), await household.caller(kid_token)
    assert dad is not None and kid is not None
    with pytest.raises(NotAllowed):
        await household.add_member("friend", "adult", by=kid, password="friend-pass")
    with pytest.raises(NotAllowed):
        await household.update_member("minji", by=kid, overrides={"rooms": None})  # no widening oneself
    await household.update_member("minji", by=kid, password="new-minji-pass")  # own password: yes
    with pytest.raises(NotAllowed):
        await household.update_member("mom", by=dad, role="adult")  # an adult cannot touch the owner
    with pytest.raises(NotAllowed):
        await household.add_member("boss", "owner", by=dad)
    await household.update_member("minji", by=dad, overrides={"deny": ["light_small"]})
    grant = await hub.grant_for(kid_token, Door.REST)
    assert grant is not None and grant.devices == {"tv"}
    with pytest.raises(MemberExists):
        await household.add_member("dad", "adult", by=None)
    with pytest.raises(AccountError) as bad:
        await household.add_member("Bad Name", "adult", by=None)
    assert bad.value.key == "error.member.bad_name"
    with pytest.raises(AccountError) as last:
        await household.remove_member("mom", by=None)
    assert last.value.key == "error.member.last_owner"


async def test_changes_by_another_process_are_seen_on_the_next_check(hub: Hub, tmp_path: Path) -> None:
    """The CLI's process writes to the same database; the hub's remembered answers do not outlive it."""
    await _family(hub.household)
    _, token = await hub.household.create_token("dad", "phone", by=None)
    assert await hub.grant_for(token, Door.REST) is not None  # now remembered
    storage = hub.storage
    other_storage: Storage
    if isinstance(storage, PostgresStorage):
        other_storage = PostgresStorage(storage.url)
    else:
        assert isinstance(storage, SqliteStorage)
        other_storage = SqliteStorage(storage.path)
    await other_storage.open()
    cli = Household(accounts_for(other_storage), other_storage, list)
    await cli.open()
    # SQLite's data_version changes with the other connection's commit: the very next check sees
    # it. PostgreSQL's notification reaches the hub's listening socket a moment after the commit
    # (loopback delivery), so there the check sees it once it has arrived (bounded here at 2 s).
    patience = 2.0 if isinstance(storage, PostgresStorage) else 0.0

    async def seen(check: Callable[[Grant | None], bool]) -> bool:
        deadline = time.monotonic() + patience
        while not check(await hub.grant_for(token, Door.REST)):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    try:
        await cli.update_member("dad", by=None, role="child")
        assert await seen(lambda g: g is not None and g.devices is not None and "washer" not in g.devices)
        await cli.remove_member("dad", by=None)
        assert await seen(lambda g: g is None)
    finally:
        await cli.close()
        await other_storage.close()
