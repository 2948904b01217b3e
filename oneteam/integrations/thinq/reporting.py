"""What the ThinQ adapter has told the hub: each device's last attributes and availability.

Only changes travel: an attribute is reported when its value differs from what the hub last
heard, availability when it flips, and a cycle's end once (`finished` after anything else).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oneteam.hub.adapter import AdapterSink
from oneteam.i18n import LANGUAGES, render
from oneteam.model import Device, EventKind, StateValue
from oneteam.model.warning import DeviceWarning, Severity


class StateReporter:
    """The adapter's side of the hub's state store."""

    def __init__(self) -> None:
        self.sink: AdapterSink | None = None
        self._attributes: dict[str, dict[str, StateValue]] = {}
        self._unavailable: dict[str, str] = {}
        """Device id → the reason (an i18n key) it was reported unavailable."""
        self._devices: dict[str, Device] = {}
        """The devices announced, for their names in warnings."""

    def add(self, device: Device) -> None:
        """A new device: announce it to the hub."""
        self._attributes[device.id] = {}
        self._devices[device.id] = device
        if self.sink is not None:
            self.sink.add_device(device)

    def remove(self, device_id: str) -> None:
        """A device left the account: tell the hub."""
        self._attributes.pop(device_id, None)
        self._devices.pop(device_id, None)
        self._unavailable.pop(device_id, None)
        if self.sink is not None:
            self.sink.remove_device(device_id)

    def attributes(self, device_id: str) -> dict[str, StateValue]:
        """The device's last reported attributes (a copy)."""
        return dict(self._attributes.get(device_id, {}))

    @property
    def unavailable(self) -> set[str]:
        """Devices reported unavailable."""
        return set(self._unavailable)

    def reason(self, device_id: str) -> str | None:
        """Why the device was reported unavailable (None while it is available)."""
        return self._unavailable.get(device_id)

    def report(self, device_id: str, attributes: Mapping[str, StateValue]) -> None:
        """Report the attributes that changed; the device answered, so it is available."""
        known = self._attributes.setdefault(device_id, {})
        changes = {k: v for k, v in attributes.items() if v is not None and known.get(k) != v}
        finished = changes.get("run_state") == "finished" and known.get("run_state") not in (None, "finished")
        known.update(changes)
        self.set_available(device_id, True, "")
        if self.sink is None:
            return
        if changes:
            self.sink.report_state(device_id, changes)
        if finished:
            self.sink.report_event(device_id, EventKind.FINISHED, {"run_state": "finished"})

    def set_available(self, device_id: str, is_available: bool, reason: str) -> None:
        """Report availability when it flips; `reason` is an i18n key."""
        if is_available == (device_id not in self._unavailable):
            if not is_available and self._unavailable[device_id] != reason and self.sink is not None:
                # Still unavailable, for another reason: the hub shows the newest one.
                self._unavailable[device_id] = reason
                self.sink.report_availability(device_id, False, reason_key=reason)
            return
        if is_available:
            self._unavailable.pop(device_id, None)
        else:
            self._unavailable[device_id] = reason
        if self.sink is not None:
            self.sink.report_availability(device_id, is_available, reason_key=reason or None)

    def set_all_available(self, device_ids: Iterable[str], is_available: bool, reason: str = "") -> None:
        """The same availability for many devices (the account's token, LG's outage)."""
        for device_id in list(device_ids):
            self.set_available(device_id, is_available, reason)

    def warn(self, device_ids: Iterable[str], data: Mapping[str, Any]) -> None:
        """A WARNING event on each device (a back-off, an appliance's own notification), in the
        shared warning shape; `data.reason` is the message key, the other fields its parameters."""
        if self.sink is None:
            return
        for device_id in device_ids:
            warning = thinq_warning(self._devices.get(device_id), device_id, data)
            self.sink.report_event(device_id, EventKind.WARNING, {**data, **warning.as_data()})


_INFO_REASONS = frozenset({"thinq.push_lost"})


def thinq_warning(device: Device | None, device_id: str, data: Mapping[str, Any]) -> DeviceWarning:
    """One ThinQ warning with its text in every language (the device named as the household calls it)."""
    key = str(data.get("reason", "thinq.push"))
    params = {k: v for k, v in data.items() if k != "reason" and isinstance(v, (str, int, float))}
    # An appliance's own notifications differ by code; LG's own troubles are one problem each.
    problem = f"{key}.{params['code']}" if key == "thinq.push" and "code" in params else key
    names = {lang: device.name_in(lang) if device else device_id for lang in LANGUAGES}
    text = {lang: render(key, lang, **{"name": names[lang], **params}) for lang in LANGUAGES}
    facts = {}
    if "retry_in_s" in params:
        facts = {lang: render("warnings.retry_in", lang, **params) for lang in LANGUAGES}
    return DeviceWarning(
        key=key,
        problem=problem,
        source="thinq",
        device_id=device_id,
        params=params,
        severity=Severity.INFO if key in _INFO_REASONS else Severity.WARNING,
        text=text,
        facts=facts,
    )
