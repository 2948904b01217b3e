"""Who is acting, through which door, and what they may touch.

Every door (REST, WebSocket, voice, conversation, MCP, partner, MQTT, routines) builds one `Grant`
and hands it to `Hub.dispatch`, which checks it before a command is validated or carried out. The
activity log's `source` is derived from the grant, never from anything the caller wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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

    def permits(self, device: Device, command: str) -> bool:
        """Whether this caller may send `command` to `device`."""
        if self.commands is not None and command not in self.commands:
            return False
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
        )

    @property
    def source(self) -> str:
        """What the activity log shows as who acted: `<door>:<principal>`."""
        return f"{self.door}:{self.principal}"


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
