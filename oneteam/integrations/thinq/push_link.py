"""LG's MQTT push for one account, as the adapter keeps it: set up once the appliances are known,
its losses logged and surfaced (health, a warning event) and covered by normal polling until the
SDK reconnects or a new connection is made. While push is up, polling slows down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.thinq.account import ThinqAccount
from oneteam.integrations.thinq.cloud import CloudError, classify
from oneteam.integrations.thinq.config import ThinqConfig
from oneteam.integrations.thinq.const import PushEvent, StateSource
from oneteam.integrations.thinq.poller import Backoff, CallBudget, Poller
from oneteam.integrations.thinq.push import NOTIFICATION, STATUS_REPORT, PushChannel, PushUnavailable
from oneteam.integrations.thinq.reporting import StateReporter

_LOGGER = logging.getLogger(__name__)


class PushLink:
    """The push connection of one ThinQ account and the polling pace it sets."""

    def __init__(
        self,
        account: ThinqAccount,
        *,
        budget: CallBudget,
        poller: Poller,
        backoff: Backoff,
        reporter: StateReporter,
        supervisor: Supervisor,
    ) -> None:
        self._account = account
        self._budget = budget
        self._poller = poller
        self._backoff = backoff
        self._reporter = reporter
        self._supervisor = supervisor
        self._channel: PushChannel | None = None
        self.mode = StateSource.POLLING
        """`push` while LG's MQTT push is connected, else `polling`."""
        self.lost_at: float | None = None
        """When the push connection went down (wall clock), while it is down."""
        self.interruptions = 0
        self.error = ""
        self.stopping = False
        """The adapter is stopping: connection callbacks are no news any more."""

    @property
    def config(self) -> ThinqConfig:
        """The account's settings."""
        return self._account.config

    async def start(self) -> None:
        """Set up LG's MQTT push; when it cannot be, say so once and keep polling."""
        account = self._account
        channel = PushChannel(
            account.api,
            self.config.client_id,
            self.config.push_root_ca,
            on_message=self.on_message,
            on_connection=self.on_connection,
        )
        answers = account.answers
        calls_before = answers.calls
        try:
            async with asyncio.timeout(self.config.polling.request_timeout_s * 3):
                await channel.connect(list(account.by_thinq))
        except PushUnavailable as exc:
            _LOGGER.warning("ThinQ push not available (%s); polling instead", exc)
            return
        except Exception as exc:  # the SDK's setup raises its own, aiohttp's and awscrt's errors
            error = exc if isinstance(exc, CloudError) else classify(exc, answers)
            _LOGGER.warning("ThinQ push not available (%s); polling instead", error)
            return
        finally:
            self._budget.record(answers.calls - calls_before)
        self._channel = channel
        self.on_connection(PushEvent.CONNECTED, "")

    async def restart(self) -> None:
        """The SDK closed the push connection for good: make a new one after a pause."""
        channel, self._channel = self._channel, None
        if channel is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.config.polling.request_timeout_s):
                    await channel.close()
        await asyncio.sleep(self._backoff.hit(None))
        await self.start()

    async def close(self) -> None:
        """Leave LG's push: a courtesy, so a failure is logged and the adapter still stops."""
        channel, self._channel = self._channel, None
        if channel is None:
            return
        try:
            async with asyncio.timeout(self.config.polling.request_timeout_s):
                await channel.close()
        except Exception as exc:
            _LOGGER.warning("ThinQ push did not close cleanly (%s)", exc.__class__.__name__)

    def on_connection(self, what: PushEvent, detail: str) -> None:
        """The SDK's MQTT connection callbacks: a dead push is logged, surfaced (health, a warning
        event) and covered by normal polling until the SDK reconnects or a new connection is made."""
        if self.stopping:
            return
        if what is PushEvent.CONNECTED:
            if self.lost_at is not None:
                _LOGGER.warning(
                    "ThinQ push reconnected after %.0f s; polling slows down again",
                    time.time() - self.lost_at,
                )
            self.lost_at = None
            self.error = ""
            self._set_mode(StateSource.PUSH)
            return
        self.error = detail
        if what is PushEvent.FAILED:
            _LOGGER.warning("ThinQ push could not reconnect (%s); still polling", detail or "no reason given")
        dropped = what in (PushEvent.INTERRUPTED, PushEvent.CLOSED)
        if self.lost_at is None and (dropped or self.mode is StateSource.PUSH):
            self.lost_at = time.time()
            self.interruptions += 1
            _LOGGER.warning(
                "ThinQ push connection %s (%s); polling every %.0f s until it is back",
                "lost" if what is PushEvent.INTERRUPTED else what.value,
                detail or "no reason given",
                self.config.polling.interval_s,
            )
            self._reporter.warn(self._account.appliances, {"reason": "thinq.push_lost"})
        self._set_mode(StateSource.POLLING)
        if what is PushEvent.CLOSED and self._channel is not None:
            # awscrt reconnects an interrupted connection by itself, never a closed one.
            self._supervisor.spawn("thinq-push", self.restart)

    def _set_mode(self, mode: StateSource) -> None:
        if mode is self.mode:
            return
        self.mode = mode
        polling = self.config.polling
        self._poller.set_interval(polling.push_interval_s if mode is StateSource.PUSH else polling.interval_s)
        _LOGGER.info("ThinQ state now by %s", mode.value)

    def on_message(self, message: dict[str, Any]) -> None:
        """A push message: a status report updates state, a notification becomes a warning."""
        thinq_id = str(message.get("deviceId"))
        report = message.get("report")
        if message.get("pushType") == STATUS_REPORT and isinstance(report, dict):
            self._account.apply_report(thinq_id, report)
        elif message.get("pushType") == NOTIFICATION:
            data = {"reason": "thinq.push", "code": message.get("pushCode")}
            self._reporter.warn((a.device.id for a in self._account.by_thinq.get(thinq_id, [])), data)
