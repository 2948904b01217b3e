"""The ThinQ integration: LG appliances through LG's own SDK (`thinqconnect`), behind the hub's Adapter.

The account (account.py) holds the session and the appliances; state comes by push (push.py) when
LG's MQTT can be set up, else from budgeted polling (poller.py), and after each command; commands
become the SDK's control calls (control.py); failures become oneteam errors (errors.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oneteam.hub.adapter import AdapterSink
from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.thinq import const
from oneteam.integrations.thinq.account import ThinqAccount
from oneteam.integrations.thinq.cloud import (
    ApplianceOffline,
    CloudError,
    ConnectorFactory,
    RateLimited,
    TokenRejected,
    classify,
)
from oneteam.integrations.thinq.config import ThinqConfig, ThinqConfigError, load_thinq_config
from oneteam.integrations.thinq.control import control_call
from oneteam.integrations.thinq.errors import ThinqRefused, ThinqUnavailable, to_oneteam
from oneteam.integrations.thinq.poller import Backoff, CallBudget, Poller, PollHooks
from oneteam.integrations.thinq.push import NOTIFICATION, STATUS_REPORT, PushChannel, PushUnavailable
from oneteam.integrations.thinq.reporting import StateReporter
from oneteam.model import Command, Device, DeviceNotFound, State

_LOGGER = logging.getLogger(__name__)


class ThinqAdapter:
    """LG ThinQ Connect appliances of one account."""

    name = const.DOMAIN

    def __init__(
        self,
        config: ThinqConfig,
        *,
        connector_factory: ConnectorFactory | None = None,
        seed: int | None = None,
        budget_window_s: float = const.BUDGET_WINDOW_S,
        config_file: Path | None = None,
    ) -> None:
        """`connector_factory` points the SDK's session elsewhere (tests, the demo);
        `budget_window_s` compresses LG's hour for benchmarks; a new token written to
        `config_file` (by `oneteam thinq link`) is picked up while running."""
        self._config_file = config_file
        self._rng = random.Random(seed)
        polling = config.polling
        self.budget = CallBudget(polling.calls_per_hour, polling.command_reserve, window_s=budget_window_s)
        self._reporter = StateReporter()
        self.account = ThinqAccount(
            config, budget=self.budget, reporter=self._reporter, connector_factory=connector_factory
        )
        self._backoff = Backoff(polling.backoff_base_s, polling.backoff_max_s, polling.jitter, rng=self._rng)
        hooks = PollHooks(
            fetch=self._fetch,
            on_backoff=self._on_backoff,
            on_recovered=self._on_recovered,
            on_token_rejected=self._on_token_rejected,
            on_device_failed=self._on_device_failed,
        )
        self.poller = Poller(
            hooks,
            budget=self.budget,
            backoff=self._backoff,
            interval_s=polling.interval_s,
            jitter=polling.jitter,
            rng=self._rng,
        )
        self.supervisor = Supervisor(
            "thinq",
            on_failure=self._task_failed,
            on_recovered=self._task_recovered,
            backoff_base_s=polling.backoff_base_s,
            backoff_max_s=polling.backoff_max_s,
        )
        """Owns the poller, rediscovery, settings watch and push set-up: a failing one is logged,
        its appliances marked unavailable, and it is restarted with back-off."""
        self.token_ok = True
        self.backoff_kind: str | None = None
        self._discovered = asyncio.Event()
        self._retry_now = asyncio.Event()
        self._push: PushChannel | None = None
        self.mode = "polling"
        """`push` while LG's MQTT push is connected, else `polling`."""
        self.push_lost_at: float | None = None
        """When the push connection went down (wall clock), while it is down."""
        self.push_interruptions = 0
        self.push_error = ""
        self._stopping = False

    # -- lifetime -------------------------------------------------------------------------------

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        """Open the session, discover the account's appliances and start polling."""
        self._reporter.sink = sink
        self._stopping = False
        self.supervisor.start()
        self.account.open()
        try:
            await self.discover()
        except TokenRejected as exc:
            self._on_token_rejected(str(exc))
        except CloudError as exc:
            _LOGGER.warning("ThinQ discovery failed (%s); retrying in the background", exc)
        everything = self._all_devices
        self.supervisor.spawn("thinq-poller", self.poller.run, devices=everything)
        self.supervisor.spawn("thinq-rediscovery", self._rediscover_loop)
        config_file = self._config_file
        if config_file is not None:
            self.supervisor.spawn("thinq-config", lambda: self._watch_config(config_file))
        if not self._discovered.is_set():
            self.supervisor.spawn("thinq-discovery", self._discover_later, devices=everything)
        elif self.config.use_push and self.account.by_thinq:
            self.supervisor.spawn("thinq-push", self._start_push)

    def _all_devices(self) -> list[str]:
        return list(self.account.appliances)

    async def stop(self) -> None:
        """Cancel polling and close the session."""
        self._stopping = True
        await self.supervisor.stop()
        push, self._push = self._push, None
        try:
            if push is not None:
                async with asyncio.timeout(self.config.polling.request_timeout_s):
                    await push.close()
        except Exception as exc:  # leaving LG's push cleanly is a courtesy; the session still closes
            _LOGGER.warning("ThinQ push did not close cleanly (%s)", exc.__class__.__name__)
        finally:
            await self.account.close()

    @property
    def config(self) -> ThinqConfig:
        """The account's settings (the token is a SecretStr)."""
        return self.account.config

    @property
    def skipped(self) -> list[str]:
        """Models skipped at discovery (unknown type or unreadable profile)."""
        return self.account.skipped

    async def update_token(self, token: str) -> None:
        """Use a new access token: devices come back without a restart."""
        self.account.use_token(token)
        self.token_ok = True
        _LOGGER.info("ThinQ token replaced; reconnecting")
        self.poller.resume()
        self._retry_now.set()

    async def _watch_config(self, path: Path) -> None:
        """Take a new token from the settings file when it changes (one stat call a few seconds)."""
        seen = _mtime(path)
        while True:
            await asyncio.sleep(const.CONFIG_CHECK_S)
            current = _mtime(path)
            if current == seen:
                continue
            seen = current
            try:
                stored = load_thinq_config(path)
            except ThinqConfigError as exc:
                _LOGGER.warning("ThinQ settings not reloaded: %s", exc)
                continue
            if stored.access_token != self.config.access_token:
                await self.update_token(stored.access_token.get_secret_value())

    # -- discovery ------------------------------------------------------------------------------

    async def probe(self) -> list[Device]:
        """Check the account once (for `oneteam thinq link`): discover, then close; no polling."""
        self.account.open()
        try:
            return await self.discover()
        finally:
            await self.account.close()

    async def discover(self) -> list[Device]:
        """Read the device list and new profiles; start polling what was found."""
        found, changed = await self.account.discover()
        self._discovered.set()
        if changed:
            self.poller.set_devices(list(self.account.by_thinq))
        return [a.device for a in found]

    async def _rediscover_loop(self) -> None:
        """Look for appliances added to or removed from the account, one list call at a time."""
        while True:
            await asyncio.sleep(self.config.polling.rediscover_s)
            if not self.token_ok or self._backoff.remaining_s() > 0:
                continue
            try:
                await self.discover()
            except TokenRejected as exc:
                self._on_token_rejected(str(exc))
            except CloudError as exc:
                _LOGGER.info("ThinQ device list not refreshed (%s)", exc)

    async def _discover_later(self) -> None:
        while not self._discovered.is_set():
            self._retry_now.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._backoff.hit(None)):
                    await self._retry_now.wait()
            if not self.token_ok:
                continue
            try:
                await self.discover()
            except TokenRejected as exc:
                self._on_token_rejected(str(exc))
            except CloudError as exc:
                _LOGGER.warning("ThinQ discovery failed again (%s)", exc)
        self._backoff.clear()
        if self.config.use_push and self.account.by_thinq:
            await self._start_push()

    async def devices(self) -> Sequence[Device]:
        """The appliances found on the account."""
        return [a.device for a in self.account.appliances.values()]

    # -- state ----------------------------------------------------------------------------------

    async def _fetch(self, thinq_id: str) -> None:
        """One poll (the poller counted it): an offline appliance is marked, others raise."""
        try:
            await self.account.refresh(thinq_id)
        except ApplianceOffline as exc:
            for appliance in self.account.by_thinq.get(thinq_id, []):
                self._reporter.set_available(appliance.device.id, False, "thinq.appliance_offline")
            _LOGGER.info("ThinQ appliance offline: %s", exc)

    def _on_backoff(self, kind: str, delay_s: float, reason: str) -> None:
        first = self.backoff_kind is None
        self.backoff_kind = kind
        if kind == "outage":
            self._reporter.set_all_available(self.account.appliances, False, "thinq.cloud_unreachable")
        if first:
            data = {"reason": f"thinq.backoff.{kind}", "retry_in_s": round(delay_s, 1)}
            self._reporter.warn(self.account.appliances, data)

    def _on_recovered(self) -> None:
        _LOGGER.info("ThinQ answers again; back-off over")
        self.backoff_kind = None
        self._reporter.set_all_available(self._reporter.unavailable, True)

    def _on_device_failed(self, thinq_id: str, error: BaseException) -> None:
        """One appliance's poll failed in a way no list foresaw: its state is not current any more."""
        for appliance in self.account.by_thinq.get(thinq_id, []):
            self._reporter.set_available(appliance.device.id, False, "thinq.poll_failed")

    def _task_failed(self, name: str, devices: list[str], error: BaseException) -> None:
        self._reporter.set_all_available(devices, False, "thinq.task_failed")
        self._reporter.warn(devices, {"reason": "thinq.task_failed", "task": name})

    def _task_recovered(self, name: str, devices: list[str]) -> None:
        self._reporter.set_all_available(
            (d for d in devices if self._reporter.reason(d) == "thinq.task_failed"), True
        )

    def _on_token_rejected(self, reason: str) -> None:
        if self.token_ok:
            _LOGGER.error(
                "ThinQ refused the access token (%s): make a new personal access token at "
                "https://connect-pat.lgthinq.com and run `oneteam thinq link --token ...`",
                reason,
            )
        self.token_ok = False
        self.poller.pause()
        self._reporter.set_all_available(self.account.appliances, False, "thinq.token_invalid")

    # -- push -----------------------------------------------------------------------------------

    async def _start_push(self) -> None:
        """Set up LG's MQTT push; when it cannot be, say so once and keep polling."""
        channel = PushChannel(
            self.account.api,
            self.config.client_id,
            self.config.push_root_ca,
            on_message=self._on_push,
            on_connection=self._on_push_connection,
        )
        answers = self.account.answers
        calls_before = answers.calls
        try:
            async with asyncio.timeout(self.config.polling.request_timeout_s * 3):
                await channel.connect(list(self.account.by_thinq))
        except PushUnavailable as exc:
            _LOGGER.warning("ThinQ push not available (%s); polling instead", exc)
            return
        except Exception as exc:  # the SDK's setup raises its own, aiohttp's and awscrt's errors
            error = exc if isinstance(exc, CloudError) else classify(exc, answers)
            _LOGGER.warning("ThinQ push not available (%s); polling instead", error)
            return
        finally:
            self.budget.record(answers.calls - calls_before)
        self._push = channel
        self._on_push_connection("connected", "")

    async def _restart_push(self) -> None:
        """The SDK closed the push connection for good: make a new one after a pause."""
        push, self._push = self._push, None
        if push is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.config.polling.request_timeout_s):
                    await push.close()
        await asyncio.sleep(self._backoff.hit(None))
        await self._start_push()

    def _on_push_connection(self, what: str, detail: str) -> None:
        """The SDK's MQTT connection callbacks: a dead push is logged, surfaced (health, a warning
        event) and covered by normal polling until the SDK reconnects or a new connection is made."""
        if self._stopping:
            return
        if what == "connected":
            if self.push_lost_at is not None:
                _LOGGER.warning(
                    "ThinQ push reconnected after %.0f s; polling slows down again",
                    time.time() - self.push_lost_at,
                )
            self.push_lost_at = None
            self.push_error = ""
            self._set_mode("push")
            return
        self.push_error = detail
        if what == "failed":
            _LOGGER.warning("ThinQ push could not reconnect (%s); still polling", detail or "no reason given")
        if self.push_lost_at is None and (what in ("interrupted", "closed") or self.mode == "push"):
            self.push_lost_at = time.time()
            self.push_interruptions += 1
            _LOGGER.warning(
                "ThinQ push connection %s (%s); polling every %.0f s until it is back",
                "lost" if what == "interrupted" else what,
                detail or "no reason given",
                self.config.polling.interval_s,
            )
            self._reporter.warn(self.account.appliances, {"reason": "thinq.push_lost"})
        self._set_mode("polling")
        if what == "closed" and self._push is not None:
            # awscrt reconnects an interrupted connection by itself, never a closed one.
            self.supervisor.spawn("thinq-push", self._restart_push)

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        polling = self.config.polling
        self.poller.set_interval(polling.push_interval_s if mode == "push" else polling.interval_s)
        _LOGGER.info("ThinQ state now by %s", mode)

    def _on_push(self, message: dict[str, Any]) -> None:
        thinq_id = str(message.get("deviceId"))
        report = message.get("report")
        if message.get("pushType") == STATUS_REPORT and isinstance(report, dict):
            self.account.apply_report(thinq_id, report)
        elif message.get("pushType") == NOTIFICATION:
            data = {"reason": "thinq.push", "code": message.get("pushCode")}
            self._reporter.warn((a.device.id for a in self.account.by_thinq.get(thinq_id, [])), data)

    # -- commands -------------------------------------------------------------------------------

    async def execute(self, command: Command) -> None:
        """Send a validated command to the appliance through the SDK, then read back its state."""
        appliance = self.account.appliances.get(command.device_id)
        if appliance is None:
            raise DeviceNotFound(command.device_id)
        device = appliance.device
        if not self.token_ok:
            raise ThinqUnavailable(device, "thinq.token_invalid", "token refused")
        waiting_s = self._backoff.remaining_s()
        if waiting_s > 0 and self.backoff_kind == "rate_limited":
            raise ThinqRefused(device, "thinq.rate_limited", "backing off", retry_in_s=round(waiting_s))
        if not self.budget.can_command():
            wait = self.budget.wait_s()
            raise ThinqRefused(device, "thinq.budget_spent", "hourly budget spent", retry_in_s=round(wait))
        call = control_call(appliance, command, self._reporter.attributes(device.id))
        try:
            self.budget.record()
            await self.account.call(call)
            self.budget.record()
            await self.account.refresh(appliance.thinq_id)
        except CloudError as exc:
            if isinstance(exc, TokenRejected):
                self._on_token_rejected(str(exc))
            elif isinstance(exc, RateLimited):
                self._on_backoff("rate_limited", self._backoff.hit(exc.retry_after_s), str(exc))
            raise to_oneteam(exc, device, retry_in_s=self._backoff.remaining_s() or None) from exc
        except ValueError as exc:
            # The SDK checks a value against the profile before sending; validation should have.
            raise ThinqRefused(device, "thinq.refused.invalid_value", str(exc)) from exc

    # -- health ---------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Counters and modes for the API's health page and the benchmark (no secrets)."""
        return {
            "appliances": len(self.account.appliances),
            "skipped": list(self.skipped),
            "mode": self.mode,
            "push_down_s": round(time.time() - self.push_lost_at, 1) if self.push_lost_at else None,
            "push_interruptions": self.push_interruptions,
            "push_error": self.push_error,
            "failing_tasks": [row["task"] for row in self.supervisor.failing()],
            "token_ok": self.token_ok,
            "calls_total": self.account.answers.calls,
            "calls_last_hour": self.budget.used(),
            "calls_per_hour_budget": self.budget.calls_per_hour,
            "poll_interval_s": round(self.poller.interval_s, 1),
            "backoff": self.backoff_kind,
            "backoff_remaining_s": round(self._backoff.remaining_s(), 1),
        }


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
