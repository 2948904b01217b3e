"""`oneteam transcribe | speak | listen`: the voice room's commands (plain functions for typer).

`listen` acts through a running hub (`--url`, `--token`, or ONETEAM_URL/ONETEAM_TOKEN) by posting what
was heard to its /api/conversation; without a hub it only transcribes. interop's `oneteam wyoming` uses
the same `hub_act`, `heard_only` and `recognizer_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import httpx
import typer

from oneteam.i18n import render
from oneteam.model import OneteamError
from oneteam.model.conversation import ConversationReply
from oneteam.voice.asr import KoreanRecognizer, shared_model
from oneteam.voice.audio import SAMPLE_RATE, read_wav, write_wav
from oneteam.voice.grammar import build_grammar, speech_vocabulary
from oneteam.voice.pipeline import Act, VoicePipeline, VoiceTurn
from oneteam.voice.tts import Speaker, load_engine
from oneteam.voice.wake import WAKE_PHRASE_ENV
from oneteam.voice.wake_model import WakeModel

_LOGGER = logging.getLogger(__name__)
_DEMO_HOME = Path(__file__).resolve().parent.parent / "homes" / "demo.yaml"
_LANG = os.environ.get("ONETEAM_LANG", "ko")

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Home YAML whose names bias recognition.")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="A running hub to act through (or ONETEAM_URL).")]
TokenOpt = Annotated[str | None, typer.Option("--token", help="The hub's bearer token (or ONETEAM_TOKEN).")]
WakePhraseOpt = Annotated[
    list[str] | None,
    typer.Option("--wake-phrase", help="A wake phrase (repeatable; default 원팀아, or ONETEAM_WAKE_PHRASE)."),
]


def wake_model_for(phrases: list[str] | None) -> WakeModel:
    """The wake phrases given, else ONETEAM_WAKE_PHRASE (comma-separated), else the language's default."""
    chosen = phrases or [p.strip() for p in os.environ.get(WAKE_PHRASE_ENV, "").split(",") if p.strip()]
    return WakeModel(shared_model(), chosen or None)


def _fail(exc: OneteamError) -> typer.Exit:
    typer.echo(render(exc.key, _LANG, **exc.params), err=True)
    return typer.Exit(code=2)


def recognizer_for(home_file: Path | None, biased: bool) -> KoreanRecognizer:
    """The shared model, with the home's grammar when biased."""
    from oneteam.hub import load_home

    model = shared_model()
    if not biased:
        return KoreanRecognizer(model)
    home = load_home(home_file or _DEMO_HOME)
    return KoreanRecognizer(model, build_grammar(home, speech_vocabulary(), model.is_known))


def hub_act(url: str, token: str, session: str = "voice") -> Act:
    """An act that hands the sentence to a running hub's /api/conversation."""

    async def act(text: str, room: str | None) -> ConversationReply:
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
            response = await client.post(
                "/api/conversation",
                json={"text": text, "room": room, "session": session},
                headers={"Authorization": f"Bearer {token}"},
            )
        body = response.json()
        if response.status_code != 200:
            error = body.get("error", {})
            return ConversationReply(
                text=str(error.get("message", response.text)), language="ko", kind="none"
            )
        return ConversationReply(
            text=body["text"],
            language=body.get("language", "ko"),
            kind=body.get("kind", "none"),
            result=body.get("result", {}),
            done=body.get("done", []),
            changed_devices=body.get("changed_devices", []),
        )

    return act


async def heard_only(text: str, _room: str | None) -> ConversationReply:
    """An act without a hub: it only hands back what was heard."""
    return ConversationReply(text="", language="ko", kind="none", result={"text": text})


def transcribe(
    file: Annotated[Path, typer.Argument(help="A WAV file (any rate, mono or stereo).")],
    biased: Annotated[bool, typer.Option("--biased", help="Bias recognition to the home's names.")] = False,
    home: HomeOpt = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Speech in a WAV file → text."""
    try:
        pcm = read_wav(file)
        result = recognizer_for(home, biased).transcribe(pcm.data, biased=biased)
    except OneteamError as exc:
        raise _fail(exc) from None
    if json:
        typer.echo(
            jsonlib.dumps(
                {
                    "text": result.text,
                    "mode": str(result.mode),
                    "fell_back": result.fell_back,
                    "confidence": round(result.confidence, 3),
                    "audio_s": round(result.audio_s, 2),
                    "decode_s": round(result.decode_s, 3),
                },
                ensure_ascii=False,
            )
        )
    else:
        typer.echo(result.text)


def speak(
    text: Annotated[str, typer.Argument(help="What to say.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The WAV file to write.")] = Path("reply.wav"),
    piper_model: Annotated[
        Path | None, typer.Option("--piper-model", help="A Piper ONNX voice (config beside it).")
    ] = None,
) -> None:
    """Text → a spoken WAV file (eSpeak NG Korean, or a Piper voice)."""
    if not out.parent.is_dir():  # said before the voice is loaded, not as a traceback after
        typer.echo(render("words.no_folder", _LANG, path=str(out.parent)), err=True)
        raise typer.Exit(2)
    try:
        audio = Speaker(load_engine(piper_model)).speak(text)
    except OneteamError as exc:
        raise _fail(exc) from None
    if not audio.pcm:
        raise typer.BadParameter("nothing to say", param_hint="TEXT")
    write_wav(out, audio.pcm, audio.sample_rate)
    typer.echo(render("voice.saved", _LANG, path=str(out), seconds=round(audio.duration_s, 1)))


def listen(
    file: Annotated[
        Path | None, typer.Option("--file", help="Listen to a WAV file instead of the mic.")
    ] = None,
    room: Annotated[str | None, typer.Option("--room", help="The room the speaker is in.")] = None,
    home: HomeOpt = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
    reply_out: Annotated[Path | None, typer.Option("--reply-out", help="Save the spoken reply.")] = None,
    wake: Annotated[
        bool, typer.Option("--wake", help="Hands-free: wait for the wake phrase, then hear the command.")
    ] = False,
    wake_phrase: WakePhraseOpt = None,
) -> None:
    """Hear one command (microphone on Enter, or --file), act through the hub, answer."""
    url, token = url or os.environ.get("ONETEAM_URL"), token or os.environ.get("ONETEAM_TOKEN")
    act = hub_act(url, token) if url and token else heard_only
    if wake or wake_phrase:
        _listen_hands_free(file, room, home, act, wake_phrase, reply_out)
        return
    try:
        pipeline = VoicePipeline(recognizer_for(home, True), act, Speaker())
        if file is not None:
            turn = asyncio.run(pipeline.run(read_wav(file).data, room))
        else:
            turn = asyncio.run(_from_microphone(pipeline, room))
    except OneteamError as exc:
        raise _fail(exc) from None
    if not _show_turn(turn, reply_out):
        raise typer.Exit(code=1)
    typer.echo(jsonlib.dumps({k: round(v, 1) for k, v in turn.timings_ms.items()}), err=True)


def _show_turn(turn: VoiceTurn, reply_out: Path | None) -> bool:
    """Print what was heard and answered (saving the spoken answer to `reply_out`); False when no
    speech was heard."""
    if not turn.heard_speech or turn.transcript is None:
        typer.echo(render("voice.no_speech", _LANG))
        return False
    typer.echo(render("voice.heard", _LANG, text=turn.transcript.text))
    if turn.reply is not None and turn.reply.text:
        typer.echo(turn.reply.text)
    if reply_out is not None and turn.audio is not None:
        write_wav(reply_out, turn.audio.pcm, turn.audio.sample_rate)
    return True


def _listen_hands_free(
    file: Path | None,
    room: str | None,
    home: Path | None,
    act: Act,
    phrases: list[str] | None,
    reply_out: Path | None,
) -> None:
    """Every wake phrase in the file (or on the microphone, until Ctrl+C) and the command after it."""
    from oneteam.voice.hands_free import wake_turns

    async def run() -> int:
        pipeline = VoicePipeline(recognizer_for(home, True), act, Speaker())
        wake = await asyncio.to_thread(wake_model_for, phrases)
        source = _file_chunks(file) if file is not None else _microphone_chunks()
        if file is None:
            typer.echo(render("voice.waiting_for_wake", _LANG, phrase=", ".join(wake.names)), err=True)
        woken = 0
        async for step in wake_turns(pipeline, wake, source, room):
            woken += 1
            typer.echo(render("voice.woke", _LANG, phrase=step.wake.name, at=round(step.wake.end_s, 2)))
            _show_turn(step.turn, reply_out)
        return woken

    try:
        woken = asyncio.run(run())
    except OneteamError as exc:
        raise _fail(exc) from None
    if not woken:
        typer.echo(render("voice.no_wake", _LANG))
        raise typer.Exit(code=1)


async def _file_chunks(file: Path, chunk_s: float = 0.1, tail_s: float = 1.0) -> AsyncIterator[bytes]:
    """A WAV file as a live stream would bring it, then a second of silence to close the last turn."""
    pcm = read_wav(file).data + bytes(round(tail_s * SAMPLE_RATE) * 2)
    step = round(chunk_s * SAMPLE_RATE) * 2
    for start in range(0, len(pcm), step):
        yield pcm[start : start + step]


async def _microphone_chunks() -> AsyncIterator[bytes]:
    """The microphone (ALSA's arecord), 0.1 s at a time, until the program stops."""
    recorder = shutil.which("arecord")
    if recorder is None:
        raise NoMicrophone
    command = [recorder, "-q", "-f", "S16_LE", "-r", str(SAMPLE_RATE), "-c", "1", "-t", "raw"]
    process = await asyncio.to_thread(subprocess.Popen, command, stdout=subprocess.PIPE)
    try:
        while process.stdout is not None:
            chunk = await asyncio.to_thread(process.stdout.read, 3200)
            if not chunk:
                break
            yield chunk
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, 2)


class NoMicrophone(OneteamError):
    """No way to record from a microphone here."""

    key = "error.voice.no_microphone"

    def __init__(self) -> None:
        super().__init__("no microphone (arecord not found)")


async def _from_microphone(pipeline: VoicePipeline, room: str | None) -> VoiceTurn:
    """Push-to-talk on the terminal: Enter starts, voice activity ends (ALSA's arecord)."""
    recorder = shutil.which("arecord")
    if recorder is None:
        raise NoMicrophone
    typer.echo(render("voice.press_enter", _LANG), err=True)
    await asyncio.to_thread(sys.stdin.readline)
    typer.echo(render("voice.listening", _LANG), err=True)
    command = [recorder, "-q", "-f", "S16_LE", "-r", str(SAMPLE_RATE), "-c", "1", "-t", "raw"]
    process = await asyncio.to_thread(subprocess.Popen, command, stdout=subprocess.PIPE)
    session = pipeline.session(room)
    try:
        while process.stdout is not None and not session.ended:
            chunk = await asyncio.to_thread(process.stdout.read, 3200)
            if not chunk:
                break
            await session.feed(chunk)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, 2)
    return await session.finish()
