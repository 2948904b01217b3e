"""`oneteam`: run the hub, look at the home, drive devices, manage tokens, check home files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from oneteam.automation.cli import app as routine_app
from oneteam.cli.client import HubClient
from oneteam.cli.cluster import cluster_app
from oneteam.cli.context import OUT, set_language
from oneteam.cli.help import language_of, localize
from oneteam.cli.members import member_app, token_app
from oneteam.cli.words import TELEMETRY, attribute_name, kind_name, state_words, type_name, value_text
from oneteam.hub import ConfigError, HomeFileError, Storage, load_config, load_home, open_storage
from oneteam.integrations.mqtt.cli import broker as mqtt_broker
from oneteam.integrations.mqtt.cli import simulate
from oneteam.integrations.thinq.cli import app as thinq_app
from oneteam.interop import cli as interop_cli
from oneteam.interop.cli import links_app, partners_app
from oneteam.interop.server_cli import mcp, wyoming
from oneteam.interop.smarthome.store import PartnerStorage
from oneteam.model import EventKind, OneteamError
from oneteam.services.epidemic.cli import app as epidemic_app
from oneteam.services.maintenance import cli as maintenance_cli
from oneteam.voice import cli as voice_cli
from oneteam.voice.cli_wake import wake_app
from oneteam.voice.nlu.cli import understand

app = typer.Typer(
    name="oneteam",
    help="oneteam: one team of assistants, appliances and AI services in a Korean-first home hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
home_app = typer.Typer(help="Home files.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(member_app, name="member")
app.add_typer(home_app, name="home")
app.add_typer(partners_app, name="partners", help="Partner clouds that may link accounts (OAuth2).")
app.add_typer(links_app, name="links", help="Account links of partner clouds.")
app.command("mcp")(mcp)
app.add_typer(thinq_app, name="thinq", help="LG ThinQ appliances (ThinQ Connect).")
app.command("understand")(understand)
app.command()(voice_cli.transcribe)
app.command()(voice_cli.speak)
app.command()(voice_cli.listen)
app.add_typer(wake_app, name="wake")
app.command()(wyoming)
app.command("simulate")(simulate)
app.add_typer(maintenance_cli.app, name="maintenance", help="Failure prediction: train, evaluate, predict.")
app.add_typer(epidemic_app, name="epidemic", help="Epidemic-exposure alerts from roaming records.")
app.command("mqtt-broker")(mqtt_broker)
app.add_typer(routine_app, name="routine", help="Routines and scenes: run, on/off, import/export, traces.")
app.add_typer(cluster_app, name="cluster")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="The hub's URL (or ONETEAM_URL).")]
TokenOpt = Annotated[str | None, typer.Option("--token", help="A bearer token (or ONETEAM_TOKEN).")]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="The hub's data folder (or ONETEAM_DATA_DIR).")
]


@app.callback()
def _options(
    lang: Annotated[str | None, typer.Option("--lang", help="Language of messages: ko or en.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    set_language(lang)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@app.command()
def serve(
    home: Annotated[
        Path | None, typer.Option("--home", help="A home YAML file (default: the demo home).")
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Print a fresh token and commands to try.")] = False,
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    data_dir: DataDirOpt = None,
    time_scale: Annotated[
        float | None, typer.Option("--time-scale", help="Simulated seconds per second.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="A hub configuration YAML file.")] = None,
    mqtt_port: Annotated[
        int | None, typer.Option("--mqtt-port", help="Start the embedded MQTT broker on this port.")
    ] = None,
    mqtt_url: Annotated[str | None, typer.Option("--mqtt-url", help="Join this MQTT broker instead.")] = None,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option("--allow-origin", help="Another web origin whose pages may open the WebSockets."),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="A reverse proxy (IP address or network) whose X-Forwarded-For names the caller.",
        ),
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option("--cluster", help="Serve many homes as one node of a cluster (see docs/operator.md)."),
    ] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="The cluster's PostgreSQL (or ONETEAM_DATABASE_URL).")
    ] = None,
    broker: Annotated[
        str | None, typer.Option("--broker", help="The cluster's MQTT broker: mqtt://host:port.")
    ] = None,
    node_id: Annotated[
        str | None, typer.Option("--node-id", help="This node's id in the cluster (default: the host name).")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option("--address", help="The URL other nodes send clients to (default: http://host:port)."),
    ] = None,
) -> None:
    """Run the hub and its API."""
    from oneteam.cli.serve import run_hub

    proxies = tuple(trusted_proxy) if trusted_proxy else None
    if cluster:
        from oneteam.cli.cluster import serve_cluster

        serve_cluster(
            database_url=database_url,
            broker=broker,
            node_id=node_id,
            settings=load_config(config, host=host, port=port, data_dir=data_dir, trusted_proxies=proxies),
            address=address,
        )
        return

    settings = load_config(
        config,
        home_file=home,
        host=host,
        port=port,
        data_dir=data_dir,
        time_scale=time_scale,
        mqtt_port=mqtt_port,
        mqtt_url=mqtt_url,
        allowed_origins=tuple(allow_origin) if allow_origin else None,
        trusted_proxies=proxies,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_hub(settings, show_token=demo))


@app.command()
def devices(url: UrlOpt = None, token: TokenOpt = None, json: JsonOpt = False) -> None:
    """List the home's devices with their state."""
    data = HubClient(url, token).request("GET", "/api/devices")
    if json:
        OUT.json(data)
        return
    rooms = {r["id"]: (r["names"] or [r["id"]])[0] for r in data["rooms"]}
    table = Table(
        OUT.t("cli.col_id"),
        OUT.t("cli.col_name"),
        OUT.t("cli.col_type"),
        OUT.t("cli.col_room"),
        OUT.t("cli.col_state"),
    )
    for device in data["devices"]:
        state = device["state"]
        summary = state_words(state["attributes"], OUT.language, skip=TELEMETRY - {"current_temperature"})
        if not state["is_available"]:
            summary = f"[dim]{OUT.t('cli.unavailable')}[/dim] {summary}"
        room = rooms.get(device["room"]) or OUT.t("words.no_room")
        table.add_row(device["id"], device["name"], type_name(device["type"], OUT.language), room, summary)
    OUT.console.print(table)


@app.command()
def state(device: str, url: UrlOpt = None, token: TokenOpt = None, json: JsonOpt = False) -> None:
    """Show one device's current state."""
    data = HubClient(url, token).request("GET", f"/api/devices/{device}/state")
    if json:
        OUT.json(data)
        return
    table = Table(device, "")
    for name, value in data["attributes"].items():
        table.add_row(attribute_name(name, OUT.language), value_text(name, value, OUT.language))
    table.add_row(
        attribute_name("is_available", OUT.language),
        value_text("is_available", data["is_available"], OUT.language),
    )
    OUT.console.print(table, highlight=False)


def _parse_value(text: str | None) -> float | int | str | None:
    if text is None:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


@app.command("do")
def do_command(
    device: str,
    command: str,
    value: Annotated[
        str | None, typer.Argument(help="A number or a canonical name (cool, wool, high).")
    ] = None,
    direction: Annotated[str | None, typer.Option("--direction", help="up or down, for adjust_*.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="fridge or freezer.")] = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
    json: JsonOpt = False,
) -> None:
    """Send a command to a device: `oneteam do ac_living set_temperature 24`."""
    body: dict[str, Any] = {"command": command, "value": _parse_value(value)}
    if direction is not None:
        body["direction"] = direction
    if target is not None:
        body["target"] = target
    client = HubClient(url, token)
    data = client.request("POST", f"/api/devices/{device}/commands", json=body)
    if json:
        OUT.json(data)
        return
    OUT.console.print(OUT.t("cli.done", device=device, command=command), highlight=False)
    attributes = data["state"]["attributes"]
    OUT.console.print(state_words(attributes, OUT.language, skip=TELEMETRY), highlight=False)


@app.command()
def events(
    device: Annotated[str | None, typer.Option("--device", help="Only this device.")] = None,
    kind: Annotated[
        list[EventKind] | None,
        typer.Option("--kind", help="Only these kinds (repeatable): command, state_changed, warning, ..."),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also show sensor readings and countdowns (hidden by default).")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many events.")] = 20,
    url: UrlOpt = None,
    token: TokenOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show recent events, newest first."""
    # Sensors and countdowns change every few seconds; asked for more, their rows are left out after.
    params: dict[str, Any] = {"limit": limit if show_all else min(limit * 10, 1000)}
    if device:
        params["device"] = device
    if kind:
        params["kind"] = [k.value for k in kind]
    data = HubClient(url, token).request("GET", "/api/events", params=params)
    shown = [e for e in data["events"] if show_all or not _only_telemetry(e)]
    hidden = len(data["events"]) - len(shown)
    shown = shown[:limit]
    if json:
        OUT.json({"events": shown})
        return
    table = Table(
        OUT.t("cli.col_time"),
        OUT.t("cli.col_kind"),
        OUT.t("cli.col_device"),
        OUT.t("cli.col_source"),
        OUT.t("cli.col_data"),
    )
    for event in shown:
        when = time.strftime("%H:%M:%S", time.localtime(event["at"]))
        kind_text = kind_name(event["kind"], OUT.language)
        table.add_row(when, kind_text, event["device_id"] or "-", event["source"], _event_words(event))
    OUT.console.print(table, highlight=False)
    if hidden:
        OUT.errors.print(OUT.t("words.hidden_telemetry", count=hidden), highlight=False)


def _only_telemetry(event: dict[str, Any]) -> bool:
    """A state change of sensors and countdowns only."""
    return event["kind"] == EventKind.STATE_CHANGED and set(event["data"]) <= TELEMETRY


def _event_words(event: dict[str, Any]) -> str:
    data: dict[str, Any] = event["data"]
    lang = OUT.language
    if event["kind"] == EventKind.STATE_CHANGED:
        return state_words(data, lang)
    texts = data.get("text")
    if isinstance(texts, dict) and texts.get(lang):
        return str(texts[lang])
    if f"message_{lang}" in data:
        return str(data[f"message_{lang}"])
    if event["kind"] == EventKind.AVAILABILITY:
        return value_text("is_available", bool(data.get("is_available")), lang)
    if "command" in data:
        value = data.get("value")
        return (
            f"{data['command']} {value_text(_SETS.get(data['command'], ''), value, lang)}"
            if value is not None
            else str(data["command"])
        )
    return ", ".join(f"{k}={v}" for k, v in data.items() if isinstance(v, str | int | float))


_SETS = {
    "set_temperature": "temperature",
    "set_brightness": "brightness",
    "set_volume": "volume",
    "set_mode": "mode",
    "set_fan_speed": "fan_speed",
}


def _storage(data_dir: Path | None) -> Storage:
    return open_storage(load_config(None, data_dir=data_dir))


@home_app.command("check")
def home_check(path: Path, json: JsonOpt = False) -> None:
    """Check a home file and report every problem with its line."""
    try:
        home = load_home(path)
    except HomeFileError as exc:
        if json:
            OUT.json(
                {"ok": False, "problems": [{"line": p.line, "message": p.message} for p in exc.problems]}
            )
            raise typer.Exit(2) from None
        OUT.errors.print(OUT.t("cli.home_problems", path=str(path), count=len(exc.problems)), highlight=False)
        for problem in exc.problems:
            OUT.errors.print(f"  {path}:{problem.line}: {problem.text(OUT.language)}", highlight=False)
        raise typer.Exit(2) from None
    if json:
        OUT.json({"ok": True, "rooms": len(home.rooms), "devices": len(home.devices)})
        return
    OUT.console.print(
        OUT.t("cli.home_ok", path=str(path), rooms=len(home.rooms), devices=len(home.devices)),
        highlight=False,
    )


def main() -> None:
    """Entry point: run the app and turn expected failures into a message and exit code."""
    command = typer.main.get_command(app)
    localize(command, language_of(sys.argv[1:]))  # --help in the reader's language
    try:
        command()
    except (HomeFileError, ConfigError) as exc:
        OUT.errors.print(f"[red]{OUT.t(exc.key, **exc.params)}[/red]", highlight=False)
        raise SystemExit(2) from None
    except OneteamError as exc:
        OUT.errors.print(f"[red]{OUT.t(exc.key, **exc.params)}[/red]", highlight=False)
        raise SystemExit(1) from None


def _postgres_partners(url: str, data_dir: Path, home_id: str) -> PartnerStorage | None:
    from oneteam.cluster.tenant_stores import home_partners

    return home_partners(url, data_dir, home_id)


# `oneteam partners|links` of a hub on PostgreSQL reach its partner tables there.
interop_cli.postgres_partners = _postgres_partners
