"""`oneteam serve`: run the hub with its API on one machine."""

from __future__ import annotations

import logging
import socket
from contextlib import AsyncExitStack
from pathlib import Path

import uvicorn
from fastapi import APIRouter

from oneteam.api.app import create_app
from oneteam.api.proxies import server_options
from oneteam.cli.context import OUT
from oneteam.cli.lifetime import HubServer, StopSignals, check_port_free, claim_port
from oneteam.cli.parts import add_vendor_adapters, start_parts
from oneteam.hub import HomeFileError, Hub, HubConfig, load_config, open_storage, parse_home
from oneteam.hub.homefile_reading import read_home_text
from oneteam.hub.household import LINK_S
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.integrations.virtual.adapter import SECONDS_PER_DAY
from oneteam.model import Home

_LOGGER = logging.getLogger(__name__)
DEMO_HOME = Path(__file__).resolve().parent.parent / "homes" / "demo.yaml"
DEMO_WEAR_DAY_S = 6.0
DEMO_DAYS_LEFT = {"washer": 25.0}


async def _sign_in_link(hub: Hub, url: str, *, demo: bool) -> None:
    """The owner's way in: created on a first start, then a one-time sign-in link (ten minutes,
    used up by its first use) when the demo runs or the owner has no password yet. No start
    mints a lasting token any more."""
    owner = await hub.household.owner()
    if owner is None:
        owner = await hub.household.ensure_owner()
        OUT.console.print(OUT.t("cli.owner_created", name=owner.name), highlight=False)
    if demo or owner.password_hash is None:
        code = await hub.household.sign_in_link(owner.name)
        OUT.console.print(
            OUT.t("cli.signin_link", minutes=int(LINK_S // 60), url=f"{url}/signin?code={code}"),
            highlight=False,
            soft_wrap=True,
        )


def _data_dir_option(config: HubConfig) -> str:
    """` --data-dir DIR` when the hub runs on another folder than the CLI would find by default."""
    default = load_config(None).data_dir
    return "" if config.data_dir == default else f" --data-dir {config.data_dir}"


def _choose_home(path: Path | None, stored_text: str | None) -> tuple[Home, str, str]:
    """The home to run: the file given (or the demo home); a broken file falls back to the stored home."""
    source = path or DEMO_HOME
    try:
        text = read_home_text(source)
        return parse_home(text, str(source)), str(source), text
    except HomeFileError as exc:
        for problem in exc.problems:
            OUT.errors.print(f"{exc.source}:{problem.line}: {problem.text(OUT.language)}", highlight=False)
        if stored_text is None:
            raise
        OUT.errors.print(OUT.t("cli.home_kept"))
        return parse_home(stored_text, "stored home"), "stored home", stored_text


async def run_hub(config: HubConfig, *, show_token: bool, extra_routers: tuple[APIRouter, ...] = ()) -> None:
    """Start storage, the home's integrations and the API, and serve until Ctrl-C or SIGTERM;
    both stop the same way: the API closes, then the hub flushes storage and stops its adapters."""
    # Ports first: a taken port is said before anything starts, is printed or a token is minted.
    listener = claim_port(config.host, config.port, what="HTTP", option="--port")
    with listener:
        if config.mqtt_url is None and config.mqtt_port is not None:
            check_port_free("127.0.0.1", config.mqtt_port, what="MQTT", option="--mqtt-port")
        stop = StopSignals(
            lambda name: OUT.console.print(OUT.t("hub.stopping", signal=name), highlight=False)
        )
        with stop.installed():
            await _serve(config, listener, stop, show_token=show_token, extra_routers=extra_routers)
    if stop.requested is not None:
        OUT.console.print(OUT.t("hub.stopped"), highlight=False)


async def _serve(
    config: HubConfig,
    listener: socket.socket,
    stop: StopSignals,
    *,
    show_token: bool,
    extra_routers: tuple[APIRouter, ...],
) -> None:
    storage = open_storage(config)
    await storage.open()
    stored_text = await storage.stored_home()
    try:
        home, source, text = _choose_home(config.home_file, stored_text)
    except HomeFileError:
        await storage.close()
        raise
    hub = Hub(home, storage, event_retention_s=config.event_retention_days * 86400, timezone=config.timezone)
    await hub.add_adapter(
        VirtualAdapter(
            home,
            time_scale=config.time_scale,
            tick_s=config.tick_s,
            wear_day_s=config.wear_day_s or (DEMO_WEAR_DAY_S if show_token else SECONDS_PER_DAY),
            # The demo washer's drum bearing is wearing out, so a failure warning shows within a minute.
            days_left=DEMO_DAYS_LEFT if show_token else None,
        )
    )
    await add_vendor_adapters(hub, config)
    async with hub, AsyncExitStack() as stack:
        await storage.save_home(home.id, source, text)
        hub.start_task("retention", lambda: hub.run_retention(config.retention_interval_s))
        parts = await start_parts(hub, config, stack)
        app = create_app(
            hub,
            max_body_bytes=config.max_body_bytes,
            extra_routers=(*extra_routers, *parts.routers),
            public_routers=parts.public_routers,
            allowed_origins=config.allowed_origins,
        )
        for name, value in parts.state.items():
            setattr(app.state, name, value)
        for finish in parts.after_app:
            finish(app)
        server = HubServer(
            uvicorn.Config(
                app,
                host=config.host,
                port=config.port,
                log_level="warning",
                lifespan="off",
                **server_options(config.trusted_proxies),
            )
        )
        stop.server = server
        url = f"http://{config.host}:{config.port}"
        OUT.console.print(OUT.t("cli.serving", url=url), highlight=False)
        OUT.console.print(
            OUT.t(
                "cli.home_running",
                name=home.name or home.id,
                rooms=len(home.rooms),
                devices=len(hub.devices()),
            ),
            highlight=False,
        )
        OUT.console.print(OUT.t("cli.docs", url=url), highlight=False)
        for note in parts.notes:
            OUT.console.print(note, highlight=False, soft_wrap=True)
        await _sign_in_link(hub, url, demo=show_token)
        if show_token:
            OUT.console.print(OUT.t("cli.try_title"), highlight=False)
            for line in (
                f"export ONETEAM_URL={url} ONETEAM_TOKEN=$(.venv/bin/oneteam token create --name cli --quiet"
                f"{_data_dir_option(config)})",
                ".venv/bin/oneteam devices",
                ".venv/bin/oneteam do ac_living set_temperature 24",
                f'curl -H "Authorization: Bearer $ONETEAM_TOKEN" {url}/api/devices/washer',
            ):
                OUT.console.print(f"  {line}", highlight=False, soft_wrap=True)
        if stop.requested is None:  # a signal during start-up: stop without serving
            await server.serve(sockets=[listener])
