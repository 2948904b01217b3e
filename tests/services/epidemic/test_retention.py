"""The retention job deletes records last seen more than 21 days ago, and nothing younger."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from oneteam.services.epidemic.generate import generate
from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.retention import apply_retention
from tests.services.epidemic.conftest import AS_OF, at, write_csv


def _last_seen_range(folder: Path) -> tuple[dt.datetime, int]:
    oldest, count = duckdb.sql(
        f"SELECT min(last_seen), count(*) FROM read_parquet('{folder}/**/*.parquet')"
    ).fetchall()[0]
    return oldest, count


def test_old_day_folders_are_deleted_and_the_rest_kept(tmp_path: Path, hasher: SubscriberHasher) -> None:
    generate(tmp_path, 20_000, as_of=AS_OF, hasher=hasher, malformed_rate=0)
    young = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/**/*.parquet')"
        " WHERE last_seen >= TIMESTAMPTZ '2026-11-03'"
    ).fetchall()[0][0]
    report = apply_retention(tmp_path, as_of=AS_OF)
    oldest, kept = _last_seen_range(tmp_path)
    assert report.files_deleted > 10 and report.rows_deleted == 20_000 - kept
    assert kept == young and oldest >= AS_OF - dt.timedelta(days=21)
    assert all(p.name >= "day=2026-11-03" for p in tmp_path.iterdir())
    assert apply_retention(tmp_path, as_of=AS_OF).rows_deleted == 0


def test_a_mixed_file_is_rewritten_without_its_old_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "flat.csv",
        [(1, "JP", at(30), at(25)), (2, "JP", at(5), at(3)), (3, "JP", at(2), "garbage")],
    )
    report = apply_retention(tmp_path, as_of=AS_OF)
    assert (report.files_rewritten, report.rows_deleted) == (1, 1)
    kept = path.read_text(encoding="utf-8").splitlines()
    assert kept[0] == "subscriber_key,visited,first_seen,last_seen" and len(kept) == 3
    assert {line.split(",")[0] for line in kept[1:]} == {"2", "3"}


def test_a_row_of_unknown_age_goes_when_its_file_is_old(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "flat.csv", [(2, "JP", at(5), at(3)), (3, "JP", at(2), "garbage")])
    month_ago = (AS_OF - dt.timedelta(days=30)).timestamp()
    os.utime(path, (month_ago, month_ago))
    report = apply_retention(tmp_path, as_of=AS_OF)
    assert report.rows_deleted == 1
    assert [line.split(",")[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]] == ["2"]


def test_an_empty_records_folder_is_fine(tmp_path: Path) -> None:
    assert apply_retention(tmp_path, as_of=AS_OF).rows_deleted == 0
