"""`oneteam wake enroll`: the household teaches its wake phrase's keyword network its own voices.

Each WAV holds the phrase said once (alone, or at the start of a longer recording: the wake grammar
finds it); the recordings become real-voice positives of the phrase's networks (keyword/enroll.py),
cached beside them, and every later wake detector of this user on this machine uses them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from oneteam.i18n import render
from oneteam.model import OneteamError
from oneteam.voice.asr import shared_model
from oneteam.voice.audio import read_wav
from oneteam.voice.wake import WAKE_PHRASE_ENV
from oneteam.voice.wake_model import WakeModel

_LANG = os.environ.get("ONETEAM_LANG", "ko")

wake_app = typer.Typer(help="The wake phrase: teach it the household's voices.", no_args_is_help=True)


@wake_app.command("enroll")
def enroll_command(
    recordings: Annotated[
        list[Path],
        typer.Argument(
            help="WAV files of the household saying the phrase (each once).",
            exists=True,
            dir_okay=False,
        ),
    ],
    phrase: Annotated[
        str | None,
        typer.Option(
            "--phrase", help="The phrase recorded (default: ONETEAM_WAKE_PHRASE's first, or 원팀아)."
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Forget the recordings enrolled before for this phrase.")
    ] = False,
) -> None:
    """Teach a wake phrase's keyword network the household's voices from a few recordings."""
    from oneteam.voice.keyword.enroll import enroll, phrase_audio

    chosen = phrase or next(
        (p.strip() for p in os.environ.get(WAKE_PHRASE_ENV, "").split(",") if p.strip()), None
    )
    try:
        wake = WakeModel(shared_model(), [chosen] if chosen else None, first_stage="vosk")
        name = wake.names[0]
        voices = [phrase_audio(wake, read_wav(path).data, path.name) for path in recordings]
        for path, voice in zip(recordings, voices, strict=True):
            typer.echo(render("voice.enrol_cut", _LANG, file=path.name, seconds=round(len(voice) / 16000, 2)))
        _, count = enroll(name, voices, replace=replace)
    except OneteamError as exc:
        typer.echo(render(exc.key, _LANG, **exc.params), err=True)
        raise typer.Exit(code=2) from None
    typer.echo(render("voice.enrolled", _LANG, phrase=name, count=count, added=len(voices)))
