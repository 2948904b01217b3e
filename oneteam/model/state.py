"""The state of a device: a flat set of named attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

StateValue = bool | int | float | str | None

_EMPTY: Mapping[str, StateValue] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """A device's last known state.

    Attribute names are shared across ecosystems: `power` (bool), `temperature` (target °C),
    `current_temperature`, `mode`, `fan_speed`, `brightness`, `volume`, `channel`,
    `run_state` (idle/running/paused/finished, docked/cleaning/returning), `remaining_time`
    (seconds), `battery` (%), `door` (open/closed), `air_quality` (good/moderate/bad/very_bad),
    `fridge_temperature`, `freezer_temperature`, `express_freeze`, `zone` (the zone a robot cleaner
    cleans, None: the whole home), `locked` (bool, door locks), `valve` (open/closed, gas valves).
    """

    device_id: str
    attributes: Mapping[str, StateValue] = field(default_factory=lambda: _EMPTY)
    is_available: bool = True
    updated_at: float = 0.0
    """Unix time of the last change, seconds."""

    def merged(self, changes: Mapping[str, StateValue], at: float) -> State:
        """A new state with `changes` applied."""
        return State(
            device_id=self.device_id,
            attributes=MappingProxyType({**self.attributes, **changes}),
            is_available=self.is_available,
            updated_at=at,
        )

    def get(self, name: str, default: StateValue = None) -> StateValue:
        """One attribute, or `default`."""
        return self.attributes.get(name, default)
