"""`oneteam member ...` and `oneteam token ...`: the household's members and API tokens.

Both work on the hub's data folder directly (like the hub, on its SQLite file or PostgreSQL
database), so the owner can act while the hub runs or not; a running hub sees every change on the
next request (tokens, sessions and members are checked against the database's change stamp).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from oneteam.cli.context import OUT
from oneteam.cli.household_at import Where, run_on, where_of
from oneteam.hub import parse_home
from oneteam.hub.accounts import Member
from oneteam.hub.household import LINK_S, Household
from oneteam.hub.tokens import TOKEN_DOORS, hash_token, new_token
from oneteam.interop.cli import DEFAULT_HOME, DatabaseUrlOpt, HomeOpt
from oneteam.model import Door
from oneteam.model.device import Speaker

member_app = typer.Typer(
    help="Household members: roles, permissions, passwords, sign-in links.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens: named, owned by a member, with an expiry.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="The hub's data folder (or ONETEAM_DATA_DIR).")
]
ListOpt = Annotated[list[str] | None, typer.Option(help="Repeat for several.")]
PasswordOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]
ExpiresOpt = Annotated[str | None, typer.Option("--expires", help="How long it lasts: 30m, 12h, 7d.")]
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([mhd])$")
_UNITS = {"m": 60.0, "h": 3600.0, "d": 86400.0}
T = TypeVar("T")


def _seconds(value: str) -> float:
    match = _DURATION.match(value.strip())
    if match is None or float(match.group(1)) <= 0:
        OUT.fail(OUT.t("cli.bad_duration", value=value))
    return float(match.group(1)) * _UNITS[match.group(2)]


def _password(read: bool) -> str | None:
    if not read:
        return None
    return sys.stdin.readline().rstrip("\r\n")


def _overrides(
    rooms: list[str] | None,
    types: list[str] | None,
    allow: list[str] | None,
    deny: list[str] | None,
    *,
    all_rooms: bool = False,
    all_types: bool = False,
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in (("rooms", rooms), ("types", types), ("allow", allow), ("deny", deny)):
        if value:
            changes[key] = list(value)
    if all_rooms:
        changes["rooms"] = None
    if all_types:
        changes["types"] = None
    return changes


def _when(at: float | None) -> str:
    return OUT.t("cli.never") if at is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def _may_use(member: Member) -> str:
    rules = member.permissions.as_dict()
    if member.permissions.unlimited:
        return OUT.t("cli.all_devices")
    parts = [f"{key}: {', '.join(value)}" for key, value in rules.items() if value]
    return "; ".join(parts)


@member_app.command("add")
def member_add(
    name: str,
    role: Annotated[str, typer.Option("--role", help="owner, adult, child or guest.")],
    display: Annotated[str, typer.Option("--display", help="The name people see.")] = "",
    room: ListOpt = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="Device types allowed (repeat).")] = None,
    allow: ListOpt = None,
    deny: ListOpt = None,
    expires: ExpiresOpt = None,
    password_stdin: PasswordOpt = False,
    data_dir: DataDirOpt = None,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
    json: JsonOpt = False,
) -> None:
    """Add a member. Without a password they sign in with `member link`."""
    where = where_of(data_dir, home, database_url)
    expires_at = None if expires is None else time.time() + _seconds(expires)
    overrides = _overrides(room, type_, allow, deny)
    password = _password(password_stdin)
    member = run_on(
        where,
        lambda h: h.add_member(
            name,
            role,
            by=None,
            password=password,
            display=display,
            overrides=overrides,
            expires_at=expires_at,
        ),
    )
    if json:
        OUT.json(member.public())
        return
    OUT.console.print(OUT.t("cli.member_added", name=name, role=role), highlight=False)


@member_app.command("list")
def member_list(
    data_dir: DataDirOpt = None,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
    json: JsonOpt = False,
) -> None:
    """List members with their role, what they may use and when they expire."""
    members = run_on(where_of(data_dir, home, database_url), lambda h: h.members())
    if json:
        OUT.json({"members": [m.public() for m in members]})
        return
    table = Table(
        OUT.t("cli.col_member"), OUT.t("cli.col_role"), OUT.t("cli.col_permissions"), OUT.t("cli.col_expires")
    )
    for member in members:
        table.add_row(member.name, str(member.role), _may_use(member), _when(member.expires_at))
    OUT.console.print(table)


@member_app.command("set")
def member_set(
    name: str,
    role: Annotated[str | None, typer.Option("--role", help="owner, adult, child or guest.")] = None,
    display: Annotated[str | None, typer.Option("--display", help="The name people see.")] = None,
    room: ListOpt = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="Device types allowed (repeat).")] = None,
    allow: ListOpt = None,
    deny: ListOpt = None,
    all_rooms: Annotated[bool, typer.Option("--all-rooms", help="No room limit.")] = False,
    all_types: Annotated[bool, typer.Option("--all-types", help="No device-type limit.")] = False,
    expires: ExpiresOpt = None,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="Never expires.")] = False,
    password_stdin: PasswordOpt = False,
    data_dir: DataDirOpt = None,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
    json: JsonOpt = False,
) -> None:
    """Change a member's role, permissions, expiry, display name or password."""
    where = where_of(data_dir, home, database_url)
    expires_at = None if expires is None else time.time() + _seconds(expires)
    overrides = _overrides(room, type_, allow, deny, all_rooms=all_rooms, all_types=all_types)
    password = _password(password_stdin)
    member = run_on(
        where,
        lambda h: h.update_member(
            name,
            by=None,
            role=role,
            password=password,
            display=display,
            overrides=overrides or None,
            expires_at=expires_at,
            clear_expiry=no_expiry,
        ),
    )
    if json:
        OUT.json(member.public())
        return
    OUT.console.print(OUT.t("cli.member_changed", name=name), highlight=False)


@member_app.command("remove")
def member_remove(
    name: str, data_dir: DataDirOpt = None, home: HomeOpt = DEFAULT_HOME, database_url: DatabaseUrlOpt = None
) -> None:
    """Remove a member; their sign-ins and tokens end at once."""
    run_on(where_of(data_dir, home, database_url), lambda h: h.remove_member(name, by=None))
    OUT.console.print(OUT.t("cli.member_removed", name=name), highlight=False)


@member_app.command("link")
def member_link(
    name: str,
    url: Annotated[str, typer.Option("--url", help="The hub's address as the browser reaches it.")] = (
        "http://127.0.0.1:8123"
    ),
    data_dir: DataDirOpt = None,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
    json: JsonOpt = False,
) -> None:
    """A one-time sign-in link for a member (works once, for ten minutes)."""
    where = where_of(data_dir, home, database_url)
    code = run_on(where, lambda h: h.sign_in_link(name))
    # A cluster serves each home under its prefix, at any of its processes (--url: one of them).
    prefix = f"/homes/{home}" if where.in_cluster else ""
    link = f"{url.rstrip('/')}{prefix}/signin?code={code}"
    if json:
        OUT.json({"member": name, "url": link, "expires_in_s": LINK_S})
        return
    OUT.console.print(
        OUT.t("cli.member_link", name=name, minutes=int(LINK_S // 60), url=link),
        highlight=False,
        soft_wrap=True,
    )


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "cli",
    member: Annotated[
        str | None,
        typer.Option("--member", help="Whose token; without it, a household token with the owner's reach."),
    ] = None,
    door: Annotated[
        str | None,
        typer.Option("--door", help="A token for a door process (mcp, voice): the activity log shows it."),
    ] = None,
    speaker: Annotated[
        str | None,
        typer.Option(
            "--speaker", help="A voice token for a speaker of the home file (its member, its room)."
        ),
    ] = None,
    expires: ExpiresOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the token.")] = False,
) -> None:
    """Create a bearer token; it is printed once and only its hash is stored."""
    if door is not None and door not in TOKEN_DOORS:
        OUT.fail(OUT.t("cli.token_bad_door", doors=", ".join(TOKEN_DOORS)))
    expires_at = None if expires is None else time.time() + _seconds(expires)
    if member is None and speaker is None and expires_at is not None:
        OUT.fail(OUT.t("cli.token_expiry_needs_member"))

    async def create(household: Household) -> tuple[int, str]:
        if speaker is not None:
            found = await _speaker(household, speaker)
            return await household.create_token(
                found.member, found.id, by=None, door=Door.VOICE.value, expires_at=expires_at
            )
        if member is not None:
            return await household.create_token(member, name, by=None, door=door, expires_at=expires_at)
        token = new_token()
        record = await household.store_token(name, hash_token(token), door=door)
        return record, token

    token_id, token = run_on(Where(data_dir), create)
    if json:
        OUT.json({"id": token_id, "name": name, "member": member, "token": token, "expires_at": expires_at})
        return
    if quiet:
        print(token)
        return
    OUT.console.print(OUT.t("cli.token_created"), highlight=False)
    OUT.console.print(token, highlight=False, soft_wrap=True)


async def _speaker(household: Household, speaker_id: str) -> Speaker:
    """A speaker of the home the hub ran last (stored in its database)."""
    text = await household.storage.stored_home()
    found = None if text is None else parse_home(text, "stored home").speakers.get(speaker_id)
    if found is None:
        OUT.fail(OUT.t("cli.no_speaker", id=speaker_id))
    return found


@token_app.command("list")
def token_list(data_dir: DataDirOpt = None, json: JsonOpt = False) -> None:
    """List tokens: names, members, dates (never the tokens)."""
    rows = run_on(Where(data_dir), lambda h: h.tokens(by=None))
    if json:
        OUT.json({"tokens": rows})
        return
    table = Table(
        OUT.t("cli.col_id"),
        OUT.t("cli.col_name"),
        OUT.t("cli.col_member"),
        OUT.t("cli.col_time"),
        OUT.t("cli.col_expires"),
    )
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["name"],
            row["member"] or "-",
            _when(row["created_at"]),
            _when(row["expires_at"]),
        )
    OUT.console.print(table)


@token_app.command("revoke")
def token_revoke(token_id: int, data_dir: DataDirOpt = None) -> None:
    """Revoke a token by its id; a running hub refuses it from the next request."""
    if not run_on(Where(data_dir), lambda h: h.revoke_token(token_id, by=None)):
        OUT.fail(OUT.t("cli.token_missing", id=token_id))
    OUT.console.print(OUT.t("cli.token_revoked", id=token_id), highlight=False)
