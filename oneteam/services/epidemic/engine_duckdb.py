"""The alert query on embedded DuckDB (the default: one machine, no server)."""

from __future__ import annotations

import csv
import logging
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from oneteam.services.epidemic import sql
from oneteam.services.epidemic.engine import (
    AlertQuery,
    QueryResult,
    RecordFiles,
    Stopwatch,
    alert_from_row,
    count_rows,
    example_from_row,
    exposure_from_row,
    find_record_files,
    small_tables,
    within_retention,
)
from oneteam.services.epidemic.errors import RecordsError
from oneteam.services.epidemic.schema import RECORD_COLUMNS

_LOGGER = logging.getLogger(__name__)

# Parquet carries types; a column of another type (keys written as text) is cast, and what does
# not cast becomes NULL, which the shared SQL counts as malformed.
_PARQUET_VIEW = """
SELECT TRY_CAST(subscriber_key AS BIGINT) AS subscriber_key,
       TRY_CAST(visited AS VARCHAR) AS visited,
       epoch_us(TRY_CAST(first_seen AS TIMESTAMPTZ)) // 1000000 AS first_seen_s,
       epoch_us(TRY_CAST(last_seen AS TIMESTAMPTZ)) // 1000000 AS last_seen_s,
       CAST(NULL AS VARCHAR) AS first_seen_raw,
       CAST(NULL AS VARCHAR) AS last_seen_raw
FROM {source}
"""
_PARQUET_SOURCE = "read_parquet({files}, union_by_name = true)"
# CSV is read as text so that a bad value is counted with its own text as the example.
_CSV_VIEW = """
SELECT TRY_CAST(trim(subscriber_key) AS BIGINT) AS subscriber_key,
       upper(trim(visited)) AS visited,
       epoch_us(TRY_CAST(trim(first_seen) AS TIMESTAMPTZ)) // 1000000 AS first_seen_s,
       epoch_us(TRY_CAST(trim(last_seen) AS TIMESTAMPTZ)) // 1000000 AS last_seen_s,
       first_seen AS first_seen_raw,
       last_seen AS last_seen_raw
FROM {source}
"""
_EMPTY_VIEW = """
SELECT CAST(NULL AS BIGINT) AS subscriber_key, CAST(NULL AS VARCHAR) AS visited,
       CAST(NULL AS BIGINT) AS first_seen_s, CAST(NULL AS BIGINT) AS last_seen_s,
       CAST(NULL AS VARCHAR) AS first_seen_raw, CAST(NULL AS VARCHAR) AS last_seen_raw
LIMIT 0
"""
_CSV_SOURCE = (
    "read_csv({files}, header = true, all_varchar = true, union_by_name = true,"
    " null_padding = true, strict_mode = false)"
)


class DuckDBEngine:
    """Runs sql.py on an in-process DuckDB."""

    name = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self._threads = threads
        self._memory_limit = memory_limit

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        # Order of rows inside a query does not matter here; dropping it lets DuckDB stream with less memory.
        con.execute("SET preserve_insertion_order = false")
        if self._threads is not None:
            con.execute(f"SET threads = {int(self._threads)}")
        if self._memory_limit is not None:
            con.execute("SET memory_limit = ?", [self._memory_limit])
        return con

    def run(self, query: AlertQuery) -> QueryResult:
        """Run the alert query over the records of `query.records_dir`."""
        watch = Stopwatch()
        files = within_retention(find_record_files(query.records_dir), query.as_of)
        con = self._connect()
        try:
            with watch.step("load"), tempfile.TemporaryDirectory(prefix="oneteam-epidemic-") as scratch:
                _create_records_view(con, files)
                for name, columns in small_tables(query).items():
                    _load_table(con, name, columns, Path(scratch))
            with watch.step("count"):
                past_rows = count_rows(files.past_retention)
                rows_total = _scalar(con, sql.ROW_COUNT) + past_rows
            with watch.step("validate"):
                con.execute(f"CREATE TEMP TABLE problem_summary AS {sql.PROBLEM_SUMMARY}")
            with watch.step("exposures"):
                con.execute(f"CREATE TEMP TABLE exposures AS {sql.EXPOSURES}")
            with watch.step("alerts"):
                persons, records = _row(con, sql.EXPOSURE_COUNTS)
                alerts = tuple(alert_from_row(tuple(row)) for row in con.execute(sql.ALERTS).fetchall())
                everyone = (
                    tuple(exposure_from_row(row) for row in con.execute(sql.ALL_EXPOSURES).fetchall())
                    if query.collect_all
                    else ()
                )
            with watch.step("report"):
                problems = {str(p): int(n) for p, n in con.execute(sql.PROBLEM_COUNTS).fetchall()}
                unknown = {str(v): int(n) for v, n in con.execute(sql.UNKNOWN_CODES).fetchall()}
                examples = tuple(example_from_row(row) for row in con.execute(sql.EXAMPLES).fetchall())
        except duckdb.Error as exc:
            raise RecordsError(_first_line(exc)) from exc
        finally:
            con.close()
        return QueryResult(
            engine=self.name,
            rows_total=rows_total,
            problems=problems,
            unknown_codes=unknown,
            examples=examples,
            exposed_persons=persons,
            exposed_records=records,
            alerts=alerts,
            exposures=everyone,
            timings_s=watch.timings_s,
            rows_past_retention=past_rows,
        )


def _create_records_view(con: duckdb.DuckDBPyConnection, files: RecordFiles) -> None:
    parts: list[str] = []
    for group, view, source in (
        (files.parquet, _PARQUET_VIEW, _PARQUET_SOURCE),
        (files.csv, _CSV_VIEW, _CSV_SOURCE),
    ):
        if not group:
            continue
        from_clause = source.format(files=_sql_list([str(p) for p in group]))
        try:
            columns = {str(row[0]) for row in con.execute(f"DESCRIBE SELECT * FROM {from_clause}").fetchall()}
        except duckdb.Error as exc:
            raise RecordsError(_first_line(exc)) from exc
        missing = [c for c in RECORD_COLUMNS if c not in columns]
        if missing:
            raise RecordsError(f"missing columns {', '.join(missing)} (expected {', '.join(RECORD_COLUMNS)})")
        parts.append(view.format(source=from_clause))
    if not parts:  # every file lies before the retention limit
        parts.append(_EMPTY_VIEW)
    con.execute("CREATE TEMP VIEW records_in AS " + " UNION ALL ".join(parts))


def _sql_list(paths: list[str]) -> str:
    quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"[{quoted}]"


_TEXT_COLUMNS = frozenset({"code", "iso2", "country", "disease", "link_id", "label", "language"})


def _load_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list[Any]], scratch: Path
) -> None:
    # Through a CSV file with declared types: turning Python lists into Arrow (or registering
    # them) imports pandas, a fixed 0.3-1 s on every run, while the consent table can hold
    # millions of rows. Every field is quoted so that an empty label stays '' (not NULL).
    path = scratch / f"{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))
    types = ", ".join(f"'{col}': '{'VARCHAR' if col in _TEXT_COLUMNS else 'BIGINT'}'" for col in columns)
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT * FROM read_csv('{_quoted(path)}', header = true,"
        f" columns = {{{types}}}, allow_quoted_nulls = false, auto_detect = false)"
    )


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _scalar(con: duckdb.DuckDBPyConnection, text: str) -> int:
    row = con.execute(text).fetchone()
    return int(row[0]) if row else 0


def _row(con: duckdb.DuckDBPyConnection, text: str) -> tuple[int, int]:
    row = con.execute(text).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
