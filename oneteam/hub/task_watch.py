"""What the hub does when one of its supervised tasks fails or comes back: the devices the task
serves go unavailable (and available again), a typed warning goes on the bus, and `task_health`
lists every supervisor the hub knows of."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oneteam.hub.adapter import Adapter
from oneteam.hub.registry import Registry
from oneteam.hub.supervisor import Supervisor
from oneteam.i18n import render
from oneteam.model import Event, EventKind
from oneteam.model.warning import DeviceWarning

_TASK_DOWN = "hub.task_down"


class TaskWatch:
    """The hub's supervisor hooks and the health listing of the hub, its adapters and watched parts."""

    def __init__(self, registry: Registry, publish: Callable[[Event], Event]) -> None:
        self._registry = registry
        self._publish = publish
        self.watched: list[Supervisor] = []

    def failed(self, name: str, devices: list[str], exc: BaseException) -> None:
        for device_id in devices:
            self._registry.set_available(
                device_id, False, f"task {name} is down", f"task:{name}", reason_key=_TASK_DOWN
            )
        reason = "hub.task_failed"
        facts = {"task": name, "error": exc.__class__.__name__}
        self._publish(
            Event(
                kind=EventKind.WARNING,
                data={
                    "reason": reason,
                    **facts,
                    "message_ko": render(reason, "ko", **facts),
                    "message_en": render(reason, "en", **facts),
                    **DeviceWarning(
                        key=reason,
                        problem=f"task:{name}",
                        source="hub",
                        params=facts,
                        text={lang: render(reason, lang, **facts) for lang in ("ko", "en")},
                    ).as_data(),
                },
                source=f"task:{name}",
            )
        )

    def recovered(self, name: str, devices: list[str]) -> None:
        # Only the devices this hook marked down come back; another reason (unplugged) stays.
        for device_id in devices:
            if self._registry.unavailable_reason(device_id)[1] == _TASK_DOWN:
                self._registry.set_available(device_id, True, "", f"task:{name}")

    def health(self, own: Supervisor, adapters: list[Adapter]) -> list[dict[str, Any]]:
        rows = own.health()
        for watched in self.watched:
            rows.extend(watched.health())
        for adapter in adapters:
            supervisor = getattr(adapter, "supervisor", None)
            if isinstance(supervisor, Supervisor):
                rows.extend(supervisor.health())
        return rows
