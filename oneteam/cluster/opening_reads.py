"""What opening a home reads, read for many homes at once as a process takes them (a survivor of a
killed process takes hundreds): a query per statement for all of them, the answers handed out once
to the storage opened under the lease epoch the home was taken with.

The homes' credentials and members are read the same way, with the token stamp as it was before
the read began: each home's first token check then costs no round trip on the shared pool (where
~185 homes' first checks queued for seconds), and a revocation that lands during or after the read
changes the stamp, so the check reads the database again (hub/household.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from oneteam.cluster.pgschema import PARTITIONS
from oneteam.hub.accounts_db import AccountStatements
from oneteam.hub.accounts_store import Credential, KnownCredentials, credential_of, member_of
from oneteam.hub.device_overrides import OverrideStatements
from oneteam.hub.postgres_tables import HubStatements, Layout

HOMES = HubStatements(Layout(PARTITIONS))
"""The hub's statements over the shared tables (the same whatever the partition count)."""
HOME_ACCOUNTS = AccountStatements(Layout(PARTITIONS))
HOME_OVERRIDES = OverrideStatements(Layout(PARTITIONS))
OPENING_READS = (
    HOMES.load_states,
    HOMES.last_event_id,
    HOMES.pending_schedules,
    HOMES.stored_home,
    HOME_OVERRIDES.load,
)
"""What a home's hub reads as it opens (hub/core.py `__aenter__`, host.py), by the storage's own
statements: the storage asks for each and gets the answer read with the others."""
_CREDENTIAL_READS = (HOME_ACCOUNTS.credentials, HOME_ACCOUNTS.members)


class OpeningReads:
    """Answers read for many homes at once, by (home, lease epoch), each handed out once."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, int], dict[str, list[tuple[Any, ...]]]] = {}
        self._stamps: dict[tuple[str, int], int] = {}
        """The token stamp of each home before its credentials were read (none: not read so)."""

    async def read(
        self,
        connection: psycopg.AsyncConnection[Any],
        epochs: Mapping[str, int],
        stamps: Mapping[str, int | None],
    ) -> None:
        """Read every home of `epochs` (checked ids, home → epoch) at once: seven round trips, not
        seven per home. `stamps` are the homes' token stamps taken before this began (a home whose
        stamp is None has its credentials read on use)."""
        homes = sorted(epochs)
        found: dict[str, dict[str, list[tuple[Any, ...]]]] = {h: {} for h in homes}
        for sql in OPENING_READS + _CREDENTIAL_READS:
            # The single-home statement run for each home by a lateral join, grouped back.
            bulk = (
                "SELECT h.home, q.* FROM unnest(%(homes)s::text[]) AS h(home) CROSS JOIN LATERAL ("
                + sql.replace("%(home)s", "h.home")
                + ") q"
            )
            cursor = await connection.execute(bulk, {"homes": homes})
            for home in homes:
                found[home][sql] = []
            for home, *row in await cursor.fetchall():
                found[str(home)][sql].append(tuple(row))
        for home in homes:
            # No prune of expired sessions here (the hub's open skips its own): a prune notifies,
            # which would empty the memory this read fills. An expired session is refused on use,
            # and the home's next sign-in prunes (hub/signin.py), which bounds what is left.
            found[home][HOME_ACCOUNTS.prune] = []
            key = (home, epochs[home])
            self._answers[key] = found[home]
            stamp = stamps.get(home)
            if stamp is not None:
                self._stamps[key] = stamp

    def take(self, home_id: str, epoch: int | None, sql: str) -> list[tuple[Any, ...]] | None:
        """The answer of `sql` for the home's storage at `epoch` (once), or None."""
        if epoch is None:
            return None
        answers = self._answers.get((home_id, epoch))
        return None if answers is None else answers.pop(sql, None)

    def take_credentials(self, home_id: str, epoch: int | None) -> KnownCredentials | None:
        """The home's credentials and members at `epoch` with the stamp they hold under (once)."""
        if epoch is None:
            return None
        stamp = self._stamps.pop((home_id, epoch), None)
        credentials = self.take(home_id, epoch, HOME_ACCOUNTS.credentials)
        members = self.take(home_id, epoch, HOME_ACCOUNTS.members)
        if stamp is None or credentials is None or members is None:
            return None
        known: dict[str, Credential] = {}
        for token_hash, *row in credentials:
            known.setdefault(str(token_hash), credential_of(tuple(row)))  # as `credential`: the first
        return KnownCredentials(stamp=stamp, credentials=known, members=[member_of(r) for r in members])

    def drop(self, home_id: str) -> None:
        """Forget a home's answers not used (its open is over, or failed)."""
        for key in [k for k in self._answers if k[0] == home_id]:
            del self._answers[key]
        for key in [k for k in self._stamps if k[0] == home_id]:
            del self._stamps[key]
