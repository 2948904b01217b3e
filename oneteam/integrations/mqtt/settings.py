"""Where the MQTT client connects and how: broker settings (from an `mqtt://` URL), the will it
leaves, and the error when the broker cannot be used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from oneteam.model import OneteamError


class BrokerError(OneteamError):
    """The broker cannot be used: a bad URL, refused credentials, or unreachable."""

    key = "error.mqtt_broker"

    def __init__(self, message: str) -> None:
        super().__init__(message, reason=message)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerSettings:
    """Where and how to reach the broker."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    """Encrypt the connection (`mqtts://`); the system's CAs verify the broker unless `ca_file` is set."""
    ca_file: Path | None = None
    cert_file: Path | None = None
    """Client certificate, for brokers that require one (`require_certificate true`)."""
    key_file: Path | None = None
    tls_insecure: bool = False
    """Skip the host-name check (self-signed test brokers only)."""
    keepalive_s: int = 30
    client_id: str = ""
    fallbacks: tuple[tuple[str, int], ...] = ()
    """More (host, port) of the same broker cluster, tried in turn when the current one fails."""
    clean_session: bool = True
    """False keeps the session (subscriptions, undelivered QoS 1 messages) at the broker across
    reconnects; it needs a fixed `client_id`. Keep it True on a NATS 2.9 cluster (docs/mqtt.md)."""
    subscribe_qos: int = 1
    """QoS asked for in SUBSCRIBE. 0 on the NATS cluster: there a QoS 1 subscription is a JetStream
    consumer that can stop delivering when a node dies (docs/mqtt.md); at QoS 0 messages come by
    plain routing, while what is published still counts once the broker acknowledged it."""


def parse_broker_url(url: str, **tls: Any) -> BrokerSettings:
    """`mqtt://user:pass@host:1883` or `mqtts://host:8883` → settings; BrokerError when malformed.

    A cluster is named by its nodes after one another, `mqtt://user:pass@h1:1883,h2:1883`: the
    first is tried first, the others in turn when it fails. `?subscribe_qos=0` sets `subscribe_qos`."""
    parts = urlsplit(url)
    login, _, hosts = parts.netloc.rpartition("@")
    first, *more = hosts.split(",")
    if more:
        parts = urlsplit(f"{parts.scheme}://{login + '@' if login else ''}{first}")
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise BrokerError(f"broker URL must look like mqtt://host:1883 or mqtts://host:8883, got {url!r}")
    use_tls = parts.scheme in ("mqtts", "ssl")
    default_port = 8883 if use_tls else 1883
    fallbacks: list[tuple[str, int]] = []
    try:
        port = parts.port or default_port
        for extra in more:
            node = urlsplit(f"mqtt://{extra}")
            if not node.hostname:
                raise BrokerError(f"empty host in broker URL {url!r}")
            fallbacks.append((node.hostname, node.port or default_port))
    except ValueError as exc:
        raise BrokerError(f"bad port in broker URL {url!r}") from exc
    query = parse_qs(parts.query or urlsplit(url).query)
    qos_text = query.get("subscribe_qos", ["1"])[-1]
    if qos_text not in ("0", "1"):
        raise BrokerError(f"subscribe_qos must be 0 or 1 in broker URL {url!r}")
    return BrokerSettings(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        fallbacks=tuple(fallbacks),
        subscribe_qos=int(qos_text),
        **tls,
    )


@dataclass(frozen=True, slots=True)
class Will:
    """A retained message the broker publishes for us if we vanish, and its opposite on connect."""

    topic: str
    offline: str
    online: str
