"""Hearing token changes from PostgreSQL: a connection that only LISTENs, read without waiting, so
a token check is remembered until a NOTIFY says a token or member changed (hub/postgres_store.py,
cluster/pgshared.py count what it hears as their `token_stamp`)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # psycopg is the `postgres` extra: imported where a connection is made
    from psycopg import pq

_LOGGER = logging.getLogger(__name__)


class TokenListener:
    """A connection that only LISTENs on `channel`, read without waiting (a few microseconds) by
    whoever asks what it heard; once lost, it hears nothing (every token check asks the database)."""

    def __init__(self, url: str, channel: str) -> None:
        self.url = url
        self.channel = channel
        self._connection: pq.abc.PGconn | None = None

    async def open(self) -> None:
        self._connection = await asyncio.to_thread(_listen, self.url, self.channel)

    @property
    def is_open(self) -> bool:
        """Whether a listening connection is held (a lost one is noticed at the next `heard`)."""
        return self._connection is not None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.finish()
            self._connection = None

    def heard(self) -> list[str] | None:
        """The payloads that arrived since the last call; None when there is no listening connection."""
        if self._connection is None:
            return None
        payloads = _arrived(self._connection)
        if payloads is None:
            self._connection = None
        return payloads


def _listen(url: str, channel: str) -> pq.abc.PGconn | None:
    """A connection that only LISTENs on `channel` (blocking: run it in a thread), or None (logged)
    when it cannot: then every token check asks the database."""
    from psycopg import pq

    listener = pq.PGconn.connect(url.encode())
    if listener.status == pq.ConnStatus.OK:
        result = listener.exec_(f"LISTEN {channel}".encode())
        if result.status == pq.ExecStatus.COMMAND_OK:
            return listener
    _LOGGER.warning(
        "cannot listen for token changes (%s): every token check asks the database",
        listener.get_error_message(),
    )
    listener.finish()
    return None


def _arrived(listener: pq.abc.PGconn) -> list[str] | None:
    """The payloads of the notifications that reached `listener`, read without waiting; None (and
    the connection closed) when it is lost."""
    import psycopg
    from psycopg import pq

    payloads: list[str] = []
    try:
        listener.consume_input()
        while (notify := listener.notifies()) is not None:
            payloads.append(notify.extra.decode())
    except psycopg.Error:
        _LOGGER.warning("lost the token-change listener: every token check now asks the database")
        listener.finish()
        return None
    if listener.status != pq.ConnStatus.OK:
        return None
    return payloads
