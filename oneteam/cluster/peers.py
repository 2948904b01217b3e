"""Whose address a home sees when another process of the cluster carried the request to it.

A carried request reaches the owner from the carrying process's socket, so the sign-in slowing per
address (api/signin_limit.py) would count every caller of that process as one, and lock them all
out together. The carrier therefore appends its caller's address to `X-Forwarded-For` and adds
the cluster's peer key; the owner believes the header's last address only when the key is right.

Why a shared key rather than the members' addresses in `cluster_members`: an address there is
where to reach a process (a name, a load balancer, a NAT), not where its requests come from, and
on one machine every process and every local caller share 127.0.0.1, so an address rule would
trust any local program's header. The key lives in the cluster's own database (created once by
the first process; every process already holds that database's credentials), so nothing more is
to be copied between machines, and an outside caller's `X-Forwarded-For` is never believed.
"""

from __future__ import annotations

import hmac
import secrets

import psycopg
from starlette.types import Scope

PEER_KEY_HEADER = b"x-oneteam-peer-key"
"""Carries the cluster's key on a carried request; never passed on to a home's app."""
FORWARDED_FOR = b"x-forwarded-for"

_SCHEMA_LOCK = 72_022
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cluster_peer_key (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    key text NOT NULL
)
"""


async def cluster_peer_key(url: str) -> str:
    """The cluster's peer key, made by the first process that asks (an advisory lock serialises
    processes starting together)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            await conn.execute(_SCHEMA)
            await conn.execute(
                "INSERT INTO cluster_peer_key (key) VALUES (%s) ON CONFLICT DO NOTHING",
                (secrets.token_urlsafe(32),),
            )
        cursor = await conn.execute("SELECT key FROM cluster_peer_key")
        row = await cursor.fetchone()
    if row is None:  # the row was inserted above; a missing one is a damaged table
        raise RuntimeError("cluster_peer_key holds no key")
    return str(row[0])


def carried_headers(scope: Scope, key: str | None) -> list[tuple[bytes, bytes]]:
    """What a carrier adds to the request it carries: the caller's address appended to
    `X-Forwarded-For` (what the caller sent stays in front, never believed), and the key."""
    sent = [v for k, v in scope["headers"] if k.lower() == FORWARDED_FOR]
    client = scope.get("client")
    address = (client[0] if client else "unknown").encode("latin-1")
    chain = b", ".join([*sent, address])
    added = [(FORWARDED_FOR, chain)]
    if key is not None:
        added.append((PEER_KEY_HEADER, key.encode()))
    return added


def as_seen_by_owner(scope: Scope, key: str | None) -> Scope:
    """The scope a home's app gets: carried by a peer (the right key), its client is the last
    `X-Forwarded-For` address, the one the peer appended; otherwise the socket's address stays.
    The key header is removed in both cases."""
    headers = scope["headers"]
    given = next((v for k, v in headers if k.lower() == PEER_KEY_HEADER), None)
    inner = dict(scope)
    if given is None:
        return inner
    inner["headers"] = [(k, v) for k, v in headers if k.lower() != PEER_KEY_HEADER]
    if key is None or not hmac.compare_digest(given, key.encode()):
        return inner
    chain = b",".join(v for k, v in headers if k.lower() == FORWARDED_FOR)
    last = chain.rsplit(b",", 1)[-1].strip().decode("latin-1")
    if last:
        inner["client"] = (last, 0)
    return inner
