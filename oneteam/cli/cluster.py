"""`oneteam serve --cluster` and `oneteam cluster ...`: many homes as one service."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from oneteam.cli.context import OUT
from oneteam.hub import HomeFileError, HubConfig, parse_home

cluster_app = typer.Typer(
    help="Many homes as one service (PostgreSQL, a broker cluster).", no_args_is_help=True
)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="The cluster's PostgreSQL (postgresql://...; or ONETEAM_DATABASE_URL)."
    ),
]
_NODE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HOME_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _database(url: str | None) -> str:
    import os

    url = url or os.environ.get("ONETEAM_DATABASE_URL")
    if not url:
        OUT.fail(OUT.t("cluster.no_database"))
    if not url.startswith(("postgresql://", "postgres://")):
        OUT.fail(OUT.t("cluster.bad_database", scheme=url.split(":")[0][:20]))
    return url


def _parts() -> tuple[str, ...]:
    """The per-home parts to run (ONETEAM_CLUSTER_PARTS, comma-separated; default all)."""
    import os

    from oneteam.cluster.host import PARTS

    wanted = tuple(
        p.strip() for p in os.environ.get("ONETEAM_CLUSTER_PARTS", ",".join(sorted(PARTS))).split(",")
    )
    unknown = sorted(set(wanted) - PARTS - {""})
    if unknown:
        OUT.fail(OUT.t("cluster.bad_parts", parts=", ".join(unknown)[:200], known=", ".join(sorted(PARTS))))
    return tuple(p for p in wanted if p)


def serve_cluster(
    *,
    database_url: str | None,
    broker: str | None,
    node_id: str | None,
    settings: HubConfig,
    address: str | None,
) -> None:
    """Run one service process of the cluster (checked options first, exit 2 on bad ones)."""
    from oneteam.cluster.node import run_node

    url = _database(database_url)
    node = node_id or socket.gethostname()
    if not _NODE_ID.match(node):
        OUT.fail(OUT.t("cluster.bad_node_id", node=node[:80]))
    if broker is not None and not broker.startswith(("mqtt://", "mqtts://")):
        OUT.fail(OUT.t("cluster.bad_broker", scheme=broker.split(":")[0][:20]))
    host, port = settings.host, settings.port
    parts = _parts()
    OUT.console.print(OUT.t("cluster.serving", node=node, url=f"http://{host}:{port}"), highlight=False)
    try:
        asyncio.run(
            run_node(
                database_url=url,
                node_id=node,
                host=host,
                port=port,
                data_dir=settings.data_dir,
                broker_url=broker,
                address=address,
                parts=parts,
                trusted_proxies=settings.trusted_proxies,
            )
        )
    except psycopg.OperationalError as exc:
        OUT.fail(OUT.t("cluster.database_down", error=str(exc).splitlines()[0][:200]), code=1)
    with contextlib.suppress(Exception):
        OUT.console.print(OUT.t("cluster.stopped", node=node), highlight=False)


@cluster_app.command("add-home")
def add_home(
    home_id: Annotated[str, typer.Argument(help="The home's id (letters, digits, - and _).")],
    home: Annotated[Path, typer.Option("--home", help="The home's YAML file.")],
    database_url: DatabaseOpt = None,
    mqtt_username: Annotated[
        str | None, typer.Option("--mqtt-username", help="The home's login on the broker cluster.")
    ] = None,
    mqtt_password: Annotated[
        str | None, typer.Option("--mqtt-password", help="Its password (or ONETEAM_MQTT_PASSWORD).")
    ] = None,
) -> None:
    """Register a home (or replace its file); a process of the cluster opens it within seconds."""
    import os

    from oneteam.cluster.lease import register_home

    url = _database(database_url)
    if not _HOME_ID.match(home_id):
        OUT.fail(OUT.t("cluster.bad_home_id", home=home_id[:80]))
    try:
        text = home.read_text(encoding="utf-8")
        parse_home(text, str(home))
    except OSError as exc:
        OUT.fail(OUT.t("cluster.home_unreadable", path=str(home), error=exc.strerror or str(exc)))
    except HomeFileError as exc:
        for problem in exc.problems:
            OUT.errors.print(f"{exc.source}:{problem.line}: {problem.text(OUT.language)}", highlight=False)
        raise typer.Exit(2) from None
    password = mqtt_password or os.environ.get("ONETEAM_MQTT_PASSWORD")
    try:
        asyncio.run(register_home(url, home_id, text, mqtt_username=mqtt_username, mqtt_password=password))
    except psycopg.OperationalError as exc:
        OUT.fail(OUT.t("cluster.database_down", error=str(exc).splitlines()[0][:200]), code=1)
    OUT.console.print(OUT.t("cluster.home_added", home=home_id), highlight=False)


@cluster_app.command("token")
def token(
    home_id: Annotated[str, typer.Argument(help="The home's id.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for (shown in the activity log).")],
    database_url: DatabaseOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the token.")] = False,
) -> None:
    """Create a bearer token of one home (the owner's reach); only its hash is kept."""
    from oneteam.cluster.lease import home_registered
    from oneteam.cluster.node import home_stores
    from oneteam.hub.tokens import hash_token, new_token

    url = _database(database_url)
    if not _HOME_ID.match(home_id):
        OUT.fail(OUT.t("cluster.bad_home_id", home=home_id[:80]))
    name = name.strip()
    if not name or len(name) > 100:
        OUT.fail(OUT.t("cluster.bad_token_name"))
    value = new_token()

    async def create() -> bool:
        if not await home_registered(url, home_id):
            return False
        async with home_stores(url) as stores:
            accounts = stores.accounts(home_id)
            await accounts.open()
            try:
                await accounts.add_token(name, hash_token(value), time.time(), door=None)
            finally:
                await accounts.close()
        return True

    try:
        known = asyncio.run(create())
    except psycopg.OperationalError as exc:
        OUT.fail(OUT.t("cluster.database_down", error=str(exc).splitlines()[0][:200]), code=1)
    if not known:
        OUT.fail(OUT.t("cluster.unknown_home", home=home_id))
    if quiet:
        OUT.console.print(value, highlight=False)
    else:
        OUT.console.print(OUT.t("cluster.token_created", home=home_id, token=value), highlight=False)
