"""The running core: device registry, state store, event bus, command dispatch, persistence, configuration.

Names load on first use (PEP 562): a short command that needs one part (`oneteam understand`
reads a home file) does not pay for the storage, the bus and pydantic's configuration models."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oneteam.hub.adapter import Adapter, AdapterSink
    from oneteam.hub.bus import EventBus, Subscription
    from oneteam.hub.config import ConfigError, HubConfig, load_config, open_storage
    from oneteam.hub.conversation import ConversationAgent, ConversationUnavailable
    from oneteam.hub.core import Hub
    from oneteam.hub.homefile import load_home, parse_home
    from oneteam.hub.homefile_reading import HomeFileError, Problem
    from oneteam.hub.sqlite_store import SqliteStorage
    from oneteam.hub.storage import EventQuery, Storage, TokenRecord

_WHERE = {
    "Adapter": "adapter",
    "AdapterSink": "adapter",
    "EventBus": "bus",
    "Subscription": "bus",
    "ConfigError": "config",
    "HubConfig": "config",
    "load_config": "config",
    "open_storage": "config",
    "ConversationAgent": "conversation",
    "ConversationUnavailable": "conversation",
    "Hub": "core",
    "HomeFileError": "homefile_reading",
    "Problem": "homefile_reading",
    "load_home": "homefile",
    "parse_home": "homefile",
    "SqliteStorage": "sqlite_store",
    "EventQuery": "storage",
    "Storage": "storage",
    "TokenRecord": "storage",
}

__all__ = [
    "Adapter",
    "AdapterSink",
    "ConfigError",
    "ConversationAgent",
    "ConversationUnavailable",
    "EventBus",
    "EventQuery",
    "HomeFileError",
    "Hub",
    "HubConfig",
    "Problem",
    "SqliteStorage",
    "Storage",
    "Subscription",
    "TokenRecord",
    "load_config",
    "load_home",
    "open_storage",
    "parse_home",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
