"""`oneteam understand`: one sentence, or a JSONL set, against a home file.

Register in oneteam/cli/main.py with `app.command("understand")(understand)`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from oneteam.hub import HomeFileError, load_home
from oneteam.i18n import language_from_environment, render
from oneteam.model.conversation import MAX_SENTENCE_CHARS
from oneteam.voice.nlu.understand import Understander

_LOGGER = logging.getLogger(__name__)

DEMO_HOME = Path(__file__).resolve().parents[2] / "homes" / "demo.yaml"


def _read_set(path: Path) -> list[dict[str, Any]]:
    """The lines of a JSONL set: each needs `utt`; `context_room` is optional; others ignored."""
    rows: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="--jsonl") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"{path}:{number}: not JSON ({exc.msg})", param_hint="--jsonl") from exc
        if not isinstance(row, dict) or not isinstance(row.get("utt"), str):
            raise typer.BadParameter(f"{path}:{number}: needs a text field 'utt'", param_hint="--jsonl")
        room = row.get("context_room")
        if room is not None and not isinstance(room, str):
            raise typer.BadParameter(
                f"{path}:{number}: context_room must be text or null", param_hint="--jsonl"
            )
        if len(row["utt"]) > MAX_SENTENCE_CHARS:
            raise typer.BadParameter(f"{path}:{number}: {_too_long(row['utt'])}", param_hint="--jsonl")
        rows.append({"utt": row["utt"], "context_room": room})
    return rows


def _too_long(text: str) -> str:
    return render(
        "error.sentence_too_long", language_from_environment(), limit=MAX_SENTENCE_CHARS, length=len(text)
    )


def understand(
    text: Annotated[str | None, typer.Argument(help="A sentence to understand.")] = None,
    home: Annotated[
        Path | None, typer.Option("--home", help="A home YAML file (default: the demo home).")
    ] = None,
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="A JSONL set (utt, context_room).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write answers (JSONL).")] = None,
    room: Annotated[str | None, typer.Option("--room", help="The room the speaker is in (room id).")] = None,
) -> None:
    """Understand one sentence, or every line of a JSONL set, against a home file."""
    try:
        home_model = load_home(home or DEMO_HOME)
    except HomeFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if room is not None and room not in home_model.rooms:
        raise typer.BadParameter(
            f"no room {room!r}; rooms: {', '.join(home_model.rooms)}", param_hint="--room"
        )
    understander = Understander(home_model)
    if jsonl is None:
        if text is None:
            raise typer.BadParameter("give a sentence or --jsonl SET.jsonl", param_hint="TEXT")
        if len(text) > MAX_SENTENCE_CHARS:
            raise typer.BadParameter(_too_long(text), param_hint="TEXT")
        result = understander.understand(text, room)
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    from rich.progress import Progress  # only the set form draws a progress bar

    rows = _read_set(jsonl)
    understander.warm_up()
    answers = []
    with Progress(transient=True) as progress:
        task = progress.add_task("understanding", total=len(rows))
        for row in rows:
            result = understander.understand(row["utt"], row["context_room"])
            answers.append(
                {"utt": row["utt"], "context_room": row["context_room"], "result": result.as_dict()}
            )
            progress.advance(task)
    body = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in answers)
    if out is None:
        typer.echo(body, nl=False)
    else:
        try:
            out.write_text(body, encoding="utf-8")
        except OSError as exc:
            raise typer.BadParameter(f"cannot write {out}: {exc}", param_hint="--out") from exc
        typer.echo(f"{len(answers)} answers → {out}", err=True)


def main() -> None:
    """Run `understand` as its own command (before the lead registers it)."""
    typer.run(understand)


if __name__ == "__main__":
    main()
