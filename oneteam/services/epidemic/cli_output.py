"""How `oneteam epidemic` looks on a terminal: messages in the reader's language, progress bars and
spinners on stderr, and an alert run's report as tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from oneteam.i18n import language_from_environment, render
from oneteam.services.epidemic.service import RunReport

ERR = Console(stderr=True)
OUT = Console()


def say(key: str, **params: object) -> str:
    """A message in the language of the environment (ONETEAM_LANG, LANG)."""
    return render(key, language_from_environment(), **params)


@contextmanager
def progress() -> Iterator[Callable[[str, int, int], None]]:
    """A bar per phase of a long job (ingest, run), on stderr; yields update(phase, done, total)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=ERR, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done)

        yield update


@contextmanager
def spinner(title: str) -> Iterator[None]:
    """A spinner with the time taken while a step of unknown length runs."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=ERR, transient=True
    ) as bar:
        bar.add_task(title, total=None)
        yield


def print_report(report: RunReport) -> None:
    """An alert run's figures and the problems found in the records, as tables."""
    data = report.as_dict()
    if report.risk.is_example:
        OUT.print(f"[yellow]{say('epidemic.example_list')}[/yellow]", highlight=False)
    table = Table(title=say("epidemic.cli.title"), show_header=False)
    rows = (
        ("engine", data["engine"]),
        ("rows", f"{data['rows']:,}"),
        ("past_retention", f"{data['rows_past_retention']:,}"),
        ("malformed", f"{data['malformed_rows']:,}"),
        ("unknown_codes", ", ".join(f"{k}×{v}" for k, v in data["unknown_country_codes"].items()) or "-"),
        ("exposed_persons", f"{data['exposed_persons']:,}"),
        ("exposed_records", f"{data['exposed_records']:,}"),
        ("consented", f"{data['consented_alerts']:,}"),
        ("queued", f"{data['queued']:,}"),
        ("duplicates", f"{data['duplicates']:,}"),
        ("seconds", f"{sum(data['timings_s'].values()):.2f}"),
    )
    for key, value in rows:
        table.add_row(say(f"epidemic.cli.{key}"), str(value))
    OUT.print(table)
    if data["problems"]:
        problems = Table(
            say("epidemic.cli.col_problem"),
            say("epidemic.cli.col_count"),
            say("epidemic.cli.col_example"),
            title=say("epidemic.cli.problems_title"),
        )
        for problem, count in data["problems"].items():
            examples = [e for e in data["examples"] if e["problem"] == problem]
            shown = "; ".join(f"{e['visited']} {e['first_seen']} → {e['last_seen']}" for e in examples)
            problems.add_row(say(f"epidemic.problem.{problem}"), f"{count:,}", shown)
        OUT.print(problems)
