"""Ingest: raw exports with phone numbers become keyed records; numbers never reach the disk."""

from __future__ import annotations

from pathlib import Path

import duckdb

from oneteam.services.epidemic.engine import AlertQuery
from oneteam.services.epidemic.engine_duckdb import DuckDBEngine
from oneteam.services.epidemic.ingest import ingest
from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.schema import RiskList
from tests.services.epidemic.conftest import AS_OF, at, write_csv


def test_numbers_are_replaced_by_keys_and_bad_numbers_counted(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    raw = write_csv(
        tmp_path / "raw.csv",
        [
            ("010-1111-2222", "vn", at(6), at(4)),
            ("+82 10 1111 2222", "452", at(4), at(2)),
            ("02-555-1234", "JP", at(3), at(2)),  # a landline: not a subscriber we can key
            ("010-3333-4444", "JP", at(40), at(30)),
        ],
        header=("msisdn", "visited", "first_seen", "last_seen"),
    )
    summary = ingest(raw, tmp_path / "records", hasher)
    assert (summary.rows, summary.subscribers, summary.invalid_numbers) == (4, 2, 1)
    written = b"".join(p.read_bytes() for p in (tmp_path / "records").rglob("*.parquet"))
    assert b"1111" not in written and b"555-1234" not in written
    keys = duckdb.sql(
        f"SELECT subscriber_key, visited FROM read_parquet('{tmp_path}/records/**/*.parquet')"
        " ORDER BY last_seen, visited"
    ).fetchall()
    mother = hasher.key_of("01011112222")
    assert keys == [(hasher.key_of("01033334444"), "JP"), (mother, "VN"), (mother, "452"), (None, "JP")]
    result = DuckDBEngine().run(
        AlertQuery(records_dir=tmp_path / "records", risk=risk, as_of=AS_OF, collect_all=True)
    )
    assert [e.subscriber_key for e in result.exposures] == [mother] and result.problems == {"missing_key": 1}
