"""Homes, rooms and devices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from oneteam.model.errors import DeviceNotFound
from oneteam.model.types import DeviceType, TypeSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class Room:
    """A room of the home."""

    id: str
    names: tuple[str, ...] = ()
    """What people call the room, in any language (`거실`, `living room`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmation:
    """A second factor a partner cloud must bring before a command runs (door locks, gas valves).

    `ack`: the person confirms ("are you sure?"); `pin`: the person says the PIN. `commands` limits
    it to some commands (empty: every command)."""

    kind: Literal["ack", "pin"]
    pin: str = field(default="", repr=False)
    commands: frozenset[str] = frozenset()
    ack_commands: frozenset[str] = frozenset()
    """Commands that need only an acknowledgement besides `commands` (locking a door whose
    unlocking needs the PIN)."""

    def covers(self, command: str) -> bool:
        """Whether `command` needs this confirmation."""
        return not self.commands or command in self.commands

    def kind_for(self, command: str) -> Literal["ack", "pin"] | None:
        """What `command` needs: the PIN, an acknowledgement, or nothing."""
        if self.covers(command):
            return self.kind
        return "ack" if command in self.ack_commands else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Zone:
    """A part of the home a robot cleaner can be sent to (from the home file)."""

    id: str
    names: tuple[str, ...] = ()
    """What people call it (`주방`, `kitchen`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """One appliance, light or sensor, whichever ecosystem it lives in."""

    id: str
    type: DeviceType
    room: str | None
    spec: TypeSpec
    """What this device can do; for vendor appliances this comes from the appliance's profile."""
    names: tuple[str, ...] = ()
    """What people call it (`거실 에어컨`, `living room AC`)."""
    integration: str = "virtual"
    """The adapter that owns the device."""
    manufacturer: str = ""
    model: str = ""
    confirm: Confirmation | None = None
    """Two-factor confirmation asked of partner clouds before commands (from the home file)."""
    zones: tuple[Zone, ...] = ()
    """Named areas a robot cleaner can clean alone (`start` with the zone id as its value)."""

    def zone_ids(self) -> tuple[str, ...]:
        """The ids of `zones`, in the home file's order."""
        return tuple(zone.id for zone in self.zones)

    @property
    def display_name(self) -> str:
        """The first name people use, or the id."""
        return self.names[0] if self.names else self.id

    def name_in(self, language: str) -> str:
        """The first name in `language` (`en`: written in Latin letters only; `ko`: any other), or the id."""
        for name in self.names:
            if name.isascii() == (language == "en"):
                return name
        return self.display_name if language != "en" else self.id


@dataclass(frozen=True, slots=True, kw_only=True)
class Speaker:
    """A voice satellite or speaker: it stands in a room and speaks for one household member."""

    id: str
    """The name of the member's voice token it uses (`oneteam token create --speaker <id>`)."""
    room: str
    member: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Home:
    """A home: rooms, devices and the capabilities of each device type."""

    id: str = "home"
    name: str = ""
    rooms: dict[str, Room] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    types: dict[DeviceType, TypeSpec] = field(default_factory=dict)
    fan_speed_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Canonical fan speed → what people call it (from the home file)."""
    mode_names: dict[DeviceType, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    """Per type, canonical mode → what people call it (from the home file)."""
    compartment_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Canonical compartment → what people call it (from the home file)."""
    speakers: dict[str, Speaker] = field(default_factory=dict)
    """Voice satellites by id: their room and the member they act as (home file `speakers:`)."""

    def device(self, device_id: str) -> Device:
        """The device with this id, or DeviceNotFound."""
        try:
            return self.devices[device_id]
        except KeyError:
            raise DeviceNotFound(device_id) from None

    def in_room(self, room_id: str) -> list[Device]:
        """The devices of one room."""
        return [d for d in self.devices.values() if d.room == room_id]
