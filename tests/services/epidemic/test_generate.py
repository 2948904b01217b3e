"""Synthetic records: size, layout, realism and the keyed hash of synthetic numbers."""

from __future__ import annotations

from pathlib import Path

import duckdb

from oneteam.services.epidemic.engine import AlertQuery
from oneteam.services.epidemic.engine_duckdb import DuckDBEngine
from oneteam.services.epidemic.generate import generate, subscriber_count, synthetic_msisdn
from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.schema import RiskList
from tests.services.epidemic.conftest import AS_OF


def test_exactly_the_asked_rows_are_written_in_day_folders(tmp_path: Path, hasher: SubscriberHasher) -> None:
    seen: list[tuple[str, int, int]] = []
    summary = generate(
        tmp_path / "r",
        30_000,
        as_of=AS_OF,
        hasher=hasher,
        progress=lambda phase, done, total: seen.append((phase, done, total)),
    )
    assert summary.rows == 30_000 and summary.subscribers == subscriber_count(30_000)
    folders = {p.parent.name for p in (tmp_path / "r").rglob("*.parquet")}
    assert all(name.startswith("day=") for name in folders) and len(folders) >= 35
    # Stays end within the last 35 days (earlier records of a long stay end earlier still).
    assert sorted(folders)[-1] <= "day=2026-11-24" and sorted(folders)[-36] >= "day=2026-10-19"
    assert seen[-1] == ("write", 30_000, 30_000) and any(p == "hash" for p, _, _ in seen)
    count = duckdb.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/r/**/*.parquet')").fetchall()[0]
    assert count == (30_000,)


def test_the_mix_is_plausible_for_korean_travellers(tmp_path: Path, hasher: SubscriberHasher) -> None:
    generate(tmp_path, 50_000, as_of=AS_OF, hasher=hasher, malformed_rate=0)
    rows = duckdb.sql(
        f"""SELECT visited, count(*) AS n,
                   median(epoch(last_seen) - epoch(first_seen)) / 86400 AS days,
                   count(DISTINCT subscriber_key) AS people
            FROM read_parquet('{tmp_path}/**/*.parquet') GROUP BY visited ORDER BY n DESC"""
    ).fetchall()
    by_code = {code: (n, days) for code, n, days, _ in rows}
    assert rows[0][0] in {"JP", "440"}  # Japan is the first destination
    assert by_code["JP"][1] < by_code["US"][1]  # a trip to Japan is shorter than one to the US
    # Some people have several records: a stay split by network changes.
    per_person = duckdb.sql(
        f"SELECT avg(n) FROM (SELECT count(*) n FROM read_parquet('{tmp_path}/**/*.parquet')"
        " GROUP BY subscriber_key)"
    ).fetchall()[0]
    assert per_person is not None and 1.2 < per_person[0] < 3


def test_a_synthetic_number_hashes_to_a_generated_key(tmp_path: Path, hasher: SubscriberHasher) -> None:
    generate(tmp_path, 2_000, as_of=AS_OF, hasher=hasher, malformed_rate=0)
    keys = {
        row[0]
        for row in duckdb.sql(
            f"SELECT subscriber_key FROM read_parquet('{tmp_path}/**/*.parquet')"
        ).fetchall()
    }
    known = {hasher.key_of(synthetic_msisdn(i)) for i in range(subscriber_count(2_000))}
    assert keys <= known and len(keys) > 500
    assert len({synthetic_msisdn(i) for i in range(10_000)}) == 10_000


def test_injected_malformed_rows_are_all_found_by_the_query(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    summary = generate(tmp_path, 40_000, as_of=AS_OF, hasher=hasher, malformed_rate=0.01)
    result = DuckDBEngine().run(AlertQuery(records_dir=tmp_path, risk=risk, as_of=AS_OF))
    # Rows in day folders wholly past the 21-day retention are not read, so not checked either.
    assert (
        summary.malformed_within_retention > 100
        and result.malformed_rows == summary.malformed_within_retention
    )
    assert summary.malformed_rows > summary.malformed_within_retention
    assert set(result.unknown_codes) == {"XX", "999"}
