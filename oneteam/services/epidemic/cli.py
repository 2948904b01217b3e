"""`oneteam epidemic …`: generate synthetic records, ingest, run the alert query, retention, consent.

Register with `app.add_typer(epidemic.cli.app, name="epidemic")` in oneteam/cli.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from oneteam.hub import ConfigError, load_config, open_storage, parse_home
from oneteam.hub.config import require_database
from oneteam.i18n import language_from_environment, render
from oneteam.model import OneteamError
from oneteam.services.epidemic.cli_output import ERR, OUT, print_report, progress, say, spinner
from oneteam.services.epidemic.errors import EpidemicError
from oneteam.services.epidemic.generate import Traveller
from oneteam.services.epidemic.generate import generate as generate_records
from oneteam.services.epidemic.ingest import ingest as ingest_records
from oneteam.services.epidemic.privacy import SubscriberHasher, load_operator_key
from oneteam.services.epidemic.retention import apply_retention
from oneteam.services.epidemic.schema import MAX_WATCH_DAYS, countries, load_risk_list, sample_risk_path
from oneteam.services.epidemic.service import ENGINES, EpidemicService, make_engine
from oneteam.services.epidemic.store import EpidemicStore

app = typer.Typer(help="Epidemic-exposure alerts from roaming records.", no_args_is_help=True)
consent_app = typer.Typer(help="Consent links between a person and a home.", no_args_is_help=True)
app.add_typer(consent_app, name="consent")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="The hub's data folder (or ONETEAM_DATA_DIR): database, key."),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option("--key-file", help="Operator key file (hex); else ONETEAM_EPIDEMIC_KEY or data dir."),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="The moment of the run, ISO 8601 (default: now, UTC).")
]


def _fail(error: OneteamError) -> NoReturn:
    ERR.print(f"[red]{render(error.key, language_from_environment(), **error.params)}[/red]", highlight=False)
    raise typer.Exit(2 if isinstance(error, EpidemicError | ConfigError) else 1)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except OneteamError as exc:
        _fail(exc)


def _as_of(text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        ERR.print(f"[red]--as-of: not an ISO 8601 date or time: {text!r}[/red]", highlight=False)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _data_dir(data_dir: Path | None) -> Path:
    return load_config(data_dir=data_dir).data_dir


def _hasher(key_file: Path | None, data_dir: Path | None) -> SubscriberHasher:
    return SubscriberHasher(load_operator_key(key_file, _data_dir(data_dir)))


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.command()
def generate(
    rows: Annotated[int, typer.Option("--rows", min=1, help="How many records to write.")],
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder to write; it must be empty or missing unless --replace is given."),
    ],
    replace: Annotated[bool, typer.Option("--replace", help="Replace what the folder holds.")] = False,
    as_of: AsOfOpt = None,
    seed: Annotated[int, typer.Option("--seed")] = 2015,
    file_format: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    malformed_rate: Annotated[float, typer.Option("--malformed-rate", min=0.0, max=1.0)] = 1e-5,
    key_file: KeyFileOpt = None,
    data_dir: DataDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write realistic synthetic roaming records (Korean outbound travel)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not replace:
        ERR.print(f"[red]{say('words.out_not_empty', path=str(out))}[/red]", highlight=False)
        raise typer.Exit(2)
    with _errors():
        hasher = _hasher(key_file, data_dir)
        with progress() as update:
            summary = generate_records(
                out,
                rows,
                as_of=_as_of(as_of),
                hasher=hasher,
                seed=seed,
                file_format=file_format,
                malformed_rate=malformed_rate,
                progress=update,
                risk=load_risk_list(sample_risk_path()),
            )
    if json_out:
        _print_json(
            {
                "rows": summary.rows,
                "files": summary.files,
                "subscribers": summary.subscribers,
                "malformed_rows": summary.malformed_rows,
                "malformed_within_retention": summary.malformed_within_retention,
                "elapsed_s": summary.elapsed_s,
                "traveller": _traveller_json(summary.traveller),
            }
        )
        return
    OUT.print(
        say(
            "epidemic.cli.generated",
            rows=f"{summary.rows:,}",
            files=summary.files,
            subscribers=f"{summary.subscribers:,}",
            malformed=summary.malformed_rows,
            seconds=summary.elapsed_s,
        ),
        highlight=False,
    )
    if summary.traveller is not None:
        traveller = summary.traveller
        country = countries()[traveller.country].names[language_from_environment()]
        OUT.print(
            say(
                "words.traveller",
                phone=traveller.msisdn,
                country=country,
                day=traveller.last_seen.date().isoformat(),
            ),
            highlight=False,
        )


def _traveller_json(traveller: Traveller | None) -> dict[str, str] | None:
    if traveller is None:
        return None
    return {
        "phone": traveller.msisdn,
        "country": traveller.country,
        "last_seen": traveller.last_seen.isoformat(),
    }


@app.command()
def ingest(
    raw: Annotated[
        Path,
        typer.Option("--raw", help="Raw export (CSV or Parquet: msisdn, visited, first_seen, last_seen)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="The records folder to add to.")],
    key_file: KeyFileOpt = None,
    data_dir: DataDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Hash the phone numbers of a raw export and add it to the records (numbers are never written)."""
    with _errors():
        summary = ingest_records(raw, out, _hasher(key_file, data_dir))
    data = {
        "rows": summary.rows,
        "subscribers": summary.subscribers,
        "invalid_numbers": summary.invalid_numbers,
        "files": summary.files,
        "elapsed_s": summary.elapsed_s,
    }
    if json_out:
        _print_json(data)
        return
    OUT.print(", ".join(f"{k}={v}" for k, v in data.items()), highlight=False)


@app.command()
def run(
    records: Annotated[Path, typer.Option("--records", help="Folder of roaming records (Parquet or CSV).")],
    risk: Annotated[Path, typer.Option("--risk", help="The health authority's risk list (YAML or CSV).")],
    engine: Annotated[str, typer.Option("--engine", help="duckdb or spark")] = "duckdb",
    as_of: AsOfOpt = None,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="Threads/cores for the engine.")
    ] = None,
    memory_limit: Annotated[
        str | None, typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 1GB.")
    ] = None,
    key_file: KeyFileOpt = None,
    data_dir: DataDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Compute today's alerts and queue one per consenting person and home (the hub delivers them)."""
    if engine not in ENGINES:
        ERR.print(f"[red]--engine must be one of {', '.join(ENGINES)}[/red]", highlight=False)
        raise typer.Exit(2)
    with _errors():
        require_database(data_dir)
        folder = _data_dir(data_dir)
        store = EpidemicStore(load_config(data_dir=data_dir).database_path)
        try:
            service = EpidemicService(store, SubscriberHasher(load_operator_key(key_file, folder)))
            with spinner(say("epidemic.cli.title")):
                report = service.run(
                    records,
                    risk,
                    engine=make_engine(engine, threads=threads, memory_limit=memory_limit),
                    as_of=_as_of(as_of),
                )
        finally:
            store.close()
    if json_out:
        _print_json(report.as_dict())
        return
    print_report(report)


@app.command()
def retention(
    records: Annotated[Path, typer.Option("--records", help="Folder of roaming records.")],
    days: Annotated[int, typer.Option("--days", min=1, max=MAX_WATCH_DAYS)] = MAX_WATCH_DAYS,
    as_of: AsOfOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delete records last seen more than 21 days ago."""
    with _errors():
        report = apply_retention(records, as_of=_as_of(as_of), days=days)
    if json_out:
        _print_json(
            {
                "cutoff": report.cutoff.isoformat(),
                "files_deleted": report.files_deleted,
                "files_rewritten": report.files_rewritten,
                "rows_deleted": report.rows_deleted,
            }
        )
        return
    OUT.print(
        say(
            "epidemic.cli.retention_done",
            days=days,
            files=report.files_deleted,
            rewritten=report.files_rewritten,
            rows=report.rows_deleted,
        ),
        highlight=False,
    )


@consent_app.command("add")
def consent_add(
    phone: Annotated[
        str, typer.Option("--phone", prompt=True, hide_input=True, help="Mobile number (hashed at once).")
    ],
    home: Annotated[str, typer.Option("--home", help="The home's id.")] = "home",
    label: Annotated[str, typer.Option("--label", help="How the household calls the person.")] = "",
    language: Annotated[str, typer.Option("--language", help="ko or en")] = "ko",
    key_file: KeyFileOpt = None,
    data_dir: DataDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Link a person to a home: alerts about them may reach that home."""
    if language not in ("ko", "en"):
        ERR.print("[red]--language must be ko or en[/red]", highlight=False)
        raise typer.Exit(2)
    known = _hub_home(data_dir)
    if known != home:
        ERR.print(f"[red]{say('words.unknown_home', home=home, known=known or '-')}[/red]", highlight=False)
        raise typer.Exit(2)
    with _errors(), _service(key_file, data_dir) as service:
        link = service.link(phone, home_id=home, label=label, language=language)
    if json_out:
        _print_json(link.as_dict())
        return
    OUT.print(say("epidemic.cli.consent_created", id=link.id, home=link.home_id), highlight=False)


@consent_app.command("list")
def consent_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked links.")] = False,
    key_file: KeyFileOpt = None,
    data_dir: DataDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List consent links (never the numbers or keys)."""
    with _errors(), _service(key_file, data_dir) as service:
        links = service.consents(include_revoked=include_revoked)
    if json_out:
        _print_json([link.as_dict() for link in links])
        return
    table = Table(
        say("epidemic.cli.col_id"),
        say("epidemic.cli.col_home"),
        say("epidemic.cli.col_label"),
        say("epidemic.cli.col_created"),
        say("epidemic.cli.col_state"),
    )
    for link in links:
        state = say("epidemic.cli.live") if link.is_live else say("epidemic.cli.revoked")
        created = dt.datetime.fromtimestamp(link.created_at, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(link.id, link.home_id, link.label, created, state)
    OUT.print(table)


@consent_app.command("revoke")
def consent_revoke(
    link_id: Annotated[str, typer.Argument(help="The consent link's id.")],
    key_file: KeyFileOpt = None,
    data_dir: DataDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Revoke a consent link: no more alerts through it."""
    with _errors(), _service(key_file, data_dir) as service:
        link = service.revoke(link_id)
    if json_out:
        _print_json(link.as_dict())
        return
    OUT.print(say("epidemic.cli.consent_revoked", id=link.id), highlight=False)


def _hub_home(data_dir: Path | None) -> str | None:
    """The id of the home the hub in this data folder runs (None before its first start)."""

    async def read() -> str | None:
        storage = open_storage(load_config(data_dir=data_dir))
        await storage.open()
        try:
            text = await storage.stored_home()
        finally:
            await storage.close()
        return None if text is None else parse_home(text).id

    with _errors():
        require_database(data_dir)
        return asyncio.run(read())


@contextmanager
def _service(key_file: Path | None, data_dir: Path | None) -> Iterator[EpidemicService]:
    require_database(data_dir)
    folder = _data_dir(data_dir)
    hasher = SubscriberHasher(load_operator_key(key_file, folder))
    store = EpidemicStore(load_config(data_dir=data_dir).database_path)
    try:
        yield EpidemicService(store, hasher)
    finally:
        store.close()
