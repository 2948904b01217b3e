"""Home leases and cluster membership, decided by PostgreSQL (no consensus of our own).

A process may serve a home only while it holds that home's lease: a row of `home_leases` naming it
as owner whose `expires_at` lies ahead in the database's clock. Every acquire, renew and release is
one statement, so two processes racing for a home are ordered by the row lock and exactly one
wins. A takeover (the row had another owner) bumps `epoch`, so writes a paused old owner still
makes can be told apart (fenced) from the new owner's.

Processes announce themselves in `cluster_members` with a heartbeat; placement reads the live
ones (heartbeat younger than the lease time) to spread homes over them.

The home registry (`cluster_homes`) lists the homes the service hosts, with each home's file and
its MQTT login on the broker cluster.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psycopg
from psycopg.rows import tuple_row

_LOGGER = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS cluster_homes (
  home_id TEXT PRIMARY KEY, home_text TEXT NOT NULL, mqtt_username TEXT, mqtt_password TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS home_leases (
  home_id TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS home_leases_owner ON home_leases (owner);
CREATE TABLE IF NOT EXISTS cluster_members (
  node_id TEXT PRIMARY KEY, address TEXT NOT NULL, heartbeat_at TIMESTAMPTZ NOT NULL
);
"""

LEASE_S = 3.0
"""How long a lease outlives its last renewal; processes renew about three times within it."""

_Connection = psycopg.AsyncConnection[tuple[object, ...]]
_Cursor = psycopg.AsyncCursor[tuple[object, ...]]

_HEARTBEAT = (
    "INSERT INTO cluster_members (node_id, address, heartbeat_at) VALUES (%s, %s, now()) "
    "ON CONFLICT (node_id) DO UPDATE SET address = EXCLUDED.address, heartbeat_at = now()"
)
_RENEW = (
    # A renewal only moves `expires_at` (a no-key update): it does not conflict with the key-share
    # lock a committing batch's fencing holds on the row (pgshared.py), so the leases of homes
    # written without pause are renewed too; only a takeover's FOR UPDATE conflicts with both.
    # Rows another statement holds are skipped, not waited for, reported with the time they have
    # left and renewed at the next round. Rows are locked in home order.
    "WITH renewed AS ("
    "  UPDATE home_leases l SET expires_at = now() + make_interval(secs => %(ttl)s) "
    "  FROM (SELECT home_id FROM home_leases WHERE owner = %(me)s "
    "        ORDER BY home_id FOR NO KEY UPDATE SKIP LOCKED) mine "
    "  WHERE l.home_id = mine.home_id AND l.owner = %(me)s RETURNING l.home_id, l.epoch, l.expires_at"
    ") "
    "SELECT home_id, epoch, extract(epoch FROM expires_at - now()) FROM renewed "
    "UNION ALL "
    "SELECT home_id, epoch, extract(epoch FROM expires_at - now()) FROM home_leases "
    "WHERE owner = %(me)s AND expires_at > now() AND home_id NOT IN (SELECT home_id FROM renewed)"
)


def _held(rows: list[tuple[object, ...]], started: float, lease_s: float) -> dict[str, Lease]:
    """A renewal's rows → leases whose local deadline is `started` plus the time the database
    said each has left (read after `started`, so it never outlasts the database's)."""
    return {
        str(h): Lease(str(h), int(str(e)), started + min(lease_s, float(str(left)))) for h, e, left in rows
    }


MEMBER_LEASES = 2.0
"""A member counts as live while its heartbeat is younger than this many lease times."""

# Several processes may create the tables at once; CREATE ... IF NOT EXISTS still races on the
# catalog, so the first run is serialised by an advisory lock (any fixed number will do).
_SCHEMA_LOCK = 72_021


@dataclass(frozen=True, slots=True)
class Member:
    """A live service process: its id and the base URL it serves homes at."""

    node_id: str
    address: str


@dataclass(frozen=True, slots=True)
class Whereabouts:
    """Where a home is served, as a request for it learns: its live lease's owner and the owner's
    address ('' when not a member), or None when no lease is live; and whether it is registered."""

    owner: tuple[str, str] | None
    registered: bool


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease this process holds: the home, its epoch and (monotonic clock) until when it may
    serve it without renewing; the local deadline starts before the statement was sent, so it
    never outlasts the database's."""

    home_id: str
    epoch: int
    valid_until: float


async def ensure_schema(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
    """Create the lease, membership and home tables if missing."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        await conn.execute(SCHEMA)  # a constant of several statements


class LeaseTable:
    """One process's view of the lease tables, over one autocommit connection of its own."""

    def __init__(self, url: str, node_id: str, address: str, *, lease_s: float = LEASE_S) -> None:
        if not node_id or len(node_id) > 200:
            raise ValueError("a node id is 1 to 200 characters")
        self.url = url
        self.node_id = node_id
        self.address = address.rstrip("/")
        self.lease_s = lease_s
        self._conn: _Connection | None = None
        self._reopening = asyncio.Lock()

    async def open(self) -> None:
        self._conn = await self._connect()
        await ensure_schema(self._conn)

    async def _connect(self) -> _Connection:
        return await psycopg.AsyncConnection.connect(self.url, autocommit=True, row_factory=tuple_row)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def _c(self) -> _Connection:
        """The open connection; a lost one (a restarted database, pg_terminate_backend) is replaced
        here, so the statement that finds it lost fails once and the next one runs."""
        if self._conn is None:
            raise RuntimeError("the lease table is not open")
        if self._conn.closed:
            async with self._reopening:
                if self._conn is not None and self._conn.closed:
                    _LOGGER.warning("lease table connection lost: connecting again")
                    self._conn = await self._connect()
        if self._conn is None:
            raise RuntimeError("the lease table is not open")
        return self._conn

    async def _run(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> _Cursor:
        return await (await self._c()).execute(sql, params)

    # -- membership -----------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Say this process is alive at its address."""
        await self._run(_HEARTBEAT, (self.node_id, self.address))

    def renew_blocking(self, conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, Lease]:
        """Heartbeat and `renew` on a blocking connection of the caller's (the renewer thread's)."""
        started = time.monotonic()
        conn.execute(_HEARTBEAT, (self.node_id, self.address))
        rows = conn.execute(_RENEW, {"ttl": self.lease_s, "me": self.node_id}).fetchall()
        return _held(rows, started, self.lease_s)

    async def leave(self) -> None:
        """Leave the cluster: the membership row goes and every lease held is released."""
        await self._run("DELETE FROM cluster_members WHERE node_id = %s", (self.node_id,))
        await self._run(
            "UPDATE home_leases SET owner = '', expires_at = now() WHERE owner = %s",
            (self.node_id,),
        )

    async def members(self) -> list[Member]:
        """The processes whose heartbeat is younger than two leases, by id. (Twice: a process
        whose loop stalls for a moment under load must not look dead and alive by turns, moving
        its homes back and forth; a dead one's homes are taken on lease expiry anyway.)"""
        cur = await self._run(
            "SELECT node_id, address FROM cluster_members "
            "WHERE heartbeat_at > now() - make_interval(secs => %s) ORDER BY node_id",
            (MEMBER_LEASES * self.lease_s,),
        )
        return [Member(str(n), str(a)) for n, a in await cur.fetchall()]

    # -- homes ----------------------------------------------------------------------------------

    async def home_ids(self) -> list[str]:
        """Every registered home."""
        cur = await self._run("SELECT home_id FROM cluster_homes ORDER BY home_id")
        return [str(h) for (h,) in await cur.fetchall()]

    async def home_record(self, home_id: str) -> tuple[str, str | None, str | None] | None:
        """(home file text, MQTT username, MQTT password) of a registered home, or None."""
        cur = await self._run(
            "SELECT home_text, mqtt_username, mqtt_password FROM cluster_homes WHERE home_id = %s",
            (home_id,),
        )
        row = await cur.fetchone()
        if row is None:
            return None
        text, user, password = row
        return str(text), None if user is None else str(user), None if password is None else str(password)

    # -- leases ---------------------------------------------------------------------------------

    async def acquire(self, home_id: str) -> Lease | None:
        """Take or keep a home's lease when it is free, expired or already ours; None when another
        live owner holds it. A takeover from another owner bumps the epoch."""
        started = time.monotonic()
        conn = await self._c()  # the transaction's statements on it alone, never on a replacement
        async with conn.transaction():
            await self._lock_takeable(conn, [home_id])
            cur = await conn.execute(
                "INSERT INTO home_leases AS l (home_id, owner, epoch, expires_at) "
                "VALUES (%(home)s, %(me)s, 1, now() + make_interval(secs => %(ttl)s)) "
                "ON CONFLICT (home_id) DO UPDATE SET owner = %(me)s, "
                "  epoch = CASE WHEN l.owner = %(me)s THEN l.epoch ELSE l.epoch + 1 END, "
                "  expires_at = EXCLUDED.expires_at "
                "WHERE l.owner = %(me)s OR l.expires_at <= now() "
                "RETURNING epoch",
                {"home": home_id, "me": self.node_id, "ttl": self.lease_s},
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return Lease(home_id, int(str(row[0])), started + self.lease_s)

    async def acquire_many(self, home_ids: Sequence[str]) -> dict[str, Lease]:
        """`acquire` for many homes in one statement (a survivor taking a dead process's hundreds
        of homes): the ones taken or kept, by home; each row is still decided by its own lock."""
        if not home_ids:
            return {}
        started = time.monotonic()
        conn = await self._c()  # the transaction's statements on it alone, never on a replacement
        async with conn.transaction():
            await self._lock_takeable(conn, home_ids)
            cur = await conn.execute(
                "INSERT INTO home_leases AS l (home_id, owner, epoch, expires_at) "
                "SELECT h, %(me)s, 1, now() + make_interval(secs => %(ttl)s) "
                "FROM unnest(%(homes)s::text[]) h ORDER BY h "  # home order, as fencing locks them
                "ON CONFLICT (home_id) DO UPDATE SET owner = %(me)s, "
                "  epoch = CASE WHEN l.owner = %(me)s THEN l.epoch ELSE l.epoch + 1 END, "
                "  expires_at = EXCLUDED.expires_at "
                "WHERE l.owner = %(me)s OR l.expires_at <= now() "
                "RETURNING home_id, epoch",
                {"homes": list(home_ids), "me": self.node_id, "ttl": self.lease_s},
            )
            rows = await cur.fetchall()
        return {str(h): Lease(str(h), int(str(e)), started + self.lease_s) for h, e in rows}

    async def _lock_takeable(self, conn: _Connection, home_ids: Sequence[str]) -> None:
        """Lock the rows of `home_ids` this process may take (ours, or expired) FOR UPDATE, in home
        order, within the caller's transaction: this waits for a batch the old owner is committing
        (its fencing holds the row key-share locked), and a batch that comes after waits for the
        takeover and then reads the new epoch. The upsert alone would take a no-key lock, which
        does not conflict with the fencing's."""
        await conn.execute(
            "SELECT 1 FROM home_leases WHERE home_id = ANY(%(homes)s) "
            "AND (owner = %(me)s OR expires_at <= now()) ORDER BY home_id FOR UPDATE",
            {"homes": list(home_ids), "me": self.node_id},
        )

    async def renew(self) -> dict[str, Lease]:
        """Extend every lease this process still owns, in one statement; returns them by home.
        A home missing from the answer was taken over (after it expired) and must be closed."""
        started = time.monotonic()
        cur = await self._run(_RENEW, {"ttl": self.lease_s, "me": self.node_id})
        return _held(await cur.fetchall(), started, self.lease_s)

    async def release(self, home_id: str) -> None:
        """Give a home's lease up at once, so its next owner need not wait. The owner is cleared:
        a renewal already on its way must not extend it, and whoever takes it next (this process
        too) does so under a new epoch."""
        await self._run(
            "UPDATE home_leases SET owner = '', expires_at = now() WHERE home_id = %s AND owner = %s",
            (home_id, self.node_id),
        )

    async def owners(self) -> dict[str, tuple[str, str]]:
        """Every home with a live lease: home → (owner id, owner's address when it is a member)."""
        cur = await self._run(
            "SELECT l.home_id, l.owner, coalesce(m.address, '') FROM home_leases l "
            "LEFT JOIN cluster_members m ON m.node_id = l.owner WHERE l.expires_at > now()"
        )
        return {str(h): (str(o), str(a)) for h, o, a in await cur.fetchall()}

    async def lease_rows(self) -> dict[str, tuple[str, bool, bool]]:
        """Every home with a lease row: home → (owner id, whether the lease is live, whether the
        owner's heartbeat is younger than a lease). An expired row names the process that stopped
        renewing it ('' when released); one whose heartbeat is fresh is alive but late (its
        renewal waited on row locks), not dead."""
        cur = await self._run(
            "SELECT l.home_id, l.owner, l.expires_at > now(), "
            "  coalesce(m.heartbeat_at > now() - make_interval(secs => %s), false) "
            "FROM home_leases l LEFT JOIN cluster_members m ON m.node_id = l.owner",
            (self.lease_s,),
        )
        return {str(h): (str(o), bool(live), bool(beating)) for h, o, live, beating in await cur.fetchall()}

    async def home_records(self, home_ids: Sequence[str]) -> dict[str, tuple[str, str | None, str | None]]:
        """`home_record` of many homes in one query."""
        cur = await self._run(
            "SELECT home_id, home_text, mqtt_username, mqtt_password FROM cluster_homes "
            "WHERE home_id = ANY(%s)",
            (list(home_ids),),
        )
        return {
            str(h): (str(t), None if u is None else str(u), None if p is None else str(p))
            for h, t, u, p in await cur.fetchall()
        }

    async def whereabouts(self, home_ids: Sequence[str]) -> dict[str, Whereabouts]:
        """`owner_of` and whether `home_record` has a row, of many homes in one query."""
        cur = await self._run(
            "SELECT q.home, l.owner, coalesce(m.address, ''), "
            "  EXISTS (SELECT 1 FROM cluster_homes c WHERE c.home_id = q.home) "
            "FROM unnest(%s::text[]) AS q(home) "
            "LEFT JOIN home_leases l ON l.home_id = q.home AND l.expires_at > now() "
            "LEFT JOIN cluster_members m ON m.node_id = l.owner",
            (list(home_ids),),
        )
        return {
            str(h): Whereabouts(None if o is None else (str(o), str(a)), bool(registered))
            for h, o, a, registered in await cur.fetchall()
        }

    async def owner_of(self, home_id: str) -> tuple[str, str] | None:
        """(owner id, owner's address) of a home with a live lease, or None."""
        cur = await self._run(
            "SELECT l.owner, coalesce(m.address, '') FROM home_leases l "
            "LEFT JOIN cluster_members m ON m.node_id = l.owner "
            "WHERE l.home_id = %s AND l.expires_at > now()",
            (home_id,),
        )
        row = await cur.fetchone()
        return None if row is None else (str(row[0]), str(row[1]))


async def register_home(
    url: str,
    home_id: str,
    home_text: str,
    *,
    mqtt_username: str | None = None,
    mqtt_password: str | None = None,
) -> None:
    """Add a home to the service (or update its file and MQTT login)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await ensure_schema(conn)
        await conn.execute(
            "INSERT INTO cluster_homes (home_id, home_text, mqtt_username, mqtt_password) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (home_id) DO UPDATE SET home_text = EXCLUDED.home_text, "
            "mqtt_username = EXCLUDED.mqtt_username, mqtt_password = EXCLUDED.mqtt_password",
            (home_id, home_text, mqtt_username, mqtt_password),
        )


async def home_registered(url: str, home_id: str) -> bool:
    """Whether `home_id` is one of the service's homes."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await ensure_schema(conn)
        cur = await conn.execute("SELECT 1 FROM cluster_homes WHERE home_id = %s", (home_id,))
        return await cur.fetchone() is not None
