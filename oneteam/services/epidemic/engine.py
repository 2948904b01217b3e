"""What every alert engine takes and gives back, and the small tables both engines load."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from oneteam.services.epidemic.errors import RecordsError
from oneteam.services.epidemic.schema import MAX_WATCH_DAYS, RiskList, country_codes

_LOGGER = logging.getLogger(__name__)

DAY_S = 86_400


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """One exposed person still in their watch period (the exposure watched longest)."""

    subscriber_key: int
    disease: str
    country: str
    exposure_end: dt.datetime
    watch_until: dt.datetime
    exposure_start: dt.datetime
    """First seen in a risk country during its risk window (any entry still under watch)."""
    records: int
    """Records of this person still under watch (a stay split by network changes is several)."""
    has_other_exposures: bool
    """Whether the person is also watched for another (disease, country)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentedExposure:
    """An exposure that may reach a home through a live consent link."""

    link_id: str
    label: str
    """How the household calls the person (may be empty)."""
    language: str
    exposure: Exposure


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemExample:
    """A malformed row as evidence; it never carries the subscriber key."""

    problem: str
    visited: str | None
    first_seen: str | None
    last_seen: str | None
    has_key: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertQuery:
    """The inputs of one run of the alert query."""

    records_dir: Path
    risk: RiskList
    as_of: dt.datetime
    consent: Sequence[tuple[str, int, str, str]] = ()
    """Live consent links: (link id, subscriber key, label, language)."""
    collect_all: bool = False
    """Also return every exposed person (tests, engine comparison), not only consented ones."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryResult:
    """What the alert query found, with counts for the report."""

    engine: str
    rows_total: int
    problems: Mapping[str, int]
    unknown_codes: Mapping[str, int]
    examples: tuple[ProblemExample, ...]
    exposed_persons: int
    exposed_records: int
    alerts: tuple[ConsentedExposure, ...]
    exposures: tuple[Exposure, ...] = ()
    timings_s: Mapping[str, float] = field(default_factory=dict)
    rows_past_retention: int = 0
    """Rows of `day=` folders wholly before the retention limit: counted from file metadata, never
    read (none of them may alert; the retention job deletes them). Included in `rows_total`."""

    @property
    def malformed_rows(self) -> int:
        """Rows that could not be used, whatever the reason."""
        return sum(self.problems.values())


class AlertEngine(Protocol):
    """An engine that runs the shared SQL (sql.py) over roaming records."""

    name: str

    def run(self, query: AlertQuery) -> QueryResult:
        """Run the alert query."""
        ...


@dataclass(frozen=True, slots=True)
class RecordFiles:
    """The record files of one folder, by format."""

    parquet: tuple[Path, ...]
    csv: tuple[Path, ...]
    past_retention: tuple[Path, ...] = ()
    """Files left out by `within_retention`: their `day=` folder lies wholly before the limit."""


def find_record_files(folder: Path) -> RecordFiles:
    """Every Parquet and CSV file under `folder` (any depth, hidden files skipped)."""
    if not folder.is_dir():
        raise RecordsError(f"{folder} is not a folder")
    parquet: list[Path] = []
    csv: list[Path] = []
    for path in sorted(folder.rglob("*")):
        if path.name.startswith((".", "_")) or not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            parquet.append(path)
        elif suffix == ".csv":
            csv.append(path)
    if not parquet and not csv:
        raise RecordsError(f"no .parquet or .csv files under {folder}")
    return RecordFiles(tuple(parquet), tuple(csv))


_DAY_FOLDER = re.compile(r"^day=(\d{4}-\d{2}-\d{2})$")


def folder_day(path: Path) -> dt.date | None:
    """The UTC day of `last_seen` a record file's `day=YYYY-MM-DD` folder names (None: no such folder)."""
    match = _DAY_FOLDER.match(path.parent.name)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def wholly_before(path: Path, cutoff: dt.datetime) -> bool:
    """Whether every row of the file was last seen before `cutoff`, by its `day=` folder."""
    day = folder_day(path)
    return day is not None and day + dt.timedelta(days=1) <= cutoff.astimezone(dt.UTC).date()


def within_retention(files: RecordFiles, as_of: dt.datetime) -> RecordFiles:
    """The files a run reads: date partition pruning by the `day=` folders ingest writes.

    A row last seen before as_of − MAX_WATCH_DAYS can start no watch (every incubation is shorter),
    so a folder wholly before that limit is neither validated nor joined; the shared SQL still
    applies the limit row by row to the files that are read."""
    cutoff = as_of - dt.timedelta(days=MAX_WATCH_DAYS)
    old = tuple(p for p in (*files.parquet, *files.csv) if wholly_before(p, cutoff))
    if not old:
        return files
    return RecordFiles(
        tuple(p for p in files.parquet if p not in old),
        tuple(p for p in files.csv if p not in old),
        old,
    )


def count_rows(paths: Sequence[Path]) -> int:
    """Rows of record files: Parquet from the footers alone; CSV read as the engines read it."""
    import duckdb

    def listed(suffix: str) -> str:
        quoted = ("'" + str(p).replace("'", "''") + "'" for p in paths if p.suffix.lower() == suffix)
        return ", ".join(quoted)

    total = 0
    con = duckdb.connect(":memory:")
    try:
        for suffix, source in (
            (".parquet", "read_parquet([{}], union_by_name = true)"),
            (
                ".csv",
                "read_csv([{}], header = true, all_varchar = true, union_by_name = true,"
                " null_padding = true, strict_mode = false)",
            ),
        ):
            if files := listed(suffix):
                row = con.execute(f"SELECT count(*) FROM {source.format(files)}").fetchone()
                total += int(row[0]) if row else 0
    finally:
        con.close()
    return total


def epoch_s(moment: dt.datetime) -> int:
    """Unix seconds of an aware datetime."""
    return int(moment.timestamp())


def from_epoch_s(seconds: int) -> dt.datetime:
    """An aware UTC datetime from Unix seconds."""
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC)


def small_tables(query: AlertQuery) -> dict[str, dict[str, list[Any]]]:
    """The small relations of sql.py as columns, ready for either engine to load."""
    codes = country_codes()
    as_of_s = epoch_s(query.as_of)
    entries = sorted(query.risk.entries, key=lambda e: (e.disease, e.country))
    return {
        "country_codes": {
            "code": list(codes),
            "iso2": list(codes.values()),
        },
        "risk": {
            "entry_id": list(range(len(entries))),
            "country": [e.country for e in entries],
            "disease": [e.disease for e in entries],
            "window_start_s": [epoch_s(e.window_start) for e in entries],
            "window_end_s": [epoch_s(e.window_end) for e in entries],
            "incubation_s": [e.incubation_days * DAY_S for e in entries],
        },
        "params": {"as_of_s": [as_of_s], "oldest_s": [as_of_s - MAX_WATCH_DAYS * DAY_S]},
        "consent": {
            "link_id": [link[0] for link in query.consent],
            "subscriber_key": [link[1] for link in query.consent],
            "label": [link[2] for link in query.consent],
            "language": [link[3] for link in query.consent],
        },
    }


def alert_from_row(row: Sequence[Any]) -> ConsentedExposure:
    """A ConsentedExposure from a row of sql.ALERTS."""
    return ConsentedExposure(
        link_id=str(row[0]),
        label=str(row[1] or ""),
        language=str(row[2]),
        exposure=exposure_from_row(row[3:]),
    )


def exposure_from_row(row: Sequence[Any]) -> Exposure:
    """An Exposure from a row of sql.EXPOSURES / ALL_EXPOSURES."""
    key, disease, country, start_s, end_s, watch_s, records, has_others = row
    return Exposure(
        subscriber_key=int(key),
        disease=str(disease),
        country=str(country),
        exposure_start=from_epoch_s(start_s),
        exposure_end=from_epoch_s(end_s),
        watch_until=from_epoch_s(watch_s),
        records=int(records),
        has_other_exposures=bool(has_others),
    )


def example_from_row(row: Sequence[Any]) -> ProblemExample:
    """A ProblemExample from a row of sql.EXAMPLES: (problem, the row as text; see sql._ROW_TEXT)."""
    problem, text = row
    has_key, visited, first, last = str(text).split("\x1f")

    def shown(value: str) -> str | None:
        if value.startswith("s:"):
            return from_epoch_s(int(value[2:])).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value[2:] if value.startswith("r:") else None

    return ProblemExample(
        problem=str(problem),
        visited=visited or None,
        first_seen=shown(first),
        last_seen=shown(last),
        has_key=has_key == "1",
    )


class Stopwatch:
    """Named timings of one run."""

    def __init__(self) -> None:
        self.timings_s: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time one step."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings_s[name] = round(time.perf_counter() - start, 4)
