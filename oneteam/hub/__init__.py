"""The running core: device registry, state store, event bus, command dispatch, persistence, configuration."""

from oneteam.hub.adapter import Adapter, AdapterSink
from oneteam.hub.bus import EventBus, Subscription
from oneteam.hub.config import ConfigError, HubConfig, load_config, open_storage
from oneteam.hub.conversation import ConversationAgent, ConversationUnavailable
from oneteam.hub.core import Hub
from oneteam.hub.homefile import HomeFileError, Problem, load_home, parse_home
from oneteam.hub.sqlite_store import SqliteStorage
from oneteam.hub.storage import EventQuery, Storage, TokenRecord

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
