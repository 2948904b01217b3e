"""Spoken audio from the hub: any sentence, or the spoken form of an alert or warning event.

The page plays it when a notice arrives, so the home says an epidemic alert or a failure warning
aloud; a speaker device can fetch it the same way. Korean text goes through the reading
normaliser (24도 → 이십사 도) in front of eSpeak NG.
"""

from __future__ import annotations

import asyncio
import io
import threading
import wave
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from oneteam.api.auth import hub_of
from oneteam.api.errors import language_of
from oneteam.api.schemas import ROW_ID_MAX, error_responses
from oneteam.hub import EventQuery
from oneteam.model import EventKind, InvalidValue, NotFound
from oneteam.voice.tts import EspeakEngine, Speaker

router = APIRouter(prefix="/api/speech", tags=["speech"])

_SPOKEN_KINDS = (EventKind.ALERT, EventKind.WARNING, EventKind.NOTICE, EventKind.SAY)
# Where each kind of notice keeps its words: the spoken text first, then what is shown.
_TEXT_FIELDS = ("speech", "text", "notice")
_speakers: dict[str, Speaker] = {}
_engine_lock = threading.Lock()  # eSpeak NG keeps global state: one sentence at a time


class SpeechRequest(BaseModel):
    """A sentence to say, or the id of an alert or warning event to say."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1, max_length=1000)
    event: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)
    language: str | None = Field(default=None, pattern="^(ko|en)$")


class EventNotFound(NotFound):
    """No alert or warning event with this id."""

    key = "error.speech_event_not_found"


def _spoken_text(data: dict[str, Any], language: str) -> str:
    for field_name in _TEXT_FIELDS:
        value = data.get(field_name)
        if isinstance(value, dict) and (value.get(language) or value.get("ko")):
            return str(value.get(language) or value.get("ko"))
        if isinstance(value, str) and value:
            return value
    return ""


def _wav(text: str, language: str) -> bytes:
    with _engine_lock:
        speaker = _speakers.get(language)
        if speaker is None:
            speaker = _speakers[language] = Speaker(EspeakEngine(voice=language), language=language)
        audio = speaker.speak(text)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(audio.sample_rate)
        wav.writeframes(audio.pcm)
    return buffer.getvalue()


@router.post("", responses={200: {"content": {"audio/wav": {}}}, **error_responses(404)})
async def speak(body: SpeechRequest, request: Request) -> Response:
    """WAV audio of `text`, or of the alert or warning event `event` in `language`."""
    language = body.language or language_of(request)
    if (body.text is None) == (body.event is None):
        raise InvalidValue("error.speech_what", "give either text or event")
    text = body.text or ""
    if body.event is not None:
        query = EventQuery(kinds=_SPOKEN_KINDS, before_id=body.event + 1, limit=1)
        found = await hub_of(request).events(query)
        if not found or found[0].id != body.event:
            raise EventNotFound(f"no alert or warning {body.event}", event=body.event)
        text = _spoken_text(dict(found[0].data), language)
    wav = await asyncio.to_thread(_wav, text, language)
    return Response(content=wav, media_type="audio/wav")
