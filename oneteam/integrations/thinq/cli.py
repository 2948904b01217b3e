"""`oneteam thinq ...`: link a ThinQ Connect account and list what it holds.

Register in oneteam/cli/main.py with:
    from oneteam.integrations.thinq.cli import app as thinq_app
    app.add_typer(thinq_app, name="thinq")
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oneteam.i18n import language_from_environment, render
from oneteam.integrations.thinq.adapter import ThinqAdapter
from oneteam.integrations.thinq.cloud import CloudError, ConnectorFactory, TokenRejected
from oneteam.integrations.thinq.config import (
    ThinqConfig,
    ThinqConfigError,
    config_path,
    load_thinq_config,
    save_thinq_config,
)
from oneteam.model import Device

app = typer.Typer(help="LG ThinQ appliances (ThinQ Connect).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """LG ThinQ appliances through LG's ThinQ Connect API."""


def link(
    data_dir: Path,
    *,
    token: str | None = None,
    country: str | None = None,
    connector_factory: ConnectorFactory | None = None,
) -> tuple[ThinqConfig, list[Device], list[str]]:
    """Check the account against LG, save the settings, and return what was found.

    Raises ThinqConfigError (nothing to link with), or the CloudError of the failed call.
    """
    path = config_path(data_dir)
    stored = load_thinq_config(path) if path.exists() else None
    if stored is None and (token is None or country is None):
        raise ThinqConfigError("no ThinQ settings: give --token and --country", path=str(path))
    if stored is None:
        config = ThinqConfig.model_validate({"access_token": token, "country": country})
    else:
        config = stored.with_token(token) if token else stored
        if country:
            config = config.model_copy(update={"country": country.upper()})
    adapter = ThinqAdapter(config, connector_factory=connector_factory)
    found = asyncio.run(adapter.probe())
    save_thinq_config(path, config)
    return config, found, adapter.skipped


@app.command("link")
def link_command(
    token: Annotated[
        str | None, typer.Option("--token", envvar="THINQ_TOKEN", help="Personal access token (PAT).")
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help="Country code of the account: KR.")] = None,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", envvar="ONETEAM_DATA_DIR", help="The hub's data folder.")
    ] = Path("data"),
) -> None:
    """Check the ThinQ token against LG and list the appliances found (the token is never printed)."""
    lang = language_from_environment()
    out, errors = Console(), Console(stderr=True)
    try:
        config, found, skipped = link(data_dir, token=token, country=country)
    except ThinqConfigError as exc:
        errors.print(f"[red]{render('thinq.link.missing', lang)}[/red] ({exc})", highlight=False)
        raise typer.Exit(2) from None
    except TokenRejected:
        errors.print(f"[red]{render('thinq.token_invalid', lang)}[/red]", highlight=False)
        raise typer.Exit(2) from None
    except CloudError:
        errors.print(
            f"[red]{render('thinq.cloud_unreachable', lang, name='LG ThinQ')}[/red]", highlight=False
        )
        raise typer.Exit(1) from None
    out.print(render("thinq.link.ok", lang, count=len(found)), highlight=False)
    table = Table(*(render(f"thinq.link.col_{c}", lang) for c in ("id", "name", "type", "model", "room")))
    for device in found:
        table.add_row(device.id, device.display_name, device.type.value, device.model, device.room or "-")
    out.print(table)
    if skipped:
        out.print(render("thinq.link.skipped", lang, models=", ".join(skipped)), highlight=False)
    out.print(render("thinq.link.saved", lang, path=str(config_path(data_dir))), highlight=False)
    del config
