"""What the household changed about a device: its name, its room, whether it is hidden.

Kept in its own table beside the hub's (the SQLite file or the PostgreSQL database), keyed by
device id, and laid over the device each time an integration registers it, so a rename or a move
survives a restart and an MQTT device announcing itself again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from oneteam.hub.postgres_tables import Layout, PostgresRows, PostgresSide, Table
from oneteam.hub.sqlite_side import SqliteSide
from oneteam.hub.storage import Storage
from oneteam.model import Device

MAX_NAME = 80

_TABLE = """
CREATE TABLE IF NOT EXISTS device_overrides (
  device_id TEXT PRIMARY KEY, name TEXT, room TEXT, hidden {boolean} NOT NULL,
  removed {boolean} NOT NULL, updated_at {real} NOT NULL
);
"""
_COLUMNS = "device_id, name, room, hidden, removed, updated_at"
OVERRIDE_TABLES = (
    Table(
        "device_overrides",
        "device_id TEXT NOT NULL, name TEXT, room TEXT, hidden BOOLEAN NOT NULL, removed BOOLEAN NOT NULL,"
        " updated_at DOUBLE PRECISION NOT NULL",
        "device_id",
    ),
)
"""The table, for PostgreSQL layouts (hub/postgres_tables.py)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceOverride:
    """One device's changes; `None` keeps what the integration or home file says."""

    device_id: str
    name: str | None = None
    room: str | None = None
    hidden: bool = False
    removed: bool = False
    """A home-file device the household removed: hidden, with a note that it lives in the file."""
    updated_at: float = 0.0

    def over(self, device: Device) -> Device:
        """`device` as the household sees it: the new name first (names in the other script kept,
        so an English name still answers), the new room."""
        changed = device
        if self.name is not None:
            kept = tuple(n for n in device.names if n.isascii() != self.name.isascii())
            changed = replace(changed, names=(self.name, *kept))
        if self.room is not None:
            changed = replace(changed, room=self.room)
        return changed


def _row(row: tuple[Any, ...]) -> DeviceOverride:
    return DeviceOverride(
        device_id=row[0],
        name=row[1],
        room=row[2],
        hidden=bool(row[3]),
        removed=bool(row[4]),
        updated_at=float(row[5]),
    )


def _params(o: DeviceOverride) -> tuple[Any, ...]:
    return (o.device_id, o.name, o.room, o.hidden, o.removed, o.updated_at)


class OverrideStore(Protocol):
    """Where the overrides are kept."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self) -> list[DeviceOverride]: ...
    async def put(self, override: DeviceOverride) -> None: ...
    async def delete(self, device_id: str) -> None: ...


class SqliteOverrides(SqliteSide):
    """The table in the hub's SQLite file, on a connection of its own (one row per change)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _TABLE.format(boolean="INTEGER", real="REAL"), "device overrides store")

    async def load(self) -> list[DeviceOverride]:
        return [_row(r) for r in self._db().execute(f"SELECT {_COLUMNS} FROM device_overrides")]

    async def put(self, override: DeviceOverride) -> None:
        self._db().execute(
            f"INSERT OR REPLACE INTO device_overrides ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            _params(override),
        )

    async def delete(self, device_id: str) -> None:
        self._db().execute("DELETE FROM device_overrides WHERE device_id = ?", (device_id,))


class OverrideStatements:
    """The overrides' statements for one PostgreSQL layout (built once per layout)."""

    def __init__(self, layout: Layout) -> None:
        self.load = layout.read(f"SELECT {_COLUMNS} FROM device_overrides", "device_overrides")
        self.put = layout.insert("device_overrides", _COLUMNS, key="device_id")
        self.delete = f"DELETE FROM device_overrides WHERE {layout.where('device_id = %(device_id)s')}"


class PostgresOverrideTables(PostgresRows):
    """The overrides on PostgreSQL, in either layout (hub/postgres_tables.py)."""

    __slots__ = ()

    _sql: OverrideStatements

    async def load(self) -> list[DeviceOverride]:
        return [_row(r) for r in await self._rows(self._sql.load)]

    async def put(self, override: DeviceOverride) -> None:
        columns = [c.strip() for c in _COLUMNS.split(",")]
        await self._count(self._sql.put, **dict(zip(columns, _params(override), strict=True)))

    async def delete(self, device_id: str) -> None:
        await self._count(self._sql.delete, device_id=device_id)


ONE_HOME_OVERRIDES = OverrideStatements(Layout())


class PostgresOverrides(PostgresSide, PostgresOverrideTables):
    """The table in the hub's PostgreSQL database (needs the `postgres` extra)."""

    _sql = ONE_HOME_OVERRIDES

    def __init__(self, url: str) -> None:
        super().__init__(
            url, _TABLE.format(boolean="BOOLEAN", real="DOUBLE PRECISION"), "device overrides store"
        )


class MemoryOverrides:
    """For a storage with no file or database behind it (tests' in-memory hubs)."""

    def __init__(self) -> None:
        self._rows: dict[str, DeviceOverride] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def load(self) -> list[DeviceOverride]:
        return list(self._rows.values())

    async def put(self, override: DeviceOverride) -> None:
        self._rows[override.device_id] = override

    async def delete(self, device_id: str) -> None:
        self._rows.pop(device_id, None)


def overrides_for(storage: Storage) -> OverrideStore:
    """The overrides table in the same database as `storage` (a home's storage on tables shared by
    many homes names its own: `overrides_store`)."""
    own = getattr(storage, "overrides_store", None)
    if callable(own):
        store: OverrideStore = own()
        return store
    url = getattr(storage, "url", None)
    if isinstance(url, str) and url.startswith(("postgresql://", "postgres://")):
        return PostgresOverrides(url)
    path = getattr(storage, "path", None)
    if isinstance(path, Path) and str(path) != ":memory:":
        return SqliteOverrides(path)
    return MemoryOverrides()
