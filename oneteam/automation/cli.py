"""`oneteam routine list|show|run|enable|disable|import|export|traces`, against a running hub.

Routines run inside the hub (`oneteam serve`), so these commands use its REST API
(ONETEAM_URL, ONETEAM_TOKEN). Registered in oneteam/cli/main.py:
    from oneteam.automation.cli import app as routine_app
    app.add_typer(routine_app, name="routine")
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.table import Table

from oneteam.i18n import language_from_environment, render

app = typer.Typer(
    help="Routines and scenes (외출, 귀가, 취침, 기상, 영화, and your own).", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="The hub's URL (or ONETEAM_URL).")]
TokenOpt = Annotated[str | None, typer.Option("--token", help="A bearer token (or ONETEAM_TOKEN).")]
DEFAULT_URL = "http://127.0.0.1:8123"

_console = Console()
_errors = Console(stderr=True)


def _t(key: str, **params: Any) -> str:
    return render(key, language_from_environment(), **params)


def _fail(message: str, code: int = 2) -> NoReturn:
    _errors.print(f"[red]{message}[/red]", highlight=False)
    raise typer.Exit(code)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _request(url: str | None, token: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request to the hub; a 4xx answer becomes its message and exit code 2 (5xx, unreachable: 1)."""
    base = (url or os.environ.get("ONETEAM_URL") or DEFAULT_URL).rstrip("/")
    token = token or os.environ.get("ONETEAM_TOKEN")
    if not token:
        _fail(_t("cli.no_token"))
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": language_from_environment()}
    try:
        response = httpx.request(method, f"{base}{path}", headers=headers, timeout=40.0, **kwargs)
    except httpx.HTTPError:
        _fail(_t("cli.unreachable", url=base), code=1)
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text or str(response.status_code)
        _fail(message, code=2 if response.status_code < 500 else 1)
    return response


def _name(routine: dict[str, Any]) -> str:
    names = routine.get("names") or {}
    return str(names.get(language_from_environment()) or names.get("ko") or routine["id"])


def _triggers(routine: dict[str, Any]) -> str:
    parts = []
    for trigger in routine.get("triggers") or []:
        key = next(iter(trigger))
        parts.append(
            f"{key}={trigger[key]}" if key != "device" else f"{trigger['device']}.{trigger['attribute']}"
        )
    return ", ".join(parts) or "-"


@app.command("list")
def list_routines(url: UrlOpt = None, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """List routines and scenes."""
    data = _request(url, token, "GET", "/api/routines").json()
    if json_out:
        _print_json(data)
        return
    table = Table(
        _t("automation.cli.col_id"),
        _t("automation.cli.col_name"),
        _t("automation.cli.col_kind"),
        _t("automation.cli.col_on"),
        _t("automation.cli.col_triggers"),
    )
    for routine in data["routines"]:
        table.add_row(
            routine["id"],
            _name(routine),
            _t(f"automation.cli.{routine['kind']}"),
            "●" if routine["enabled"] else "○",
            _triggers(routine),
        )
    _console.print(table)


@app.command()
def show(routine_id: str, url: UrlOpt = None, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """Show one routine or scene as YAML (or JSON)."""
    if json_out:
        _print_json(_request(url, token, "GET", f"/api/routines/{routine_id}").json())
        return
    text = _request(url, token, "GET", "/api/routines/export", params={"ids": routine_id}).text
    sys.stdout.write(text)


def _print_run(run: dict[str, Any]) -> None:
    _console.print(
        _t("automation.cli.ran", id=run["routine"], run=run["id"], status=run["status"]), highlight=False
    )
    for step in run.get("steps", []):
        detail = {k: v for k, v in step.items() if k not in {"index", "action", "status", "at", "ms"}}
        _console.print(
            _t(
                "automation.cli.step",
                index=step["index"],
                action=step["action"],
                status=step["status"],
                ms=step["ms"],
                detail=json.dumps(detail, ensure_ascii=False) if detail else "",
            ),
            highlight=False,
            soft_wrap=True,
        )
    for note in run.get("notes", []):
        _console.print(
            _t("automation.cli.note", text=render(note["key"], language_from_environment(), **note))
        )


@app.command()
def run(
    routine_id: str,
    wait: Annotated[
        float, typer.Option("--wait", min=0, max=30, help="Seconds to wait for the result.")
    ] = 10.0,
    url: UrlOpt = None,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a routine now (or apply a scene)."""
    data = _request(url, token, "POST", f"/api/routines/{routine_id}/run", params={"wait": wait}).json()
    if json_out:
        _print_json(data)
        return
    _print_run(data)


@app.command()
def enable(routine_id: str, url: UrlOpt = None, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """Turn a routine on (its triggers start it)."""
    data = _request(url, token, "POST", f"/api/routines/{routine_id}/enable").json()
    if json_out:
        _print_json(data)
        return
    _console.print(_t("automation.cli.enabled", id=routine_id), highlight=False)


@app.command()
def disable(routine_id: str, url: UrlOpt = None, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """Turn a routine off (kept, but nothing triggers it)."""
    data = _request(url, token, "POST", f"/api/routines/{routine_id}/disable").json()
    if json_out:
        _print_json(data)
        return
    _console.print(_t("automation.cli.disabled", id=routine_id), highlight=False)


@app.command("import")
def import_routines(
    path: Annotated[Path | None, typer.Argument(help="A YAML file with scenes: and routines:.")] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Install presets of a language (ko).")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep routines that exist already.")] = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import routines from YAML (all or nothing), or install presets."""
    if (path is None) == (preset is None):
        _fail(_t("automation.import_what"))
    body: dict[str, Any]
    if path is not None:
        try:
            body = {"yaml": path.read_text(encoding="utf-8"), "replace": not keep}
        except (OSError, UnicodeDecodeError) as exc:
            _fail(_t("automation.cli.bad_file", path=str(path), reason=str(exc)))
    else:
        body = {"preset": preset}
    data = _request(url, token, "POST", "/api/routines/import", json=body).json()
    if json_out:
        _print_json(data)
        return
    _console.print(
        _t("automation.cli.imported", count=len(data["imported"]), ids=", ".join(data["imported"]) or "-"),
        highlight=False,
    )
    if data["skipped"]:
        _console.print(_t("automation.cli.skipped", ids=", ".join(data["skipped"])), highlight=False)
    for note in data["notes"]:
        _console.print(
            _t("automation.cli.note", text=render(note["key"], language_from_environment(), **note))
        )


@app.command()
def export(
    ids: Annotated[list[str] | None, typer.Argument(help="Routine ids (default: all).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Export routines and scenes as YAML (what import reads)."""
    text = _request(url, token, "GET", "/api/routines/export", params={"ids": ",".join(ids or [])}).text
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")


@app.command()
def traces(
    routine_id: str,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 5,
    url: UrlOpt = None,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A routine's latest runs: what triggered them, conditions, each step's result and time."""
    data = _request(url, token, "GET", f"/api/routines/{routine_id}/traces", params={"limit": limit}).json()
    if json_out:
        _print_json(data)
        return
    if not data["runs"]:
        _console.print(_t("automation.cli.no_runs"))
        return
    for entry in data["runs"]:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["started_at"]))
        trigger = entry["trigger"]
        _console.print(
            f"[bold]{when}[/bold] {trigger.get('kind')} {json.dumps(trigger, ensure_ascii=False)}",
            soft_wrap=True,
        )
        for condition in entry.get("conditions", []):
            mark = "✓" if condition["passed"] else "✗"
            _console.print(
                f"  {mark} {json.dumps(condition['condition'], ensure_ascii=False)}", highlight=False
            )
        _print_run(entry)
