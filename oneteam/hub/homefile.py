"""Homes as YAML files (the format of shared/eval/home.yaml), validated with line numbers.

A file is parsed into YAML nodes first so every problem can name its line (homefile_reading.py); a
file with any problem is rejected whole (`HomeFileError` lists them all) and nothing of it is used.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from oneteam.hub.homefile_reading import (
    MAX_HOME_DEPTH,
    HomeFileError,
    NodeReader,
    Problem,
    check_depth,
    read_home_text,
)
from oneteam.model import Device, DeviceType, Home, Room, TypeSpec, builtin_type_specs
from oneteam.model.device import Confirmation, Speaker, Zone

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
_KNOWN_INTEGRATIONS = {"virtual", "mqtt", "thinq"}
_AUTOMATION_SECTIONS = ("routines", "scenes", "location")
"""Read by the automation room (oneteam/automation/homefile.py), which checks them itself."""
_HOUSEHOLD_SECTIONS = ("speakers",)
"""Voice satellites: their room and the member they speak for (model.device.Speaker)."""


def load_home(path: str | Path) -> Home:
    """Read and validate a home file; raise HomeFileError with every problem."""
    return parse_home(read_home_text(path), str(path))


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
"""libyaml's parser when installed: ~15x faster than the pure-Python one, and a cluster process
parses the file of every home it takes over (hundreds at once after a failover)."""


def _compose(text: str, source: str) -> Node | None:
    """The file's node tree; a file libyaml refuses is read again by the pure-Python parser, whose
    problem texts (and line marks) are the ones HomeFileError reports."""
    if _FAST_LOADER is not None:
        try:
            check_depth(text, source, _FAST_LOADER)
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    check_depth(text, source)
    return yaml.compose(text, Loader=yaml.SafeLoader)


def parse_home(text: str, source: str = "<home>") -> Home:
    """Validate a home file's text; raise HomeFileError with every problem."""
    try:
        root = _compose(text, source)
    except RecursionError as exc:  # check_depth should have caught it; never crash on a file
        raise HomeFileError(source, [Problem(0, "too_deep", {"limit": str(MAX_HOME_DEPTH)})]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise HomeFileError(
            source, [Problem(line, "bad_yaml", {"reason": str(getattr(exc, "problem", exc))})]
        ) from exc
    if root is None:
        raise HomeFileError(source, [Problem(1, "empty")])
    reader = NodeReader()
    top = reader.mapping(root, "the home file")
    for key, (key_node, _) in top.items():
        if key not in {
            "id",
            "name",
            "rooms",
            "devices",
            "types",
            "fan_speeds",
            "speakers",
            *_AUTOMATION_SECTIONS,
        }:
            reader.fault(key_node, "unknown_section", key=key)
    types, mode_names, compartment_names = _types(reader, top.get("types"))
    fan_speed_names = {
        key: reader.texts(value, f"fan speed {key}")
        for key, (_, value) in _section(reader, top, "fan_speeds").items()
    }
    rooms = _rooms(reader, top.get("rooms"))
    devices = _devices(reader, top.get("devices"), rooms, types)
    speakers = _speakers(reader, top, rooms)
    if reader.problems:
        raise HomeFileError(source, sorted(reader.problems, key=lambda p: p.line))
    home_id = reader.text(top["id"][1], "id") if "id" in top else "home"
    home_name = reader.text(top["name"][1], "name") if "name" in top else ""
    return Home(
        id=home_id or "home",
        name=home_name or "",
        rooms=rooms,
        devices=devices,
        types=types,
        fan_speed_names=fan_speed_names,
        mode_names=mode_names,
        compartment_names=compartment_names,
        speakers=speakers,
    )


def _section(
    reader: NodeReader, top: dict[str, tuple[Node, Node]], name: str
) -> dict[str, tuple[Node, Node]]:
    if name not in top:
        return {}
    return reader.mapping(top[name][1], name)


def _rooms(reader: NodeReader, entry: tuple[Node, Node] | None) -> dict[str, Room]:
    if entry is None:
        return {}
    rooms: dict[str, Room] = {}
    for room_id, (key_node, value) in reader.mapping(entry[1], "rooms").items():
        if not _ID.match(room_id):
            reader.fault(key_node, "bad_room_id", id=room_id)
            continue
        fields = reader.mapping(value, f"room {room_id}")
        names = reader.texts(fields["names"][1], f"names of room {room_id}") if "names" in fields else ()
        rooms[room_id] = Room(id=room_id, names=names)
    return rooms


def _speakers(
    reader: NodeReader, top: dict[str, tuple[Node, Node]], rooms: dict[str, Room]
) -> dict[str, Speaker]:
    """`speakers: {kids_speaker: {room: small_room, member: minji}}`: a satellite's room and member
    (the member is checked when the speaker's token is made, as members live in the database)."""
    speakers: dict[str, Speaker] = {}
    for speaker_id, (key_node, value) in _section(reader, top, "speakers").items():
        if not _ID.match(speaker_id):
            reader.fault(key_node, "bad_speaker_id", id=speaker_id)
            continue
        fields = reader.mapping(value, f"speaker {speaker_id}")
        for key, (field_node, _) in fields.items():
            if key not in {"room", "member"}:
                reader.fault(field_node, "unknown_speaker_field", key=key)
        if "room" not in fields or "member" not in fields:
            reader.fault(key_node, "speaker_missing", id=speaker_id)
            continue
        room = reader.text(fields["room"][1], f"room of speaker {speaker_id}") or ""
        member = reader.text(fields["member"][1], f"member of speaker {speaker_id}") or ""
        if room not in rooms:
            reader.fault(fields["room"][1], "unknown_speaker_room", id=speaker_id, room=room)
            continue
        speakers[speaker_id] = Speaker(id=speaker_id, room=room, member=member)
    return speakers


def _devices(
    reader: NodeReader,
    entry: tuple[Node, Node] | None,
    rooms: dict[str, Room],
    types: dict[DeviceType, TypeSpec],
) -> dict[str, Device]:
    if entry is None:
        return {}
    devices: dict[str, Device] = {}
    seen: set[str] = set()
    for node in reader.sequence(entry[1], "devices"):
        # Duplicates are found on the raw ids, so a faulty first entry still reveals a second one.
        raw_id = _raw_id(node)
        if raw_id is not None and raw_id in seen:
            reader.fault(node, "duplicate_device", id=raw_id)
            continue
        if raw_id is not None:
            seen.add(raw_id)
        device = _device(reader, node, rooms, types)
        if device is not None:
            devices[device.id] = device
    return devices


def _raw_id(node: Node) -> str | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if key_node.value == "id" and isinstance(value_node, ScalarNode):
            return str(value_node.value)
    return None


def _device(
    reader: NodeReader, node: Node, rooms: dict[str, Room], types: dict[DeviceType, TypeSpec]
) -> Device | None:
    fields = reader.mapping(node, "a device")
    for key, (key_node, _) in fields.items():
        if key not in {
            "id",
            "type",
            "room",
            "names",
            "integration",
            "manufacturer",
            "model",
            "zones",
            *_CONFIRM_FIELDS,
        }:
            reader.fault(key_node, "unknown_device_field", key=key)
    missing = [name for name in ("id", "type") if name not in fields]
    if missing:
        reader.fault(node, "device_missing", fields=", ".join(missing))
        return None
    device_id = reader.text(fields["id"][1], "device id")
    type_name = reader.text(fields["type"][1], "device type")
    if device_id is None or type_name is None:
        return None
    ok = True
    if not _ID.match(device_id):
        reader.fault(fields["id"][1], "bad_device_id", id=device_id)
        ok = False
    try:
        device_type = DeviceType(type_name)
    except ValueError:
        allowed = ", ".join(t.value for t in DeviceType)
        reader.fault(fields["type"][1], "unknown_type", type=type_name, allowed=allowed)
        return None
    room = reader.text(fields["room"][1], "room") if "room" in fields else None
    if room is not None and room not in rooms:
        reader.fault(fields["room"][1], "unknown_room", id=device_id, room=room)
        ok = False
    integration = (
        reader.text(fields["integration"][1], "integration") if "integration" in fields else "virtual"
    )
    if integration not in _KNOWN_INTEGRATIONS:
        reader.fault(fields["integration"][1], "unknown_integration", name=integration)
        ok = False
    names = reader.texts(fields["names"][1], "device names") if "names" in fields else ()
    extra = {k: reader.text(fields[k][1], k) or "" for k in ("manufacturer", "model") if k in fields}
    confirm = _confirmation(reader, node, fields, types[device_type])
    zones = _zones(reader, fields, device_id, device_type)
    if not ok or confirm is False or zones is None:
        return None
    return Device(
        id=device_id,
        type=device_type,
        room=room,
        spec=types[device_type],
        names=names,
        integration=integration or "virtual",
        confirm=confirm or None,
        zones=zones,
        **extra,
    )


def _zones(
    reader: NodeReader, fields: dict[str, tuple[Node, Node]], device_id: str, device_type: DeviceType
) -> tuple[Zone, ...] | None:
    """A robot cleaner's `zones: {kitchen: [주방, kitchen], ...}`; None after a fault."""
    if "zones" not in fields:
        return ()
    key_node, value = fields["zones"]
    if device_type is not DeviceType.ROBOT_CLEANER:
        reader.fault(key_node, "zones_not_robot", id=device_id, type=device_type.value)
        return None
    zones: list[Zone] = []
    ok = True
    for zone_id, (zone_key, names) in reader.mapping(value, "zones").items():
        if not _ID.match(zone_id):
            reader.fault(zone_key, "bad_zone_id", id=zone_id)
            ok = False
        zones.append(Zone(id=zone_id, names=reader.texts(names, f"names of zone {zone_id}")))
    return tuple(zones) if ok else None


_CONFIRM_FIELDS = ("confirm", "pin", "confirm_commands")
_PIN = re.compile(r"^[0-9]{4,12}$")


def _confirmation(
    reader: NodeReader, node: Node, fields: dict[str, tuple[Node, Node]], spec: TypeSpec
) -> Confirmation | Literal[False] | None:
    """`confirm: ack` or `confirm: pin` + `pin: "1234"`, optionally `confirm_commands: [...]`;
    None when not asked for, False after a fault."""
    faults = len(reader.problems)
    kind = reader.text(fields["confirm"][1], "confirm") if "confirm" in fields else None
    if kind is None:
        for key in ("pin", "confirm_commands"):
            if key in fields:
                reader.fault(fields[key][1], "confirm_missing", key=key)
    elif kind not in ("ack", "pin"):
        reader.fault(fields["confirm"][1], "bad_confirm", value=kind)
    pin = reader.text(fields["pin"][1], "pin") or "" if "pin" in fields else ""
    if kind == "pin" and not _PIN.match(pin):
        reader.fault(fields.get("pin", fields.get("confirm", (node, node)))[1], "bad_pin")
    elif kind == "ack" and "pin" in fields:
        reader.fault(fields["pin"][1], "confirm_missing", key="pin")
    commands = (
        reader.texts(fields["confirm_commands"][1], "confirm_commands")
        if "confirm_commands" in fields
        else ()
    )
    if unknown := [c for c in commands if c not in spec.commands]:
        reader.fault(
            fields["confirm_commands"][1],
            "unknown_names",
            what="confirm_commands",
            names=", ".join(unknown),
            allowed=", ".join(spec.commands),
        )
    if len(reader.problems) > faults:
        return False
    if kind is None:
        return None
    return Confirmation(kind="pin" if kind == "pin" else "ack", pin=pin, commands=frozenset(commands))


def _types(
    reader: NodeReader, entry: tuple[Node, Node] | None
) -> tuple[
    dict[DeviceType, TypeSpec], dict[DeviceType, dict[str, tuple[str, ...]]], dict[str, tuple[str, ...]]
]:
    specs = builtin_type_specs()
    mode_names: dict[DeviceType, dict[str, tuple[str, ...]]] = {}
    compartment_names: dict[str, tuple[str, ...]] = {}
    if entry is None:
        return specs, mode_names, compartment_names
    for type_name, (key_node, value) in reader.mapping(entry[1], "types").items():
        try:
            device_type = DeviceType(type_name)
        except ValueError:
            reader.fault(
                key_node, "unknown_type", type=type_name, allowed=", ".join(t.value for t in DeviceType)
            )
            continue
        spec, modes, compartments = _type(
            reader, specs[device_type], reader.mapping(value, f"type {type_name}")
        )
        specs[device_type] = spec
        if modes:
            mode_names[device_type] = modes
        compartment_names.update(compartments)
    return specs, mode_names, compartment_names


def _type(
    reader: NodeReader, spec: TypeSpec, fields: dict[str, tuple[Node, Node]]
) -> tuple[TypeSpec, dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Apply a home file's type section on top of the built-in spec."""
    known = builtin_type_specs()[spec.type]
    modes: dict[str, tuple[str, ...]] = {}
    compartment_names: dict[str, tuple[str, ...]] = {}
    changes: dict[str, object] = {}
    for key, (key_node, value) in fields.items():
        what = f"{key} of {spec.type.value}"
        if key in {"commands", "queries"}:
            names = reader.texts(value, what)
            allowed = known.commands if key == "commands" else known.queries
            unknown = [n for n in names if n not in allowed]
            if unknown:
                reader.fault(
                    value, "unknown_names", what=what, names=", ".join(unknown), allowed=", ".join(allowed)
                )
            changes[key] = names
        elif key == "modes":
            for mode, (_, aliases) in reader.mapping(value, what).items():
                modes[mode] = reader.texts(aliases, f"names of mode {mode}")
            changes["modes"] = tuple(modes)
        elif key == "temperature_range":
            if isinstance(value, MappingNode):
                ranges = {
                    name: r
                    for name, (_, node) in reader.mapping(value, what).items()
                    if (r := reader.range(node, f"{what}.{name}")) is not None
                }
                changes["compartments"] = ranges
            elif (single := reader.range(value, what)) is not None:
                changes["temperature_range"] = single
        elif key == "compartments":
            for name, (_, aliases) in reader.mapping(value, what).items():
                compartment_names[name] = reader.texts(aliases, f"names of compartment {name}")
        else:
            reader.fault(key_node, "unknown_type_field", key=key, type=spec.type.value)
    return spec.with_overrides(**changes), modes, compartment_names
