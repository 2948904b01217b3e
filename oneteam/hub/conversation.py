"""The hook through which any door (HTTP, voice, Wyoming, MCP, a partner) hands a sentence to the
language understanding, without importing it: the voice room registers an agent at start-up."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Protocol

from oneteam.model import Grant, OneteamError
from oneteam.model.conversation import ConversationReply

DOOR_GRANT: ContextVar[Grant | None] = ContextVar("oneteam_door_grant", default=None)
"""The grant of the request being handled, set by a door whose sentences reach `Hub.converse`
through layers that do not carry it (the voice pipeline); `Hub.converse` uses it when given none."""


class ConversationUnavailable(OneteamError):
    """No language understanding is running in this hub."""

    key = "error.conversation_unavailable"


class ConversationAgent(Protocol):
    """Understands a sentence and acts on it through the hub."""

    async def converse(
        self,
        text: str,
        *,
        room: str | None,
        language: str | None,
        session: str,
        source: str,
        grant: Grant | None = None,
    ) -> ConversationReply:
        """Handle one turn; `session` keys pending questions (a clarify and its answer). Every
        command it dispatches or schedules is checked against `grant` first."""
