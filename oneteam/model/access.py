"""Who is acting, through which door, and what they may touch.

Every door (REST, WebSocket, voice, conversation, MCP, partner, MQTT, routines) builds one `Grant`
and hands it to `Hub.dispatch`, which checks it before a command is validated or carried out. The
activity log's `source` is derived from the grant, never from anything the caller wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from oneteam.model.device import Device
from oneteam.model.errors import OneteamError


class Door(StrEnum):
    """The way a request came into the hub."""

    REST = "rest"
    WS = "ws"
    VOICE = "voice"
    CONVERSATION = "conversation"
    MCP = "mcp"
    PARTNER = "partner"
    MQTT = "mqtt"
    ROUTINE = "routine"
    SCHEDULE = "schedule"
    CLI = "cli"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """The caller's identity and limits; `None` in a limit means no limit of that kind."""

    principal: str
    """`token:<token name>`, `partner:<client id>`, `routine:<id>`, ..."""
    door: Door
    commands: frozenset[str] | None = None
    devices: frozenset[str] | None = None
    rooms: frozenset[str] | None = None
    token_id: int | None = None
    """The stored token the caller showed, if any: what a schedule booked under this grant checks
    again when it falls due (a revoked token's bookings do not run)."""

    def permits(self, device: Device, command: str) -> bool:
        """Whether this caller may send `command` to `device`."""
        if self.commands is not None and command not in self.commands:
            return False
        if self.devices is not None and device.id not in self.devices:
            return False
        return self.rooms is None or (device.room is not None and device.room in self.rooms)

    def shows(self, device: Device) -> bool:
        """Whether this caller is shown `device` at all (its device and room limits; commands
        aside): what every door that lists, describes or answers about devices checks."""
        if self.devices is not None and device.id not in self.devices:
            return False
        return self.rooms is None or (device.room is not None and device.room in self.rooms)

    def refuse(self, device: Device, command: str) -> None:
        """Raise PermissionDenied unless `permits(device, command)`."""
        if not self.permits(device, command):
            raise PermissionDenied(self, device, command)

    def narrowed(
        self,
        *,
        commands: frozenset[str] | None = None,
        devices: frozenset[str] | None = None,
        rooms: frozenset[str] | None = None,
    ) -> Grant:
        """This grant with further limits (intersected with any it already has)."""
        return Grant(
            principal=self.principal,
            door=self.door,
            commands=_both(self.commands, commands),
            devices=_both(self.devices, devices),
            rooms=_both(self.rooms, rooms),
            token_id=self.token_id,
        )

    @property
    def source(self) -> str:
        """What the activity log shows as who acted: `<door>:<principal>`, or the principal alone
        when it already names the door (`partner:<client id>`, `routine:<id>`), never doubled."""
        if self.principal.startswith(f"{self.door}:"):
            return self.principal
        return f"{self.door}:{self.principal}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (kept with a schedule, to check again when it falls due)."""
        return {
            "principal": self.principal,
            "door": str(self.door),
            "commands": _listed(self.commands),
            "devices": _listed(self.devices),
            "rooms": _listed(self.rooms),
            "token_id": self.token_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grant:
        """The grant `as_dict` wrote."""
        token_id = data.get("token_id")
        return cls(
            principal=str(data["principal"]),
            door=Door(str(data["door"])),
            commands=_set(data.get("commands")),
            devices=_set(data.get("devices")),
            rooms=_set(data.get("rooms")),
            token_id=None if token_id is None else int(token_id),
        )


def _listed(limit: frozenset[str] | None) -> list[str] | None:
    return None if limit is None else sorted(limit)


def _set(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(str(item) for item in value)


def _both(first: frozenset[str] | None, second: frozenset[str] | None) -> frozenset[str] | None:
    if first is None:
        return second
    return first if second is None else first & second


class PermissionDenied(OneteamError):
    """The caller's grant does not cover this command on this device."""

    key = "error.forbidden"

    def __init__(self, grant: Grant, device: Device, command: str) -> None:
        super().__init__(
            f"{grant.principal} through {grant.door} may not send {command!r} to {device.id}",
            device=device.name_in("ko"),
            device_en=device.name_in("en"),
            command=command,
            door=str(grant.door),
        )
        self.device_id = device.id
