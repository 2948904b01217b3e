"""CLI commands of the MQTT integration: `simulate` (many devices) and `mqtt-broker` (embedded broker).

Registered by the `oneteam` command as `app.command("simulate")(simulate)` and
`app.command("mqtt-broker")(broker)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from oneteam.i18n import language_from_environment, render
from oneteam.integrations.mqtt.auth import Accounts
from oneteam.integrations.mqtt.broker import EmbeddedBroker
from oneteam.integrations.mqtt.const import DEFAULT_DISCOVERY_PREFIX
from oneteam.integrations.mqtt.credentials import (
    DEVICE_USER,
    credentials_path,
    load_or_create_credentials,
    read_credentials,
)
from oneteam.integrations.mqtt.retained_store import retained_path
from oneteam.integrations.mqtt.settings import BrokerError, BrokerSettings, parse_broker_url
from oneteam.integrations.mqtt.simulator import KINDS, Simulator
from oneteam.integrations.mqtt.topics import HomeTopics

CONNECT_WAIT_S = 10.0
"""How long `simulate` waits for its connections before it gives up."""

DataDirOpt = Annotated[
    Path,
    typer.Option(
        "--data-dir", envvar="ONETEAM_DATA_DIR", help="The hub's data folder, which holds mqtt.credentials."
    ),
]
UsernameOpt = Annotated[str | None, typer.Option("--username", help="MQTT user (with --password).")]
PasswordOpt = Annotated[str | None, typer.Option("--password", envvar="ONETEAM_MQTT_PASSWORD")]

_console = Console()
_errors = Console(stderr=True)


def _t(key: str, **params: object) -> str:
    return render(key, language_from_environment(), **params)


def _fail(message: str, code: int = 2) -> typer.Exit:
    _errors.print(f"[red]{message}[/red]", highlight=False)
    return typer.Exit(code)


def simulate(
    devices: Annotated[int, typer.Option("--devices", min=1, max=100_000, help="How many devices.")] = 100,
    broker: Annotated[str, typer.Option("--broker", help="mqtt://[user:pass@]host:port or mqtts://...")] = (
        "mqtt://127.0.0.1:1883"
    ),
    interval_s: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between two state reports of one device.")
    ] = 10.0,
    per_connection: Annotated[
        int, typer.Option("--per-connection", min=1, help="Devices behind one MQTT connection (a gateway).")
    ] = 1000,
    kinds: Annotated[str, typer.Option("--kinds", help="Comma-separated components to simulate.")] = ",".join(
        KINDS
    ),
    prefix: Annotated[str, typer.Option("--prefix", help="Discovery prefix.")] = DEFAULT_DISCOVERY_PREFIX,
    topic_root: Annotated[
        str,
        typer.Option(
            "--topic-root", help="Put every topic under this root (oneteam/<home> on the broker cluster)."
        ),
    ] = "",
    duration_s: Annotated[
        float, typer.Option("--duration", min=0, help="Stop after this many seconds (0: never).")
    ] = 0,
    ca_file: Annotated[Path | None, typer.Option("--ca-file", help="CA certificate for mqtts://.")] = None,
    username: UsernameOpt = None,
    password: PasswordOpt = None,
    data_dir: DataDirOpt = Path("data"),
) -> None:
    """Run many MQTT devices in one process: they announce themselves, report state and obey commands.

    They sign in with --username/--password, the user in the broker URL, or else the device
    account in the hub's data folder (mqtt.credentials).
    """
    if (username is None) != (password is None):
        raise _fail("--username and --password go together")
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    unknown = [k for k in chosen if k not in KINDS]
    if not chosen or unknown:
        raise _fail(f"--kinds: unknown {', '.join(unknown) or '(none)'}; choose from {', '.join(KINDS)}")
    try:
        settings = _device_login(parse_broker_url(broker, ca_file=ca_file), username, password, data_dir)
        topics = HomeTopics(topic_root)
    except (BrokerError, ValueError) as exc:
        raise _fail(_t("error.mqtt_broker", reason=str(exc))) from None
    simulator = Simulator(
        settings,
        devices,
        per_gateway=per_connection,
        prefix=topics.discovery_prefix if topic_root else prefix,
        base=topics.simulator_base,
        kinds=chosen,
        on_failure=_task_failed,
    )
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(_run_simulator(simulator, broker, devices, interval_s, duration_s))
        if code:
            raise typer.Exit(code)


def _task_failed(name: str, exc: BaseException) -> None:
    """A simulator task failed (its supervisor logged the traceback and restarts it): say so."""
    _errors.print(
        _t("mqtt.simulator_task_failed", task=name, error=f"{type(exc).__name__}: {exc}"), highlight=False
    )


def _device_login(
    settings: BrokerSettings, username: str | None, password: str | None, data_dir: Path
) -> BrokerSettings:
    if username is not None:
        return dataclasses.replace(settings, username=username, password=password)
    if settings.username is not None:
        return settings
    stored = read_credentials(data_dir)
    if stored is None:
        return settings  # the broker will say whether it takes anonymous devices
    return dataclasses.replace(settings, username=stored.devices.username, password=stored.devices.password)


async def _run_simulator(
    simulator: Simulator, broker: str, devices: int, interval_s: float, duration_s: float
) -> int:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}"),
    )
    async with simulator:
        with Progress(*columns, TimeElapsedColumn(), console=_console, transient=False) as progress:
            connecting = progress.add_task(
                _t("mqtt.connecting", broker=broker, devices=devices), total=devices
            )
            deadline = time.monotonic() + CONNECT_WAIT_S
            while time.monotonic() < deadline:
                connected = sum(len(g.devices) for g in simulator.gateways if g.client.connected.is_set())
                progress.update(connecting, completed=connected)
                if connected == devices:
                    break
                await asyncio.sleep(0.05)
                refused = next((g.client.refused for g in simulator.gateways if g.client.refused), None)
                if refused is not None:
                    _errors.print(_t("mqtt.refused", broker=broker, reason=refused), highlight=False)
                    return 2
            else:
                _errors.print(
                    _t("mqtt.unreachable", broker=broker, seconds=f"{CONNECT_WAIT_S:g}"), highlight=False
                )
                return 1
            _console.print(
                _t("mqtt.announced", devices=devices, gateways=len(simulator.gateways)), highlight=False
            )
            reporting = progress.add_task(_t("mqtt.reporting"), total=None)
            simulator.start_reports(interval_s)  # supervised: a failure is printed and it restarts
            started = time.monotonic()
            while not duration_s or time.monotonic() - started < duration_s:
                await asyncio.sleep(0.5)
                progress.update(reporting, completed=simulator.published)
    obeyed = sum(len(d.received) for d in simulator.devices.values())
    _console.print(_t("mqtt.stopped", published=simulator.published, obeyed=obeyed), highlight=False)
    return 0


def broker(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 1883,
    username: UsernameOpt = None,
    password: PasswordOpt = None,
    data_dir: DataDirOpt = Path("data"),
) -> None:
    """Run the embedded MQTT broker on its own (Mosquitto is the choice for production).

    Clients sign in with the hub's accounts (data folder, made on first start), or only with
    --username/--password when given. Anonymous clients are refused. Retained messages are kept in
    the data folder across restarts, as the hub's own embedded broker keeps them.
    """
    if (username is None) != (password is None):
        raise _fail("--username and --password go together")
    if username is not None and password is not None:
        accounts = Accounts.of({username: password})
        note = None
    else:
        try:
            credentials, _created = load_or_create_credentials(data_dir)
        except (BrokerError, OSError) as exc:
            raise _fail(_t("error.mqtt_broker", reason=str(exc))) from None
        accounts = credentials.accounts()
        note = _t("mqtt.broker_accounts", username=DEVICE_USER, path=credentials_path(data_dir))

    async def serve() -> None:
        try:
            async with EmbeddedBroker(
                host, port, accounts=accounts, retained_path=retained_path(data_dir)
            ) as embedded:
                _console.print(_t("mqtt.broker_running", host=host, port=embedded.port), highlight=False)
                if note is not None:
                    _console.print(note, highlight=False)
                await asyncio.Event().wait()
        except OSError as exc:
            raise _fail(_t("error.mqtt_broker", reason=str(exc)), code=1) from None

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
