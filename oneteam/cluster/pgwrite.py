"""A group-commit batch of many homes as ONE statement: the lease fence, the states and the events.

The writer used to make five round trips per batch (BEGIN, the fence's FOR KEY SHARE read, states,
events, COMMIT), each a wake-up of the process's loop, which on a loaded machine cost more than the
work. Here the batch goes as one data-modifying statement on an autocommit connection: a single
statement is its own transaction, so it is still all or nothing, and acknowledged = committed.

Fencing is kept: the lease rows of the batch's fenced homes are locked FOR KEY SHARE in the same
statement (held until it commits, so a takeover's FOR UPDATE waits for it and the new owner reads
what it wrote; renewals, no-key updates, do not wait), and only the homes whose epoch is still
ours are written; the others come back refused. A row can only pass the filter once its home's
lease row has been read, and locked, by the fence.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg

from oneteam.model import Event, State

_LOGGER = logging.getLogger(__name__)

LEASES = "public.home_leases"
"""Where the leases are (cluster/lease.py): the epoch a fenced write is checked against."""

_ROWS = """
states_in AS (
  SELECT * FROM jsonb_to_recordset(%(states)s::jsonb) AS s(
    home_id text, device_id text, attributes jsonb, is_available boolean, updated_at double precision)
), events_in AS (
  SELECT * FROM jsonb_to_recordset(%(events)s::jsonb) AS e(
    home_id text, id bigint, kind text, device_id text, source text, data jsonb, at double precision)
), put_states AS (
  INSERT INTO states (home_id, device_id, attributes, is_available, updated_at)
  SELECT home_id, device_id, attributes, is_available, updated_at FROM states_in {keep}
  ON CONFLICT (home_id, device_id) DO UPDATE SET attributes = EXCLUDED.attributes,
    is_available = EXCLUDED.is_available, updated_at = EXCLUDED.updated_at
), put_events AS (
  INSERT INTO events (home_id, id, kind, device_id, source, data, at)
  SELECT home_id, id, kind, device_id, source, data, at FROM events_in {keep}
  ON CONFLICT (home_id, id) DO NOTHING
)"""

WRITE = "WITH " + _ROWS.format(keep="") + " SELECT NULL::text, NULL::bigint WHERE false"
"""The batch when none of its homes is fenced (no lease table needed)."""

FENCED_WRITE = (
    f"""WITH wanted AS (
  SELECT * FROM jsonb_to_recordset(%(fenced)s::jsonb) AS w(home_id text, epoch bigint)
), fence AS (
  -- Locked in home order, as everyone who locks several lease rows should, or a deadlock
  -- aborts one of the two (then the batch fails; nothing is acknowledged wrongly).
  SELECT home_id, epoch FROM {LEASES} WHERE home_id IN (SELECT home_id FROM wanted)
  ORDER BY home_id FOR KEY SHARE
), refused AS (
  SELECT w.home_id, f.epoch FROM wanted w LEFT JOIN fence f USING (home_id)
  WHERE f.epoch IS DISTINCT FROM w.epoch
),"""
    + _ROWS.format(keep="WHERE home_id NOT IN (SELECT home_id FROM refused)")
    + " SELECT home_id, epoch FROM refused"
)
"""The batch with its fenced homes' epochs checked; answers the refused homes and their epoch."""


def batch_parameters(
    states: list[tuple[str, State]], events: list[tuple[str, Event]], epochs: dict[str, int]
) -> tuple[str, dict[str, Any]]:
    """The statement and its parameters for a batch; `epochs` holds the fenced homes' epochs.

    The rows and the fenced homes go as one JSON document each (one `json.dumps`, not an adapter
    per row or array element).
    JSON has no NaN: a state that holds one makes the database reject the batch, as before."""
    params: dict[str, Any] = {
        "states": json.dumps(
            [
                {
                    "home_id": home,
                    "device_id": s.device_id,
                    "attributes": dict(s.attributes),
                    "is_available": s.is_available,
                    "updated_at": s.updated_at,
                }
                for home, s in states
            ]
        ),
        # Event data as plain JSON values (timestamps and enums as text), as the SQLite store keeps it.
        "events": json.dumps(
            [
                {
                    "home_id": home,
                    "id": e.id,
                    "kind": e.kind.value,
                    "device_id": e.device_id,
                    "source": e.source,
                    "data": dict(e.data),
                    "at": e.at,
                }
                for home, e in events
            ],
            default=str,
        ),
    }
    fenced = sorted(({home for home, _ in states} | {home for home, _ in events}) & epochs.keys())
    if not fenced:
        return WRITE, params
    # JSON too: psycopg's list dumper, choosing an array's type element by element, was a tenth of
    # a busy process's samples.
    params["fenced"] = json.dumps([{"home_id": home, "epoch": epochs[home]} for home in fenced])
    return FENCED_WRITE, params


async def write_batch(
    connection: psycopg.AsyncConnection[Any],
    states: list[tuple[str, State]],
    events: list[tuple[str, Event]],
    epochs: dict[str, int],
) -> dict[str, str]:
    """Commit the batch in one statement on an autocommit `connection`; the homes refused (their
    lease moved to another epoch: another process took them) → why. Their rows are not written."""
    sql, params = batch_parameters(states, events, epochs)
    cursor = await connection.execute(sql, params)
    refused: dict[str, str] = {}
    for home, epoch in await cursor.fetchall():
        refused[str(home)] = f"home {home} is no longer served here (lease epoch {epoch})"
        _LOGGER.warning("writes refused: %s", refused[str(home)])
    return refused
