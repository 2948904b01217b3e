"""Where a routine's `notify` goes: the page and activity log (a NOTICE event on the hub) and any
other notifier the composition root adds (a webhook here; an MQTT topic can follow the NOTICE
events on the bus from the MQTT room).

Each notifier reports its own result, so a webhook that is down shows in the run's trace as that
notifier's failure while the page still gets the notice.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

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

    async def send(self, notice: Notice) -> None:
        """Deliver the notice, or raise with the reason."""


class PageNotifier:
    """The page (live, over the WebSocket) and the activity log: a NOTICE event on the hub."""

    name = "page"

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def send(self, notice: Notice) -> None:
        self._hub.publish(
            Event(
                kind=EventKind.NOTICE,
                data={"text": notice.text, "routine": notice.routine, "run": notice.run},
                source=notice.source,
            )
        )


class WebhookNotifier:
    """POSTs the notice as JSON; with a secret, signs the body (`X-Oneteam-Signature: sha256=<hex>`,
    HMAC-SHA256) so the receiver can tell it came from this hub. Retries twice, backing off."""

    name = "webhook"

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


async def deliver(notifiers: list[Notifier], notice: Notice) -> dict[str, Any]:
    """Send through every notifier at once; which delivered and which failed (with why)."""
    results = await asyncio.gather(*(n.send(notice) for n in notifiers), return_exceptions=True)
    delivered, failed = [], []
    for notifier, result in zip(notifiers, results, strict=True):
        if isinstance(result, BaseException):
            _LOGGER.warning("notifier %s failed: %s", notifier.name, result)
            failed.append({"notifier": notifier.name, "error": str(result)})
        else:
            delivered.append(notifier.name)
    return {"delivered": delivered, "failed": failed}
