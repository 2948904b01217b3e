"""Where a routine's `notify` goes: the page and activity log (a NOTICE event on the hub), a
spoken announcement (a SAY event: the page speaks it, /api/speech renders it for speakers), an MQTT
topic and a webhook, as the composition root sets them up.

Each notifier reports its own result, so a webhook that is down shows in the run's trace as that
notifier's failure while the page still gets the notice. A step without `to` goes to every
notifier whose `default` is true (all but speech: a routine says things aloud with `say`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.hub import Hub
from oneteam.model import Event, EventKind

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A message for the household from a routine run."""

    text: dict[str, str]
    routine: str
    run: int
    source: str
    at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "routine": self.routine, "run": self.run, "at": self.at}


class Notifier(Protocol):
    """One way a notice reaches people."""

    name: str
    default: bool
    """Used by a `notify` step that names no notifiers."""

    async def send(self, notice: Notice) -> None:
        """Deliver the notice, or raise with the reason."""


class HubEventNotifier:
    """A notice as one event on the hub (its text, routine and run), of the subclass's `kind`."""

    name: str
    default: bool
    kind: EventKind

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def send(self, notice: Notice) -> None:
        self._hub.publish(
            Event(
                kind=self.kind,
                data={"text": notice.text, "routine": notice.routine, "run": notice.run},
                source=notice.source,
            )
        )


class PageNotifier(HubEventNotifier):
    """The page (live, over the WebSocket) and the activity log: a NOTICE event on the hub."""

    name = "page"
    default = True
    kind = EventKind.NOTICE


class SpeechNotifier(HubEventNotifier):
    """A spoken announcement: a SAY event, which the page speaks and /api/speech renders as WAV
    for the home's speakers."""

    name = "speech"
    default = False
    kind = EventKind.SAY


class MqttNotifier:
    """Publishes the notice as JSON on an MQTT topic (QoS 1, not retained), for a display, a phone
    bridge or another home system. One short connection per notice: nothing to keep alive between
    notices, and a broker that is down is this notice's failure, said in the trace."""

    name = "mqtt"
    default = True

    def __init__(
        self,
        host: str,
        port: int = 1883,
        topic: str = "oneteam/notify",
        *,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        timeout_s: float = 5.0,
    ) -> None:
        self.host, self.port, self.topic = host, port, topic
        self._username, self._password, self._tls = username, password, tls
        self._timeout_s = timeout_s

    @classmethod
    def from_url(cls, url: str) -> MqttNotifier:
        """`mqtt://user:pass@host:1883/oneteam/notify` (`mqtts://` for TLS); the path is the topic."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"not an mqtt:// URL: {url!r}")
        topic = unquote(parts.path.lstrip("/")) or "oneteam/notify"
        return cls(
            parts.hostname,
            parts.port or (8883 if parts.scheme == "mqtts" else 1883),
            topic,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=parts.scheme == "mqtts",
        )

    async def send(self, notice: Notice) -> None:
        payload = json.dumps({"kind": "notice", **notice.as_dict()}, ensure_ascii=False).encode()
        await asyncio.to_thread(self._publish, payload)

    def _publish(self, payload: bytes) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
        if self._username is not None:
            client.username_pw_set(self._username, self._password)
        if self._tls:
            client.tls_set_context(ssl.create_default_context())
        answered = threading.Event()
        refused: list[str] = []

        def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                refused.append(str(reason))
            answered.set()

        client.on_connect = on_connect
        client.connect(self.host, self.port, keepalive=30)  # raises OSError when nobody listens
        client.loop_start()
        try:
            if not answered.wait(self._timeout_s) or refused:
                why = refused[0] if refused else "no answer"
                raise ConnectionError(f"mqtt {self.host}:{self.port}: {why}")
            info = client.publish(self.topic, payload, qos=1)
            info.wait_for_publish(timeout=self._timeout_s)
            if not info.is_published():
                reason = "refused" if info.rc != mqtt.MQTT_ERR_SUCCESS else "no acknowledgement"
                raise ConnectionError(f"mqtt {self.host}:{self.port} {self.topic}: {reason}")
        finally:
            client.disconnect()
            client.loop_stop()


class WebhookNotifier:
    """POSTs the notice as JSON; with a secret, signs the body (`X-Oneteam-Signature: sha256=<hex>`,
    HMAC-SHA256) so the receiver can tell it came from this hub. Retries twice, backing off."""

    name = "webhook"
    default = True

    def __init__(
        self, url: str, secret: str | None = None, *, timeout_s: float = 5.0, attempts: int = 3
    ) -> None:
        self.url = url
        self._secret = secret.encode() if secret else None
        self._timeout_s = timeout_s
        self._attempts = attempts

    async def send(self, notice: Notice) -> None:
        body = json.dumps({"kind": "notice", **notice.as_dict()}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self._secret is not None:
            digest = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            headers["X-Oneteam-Signature"] = f"sha256={digest}"
        last = ""
        async with httpx.AsyncClient(timeout=self._timeout_s) as client:
            for attempt in range(self._attempts):
                try:
                    response = await client.post(self.url, content=body, headers=headers)
                    if response.status_code < 300:
                        return
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                if attempt + 1 < self._attempts:
                    await asyncio.sleep(0.2 * 2**attempt)
        raise ConnectionError(f"webhook {self.url}: {last}")


async def deliver(notifiers: list[Notifier], notice: Notice, to: tuple[str, ...] = ()) -> dict[str, Any]:
    """Send through the notifiers named in `to` (none named: the default ones) at once; which
    delivered, which failed (with why) and which were named but are not set up on this hub."""
    chosen = [n for n in notifiers if (n.name in to if to else n.default)]
    missing = [name for name in to if all(n.name != name for n in notifiers)]
    results = await asyncio.gather(*(n.send(notice) for n in chosen), return_exceptions=True)
    delivered, failed = [], []
    for notifier, result in zip(chosen, results, strict=True):
        if isinstance(result, BaseException):
            _LOGGER.warning("notifier %s failed: %s", notifier.name, result)
            failed.append({"notifier": notifier.name, "error": str(result)})
        else:
            delivered.append(notifier.name)
    outcome: dict[str, Any] = {"delivered": delivered, "failed": failed}
    if missing:
        outcome["not_set_up"] = missing
    return outcome
