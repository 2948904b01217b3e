"""Many homes in one process: each home its own Hub, stores and app; one outer router in front.

`HomeHost.open_home` builds a home's Hub over stores scoped to its id (the process's one shared
PostgreSQL pool), attaches its devices (its MQTT login on the broker cluster, virtual devices of its
home file), starts the per-home parts and gives it its FastAPI app (cluster/home_apps.py: the
routes are built once per process). Nothing in memory is shared between two homes' hubs, so a token
of home A is simply unknown at home B.

`HomeHost` itself is the process's ASGI app:
- `/homes/{home_id}/...` goes to that home's app (the prefix becomes the app's root_path), over
  HTTP and WebSocket alike, while this process holds the home's lease;
- a home leased to another live process is forwarded there (cluster/forward.py: HTTP and
  WebSocket, the caller's headers kept, since clients drop Authorization on a redirect to another
  origin); with `forward="redirect"` it answers 307 to the same path at that address instead;
  a forwarded request that lands on a process not serving the home answers 503 (no loops);
- a registered home nobody holds yet answers 503 with Retry-After, an unknown one 404;
- `/cluster/health` lists this process and the homes it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send

from oneteam.cluster.asgi_answers import lifespan, refuse, respond, split_home_path
from oneteam.cluster.forward import HOP_HEADER, Forwarder, Refusal
from oneteam.cluster.held_requests import MOVE_WAIT_LEASES, serve_holding
from oneteam.cluster.home_apps import HomeApps
from oneteam.cluster.home_parts import start_automation, start_conversation
from oneteam.cluster.lease import Lease, LeaseTable
from oneteam.cluster.owner_lookups import OwnerLookups
from oneteam.cluster.peers import as_seen_by_owner
from oneteam.cluster.pgshared import SharedPostgres
from oneteam.cluster.tenant_stores import TenantStores
from oneteam.hub import Hub, parse_home
from oneteam.hub.storage import Storage
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.interop.smarthome.store import PartnerStorage

_LOGGER = logging.getLogger(__name__)

StorageFactory = Callable[[str, int], Storage]
"""(home id, lease epoch) → that home's Storage, its writes fenced by the epoch (SharedPostgres)."""

RETRY_AFTER_S = 1
_Record = tuple[str, str | None, str | None]  # a home's registry row: file, MQTT login
PARTS = frozenset({"virtual", "mqtt", "conversation", "smarthome", "automation"})
"""Per-home parts a host may start; `mqtt` needs a broker URL and the home's MQTT login,
`automation` (routines) the shared side tables (`tenants`)."""
ATTACH_CONCURRENCY = 32
"""Homes signing in to the broker at once, after they are served (a survivor taking hundreds)."""
AWAITED_S = 30.0
"""After a home's MQTT client attached, how long a device of its stored states not yet announced
again answers "unavailable" (503) rather than "unknown" (404): discovery is retained, so a device
still missing then was forgotten or is gone."""
OPENING_WAIT_S = 5.0
"""How long a request for a home being opened here waits for it before 503 home_starting: served
once its home is open, not at the caller's next try (Retry-After 1 s), and not asked again and
again meanwhile (a survivor opening hundreds of homes answered thousands of retries between opens)."""


@dataclass
class _Home:
    home_id: str
    hub: Hub
    app: FastAPI
    stack: AsyncExitStack
    epoch: int
    valid_until: float
    opened_at: float = field(default_factory=time.time)
    attaching: asyncio.Task[None] | None = None
    """The home's MQTT devices being attached (the `mqtt` part), after the home is served."""
    attach_started: bool = False
    """Whether `attaching` got past the gate (then it is awaited, not cancelled, on close)."""

    def serving(self) -> bool:
        return time.monotonic() < self.valid_until


class HomeHost:
    """The homes this process serves, and the ASGI app in front of them."""

    def __init__(
        self,
        leases: LeaseTable,
        storage_for: StorageFactory,
        *,
        data_dir: Path,
        tenants: TenantStores | None = None,
        broker_url: str | None = None,
        parts: Iterable[str] = ("virtual", "mqtt", "conversation", "smarthome"),
        max_body_bytes: int = 64 * 1024,
        forward: str = "proxy",
        preloads: SharedPostgres | None = None,
        peer_key: str | None = None,
        lookups: LeaseTable | None = None,
    ) -> None:
        if forward not in ("proxy", "redirect"):
            raise ValueError(f"forward must be proxy or redirect, not {forward!r}")
        self.leases = leases
        self.storage_for = storage_for
        self.data_dir = data_dir
        self.tenants = tenants
        self.broker_url = broker_url
        self.parts = frozenset(parts)
        unknown = self.parts - PARTS
        if unknown:
            raise ValueError(f"unknown home parts: {', '.join(sorted(unknown))}")
        self.max_body_bytes = max_body_bytes
        self.forward = forward
        # The cluster's key (peers.py): what this process carries bears it, what it gets is believed by it.
        self._forwarder = Forwarder(leases.node_id, peer_key=peer_key)
        # Where other homes are: on a connection of its own when given one, so a request's look-up
        # does not queue behind placement's queries on the lease connection (3.6 s once, 1,000 homes).
        self._lookups = OwnerLookups(lookups or leases)
        self._apps = HomeApps(max_body_bytes=max_body_bytes)
        self._homes: dict[str, _Home] = {}
        self._attach_gate = asyncio.Semaphore(ATTACH_CONCURRENCY)
        self.preloads = preloads
        self._opening: set[str] = set()  # leases taken here, homes being opened (`prepare`)
        self._opened = asyncio.Event()  # set while none is: brokers are signed in to after
        self._opened.set()
        self._open_waits: dict[str, asyncio.Event] = {}  # home being opened → its requests' wait

    # -- homes ----------------------------------------------------------------------------------

    def open_homes(self) -> list[str]:
        return list(self._homes)

    def hub(self, home_id: str) -> Hub:
        """The running hub of a home served here (KeyError otherwise)."""
        return self._homes[home_id].hub

    def renewed(self, leases: dict[str, Lease]) -> None:
        """Move each open home's local deadline to its renewed lease's."""
        for home_id, lease in leases.items():
            home = self._homes.get(home_id)
            if home is not None:
                home.valid_until = lease.valid_until
                home.epoch = lease.epoch

    async def prepare(self, epochs: Mapping[str, int]) -> None:
        """Before opening many homes just taken (home → lease epoch): their opening reads in one
        query per statement for all of them (a failure leaves each home to read its own)."""
        self._opening.update(epochs)
        self._opened.clear()
        if self.preloads is None:
            return
        try:
            await self.preloads.preload(epochs)
        except Exception:
            _LOGGER.exception("reading %d homes at once failed; each reads its own", len(epochs))

    async def open_home(self, home_id: str, lease: Lease, record: _Record | None = None) -> None:
        try:
            await self._open_home(home_id, lease, record)
        finally:
            self._opening.discard(home_id)
            waiting = self._open_waits.pop(home_id, None)
            if waiting is not None:
                waiting.set()
            if not self._opening:
                self._opened.set()
            if self.preloads is not None:
                self.preloads.drop_preloaded(home_id)

    async def _open_home(self, home_id: str, lease: Lease, record: _Record | None) -> None:
        """Build and start a home's hub, parts and app (the caller holds its lease); `record` is
        the home's registry row when the caller read it already (placement reads many at once)."""
        if home_id in self._homes:
            self._homes[home_id].valid_until = lease.valid_until
            return
        if record is None:
            record = await self.leases.home_record(home_id)
        if record is None:
            raise KeyError(f"home {home_id!r} is not registered")
        text, mqtt_user, mqtt_password = record
        began = time.monotonic()
        home = parse_home(text, f"home {home_id}")
        storage = self.storage_for(home_id, lease.epoch)
        hub = Hub(home, storage)
        if "virtual" in self.parts:
            await hub.add_adapter(VirtualAdapter(home))
        stack = AsyncExitStack()
        try:
            await stack.enter_async_context(hub)
            await storage.save_home(home.id, f"home {home_id}", text)
            routers: list[APIRouter] = []
            public: list[APIRouter] = []
            state: dict[str, Any] = {}
            if "conversation" in self.parts:
                await start_conversation(hub)
            if "smarthome" in self.parts:
                await self._smarthome(hub, home_id, lease.epoch, stack, routers, public, state)
            if "automation" in self.parts and self.tenants is not None:
                routines = self.tenants.routines(home_id, epoch=lease.epoch)
                await start_automation(hub, routines, text, stack, routers, state)
            app = self._apps.app(hub, routers, public, state)  # routes built once per process
        except BaseException:
            await stack.aclose()
            raise
        served = _Home(home_id, hub, app, stack, lease.epoch, lease.valid_until)
        self._homes[home_id] = served
        if "mqtt" in self.parts and self.broker_url and mqtt_user:
            # Served first, devices after (once no home is being opened): a survivor taking hundreds
            # of homes serves each once its state is read; its devices report as they reconnect.
            hub.registry.awaited = set(hub.registry.stored_states) - {d.id for d in hub.devices()}
            served.attaching = asyncio.create_task(
                self._attach_mqtt(served, mqtt_user, mqtt_password or ""), name=f"mqtt-attach-{home_id}"
            )
        _LOGGER.info(
            "home %s open (epoch %d) in %.0f ms", home_id, lease.epoch, (time.monotonic() - began) * 1000
        )

    async def close_home(self, home_id: str) -> None:
        """Stop serving a home: it leaves the router first, then its parts and hub stop (storage
        is flushed as the hub closes)."""
        home = self._homes.pop(home_id, None)
        if home is None:
            return
        try:
            if home.attaching is not None:
                # Still queued at the gate: cancelled (nothing started). Started: awaited, since an
                # adapter stopped half-started could leave its client running.
                if not home.attach_started:
                    home.attaching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await home.attaching
            await home.stack.aclose()
        except Exception:
            _LOGGER.exception("home %s did not close cleanly", home_id)
        _LOGGER.info("home %s closed", home_id)

    async def close(self) -> None:
        for home_id in list(self._homes):
            await self.close_home(home_id)
        await self._lookups.aclose()
        await self._forwarder.aclose()

    async def _attach_mqtt(self, home: _Home, user: str, password: str) -> None:
        try:
            await self._opened.wait()  # the homes being taken answer first, then devices attach
            async with self._attach_gate:
                home.attach_started = True
                await self._mqtt(home.hub, home.home_id, user, password, home.stack)
        except Exception:
            _LOGGER.exception("home %s: its MQTT devices did not attach; served without them", home.home_id)
        finally:
            asyncio.get_running_loop().call_later(AWAITED_S, home.hub.registry.awaited.clear)

    async def _mqtt(self, hub: Hub, home_id: str, user: str, password: str, stack: AsyncExitStack) -> None:
        from oneteam.integrations.mqtt import mqtt_for_hub

        assert self.broker_url is not None
        scheme, _, rest = self.broker_url.partition("://")
        url = f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{rest.split('@')[-1]}"
        await stack.enter_async_context(
            mqtt_for_hub(hub, broker_url=url, export=False, topic_root=f"oneteam/{home_id}")
        )

    async def _smarthome(
        self,
        hub: Hub,
        home_id: str,
        epoch: int,
        stack: AsyncExitStack,
        routers: list[APIRouter],
        public: list[APIRouter],
        state: dict[str, Any],
    ) -> None:
        from oneteam.api import smarthome as smarthome_api
        from oneteam.interop.smarthome import SmartHomeService

        if self.tenants is not None:
            # Fenced by the lease: a stale owner cannot write links over the new owner's.
            store: PartnerStorage | Path = self.tenants.partners(home_id, epoch=epoch)
        else:  # a host without shared side tables (tests of one process): a file per home
            folder = self.data_dir / "homes" / home_id
            folder.mkdir(parents=True, exist_ok=True)
            store = folder / "partner.db"
        service = await stack.enter_async_context(SmartHomeService(hub, store))
        routers.append(smarthome_api.router)
        public.append(smarthome_api.public_router)
        state["smarthome"] = service
        hub.features.add("smarthome")

    # -- the outer ASGI app ---------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await lifespan(receive, send)
            return
        path: str = scope["path"]
        if path == "/cluster/health" and kind == "http":
            await respond(send, 200, self.health())
            return
        prefix, home_id, rest = split_home_path(path)
        if not prefix:
            await refuse(
                scope,
                receive,
                send,
                404,
                {"error": "not_found", "message": "homes live at /homes/{home_id}/"},
            )
            return
        wait_s = MOVE_WAIT_LEASES * self.leases.lease_s
        route = functools.partial(self._route, scope, send=send, home_id=home_id, prefix=prefix, rest=rest)
        await serve_holding(route, scope, receive, send, wait_s=wait_s, limit_bytes=self.max_body_bytes)

    async def _route(
        self, scope: Scope, receive: Receive, *, send: Send, home_id: str, prefix: str, rest: str
    ) -> Refusal | None:
        """Serve the request here or carry it to the home's owner (None), or say why not."""
        home = self._homes.get(home_id)
        if home is None and home_id in self._opening:  # ours, being opened: wait for it here
            home = await self._until_open(home_id)
            if home is None:  # its open failed or took too long: not worth holding again
                return Refusal(503, _STARTING, _RETRY)
        if home is not None and home.serving():
            inner = as_seen_by_owner(scope, self._forwarder.peer_key)  # a peer's caller's address
            inner["root_path"] = scope.get("root_path", "") + prefix
            inner["path"] = prefix + rest if rest else prefix + "/"
            inner["raw_path"] = inner["path"].encode()
            await home.app(inner, receive, send)
            return None
        return await self._elsewhere(scope, receive, send, home_id)

    async def _until_open(self, home_id: str) -> _Home | None:
        """The home once opened here, or None if its open failed or took over OPENING_WAIT_S."""
        waiting = self._open_waits.get(home_id)
        if waiting is None:
            waiting = self._open_waits[home_id] = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiting.wait(), OPENING_WAIT_S)
        return self._homes.get(home_id)

    async def _elsewhere(self, scope: Scope, receive: Receive, send: Send, home_id: str) -> Refusal | None:
        where = await self._lookups.whereabouts(home_id)  # with every other request asking now
        owner = where.owner
        forwarded = any(k.lower() == HOP_HEADER for k, _ in scope["headers"])
        if owner is not None and owner[0] != self.leases.node_id and owner[1] and not forwarded:
            if self.forward == "proxy":
                carry = self._forwarder.http if scope["type"] == "http" else self._forwarder.websocket
                return await carry(scope, receive, send, owner[1])
            location = owner[1] + scope.get("root_path", "") + scope["path"]
            if scope.get("query_string"):
                location += "?" + scope["query_string"].decode("latin-1")
            if scope["type"] == "websocket":
                location = "ws" + location.removeprefix("http")
            await refuse(
                scope, receive, send, 307, {"error": "moved", "location": location}, [("location", location)]
            )
            return None
        if not where.registered:
            return Refusal(404, {"error": "unknown_home", "home": home_id[:80]})
        # No live lease, ours and about to be opened, or an owner with no address: worth holding.
        # Carried here by a process while another one holds it: not (that one's next look decides).
        elsewhere = owner is not None and owner[0] != self.leases.node_id and bool(owner[1])
        return Refusal(503, _STARTING, _RETRY, may_hold=not elsewhere)

    def health(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "node": self.leases.node_id,
            "address": self.leases.address,
            "kept_objects": gc.get_freeze_count(),  # out of the collector's sight (heap.py)
            "homes": [
                {"id": h.home_id, "epoch": h.epoch, "lease_left_s": round(h.valid_until - now, 2)}
                for h in sorted(self._homes.values(), key=lambda h: h.home_id)
            ],
        }


_STARTING = {"error": "home_starting", "message": "the home is being opened; try again shortly"}
_RETRY = (("retry-after", str(RETRY_AFTER_S)),)
