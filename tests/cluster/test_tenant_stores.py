"""Routines, runs and marks of many homes in one real PostgreSQL: the same contract as the SQLite
store, homes that cannot see each other's rows, and a home whose delayed run goes on in another
process (a fresh pool, as after a failover).

The engine tests of tests/automation/test_engine.py that need only a hub and an engine run here
again, on an engine whose store is one home's rows in PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psycopg
import pytest

from oneteam.automation import AutomationStore, Engine, RoutineStorage
from oneteam.cluster.pgschema import SCHEMA
from oneteam.cluster.tenant_stores import TenantStores
from oneteam.hub import Hub
from tests.automation import conftest as automation_fixtures
from tests.automation.conftest import make_hub, wait_runs
from tests.automation.test_engine import (  # noqa: F401  (run again here, on PostgreSQL)
    test_a_routine_runs_another_and_refuses_unknown_ones,
    test_a_scene_applies_every_target_and_reports_the_one_that_failed,
    test_a_trace_records_trigger_conditions_and_each_step,
    test_conditions_combine_and_the_trace_says_which_failed,
    test_event_triggers_filter_on_kind_device_and_data,
)
from tests.cluster import tenant_fixtures

tenant_pg, tenants = tenant_fixtures.tenant_pg, tenant_fixtures.tenants
hub = automation_fixtures.hub  # the demo hub the engine tests drive
_home = tenant_fixtures.new_home


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], RoutineStorage]:
    if request.param == "sqlite":
        return lambda: AutomationStore(tmp_path / "hub.sqlite3")
    stores: TenantStores = request.getfixturevalue("tenants")
    home = _home()
    return lambda: stores.routines(home)


@pytest.fixture
async def engine(hub: Hub, tenants: TenantStores) -> AsyncIterator[Engine]:
    """The engine the imported tests drive, its store one home's rows in PostgreSQL."""
    started = Engine(hub, tenants.routines(_home()))
    await started.start()
    yield started
    await started.stop()


def test_routines_are_kept_replaced_enabled_and_deleted(make_store: Callable[[], RoutineStorage]) -> None:
    store = make_store()
    store.open()
    try:
        body = {"id": "night", "triggers": [{"at": "23:00"}], "actions": [{"scene": "sleep"}]}
        store.put_routine("night", "routine", body, True, "api", owner={"principal": "member:mina"})
        store.put_routine("away", "scene", {"id": "away", "targets": []}, False, "preset")
        listed = store.routines()
        assert [r.id for r in listed] == ["away", "night"]
        night = listed[1]
        assert night.body == body and list(night.body) == ["id", "triggers", "actions"]  # order kept
        assert night.owner == {"principal": "member:mina"} and listed[0].owner is None
        assert night.enabled and not listed[0].enabled and night.origin == "api"

        store.put_routine("night", "routine", {**body, "mode": "single"}, True, "cli")
        assert store.routines()[1].body["mode"] == "single" and store.routines()[1].origin == "cli"
        assert store.set_enabled("night", False) and not store.routines()[1].enabled
        assert not store.set_enabled("nothing", True)
        assert store.delete_routine("away") and not store.delete_routine("away")
        assert [r.id for r in store.routines()] == ["night"]
    finally:
        store.close()


def test_runs_are_saved_listed_pruned_and_marks_kept(make_store: Callable[[], RoutineStorage]) -> None:
    store = make_store()
    store.open()
    try:
        first = store.start_run("night", {"kind": "time", "at": "23:00"})
        first.status, first.step, first.resume_at = "running", 2, 1_900_000_000.5
        first.trace["steps"].append({"action": "delay", "ms": 200})
        store.save_run(first)
        again = store.run(first.id)
        assert again is not None and again.step == 2 and again.resume_at == 1_900_000_000.5
        assert again.trace["steps"] == [{"action": "delay", "ms": 200}] and again.trigger["at"] == "23:00"
        assert store.run(first.id + 10_000) is None

        skipped = store.start_run("night", {"kind": "time"}, status="skipped")
        other = store.start_run("morning", {"kind": "manual"})
        assert [r.id for r in store.runs()] == [other.id, skipped.id, first.id]
        assert [r.id for r in store.runs("night")] == [skipped.id, first.id]
        assert [r.id for r in store.runs(status="running")] == [other.id, first.id]
        assert [r.id for r in store.runs(limit=1)] == [other.id]

        finished = []
        for _ in range(5):
            run = store.start_run("morning", {"kind": "manual"})
            run.status, run.finished_at = "done", run.started_at
            store.save_run(run)
            finished.append(run.id)
        store.prune_runs("morning", keep=2)
        # The two newest finished runs stay, and so does the one still running.
        assert sorted(r.id for r in store.runs("morning")) == sorted([other.id, *finished[-2:]])

        assert store.mark("clock") is None
        store.set_mark("clock", 10.0)
        store.set_mark("clock", 11.5)
        store.set_mark("hold:tv:0", 3.0)
        store.set_mark("hold:ac:1", 4.0)
        assert store.mark("clock") == 11.5
        assert store.marks("hold:") == {"hold:tv:0": 3.0, "hold:ac:1": 4.0}
        store.delete_mark("hold:tv:0")
        assert store.marks("hold:") == {"hold:ac:1": 4.0}
    finally:
        store.close()


def test_two_homes_cannot_see_each_others_routines_runs_or_marks(tenants: TenantStores) -> None:
    a, b = tenants.routines(_home()), tenants.routines(_home())
    a.put_routine("night", "routine", {"id": "night", "actions": []}, True, "api")
    run = a.start_run("night", {"kind": "manual"})
    a.set_mark("clock", 5.0)

    assert b.routines() == [] and b.runs() == [] and b.run(run.id) is None
    assert b.mark("clock") is None and b.marks("") == {}
    # Writes by B that name A's rows change nothing of A's.
    assert not b.set_enabled("night", False) and not b.delete_routine("night")
    run.status = "done"
    b.save_run(run)
    b.delete_mark("clock")
    b.prune_runs("night", keep=0)
    assert a.routines()[0].enabled and a.mark("clock") == 5.0
    kept = a.run(run.id)
    assert kept is not None and kept.status == "running"
    # The same routine id at B is B's own.
    b.put_routine("night", "routine", {"id": "night", "actions": [{"delay": 1}]}, False, "cli")
    assert a.routines()[0].body == {"id": "night", "actions": []} and a.routines()[0].enabled


def test_the_tables_are_hash_partitioned_by_home(tenants: TenantStores, tenant_pg: str) -> None:
    with psycopg.connect(tenant_pg) as connection:
        rows = connection.execute(
            "SELECT c.relname, pg_get_partkeydef(c.oid),"
            " (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname LIKE 'automation_%%' AND c.relkind = 'p' ORDER BY 1",
            (SCHEMA,),
        ).fetchall()
        keys = connection.execute(
            "SELECT t.relname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
            " JOIN pg_class t ON t.oid = k.conrelid WHERE k.contype = 'p' AND t.relkind = 'p'"
            " AND t.relname LIKE 'automation_%'"
        ).fetchall()
    assert [r[0] for r in rows] == ["automation_marks", "automation_routines", "automation_runs"]
    assert all(r[1] == "HASH (home_id)" and r[2] == tenants.partitions for r in rows)
    assert all(definition.startswith("PRIMARY KEY (home_id,") for _, definition in keys) and len(keys) == 3


async def test_a_delayed_run_goes_on_in_another_process(tenants: TenantStores, tmp_path: Path) -> None:
    """The home moves: the first process stops mid-delay, a second (its own pool) resumes the run."""
    home = _home()
    first = await make_hub(tmp_path / "first.sqlite3")
    async with first:
        engine = Engine(first, tenants.routines(home))
        await engine.start()
        await engine.put(
            {
                "id": "later",
                "actions": [
                    {"device": "light_living", "command": "turn_on"},
                    {"delay": 1.5},
                    {"device": "light_kitchen", "command": "set_brightness", "value": 33},
                ],
            }
        )
        started = await engine.run_now("later")
        await asyncio.sleep(0.2)
        await engine.stop()  # the process goes away in the middle of the delay

    other_process = TenantStores(tenants.url, partner_key=tenants.partner_key)
    await other_process.open()
    try:
        second = await make_hub(tmp_path / "second.sqlite3")  # nothing local carries over
        async with second:
            engine = Engine(second, other_process.routines(home), grace_s=5.0)
            await engine.start()
            try:
                assert "later" in engine.routines
                resumed = (await wait_runs(engine, "later", within_s=6))[0]
                brightness = second.state("light_kitchen").attributes["brightness"]
            finally:
                await engine.stop()
            # Another home on the same process has nothing of it.
            stranger = Engine(second, other_process.routines(_home()))
            await stranger.start()
            try:
                assert stranger.routines == {} and stranger.store.runs() == []
            finally:
                await stranger.stop()
    finally:
        await other_process.close()
    assert resumed.id == started.id and resumed.status == "done"
    assert [n["key"] for n in resumed.trace["notes"]] == ["automation.note_resumed"]
    assert brightness == 33
