"""The retention job: roaming records are kept 21 days after the person was last seen abroad.

A `day=YYYY-MM-DD` folder (the UTC day of `last_seen`, as `generate` and `ingest` write them) that
lies wholly before the limit is deleted file by file; any other file holding old rows is rewritten
without them. A row whose `last_seen` cannot be read has no age of its own; it goes when its file
was last written before the limit, so malformed rows are not kept for ever either.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from oneteam.services.epidemic.engine import find_record_files, wholly_before
from oneteam.services.epidemic.errors import RecordsError
from oneteam.services.epidemic.schema import MAX_WATCH_DAYS

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionReport:
    """What one retention pass removed."""

    cutoff: dt.datetime
    files_deleted: int
    files_rewritten: int
    rows_deleted: int


def apply_retention(records_dir: Path, *, as_of: dt.datetime, days: int = MAX_WATCH_DAYS) -> RetentionReport:
    """Delete every record last seen more than `days` days before `as_of`."""
    cutoff = as_of - dt.timedelta(days=days)
    if not records_dir.is_dir():
        raise RecordsError(f"{records_dir} is not a folder")
    if not any(p.suffix.lower() in (".parquet", ".csv") for p in records_dir.rglob("*")):
        return RetentionReport(cutoff=cutoff, files_deleted=0, files_rewritten=0, rows_deleted=0)
    files = find_record_files(records_dir)
    deleted = rewritten = rows = 0
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    try:
        for path in (*files.parquet, *files.csv):
            if wholly_before(path, cutoff):  # the same test that keeps the run from reading it
                rows += _row_count(con, path)
                path.unlink()
                deleted += 1
                continue
            removed = _rewrite_without_old(con, path, cutoff)
            if removed:
                rows += removed
                rewritten += 1
    except duckdb.Error as exc:
        raise RecordsError(str(exc).splitlines()[0]) from exc
    finally:
        con.close()
    _remove_empty_folders(records_dir)
    _LOGGER.info("retention: %d files deleted, %d rewritten, %d records removed", deleted, rewritten, rows)
    return RetentionReport(cutoff=cutoff, files_deleted=deleted, files_rewritten=rewritten, rows_deleted=rows)


def _source(path: Path) -> str:
    quoted = "'" + str(path).replace("'", "''") + "'"
    if path.suffix.lower() == ".parquet":
        return f"read_parquet({quoted})"
    return f"read_csv({quoted}, header = true, all_varchar = true, null_padding = true, strict_mode = false)"


def _row_count(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    row = con.execute(f"SELECT count(*) FROM {_source(path)}").fetchone()
    return int(row[0]) if row else 0


def _rewrite_without_old(con: duckdb.DuckDBPyConnection, path: Path, cutoff: dt.datetime) -> int:
    file_is_old = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC) < cutoff
    keep = (
        "CASE WHEN TRY_CAST(trim(CAST(last_seen AS VARCHAR)) AS TIMESTAMPTZ) IS NULL THEN ? "
        "ELSE TRY_CAST(trim(CAST(last_seen AS VARCHAR)) AS TIMESTAMPTZ) >= ? END"
    )
    params = [not file_is_old, cutoff]
    row = con.execute(f"SELECT count(*) FILTER (WHERE NOT ({keep})) FROM {_source(path)}", params).fetchone()
    removed = int(row[0]) if row else 0
    if removed == 0:
        return 0
    temporary = path.with_name(path.name + ".retention-tmp")
    options = "FORMAT parquet" if path.suffix.lower() == ".parquet" else "FORMAT csv, HEADER true"
    quoted = "'" + str(temporary).replace("'", "''") + "'"
    con.execute(f"COPY (SELECT * FROM {_source(path)} WHERE {keep}) TO {quoted} ({options})", params)
    # Replace in one step so a reader never sees half a file.
    temporary.replace(path)
    return removed


def _remove_empty_folders(root: Path) -> None:
    for folder in sorted(
        (p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        if not any(folder.iterdir()):
            folder.rmdir()
