"""ThinQ failures as oneteam errors a person can read: each carries an i18n key and its facts."""

from __future__ import annotations

from typing import Any

from oneteam.integrations.thinq import const
from oneteam.integrations.thinq.cloud import (
    ApplianceOffline,
    ApplianceRefusal,
    CloudDown,
    CloudError,
    RateLimited,
    TokenRejected,
)
from oneteam.model import Device, DeviceUnavailable, OneteamError, VendorError


class ThinqUnavailable(DeviceUnavailable):
    """The appliance cannot be reached through LG now; `key` says why and what to do."""

    def __init__(self, device: Device, key: str, reason: str, **facts: Any) -> None:
        super().__init__(device.id, reason)
        self.key = key
        self.params.update(name=device.display_name, **facts)


class ThinqRefused(VendorError):
    """The appliance (or LG on its behalf) refused; `key` renders its reason in the person's language."""

    def __init__(self, device: Device, key: str, reason: str, **facts: Any) -> None:
        super().__init__(device.id, reason)
        self.key = key
        self.params.update(name=device.display_name, **facts)


def refusal_key(code: str, message: str) -> str:
    """The i18n key of an appliance's refusal: a precise hint in LG's words wins over the code."""
    lowered = message.lower()
    for word, key in const.REASON_HINTS:
        if word in lowered:
            return key
    return const.REFUSALS.get(code, "thinq.refused.other")


def to_oneteam(error: CloudError, device: Device, *, retry_in_s: float | None = None) -> OneteamError:
    """The error to raise to the hub for a failed call about `device`."""
    if isinstance(error, TokenRejected):
        return ThinqUnavailable(device, "thinq.token_invalid", str(error))
    if isinstance(error, RateLimited):
        wait = retry_in_s if retry_in_s is not None else error.retry_after_s or 0.0
        return ThinqRefused(device, "thinq.rate_limited", str(error), retry_in_s=round(wait))
    if isinstance(error, CloudDown):
        return ThinqUnavailable(device, "thinq.cloud_unreachable", str(error))
    if isinstance(error, ApplianceOffline):
        return ThinqUnavailable(device, "thinq.appliance_offline", str(error))
    if isinstance(error, ApplianceRefusal):
        return ThinqRefused(device, refusal_key(error.code, error.message), error.message, code=error.code)
    return ThinqUnavailable(device, "thinq.cloud_unreachable", str(error))
