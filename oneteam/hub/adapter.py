"""The one interface through which the hub knows a device ecosystem (virtual, MQTT, LG ThinQ)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from oneteam.model import Command, Device, EventKind, State, StateValue


class AdapterSink(Protocol):
    """What an adapter may tell the hub. Every method is cheap and non-blocking; call it on the loop."""

    def report_state(self, device_id: str, changes: Mapping[str, StateValue]) -> None:
        """Some attributes of a device changed."""

    def report_event(self, device_id: str, kind: EventKind, data: Mapping[str, Any]) -> None:
        """Something happened on a device (a wash cycle finished, a warning)."""

    def report_availability(
        self, device_id: str, is_available: bool, reason: str = "", *, reason_key: str | None = None
    ) -> None:
        """A device went offline or came back. `reason` is free text (logs, the event); `reason_key`
        an i18n message key every door renders in its caller's language (`thinq.poll_failed`)."""

    def add_device(self, device: Device) -> None:
        """A device appeared after start (MQTT discovery, a new appliance on a vendor account)."""

    def remove_device(self, device_id: str) -> None:
        """A device is gone."""


class Adapter(Protocol):
    """Everything the hub needs from one device ecosystem."""

    name: str
    """The integration's name: `virtual`, `mqtt`, `thinq`; devices name it in `Device.integration`."""

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        """Connect and begin reporting; `last_states` are the stored states of this adapter's devices."""

    async def devices(self) -> Sequence[Device]:
        """The devices this adapter owns now."""

    async def execute(self, command: Command) -> None:
        """Carry out a validated command; raise DeviceUnavailable or VendorError when it cannot."""

    async def stop(self) -> None:
        """Disconnect and end every task the adapter started."""


@runtime_checkable
class ForgetsDevices(Protocol):
    """An adapter whose ecosystem can be told that the household removed a device."""

    async def forget(self, device_id: str) -> None:
        """Stop announcing `device_id` to this and later hubs (MQTT: clear its retained discovery)."""
