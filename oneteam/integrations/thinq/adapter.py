"""The ThinQ integration: LG appliances through LG's own SDK (`thinqconnect`), behind the hub's Adapter.

The account (account.py) holds the session and the appliances; state comes by push (push.py, kept
by push_link.py) when LG's MQTT can be set up, else from budgeted polling (poller.py), and after
each command; commands
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
)
from oneteam.integrations.thinq.config import ThinqConfig, ThinqConfigError, load_thinq_config
from oneteam.integrations.thinq.confirm import expected_of, shows
from oneteam.integrations.thinq.const import BackoffKind, StateSource
from oneteam.integrations.thinq.control import control_call
from oneteam.integrations.thinq.errors import ThinqRefused, ThinqUnavailable, to_oneteam
from oneteam.integrations.thinq.poller import Backoff, CallBudget, Poller, PollHooks
from oneteam.integrations.thinq.push_link import PushLink
from oneteam.integrations.thinq.reporting import StateReporter
from oneteam.model import Command, CommandPending, Device, DeviceNotFound, State

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
        confirm_s: float = const.CONFIRM_S,
    ) -> None:
        """`connector_factory` points the SDK's session elsewhere (tests, the demo);
        `budget_window_s` compresses LG's hour for benchmarks; a new token written to
        `config_file` (by `oneteam thinq link`) is picked up while running."""
        self._config_file = config_file
        self.confirm_s = confirm_s
        """How long a command waits for its effect to show before it is answered as pending."""
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
        self.backoff_kind: BackoffKind | None = None
        self._discovered = asyncio.Event()
        self._retry_now = asyncio.Event()
        self.push = PushLink(
            self.account,
            budget=self.budget,
            poller=self.poller,
            backoff=self._backoff,
            reporter=self._reporter,
            supervisor=self.supervisor,
        )

    # -- lifetime -------------------------------------------------------------------------------

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        """Open the session, discover the account's appliances and start polling."""
        self._reporter.sink = sink
        self.push.stopping = False
        self.supervisor.start()
        self.account.open()
        await self._try_discover("ThinQ discovery failed (%s); retrying in the background")
        everything = self._all_devices
        self.supervisor.spawn("thinq-poller", self.poller.run, devices=everything)
        self.supervisor.spawn("thinq-rediscovery", self._rediscover_loop)
        config_file = self._config_file
        if config_file is not None:
            self.supervisor.spawn("thinq-config", lambda: self._watch_config(config_file))
        if not self._discovered.is_set():
            self.supervisor.spawn("thinq-discovery", self._discover_later, devices=everything)
        elif self.config.use_push and self.account.by_thinq:
            self.supervisor.spawn("thinq-push", self.push.start)

    def _all_devices(self) -> list[str]:
        return list(self.account.appliances)

    async def stop(self) -> None:
        """Cancel polling and close the session."""
        self.push.stopping = True
        await self.supervisor.stop()
        try:
            await self.push.close()
        finally:
            await self.account.close()

    @property
    def mode(self) -> StateSource:
        """`push` while LG's MQTT push is connected, else `polling`."""
        return self.push.mode

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

    async def _try_discover(self, failure: str, level: int = logging.WARNING) -> None:
        """Discover once: a refused token pauses everything, a cloud error is logged (`failure`
        with the error) and the caller tries again later."""
        try:
            await self.discover()
        except TokenRejected as exc:
            self._on_token_rejected(str(exc))
        except CloudError as exc:
            _LOGGER.log(level, failure, exc)

    async def _rediscover_loop(self) -> None:
        """Look for appliances added to or removed from the account, one list call at a time."""
        while True:
            await asyncio.sleep(self.config.polling.rediscover_s)
            if not self.token_ok or self._backoff.remaining_s() > 0:
                continue
            await self._try_discover("ThinQ device list not refreshed (%s)", logging.INFO)

    async def _discover_later(self) -> None:
        while not self._discovered.is_set():
            self._retry_now.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._backoff.hit(None)):
                    await self._retry_now.wait()
            if not self.token_ok:
                continue
            await self._try_discover("ThinQ discovery failed again (%s)")
        self._backoff.clear()
        if self.config.use_push and self.account.by_thinq:
            await self.push.start()

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

    def _on_backoff(self, kind: BackoffKind, delay_s: float, reason: str) -> None:
        first = self.backoff_kind is None
        self.backoff_kind = kind
        if kind is BackoffKind.OUTAGE:
            self._reporter.set_all_available(self.account.appliances, False, "thinq.cloud_unreachable")
        if first:
            data = {"reason": f"thinq.backoff.{kind.value}", "retry_in_s": round(delay_s, 1)}
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
        if waiting_s > 0 and self.backoff_kind is BackoffKind.RATE_LIMITED:
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
            await self._confirm(command, device)
        except CloudError as exc:
            if isinstance(exc, TokenRejected):
                self._on_token_rejected(str(exc))
            elif isinstance(exc, RateLimited):
                self._on_backoff(BackoffKind.RATE_LIMITED, self._backoff.hit(exc.retry_after_s), str(exc))
            raise to_oneteam(exc, device, retry_in_s=self._backoff.remaining_s() or None) from exc
        except ValueError as exc:
            # The SDK checks a value against the profile before sending; validation should have.
            raise ThinqRefused(device, "thinq.refused.invalid_value", str(exc)) from exc

    async def _confirm(self, command: Command, device: Device) -> None:
        """CommandPending unless the appliance shows the command's effect within `confirm_s`: the
        read-back first, then push reports (no extra API calls; the next poll also tells)."""
        expected = expected_of(command)
        deadline = time.monotonic() + self.confirm_s
        while not shows(expected, self._reporter.attributes(device.id)):
            if time.monotonic() >= deadline:
                raise CommandPending(
                    device.id,
                    f"accepted {command.name}, not shown within {self.confirm_s:g} s",
                    name=device.display_name,
                )
            await asyncio.sleep(0.05)

    # -- health ---------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Counters and modes for the API's health page and the benchmark (no secrets)."""
        return {
            "appliances": len(self.account.appliances),
            "skipped": list(self.skipped),
            "mode": self.push.mode.value,
            "push_down_s": round(time.time() - self.push.lost_at, 1) if self.push.lost_at else None,
            "push_interruptions": self.push.interruptions,
            "push_error": self.push.error,
            "failing_tasks": [row["task"] for row in self.supervisor.failing()],
            "token_ok": self.token_ok,
            "calls_total": self.account.answers.calls,
            "calls_last_hour": self.budget.used(),
            "calls_per_hour_budget": self.budget.calls_per_hour,
            "poll_interval_s": round(self.poller.interval_s, 1),
            "backoff": self.backoff_kind.value if self.backoff_kind else None,
            "backoff_remaining_s": round(self._backoff.remaining_s(), 1),
        }


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
