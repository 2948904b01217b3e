"""The partner door as one object the API reads from `app.state.smarthome`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import TracebackType

from oneteam.hub import Hub
from oneteam.interop.smarthome.fulfillment import Fulfillment
from oneteam.interop.smarthome.oauth import ACCESS_TTL_S, OAuthService
from oneteam.interop.smarthome.ratelimit import RateLimiter
from oneteam.interop.smarthome.records import Link
from oneteam.interop.smarthome.report_state import ReportStatePusher
from oneteam.interop.smarthome.store import PartnerStorage, PartnerStore

_LOGGER = logging.getLogger(__name__)


class SmartHomeService:
    """Partner registry, OAuth server, fulfillment, rate limits and report-state pushes of one hub.

    Use as `async with SmartHomeService(hub, path):` inside the hub's own `async with`. `database`
    is the hub's SQLite file, or an open `PartnerStorage` (a home's rows in PostgreSQL); the
    service closes either when it stops.
    """

    def __init__(
        self,
        hub: Hub,
        database: str | Path | PartnerStorage,
        *,
        access_ttl_s: float = ACCESS_TTL_S,
        report_batch_window_s: float = 0.2,
        report_backoff_s: float = 0.2,
    ) -> None:
        self.hub = hub
        self.store: PartnerStorage = PartnerStore(database) if isinstance(database, str | Path) else database
        self.oauth = OAuthService(self.store, access_ttl_s=access_ttl_s)
        self.fulfillment = Fulfillment(hub, on_disconnect=self._disconnect)
        self.limiter = RateLimiter()
        self.pusher = ReportStatePusher(
            hub, self.store, batch_window_s=report_batch_window_s, backoff_s=report_backoff_s
        )

    async def __aenter__(self) -> SmartHomeService:
        await self.pusher.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.pusher.__aexit__(exc_type, exc, tb)
        await asyncio.to_thread(self.store.close)

    def _disconnect(self, link: Link) -> None:
        # DISCONNECT: the partner unlinked the account; its tokens end with the link.
        self.store.revoke_link(link.id)
        _LOGGER.info("partner %s disconnected link %s", link.client_id, link.id)
