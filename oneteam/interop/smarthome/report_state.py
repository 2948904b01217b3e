"""Report state out: push state changes of linked devices to each partner's endpoint, signed,
batched, retried; count what could not be delivered. Ask partners to re-SYNC when devices come
or go (requestSync).

Bodies follow Google's HomeGraph shapes (`reportStateAndNotification`, `requestSync`) and carry
only what changed since the partner's last push. A partner that gave a service account gets them
HomeGraph-style (`service_account.py`: RS256 JWT → access token → `/v1/devices:...`). Others get a
signed webhook: the header `x-oneteam-kind` says which body, `x-oneteam-signature:
t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the partner's report key, so the partner
can check origin and reject replays by time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from oneteam.hub import Hub, Subscription
from oneteam.hub.callers import agent_member
from oneteam.hub.supervisor import Supervisor
from oneteam.interop.smarthome.records import Link, Partner
from oneteam.interop.smarthome.service_account import PATHS, AccessTokens, ServiceAccount
from oneteam.interop.smarthome.store import PartnerStorage
from oneteam.interop.smarthome.traits import google_state
from oneteam.model import DeviceNotFound, EventKind

_LOGGER = logging.getLogger(__name__)

_STATE_KINDS = {EventKind.STATE_CHANGED, EventKind.AVAILABILITY}
_SYNC_KINDS = {EventKind.DEVICE_ADDED, EventKind.DEVICE_REMOVED, EventKind.DEVICE_CHANGED}
_LINKS_TTL_S = 1.0


def sign(key: str, body: bytes, at: int) -> str:
    """The signature header value for a body sent at Unix time `at`."""
    mac = hmac.new(key.encode("utf-8"), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def verify(key: str, body: bytes, header: str, *, now: float, tolerance_s: float = 300.0) -> bool:
    """Whether a signature header is ours and fresh (what a partner runs on receipt)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return abs(now - at) <= tolerance_s and hmac.compare_digest(sign(key, body, at), header)


@dataclass
class PushStats:
    """Counters of the pusher (for health and benchmarks)."""

    batches_sent: int = 0
    states_sent: int = 0
    states_considered: int = 0
    """Device states a flush looked at: what was pushed before only changes were sent."""
    states_unchanged: int = 0
    """Of those, states left out because the partner already has them (telemetry ticks)."""
    sync_requests: int = 0
    retries: int = 0
    dead_letters: int = 0
    dead_by_partner: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Target:
    partner: Partner
    agent_user_id: str


class ReportStatePusher:
    """Runs for the hub's lifetime: `async with ReportStatePusher(hub, store):`."""

    def __init__(
        self,
        hub: Hub,
        store: PartnerStorage,
        *,
        batch_window_s: float = 0.2,
        max_batch: int = 200,
        max_attempts: int = 4,
        backoff_s: float = 0.2,
        timeout_s: float = 5.0,
    ) -> None:
        self._hub = hub
        self._store = store
        self._batch_window_s = batch_window_s
        self._max_batch = max_batch
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self.tokens = AccessTokens(self._client)
        """HomeGraph access tokens of partners that gave a service account."""
        self._accounts: dict[str, ServiceAccount] = {}
        self._pending: dict[_Target, set[str]] = {}
        self._sync_pending: set[_Target] = set()
        self._wake = asyncio.Event()
        self.supervisor = Supervisor("report-state")
        """Owns the collect and flush loops: a failure is logged and both restart after a back-off."""
        self.stats = PushStats()
        self._links: list[tuple[Link, Partner]] = []
        self._reported: dict[_Target, dict[str, dict[str, object]]] = {}
        """Per partner link, the last state each device was reported with (only changes go out)."""
        self._links_at = float("-inf")
        self._links_version = -1

    async def __aenter__(self) -> ReportStatePusher:
        ready = asyncio.Event()
        self.supervisor.start()
        self.supervisor.spawn("report-state", lambda: self._run(ready))
        await ready.wait()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.supervisor.stop()
        await self._client.aclose()

    async def _run(self, ready: asyncio.Event) -> None:
        async with (
            self._hub.subscribe("report-state", maxsize=10_000) as events,
            asyncio.TaskGroup() as tasks,
        ):
            tasks.create_task(self._collect(events), name="report-state-collect")
            tasks.create_task(self._flush_loop(), name="report-state-flush")
            ready.set()

    async def _collect(self, events: Subscription) -> None:
        async for event in events:
            if event.device_id is None or (event.kind not in _STATE_KINDS and event.kind not in _SYNC_KINDS):
                continue
            if self._links_stale():
                await asyncio.to_thread(self._read_links)
            targets = await self._targets(event.device_id, event.kind in _SYNC_KINDS)
            for target in targets:
                if event.kind in _SYNC_KINDS:
                    self._sync_pending.add(target)
                else:
                    self._pending.setdefault(target, set()).add(event.device_id)
            if targets:
                self._wake.set()

    async def _targets(self, device_id: str, is_sync: bool) -> list[_Target]:
        targets = []
        for link, partner in self._linked():
            if not is_sync and not (link.covers(device_id) and await self._member_may(link, device_id)):
                continue
            targets.append(_Target(partner, link.agent_user_id))
        return targets

    async def _member_may(self, link: Link, device_id: str) -> bool:
        """A link a member made reports only what that member may use now (not what they lost
        since linking, nor a device added later that their permissions do not cover)."""
        member = agent_member(link.agent_user_id)
        if member is None:
            return True
        allowed = await self._hub.household.member_devices(member)
        return allowed is None or device_id in allowed

    def _linked(self) -> list[tuple[Link, Partner]]:
        return self._links

    def _links_stale(self) -> bool:
        # Links made here bump the store's version at once; links made or revoked by the CLI in
        # another process show up within _LINKS_TTL_S.
        return self._store.version != self._links_version or time.monotonic() - self._links_at > _LINKS_TTL_S

    def _read_links(self) -> None:
        version = self._store.version
        partners = {p.client_id: p for p in self._store.partners() if p.report_url}
        self._links = [
            (link, partners[link.client_id])
            for link in self._store.links()
            if link.revoked_at is None and link.client_id in partners
        ]
        self._accounts = self._store.service_accounts()
        self._links_at = time.monotonic()
        self._links_version = version

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            # Wait a short window so a burst of changes leaves as one batch per partner.
            await asyncio.sleep(self._batch_window_s)
            self._wake.clear()
            pending, self._pending = self._pending, {}
            syncs, self._sync_pending = self._sync_pending, set()
            async with asyncio.TaskGroup() as sends:
                for target in syncs:
                    sends.create_task(self._request_sync(target), name="request-sync")
                for target, device_ids in pending.items():
                    sends.create_task(self._report(target, sorted(device_ids)), name="report-state-send")

    def _changed(self, target: _Target, device_ids: list[str]) -> dict[str, dict[str, object]]:
        """The reportable part of each device's state that differs from what `target` was last
        sent: telemetry the partner does not see (wear sensors, counters) or a state it already
        has produces nothing. The first report of a device carries its whole state."""
        known = self._reported.setdefault(target, {})
        changed: dict[str, dict[str, object]] = {}
        for device_id in device_ids:
            self.stats.states_considered += 1
            try:
                device, state = self._hub.device(device_id), self._hub.state(device_id)
            except DeviceNotFound:
                known.pop(device_id, None)
                continue
            now: dict[str, object] = {"online": state.is_available, **google_state(device, state)}
            before = known.get(device_id)
            diff = now if before is None else {k: v for k, v in now.items() if before.get(k) != v}
            if not diff:
                self.stats.states_unchanged += 1
                continue
            changed[device_id] = diff
            known[device_id] = now
        return changed

    async def _report(self, target: _Target, device_ids: list[str]) -> None:
        changed = self._changed(target, device_ids)
        ids = sorted(changed)
        for start in range(0, len(ids), self._max_batch):
            states: dict[str, object] = {d: changed[d] for d in ids[start : start + self._max_batch]}
            if not states:
                continue
            body = {
                "requestId": str(uuid.uuid4()),
                "agentUserId": target.agent_user_id,
                "payload": {"devices": {"states": states}},
            }
            if await self._send(target.partner, "reportState", body):
                self.stats.batches_sent += 1
                self.stats.states_sent += len(states)
            else:
                # Undelivered: the next push of these devices carries their whole state again.
                for device_id in states:
                    self._reported.get(target, {}).pop(device_id, None)

    async def _request_sync(self, target: _Target) -> None:
        body = {"agentUserId": target.agent_user_id, "async": True}
        if await self._send(target.partner, "requestSync", body):
            self.stats.sync_requests += 1

    async def _request(self, partner: Partner, kind: str, data: bytes) -> httpx.Response:
        """One POST: HomeGraph-style with a service-account token, or a signed webhook."""
        account = self._accounts.get(partner.client_id)
        base = partner.report_url or ""
        if account is not None:
            token = await self.tokens.bearer(partner.client_id, account)
            headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
            return await self._client.post(base.rstrip("/") + PATHS[kind], content=data, headers=headers)
        headers = {
            "content-type": "application/json",
            "x-oneteam-kind": kind,
            "x-oneteam-signature": sign(partner.report_key, data, int(time.time())),
        }
        return await self._client.post(base, content=data, headers=headers)

    async def _send(self, partner: Partner, kind: str, body: Mapping[str, object]) -> bool:
        """POST one body with retries; on final failure count a dead letter."""
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        for attempt in range(self._max_attempts):
            if attempt:
                self.stats.retries += 1
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                response = await self._request(partner, kind, data)
            except (httpx.HTTPError, ValueError) as exc:
                _LOGGER.debug("push to partner %s failed: %s", partner.client_id, type(exc).__name__)
                continue
            if response.status_code == 401 and partner.client_id in self._accounts:
                self.tokens.forget(partner.client_id)  # expired or revoked early: fetch a new one
                continue
            if response.status_code < 300:
                return True
            if response.status_code != 429 and response.status_code < 500:
                break  # the partner refuses this body; retrying will not help
        self.stats.dead_letters += 1
        self.stats.dead_by_partner[partner.client_id] = (
            self.stats.dead_by_partner.get(partner.client_id, 0) + 1
        )
        _LOGGER.warning(
            "%s for partner %s undeliverable (dead letters: %d)",
            kind,
            partner.client_id,
            self.stats.dead_letters,
        )
        return False
