"""Which devices read an MQTT topic, and how. Several entities may share one topic (one Zigbee2MQTT
state topic feeds a device's every entity), so the adapter subscribes when a topic gets its first
reader and unsubscribes when it loses its last."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class TopicRoutes(Generic[T]):
    """Topic → (device id, how that device reads it), in the order the devices were bound."""

    def __init__(self) -> None:
        self._routes: dict[str, list[tuple[str, T]]] = {}

    def get(self, topic: str) -> list[tuple[str, T]]:
        """Who reads `topic` (empty if nobody)."""
        return self._routes.get(topic, [])

    def add(self, topic: str, device_id: str, reader: T) -> bool:
        """Route `topic` to `device_id` too; True when it is the topic's first reader (subscribe)."""
        routes = self._routes.setdefault(topic, [])
        routes.append((device_id, reader))
        return len(routes) == 1

    def remove(self, device_id: str) -> list[str]:
        """Stop routing anything to `device_id`; returns the topics nobody reads any more (unsubscribe)."""
        emptied: list[str] = []
        for topic in [t for t, routes in self._routes.items() if any(d == device_id for d, _ in routes)]:
            kept = [route for route in self._routes[topic] if route[0] != device_id]
            if kept:
                self._routes[topic] = kept
            else:
                del self._routes[topic]
                emptied.append(topic)
        return emptied
