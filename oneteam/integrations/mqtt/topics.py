"""Where a home's MQTT topics live: at the top of the broker (one home per broker, the default) or
under a root of their own (`oneteam/<home_id>`, many homes on one broker cluster).

One root moves all three families together, so a broker login allowed `<root>/#` and nothing
else is enough for the hub and for the home's devices: discovery configs, the devices' state and
command topics (the simulator's; real devices are configured to publish under the root), and the
hub's own exported devices.
"""

from __future__ import annotations

from dataclasses import dataclass

from oneteam.integrations.mqtt.const import DEFAULT_BASE_TOPIC, DEFAULT_DISCOVERY_PREFIX

SIMULATOR_BASE = "oneteam-sim"


@dataclass(frozen=True, slots=True)
class HomeTopics:
    """The topic families of one home; `HomeTopics()` is the single-home layout."""

    root: str = ""

    def __post_init__(self) -> None:
        levels = self.root.split("/") if self.root else []
        if any(not level or set(level) & set("+#. ") for level in levels):
            # '.' too: NATS (the many-homes broker) maps topic levels to subject tokens and closes
            # the connection of a client that uses one in a topic.
            raise ValueError(
                f"topic root must be plain topic levels (no '+', '#', '.', spaces), got {self.root!r}"
            )

    def _under(self, name: str, default: str) -> str:
        return f"{self.root}/{name}" if self.root else default

    @property
    def discovery_prefix(self) -> str:
        """Discovery configs: `homeassistant`, or `<root>/homeassistant`."""
        return self._under("homeassistant", DEFAULT_DISCOVERY_PREFIX)

    @property
    def hub_base(self) -> str:
        """The hub's own devices (state, availability, `…/set`): `oneteam`, or `<root>/hub`."""
        return self._under("hub", DEFAULT_BASE_TOPIC)

    @property
    def simulator_base(self) -> str:
        """The simulator's devices: `oneteam-sim`, or `<root>/sim`."""
        return self._under("sim", SIMULATOR_BASE)
