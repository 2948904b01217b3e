"""Simulated appliances with real behaviour, for the demo home and for tests."""

from oneteam.integrations.virtual.adapter import VirtualAdapter

__all__ = ["VirtualAdapter"]
