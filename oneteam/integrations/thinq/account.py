"""One ThinQ Connect account: its session, the SDK's ThinQApi, and the appliances found on it.

Discovery turns LG's device list and profiles into hub devices (convert.py); `refresh` reads one
device's status and reports what changed. Every call goes through `call`, which bounds it in
time and turns whatever the SDK or aiohttp raised into a CloudError.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from thinqconnect import ThinQApi

from oneteam.integrations.thinq import const
from oneteam.integrations.thinq.cloud import (
    AnswerLog,
    ApplianceOffline,
    CloudError,
    ConnectorFactory,
    classify,
    open_session,
)
from oneteam.integrations.thinq.config import ThinqConfig
from oneteam.integrations.thinq.convert import (
    Appliance,
    UnsupportedAppliance,
    attributes_of,
    build_appliances,
    listed_devices,
)
from oneteam.integrations.thinq.poller import CallBudget
from oneteam.integrations.thinq.reporting import StateReporter

_LOGGER = logging.getLogger(__name__)


class ThinqAccount:
    """The account's connection and its appliances."""

    def __init__(
        self,
        config: ThinqConfig,
        *,
        budget: CallBudget,
        reporter: StateReporter,
        connector_factory: ConnectorFactory | None,
    ) -> None:
        self.config = config
        self.budget = budget
        self.reporter = reporter
        self.answers = AnswerLog()
        self.appliances: dict[str, Appliance] = {}
        """Hub device id → appliance."""
        self.by_thinq: dict[str, list[Appliance]] = {}
        """ThinQ device id → its appliances (two for a WashTower)."""
        self.skipped: list[str] = []
        """Models skipped at discovery (unknown type or unreadable profile)."""
        self._skipped_ids: set[str] = set()
        self._connector_factory = connector_factory
        self._session: aiohttp.ClientSession | None = None
        self.api: Any = None

    def open(self) -> None:
        """Open the session the SDK talks through."""
        self._session = open_session(self.answers, self._connector_factory)
        self.api = self._new_api()

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _new_api(self) -> Any:
        return ThinQApi(
            session=self._session,
            access_token=self.config.access_token.get_secret_value(),
            country_code=self.config.country,
            client_id=self.config.client_id,
        )

    def use_token(self, token: str) -> None:
        """Talk to LG with a new access token from now on."""
        self.config = self.config.with_token(token)
        self.api = self._new_api()
        for appliances in self.by_thinq.values():
            for appliance in appliances:
                appliance.root.thinq_api = self.api
                appliance.sdk.thinq_api = self.api

    async def call(self, work: Any) -> Any:
        """Await one SDK call within the request timeout; failures come out as CloudError."""
        try:
            async with asyncio.timeout(self.config.polling.request_timeout_s):
                return await work
        except (Exception, TimeoutError) as exc:
            if isinstance(exc, CloudError):
                raise
            raise classify(exc, self.answers) from exc

    async def discover(self) -> tuple[list[Appliance], bool]:
        """Read the device list and new profiles; report new devices with their first state.

        Returns the appliances added and whether the set of ThinQ devices changed.
        """
        self.budget.record()
        listed = listed_devices(await self.call(self.api.async_get_device_list()))
        before = set(self.by_thinq)
        self._forget_missing({entry.thinq_id for entry in listed})
        found: list[Appliance] = []
        for entry in listed:
            if entry.thinq_id in self.by_thinq or entry.thinq_id in self._skipped_ids:
                continue
            if entry.device_type not in const.DEVICE_TYPES:
                self._skip(entry.thinq_id, entry.model, f"device type {entry.device_type} is not supported")
                continue
            self.budget.record()
            try:
                profile = await self.call(self.api.async_get_device_profile(entry.thinq_id))
                appliances = build_appliances(self.api, entry, profile, self.config.rooms)
            except UnsupportedAppliance as exc:
                self._skip(entry.thinq_id, exc.model, exc.reason)
                continue
            except ApplianceOffline as exc:
                _LOGGER.warning("ThinQ appliance %s offline; added when it is back (%s)", entry.model, exc)
                continue
            self.by_thinq[entry.thinq_id] = appliances
            for appliance in appliances:
                self.appliances[appliance.device.id] = appliance
                self.reporter.add(appliance.device)
            found.extend(appliances)
        for thinq_id in dict.fromkeys(a.thinq_id for a in found):
            self.budget.record()
            with contextlib.suppress(ApplianceOffline):
                await self.refresh(thinq_id)
        _LOGGER.info("ThinQ: %d appliances, %d skipped", len(self.appliances), len(self.skipped))
        return found, set(self.by_thinq) != before

    def _skip(self, thinq_id: str, model: str, reason: str) -> None:
        _LOGGER.warning("ThinQ appliance %s skipped: %s", model, reason)
        self.skipped.append(model)
        self._skipped_ids.add(thinq_id)

    def _forget_missing(self, listed_ids: set[str]) -> None:
        """Appliances no longer on the account leave the hub."""
        for thinq_id in [t for t in self.by_thinq if t not in listed_ids]:
            for appliance in self.by_thinq.pop(thinq_id):
                del self.appliances[appliance.device.id]
                self.reporter.remove(appliance.device.id)

    async def refresh(self, thinq_id: str) -> None:
        """Ask LG for one device's status and report what changed."""
        status = await self.call(self.api.async_get_device_status(thinq_id))
        self._merge(thinq_id, "status", lambda root: root.set_status(status))

    def apply_report(self, thinq_id: str, report: dict[str, Any]) -> None:
        """A partial status pushed by LG: merge it and report what changed."""
        self._merge(thinq_id, "push report", lambda root: root.update_status(report))

    def _merge(self, thinq_id: str, what: str, merge: Callable[[Any], object]) -> None:
        """Apply a status to the SDK device, then report every hub device it backs (a WashTower has two)."""
        appliances = self.by_thinq.get(thinq_id, [])
        if not appliances:
            return
        try:
            merge(appliances[0].root)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            _LOGGER.warning("ThinQ %s of %s not readable (%s)", what, appliances[0].device.model, exc)
            return
        for appliance in appliances:
            self.reporter.report(appliance.device.id, attributes_of(appliance))
