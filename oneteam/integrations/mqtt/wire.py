"""MQTT 3.1.1 on the wire, as the embedded broker needs it: packet types, CONNACK codes, the
remaining-length encoding, length-prefixed strings, a bounds-checked reader and topic filters."""

from __future__ import annotations

import struct

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14
ACCEPTED, BAD_PROTOCOL, BAD_CREDENTIALS, NOT_AUTHORIZED = 0, 1, 4, 5


class ProtocolViolation(ValueError):
    """A client sent something that is not MQTT 3.1.1; the broker closes that connection."""


def encode_length(length: int) -> bytes:
    """The variable-length 'remaining length' of a fixed header."""
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | 0x80 if length else byte)
        if not length:
            return bytes(out)


def string(text: bytes) -> bytes:
    """A UTF-8 string field: two bytes of length, then the bytes."""
    return struct.pack("!H", len(text)) + text


def packet(kind: int, flags: int, body: bytes) -> bytes:
    """A whole control packet: fixed header, remaining length, body."""
    return bytes([kind << 4 | flags]) + encode_length(len(body)) + body


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT filter matching: `+` is one level, `#` the rest; `$` topics only match `$` filters."""
    if topic.startswith("$") and not topic_filter.startswith("$"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels) or (level != "+" and level != topic_levels[index]):
            return False
    return len(filter_levels) == len(topic_levels)


def valid_filter(topic_filter: str) -> bool:
    """`+` only as a whole level, `#` only as the whole last level."""
    levels = topic_filter.split("/")
    return bool(topic_filter) and all(
        ("+" not in level or level == "+") and ("#" not in level or (level == "#" and i == len(levels) - 1))
        for i, level in enumerate(levels)
    )


class Reader:
    """Reads a packet's fields; running past its end is a ProtocolViolation."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def done(self) -> bool:
        return self.position >= len(self.data)

    def raw(self, count: int) -> bytes:
        if self.position + count > len(self.data):
            raise ProtocolViolation("packet ends early")
        chunk = self.data[self.position : self.position + count]
        self.position += count
        return chunk

    def byte(self) -> int:
        return self.raw(1)[0]

    def u16(self) -> int:
        return int(struct.unpack("!H", self.raw(2))[0])

    def string(self) -> bytes:
        return self.raw(self.u16())
