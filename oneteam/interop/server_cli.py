"""The doors other ecosystems' software talks to, as commands: `oneteam mcp` (an MCP server over a
running hub) and `oneteam wyoming` (Korean ASR, TTS, intents and wake phrases for Home Assistant)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from oneteam.interop.cli import _fail, _t


def mcp(
    url: Annotated[str | None, typer.Option("--url", help="The hub's URL (or ONETEAM_URL).")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="A hub bearer token (or ONETEAM_TOKEN); make one for the agent with "
            "`oneteam token create --name <agent> --door mcp` so the activity log shows it as MCP.",
        ),
    ] = None,
    transport: Annotated[str, typer.Option("--transport", help="stdio or http.")] = "stdio",
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8124,
    allow: Annotated[list[str] | None, typer.Option("--allow", help="Allowed command (repeatable).")] = None,
    device: Annotated[
        list[str] | None, typer.Option("--device", help="Allowed device id (repeatable; default: all).")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of refusals: ko or en.")] = "en",
) -> None:
    """Run an MCP server over a running hub: stdio for a local agent, or HTTP with hub-token auth.

    The --allow list holds for every tool, `say` included: the hub refuses a sentence's commands
    outside it before anything runs. Over HTTP each call acts under the calling agent's own token."""
    from oneteam.interop.mcp import (
        DEFAULT_ALLOWED_COMMANDS,
        RemoteHome,
        build_server,
        serve_http,
        serve_stdio,
    )

    hub_url = url or os.environ.get("ONETEAM_URL") or "http://127.0.0.1:8123"
    hub_token = token or os.environ.get("ONETEAM_TOKEN")
    if not hub_token:
        _fail("a hub token is needed: --token or ONETEAM_TOKEN")
    if transport not in ("stdio", "http"):
        _fail("--transport must be stdio or http")
    allowed = set(allow or DEFAULT_ALLOWED_COMMANDS)
    if not allowed <= DEFAULT_ALLOWED_COMMANDS:
        _fail(f"--allow must be among {', '.join(sorted(DEFAULT_ALLOWED_COMMANDS))}")
    home = RemoteHome(hub_url, hub_token, language=lang)

    async def run() -> None:
        try:
            if transport == "stdio":
                await serve_stdio(
                    build_server(home, allowed_commands=allowed, allowed_devices=device, language=lang)
                )
            else:
                server = build_server(
                    home,
                    allowed_commands=allowed,
                    allowed_devices=device,
                    language=lang,
                    http_url=f"http://{host}:{port}",
                )
                await serve_http(server, host, port)
        finally:
            await home.aclose()

    asyncio.run(run())


def wyoming(
    uri: Annotated[str, typer.Option("--uri", help="Where to listen: tcp://host:port or unix://path.")] = (
        "tcp://127.0.0.1:10300"
    ),
    home: Annotated[
        Path | None, typer.Option("--home", help="Home YAML whose names bias recognition.")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="A running hub to act through (or ONETEAM_URL).")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="The hub's bearer token (or ONETEAM_TOKEN).")
    ] = None,
    wake_phrase: Annotated[
        list[str] | None,
        typer.Option("--wake-phrase", help="A wake phrase to serve (repeatable; default 원팀아)."),
    ] = None,
) -> None:
    """Serve Korean ASR, TTS, intent handling and wake phrases over Wyoming (for Home Assistant)."""
    import contextlib

    from oneteam.interop.wyoming import WyomingVoice
    from oneteam.model import OneteamError
    from oneteam.voice.cli import heard_only, hub_act, recognizer_for, wake_model_for
    from oneteam.voice.tts import Speaker

    url, token = url or os.environ.get("ONETEAM_URL"), token or os.environ.get("ONETEAM_TOKEN")
    act = hub_act(url, token, session="wyoming") if url and token else heard_only
    try:
        voice = WyomingVoice(recognizer_for(home, True), Speaker(), act, wake_model_for(wake_phrase))
    except OneteamError as exc:
        _fail(_t(exc.key, **exc.params))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(voice.run(uri))
