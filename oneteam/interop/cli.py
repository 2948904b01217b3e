"""Commands of the partner door: `oneteam partners add|list|remove` and `oneteam links list|revoke`
(the servers `oneteam mcp` and `oneteam wyoming` are in interop/server_cli.py).

Registered in oneteam/cli/main.py:
    app.add_typer(partners_app, name="partners")
    app.add_typer(links_app, name="links")
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from oneteam.hub import load_config
from oneteam.i18n import language_from_environment, render
from oneteam.interop.smarthome.oauth import SCOPES
from oneteam.interop.smarthome.service_account import ServiceAccount, ServiceAccountError
from oneteam.interop.smarthome.store import PartnerStorage, PartnerStore

partners_app = typer.Typer(
    help="Partner clouds allowed to link accounts (OAuth2 clients).", no_args_is_help=True
)
links_app = typer.Typer(help="Accounts linked by partners.", no_args_is_help=True)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="The hub's data folder (or ONETEAM_DATA_DIR).")
]
DatabaseOpt = Annotated[
    Path | None, typer.Option("--database", help="A SQLite file instead of the data folder's.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
HomeOpt = Annotated[
    str,
    typer.Option(
        "--home",
        help="Which home of the cluster database (oneteam cluster add-home); a lone hub's is 'default'.",
    ),
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="The PostgreSQL the homes live in (or ONETEAM_DATABASE_URL, or the hub's database_url).",
    ),
]
DEFAULT_HOME = "default"
_HOME_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

_console = Console()
_errors = Console(stderr=True)


def _t(key: str, **params: Any) -> str:
    return render(key, language_from_environment(), **params)


def _fail(message: str) -> NoReturn:
    _errors.print(f"[red]{message}[/red]", highlight=False)
    raise typer.Exit(2)


postgres_partners: Callable[[str, Path, str], PartnerStorage | None] | None = None
"""Opens one home's partner tables on PostgreSQL (URL, data folder with the partner key, home id;
None when a home other than "default" is not registered there): set by the composition root
(cli/main.py), as the shared tables' schema is the cluster's, above this room."""


def _store(
    data_dir: Path | None,
    database: Path | None,
    home: str = DEFAULT_HOME,
    database_url: str | None = None,
) -> PartnerStorage:
    if not _HOME_ID.fullmatch(home):
        _fail(_t("cluster.bad_home_id", home=home[:80]))
    if database is not None:
        if home != DEFAULT_HOME:
            _fail(_t("interop.cli.home_needs_database", home=home))
        return PartnerStore(database)
    config = load_config(None, data_dir=data_dir)
    url = database_url or os.environ.get("ONETEAM_DATABASE_URL") or config.database_url
    if url and postgres_partners is not None:
        if not url.startswith(("postgresql://", "postgres://")):
            _fail(_t("cluster.bad_database", scheme=url.split(":")[0][:20]))
        # The hub keeps its partners in its database (a cluster home, or "default"), not in a file;
        # the partner key is the data folder's, the one every node of the cluster reads.
        store = postgres_partners(url, config.data_dir, home)
        if store is None:
            _fail(_t("cluster.unknown_home", home=home))
        return store
    if home != DEFAULT_HOME:
        _fail(_t("interop.cli.home_needs_database", home=home))
    return PartnerStore(config.database_path)


@contextmanager
def _opened(
    data_dir: Path | None, database: Path | None, home: str, database_url: str | None
) -> Iterator[PartnerStorage]:
    """The partner store (`_store`), closed when the command is done with it."""
    store = _store(data_dir, database, home, database_url)
    try:
        yield store
    finally:
        store.close()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def check_url(uri: str) -> bool:
    """An absolute https URL, or http on a loopback host (RFC 8252 §7.3), with no fragment."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


@partners_app.command("add")
def partners_add(
    name: Annotated[str, typer.Option("--name", help="The partner's name, shown on the consent page.")],
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="Exact redirect URI (repeatable).")
    ],
    report_url: Annotated[
        str | None, typer.Option("--report-url", help="HTTPS endpoint for state pushes.")
    ] = None,
    rate: Annotated[int, typer.Option("--rate", min=1, max=100_000, help="Requests per minute.")] = 600,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="devices.read, devices.control")] = None,
    service_account: Annotated[
        Path | None,
        typer.Option(
            "--service-account",
            help="Service-account key file (JSON): push HomeGraph-style to --report-url with an RS256 "
            "JWT-authorised token instead of signed webhooks.",
        ),
    ] = None,
    no_pkce: Annotated[
        bool,
        typer.Option(
            "--no-pkce",
            help="Register as a confidential client that sends no code_challenge (it still "
            "authenticates with its secret). PKCE is required otherwise.",
        ),
    ] = False,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Register a partner; prints its client id, secret and report signing key once."""
    key_file = ""
    if service_account is not None:
        try:
            key_file = service_account.read_text(encoding="utf-8")
            ServiceAccount.from_json(key_file)
        except (OSError, UnicodeDecodeError, ServiceAccountError) as exc:
            _fail(_t("interop.cli.bad_service_account", path=str(service_account), reason=str(exc)))
    for uri in [*redirect_uri, *([report_url] if report_url else [])]:
        if not check_url(uri):
            _fail(_t("interop.cli.bad_redirect", uri=uri))
    scopes = tuple(scope or SCOPES)
    if not set(scopes) <= set(SCOPES):
        _fail(f"--scope must be among {', '.join(SCOPES)}")
    with _opened(data_dir, database, home, database_url) as store:
        partner, secret = store.add_partner(
            name,
            redirect_uri,
            scopes=scopes,
            rate_per_minute=rate,
            report_url=report_url,
            pkce_required=not no_pkce,
        )
        if key_file:
            store.set_service_account(partner.client_id, key_file)
    shown = {
        "client_id": partner.client_id,
        "client_secret": secret,
        "report_signing_key": partner.report_key,
        "redirect_uris": list(partner.redirect_uris),
        "scopes": list(partner.scopes),
        "pkce_required": "yes" if partner.pkce_required else "no",
    }
    if json_out:
        _print_json(shown)
        return
    _console.print(_t("interop.cli.partner_added", name=name), highlight=False)
    for key, value in shown.items():
        _console.print(f"  {key}: {value if isinstance(value, str) else ' '.join(value)}", highlight=False)


@partners_app.command("list")
def partners_list(
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List partners (never their secrets)."""
    with _opened(data_dir, database, home, database_url) as store:
        rows: list[dict[str, Any]] = [
            {
                "client_id": p.client_id,
                "name": p.name,
                "redirect_uris": list(p.redirect_uris),
                "scopes": list(p.scopes),
                "rate_per_minute": p.rate_per_minute,
                "report_url": p.report_url,
                "links": sum(1 for link in store.links(p.client_id) if link.revoked_at is None),
            }
            for p in store.partners()
        ]
    if json_out:
        _print_json({"partners": rows})
        return
    table = Table("client_id", "name", "redirect_uris", "rate/min", "links")
    for row in rows:
        table.add_row(
            row["client_id"],
            row["name"],
            "\n".join(row["redirect_uris"]),
            str(row["rate_per_minute"]),
            str(row["links"]),
        )
    _console.print(table)


@partners_app.command("remove")
def partners_remove(
    client_id: str,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Remove a partner and revoke every link it holds."""
    with _opened(data_dir, database, home, database_url) as store:
        revoked = store.remove_partner(client_id)
    if revoked is None:
        _fail(_t("interop.cli.partner_missing", client_id=client_id))
    _console.print(_t("interop.cli.partner_removed", client_id=client_id, links=revoked), highlight=False)


@links_app.command("list")
def links_list(
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    json_out: JsonOpt = False,
    all_links: Annotated[bool, typer.Option("--all", help="Include revoked links.")] = False,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """List account links: partner, devices, since when."""
    with _opened(data_dir, database, home, database_url) as store:
        names = {p.client_id: p.name for p in store.partners()}
        links = [link for link in store.links() if all_links or link.revoked_at is None]
    rows: list[dict[str, Any]] = [
        {
            "id": link.id,
            "partner": names.get(link.client_id, link.client_id),
            "devices": list(link.device_ids),
            "scope": link.scope,
            "created_at": link.created_at,
            "revoked_at": link.revoked_at,
        }
        for link in links
    ]
    if json_out:
        _print_json({"links": rows})
        return
    table = Table("id", "partner", "devices", "since", "revoked")
    for row in rows:
        since = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created_at"]))
        table.add_row(
            row["id"], row["partner"], ", ".join(row["devices"]), since, "yes" if row["revoked_at"] else ""
        )
    _console.print(table)


@links_app.command("revoke")
def links_revoke(
    link_id: str,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    home: HomeOpt = DEFAULT_HOME,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """End a link now: the partner's tokens stop working."""
    with _opened(data_dir, database, home, database_url) as store:
        revoked = store.revoke_link(link_id)
    if not revoked:
        _fail(_t("interop.cli.link_missing", link_id=link_id))
    _console.print(_t("interop.cli.link_revoked", link_id=link_id), highlight=False)
