"""A write fence for stores on a shared PostgreSQL: called inside a write's transaction, before the
write, it raises `StorageFailed` when this process may no longer write the home (another process
took its lease: cluster/pgshared.py `lease_fence`). A lone hub's stores have none."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # psycopg is the `postgres` extra
    import psycopg

Fence = Callable[["psycopg.Connection[Any]"], None]
