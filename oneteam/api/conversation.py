"""Talking to the home: a sentence in, what was understood and done out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from oneteam.api.auth import caller_of, grant_of, hub_of
from oneteam.api.errors import language_of
from oneteam.api.schemas import error_responses
from oneteam.model.conversation import MAX_SENTENCE_CHARS

router = APIRouter(prefix="/api/conversation", tags=["conversation"])


class ConversationRequest(BaseModel):
    """One sentence from a person."""

    model_config = ConfigDict(extra="forbid")

    # The length cap is the hub's (every door shares it), refused with its own message.
    text: str = Field(min_length=1, json_schema_extra={"maxLength": MAX_SENTENCE_CHARS})
    room: str | None = Field(default=None, max_length=64, description="The room of the speaker device.")
    language: str | None = Field(
        default=None, pattern="^(ko|en)$", description="Reply language; detected if unset."
    )
    session: str = Field(
        default="", max_length=128, description="Keeps a clarifying question and its answer together."
    )
    allow: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None,
        max_length=32,
        description="Commands this sentence may run; narrows the token's own permissions, never widens "
        "them (an MCP server passes its --allow list).",
    )
    devices: list[Annotated[str, Field(max_length=128)]] | None = Field(
        default=None,
        max_length=1000,
        description="Devices this sentence may act on; narrows like `allow` (an MCP server's --device).",
    )


@router.post("", responses=error_responses(403, 503))
async def converse(body: ConversationRequest, request: Request) -> dict[str, Any]:
    """Understand the sentence, act through the hub, and answer in words."""
    hub = hub_of(request)
    if body.room is not None and body.room not in hub.home.rooms:
        body = body.model_copy(update={"room": None})
    speaker = caller_of(request).speaker(hub.home)
    if body.room is None and speaker is not None:  # a satellite speaks from its room (home file)
        body = body.model_copy(update={"room": speaker.room})
    session = body.session or f"http:{request.headers.get('authorization', '')[-12:]}:{body.room or ''}"
    language = body.language or (language_of(request) if request.headers.get("accept-language") else None)
    grant = grant_of(request)
    if body.allow is not None:
        grant = grant.narrowed(commands=frozenset(body.allow))
    if body.devices is not None:
        grant = grant.narrowed(devices=frozenset(body.devices))
    reply = await hub.converse(body.text, room=body.room, language=language, session=session, grant=grant)
    return asdict(reply)
