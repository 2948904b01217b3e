"""What every simulated appliance shares: its attributes, commands dispatched to `_cmd_<name>`
methods that return the attributes they change, and a step of simulated time (`advance`)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from oneteam.model import Command, CommandName, Device, EventKind, StateValue

Changes = dict[str, StateValue]
_HANDLER_NAMES = {name.value: f"_cmd_{name.value}" for name in CommandName}
"""Command name → its handler's method name, not formatted again for every command."""


@dataclass
class Outcome:
    """What one step of an appliance changed, and what it has to report."""

    changes: Changes = field(default_factory=dict)
    events: list[tuple[EventKind, dict[str, Any]]] = field(default_factory=list)


class Appliance:
    """Base: on/off plus the attribute book-keeping every appliance shares."""

    defaults: ClassVar[Mapping[str, StateValue]] = {}

    def __init__(self, device: Device, rng: random.Random) -> None:
        self.device = device
        self.rng = rng
        self.attributes: Changes = dict(self.defaults)

    def restore(self, attributes: Mapping[str, StateValue]) -> None:
        """Continue from a stored state (after a restart)."""
        self.attributes.update({k: v for k, v in attributes.items() if k in self.defaults})

    def execute(self, command: Command) -> Changes:
        """Carry out a validated command; return the attributes that change."""
        if command.name in ("turn_on", "turn_off"):
            return self._set(power=command.name == "turn_on")
        handler = getattr(self, _HANDLER_NAMES.get(command.name) or f"_cmd_{command.name}", None)
        if handler is None:  # validation already refused commands the type lacks
            return {}
        changes: Changes = handler(command)
        return changes

    def advance(self, dt_s: float) -> Outcome:
        """Move simulated time forward by `dt_s` seconds."""
        return Outcome()

    def _set(self, **changes: StateValue) -> Changes:
        self.attributes.update(changes)
        return changes

    def _adjust(self, name: str, command: Command, step: float, low: float, high: float) -> float:
        current = float(self.attributes.get(name) or 0)
        amount = float(command.value) if isinstance(command.value, int | float) else step
        sign = 1 if command.direction == "up" else -1
        return max(low, min(high, current + sign * amount))


def num(value: float) -> int | float:
    """A whole number as an int, else rounded to one decimal (as appliances show values)."""
    return int(value) if float(value).is_integer() else round(value, 1)
