"""Ingest: a raw roaming export with phone numbers becomes pseudonymous records.

Each number is normalized and replaced by its keyed hash (privacy.py) before anything is
written; the number itself is never written or logged. A number that is not a Korean mobile
number is not guessed at: its row is written with no key, and `run` counts it as malformed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from oneteam.services.epidemic.errors import InvalidPhoneNumber, RecordsError
from oneteam.services.epidemic.privacy import SubscriberHasher, normalize_msisdn
from oneteam.services.epidemic.schema import RAW_COLUMNS

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestSummary:
    """What one ingest wrote."""

    rows: int
    subscribers: int
    invalid_numbers: int
    files: int
    elapsed_s: float


def ingest(source: Path, out_dir: Path, hasher: SubscriberHasher) -> IngestSummary:
    """Hash the numbers of a raw export (CSV or Parquet) and write records under `out_dir/day=…/`."""
    started = time.perf_counter()
    table = _read_raw(source)
    numbers = table.column("msisdn").to_pylist()
    keys_by_number: dict[str, int | None] = {}
    for number in set(numbers):
        try:
            keys_by_number[number] = hasher.key_of_normalized(normalize_msisdn(number)) if number else None
        except InvalidPhoneNumber:
            keys_by_number[number] = None
    keys = pa.array([keys_by_number[n] for n in numbers], type=pa.int64())
    invalid = keys.null_count
    records = pa.table(
        {
            "subscriber_key": keys,
            "visited": table.column("visited"),
            "first_seen": table.column("first_seen"),
            "last_seen": table.column("last_seen"),
        }
    )
    files = _write_by_day(
        records, table.column("day").to_pylist(), out_dir, stamp=time.strftime("%Y%m%dT%H%M%S")
    )
    summary = IngestSummary(
        rows=records.num_rows,
        subscribers=len({k for k in keys_by_number.values() if k is not None}),
        invalid_numbers=invalid,
        files=files,
        elapsed_s=round(time.perf_counter() - started, 3),
    )
    _LOGGER.info("ingested %d records (%d without a usable number)", summary.rows, invalid)
    return summary


def _read_raw(source: Path) -> pa.Table:
    if not source.is_file():
        raise RecordsError(f"{source} is not a file")
    quoted = "'" + str(source).replace("'", "''") + "'"
    reader = (
        f"read_parquet({quoted})"
        if source.suffix.lower() == ".parquet"
        else f"read_csv({quoted}, header = true, all_varchar = true, null_padding = true,"
        " strict_mode = false)"
    )
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    try:
        columns = {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
        missing = [c for c in RAW_COLUMNS if c not in columns]
        if missing:
            raise RecordsError(f"missing columns {', '.join(missing)} (expected {', '.join(RAW_COLUMNS)})")
        return con.sql(
            "SELECT CAST(msisdn AS VARCHAR) AS msisdn, upper(trim(CAST(visited AS VARCHAR))) AS visited,"
            " TRY_CAST(trim(CAST(first_seen AS VARCHAR)) AS TIMESTAMPTZ) AS first_seen,"
            " TRY_CAST(trim(CAST(last_seen AS VARCHAR)) AS TIMESTAMPTZ) AS last_seen,"
            " coalesce(strftime(TRY_CAST(trim(CAST(last_seen AS VARCHAR)) AS TIMESTAMPTZ), '%Y-%m-%d'),"
            f" 'unknown') AS day FROM {reader}"
        ).to_arrow_table()
    except duckdb.Error as exc:
        raise RecordsError(str(exc).splitlines()[0]) from exc
    finally:
        con.close()


def _write_by_day(records: pa.Table, days: list[str], out_dir: Path, stamp: str) -> int:
    files = 0
    labels = pa.array(days, type=pa.string())
    for label in sorted(set(days)):
        folder = out_dir / f"day={label}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(records.filter(pc.equal(labels, label)), folder / f"ingest-{stamp}.parquet")
        files += 1
    return files
