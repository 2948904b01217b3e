"""The alert query on DuckDB, against records whose answers were worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oneteam.services.epidemic.engine import AlertQuery
from oneteam.services.epidemic.engine_duckdb import DuckDBEngine
from oneteam.services.epidemic.errors import RecordsError
from oneteam.services.epidemic.generate import generate
from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.retention import apply_retention
from oneteam.services.epidemic.schema import RiskList, load_risk_list
from tests.services.epidemic.conftest import AS_OF, at, known_records, write_csv, write_known_records

DAY = dt.timedelta(days=1)


def _run(folder: Path, risk: RiskList, consent: list[tuple[str, int, str, str]] | None = None):  # type: ignore[no-untyped-def]
    query = AlertQuery(records_dir=folder, risk=risk, as_of=AS_OF, consent=consent or [], collect_all=True)
    return DuckDBEngine(threads=1).run(query)


def test_known_records_give_the_hand_computed_exposures(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    write_known_records(tmp_path, hasher)
    result = _run(tmp_path, risk)
    key = known_records(hasher)
    found = {e.subscriber_key: e for e in result.exposures}
    assert set(found) == {key["mother"], key["father"], key["cousin"]}
    mother, father, cousin = found[key["mother"]], found[key["father"]], found[key["cousin"]]
    # Two records of one stay (one by ISO code, one by MCC 452) make one exposure.
    assert (mother.disease, mother.country, mother.records, mother.has_other_exposures) == (
        "dengue",
        "VN",
        2,
        False,
    )
    assert mother.exposure_start == AS_OF - 10 * DAY and mother.exposure_end == AS_OF - 5 * DAY
    assert mother.watch_until == AS_OF - 5 * DAY + 14 * DAY
    # MERS (left 6 days ago, 14 days) is watched longer than dengue (left 10 days ago): one alert.
    assert (father.disease, father.country, father.has_other_exposures, father.records) == (
        "mers",
        "SA",
        True,
        2,
    )
    assert father.watch_until == AS_OF + 8 * DAY and father.exposure_end == AS_OF - 6 * DAY
    assert father.exposure_start == AS_OF - 12 * DAY  # first seen in any risk country (Vietnam)
    # Ebola's 21 days keep the cousin watched although back 20 days ago.
    assert (cousin.disease, cousin.watch_until) == ("ebola", AS_OF + DAY)
    assert (result.exposed_persons, result.exposed_records) == (3, 5)
    assert result.rows_total == 19


def test_every_kind_of_malformed_row_is_counted_with_an_example(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    write_known_records(tmp_path, hasher)
    result = _run(tmp_path, risk)
    assert dict(result.problems) == {
        "missing_key": 2,
        "missing_country": 1,
        "bad_first_seen": 1,
        "bad_last_seen": 1,
        "ends_before_start": 1,
        "in_future": 2,
        "unknown_country": 3,
    }
    assert dict(result.unknown_codes) == {"999": 2, "XX": 1}
    examples = {e.problem: e for e in result.examples}
    assert set(examples) == set(result.problems)
    assert examples["bad_first_seen"].first_seen == "yesterday"
    assert examples["bad_last_seen"].last_seen == "2026-13-45T99:00:00Z"
    assert not examples["missing_key"].has_key and examples["unknown_country"].has_key
    assert len(result.examples) == len(result.problems)  # one real row per problem


def test_only_consented_people_become_alerts(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    write_known_records(tmp_path, hasher)
    key = known_records(hasher)
    consent = [
        ("link-mother", key["mother"], "엄마", "ko"),
        ("link-mother-cabin", key["mother"], "", "en"),  # one person, two homes: one alert each
        ("link-son", key["son"], "", "en"),
    ]
    result = _run(tmp_path, risk, consent)
    assert [(a.link_id, a.label, a.language, a.exposure.subscriber_key) for a in result.alerts] == [
        ("link-mother", "엄마", "ko", key["mother"]),
        ("link-mother-cabin", "", "en", key["mother"]),
    ]


def test_only_stays_in_the_risk_window_and_still_in_incubation_count(
    tmp_path: Path, hasher: SubscriberHasher
) -> None:
    start = (AS_OF - 5 * DAY).date().isoformat()
    risk_csv = tmp_path / "risk.csv"
    risk_csv.write_text(
        "country,disease,name_ko,name_en,window_start,window_end,incubation_days,"
        "symptoms_ko,symptoms_en,advice_ko,advice_en\n"
        f"TH,cholera,콜레라,cholera,{start},2027-01-31,2,설사,diarrhoea,물을 드세요,drink water\n",
        encoding="utf-8",
    )
    risk = load_risk_list(risk_csv)
    before, overlapping, over = (hasher.key_of(f"0102000000{i}") for i in range(3))
    write_csv(
        tmp_path / "records" / "r.csv",
        [
            (before, "TH", at(9), at(6)),  # left a day before the window opened
            (overlapping, "520", at(7), at(1)),  # there when it opened; left a day ago
            (over, "TH", at(4), at(3)),  # in the window, but the 2 days of incubation are over
        ],
    )
    result = _run(tmp_path / "records", risk)
    assert [e.subscriber_key for e in result.exposures] == [overlapping]
    exposure = result.exposures[0]
    assert exposure.exposure_start == AS_OF - 5 * DAY
    assert exposure.watch_until == AS_OF - DAY + 2 * DAY


def test_parquet_and_csv_of_the_same_records_give_the_same_answer(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    for file_format in ("parquet", "csv"):
        generate(
            tmp_path / file_format,
            20_000,
            as_of=AS_OF,
            hasher=hasher,
            file_format=file_format,
            malformed_rate=0.002,
        )
    parquet, text = _run(tmp_path / "parquet", risk), _run(tmp_path / "csv", risk)
    assert parquet.exposures == text.exposures and len(parquet.exposures) > 100
    assert parquet.problems == text.problems and parquet.unknown_codes == text.unknown_codes


def test_records_without_the_schema_columns_are_refused(tmp_path: Path, risk: RiskList) -> None:
    write_csv(
        tmp_path / "bad.csv",
        [("x", "JP", at(2), at(1))],
        header=("phone", "visited", "first_seen", "last_seen"),
    )
    with pytest.raises(RecordsError, match="missing columns subscriber_key"):
        _run(tmp_path, risk)


def test_a_folder_without_records_is_refused(tmp_path: Path, risk: RiskList) -> None:
    with pytest.raises(RecordsError, match=r"no \.parquet or \.csv files"):
        _run(tmp_path, risk)


def test_day_folders_past_retention_are_counted_but_never_read(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    write_known_records(tmp_path / "day=unknown", hasher)  # not a day: always read
    alone = _run(tmp_path, risk)
    key = known_records(hasher)
    # Wholly before as_of - 21 days: the day folder is left unread, even its malformed rows.
    write_csv(tmp_path / "day=2026-10-20" / "old.csv", [(key["uncle"], "ZZ", at(36), at(35))] * 3)
    # The day of the limit itself (2026-11-03) may hold rows still in retention: read.
    write_csv(tmp_path / "day=2026-11-03" / "edge.csv", [(key["son"], "ZZ", at(21.5), at(21))])
    result = _run(tmp_path, risk)
    assert (result.rows_total, result.rows_past_retention) == (19 + 3 + 1, 3)
    assert result.unknown_codes == {**alone.unknown_codes, "ZZ": 1} and "ZZ" not in alone.unknown_codes
    assert result.malformed_rows == alone.malformed_rows + 1 and result.exposures == alone.exposures


def test_a_folder_wholly_past_retention_gives_an_empty_run(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    key = known_records(hasher)
    write_csv(tmp_path / "day=2026-10-01" / "old.csv", [(key["uncle"], "PH", at(55), at(54))] * 4)
    result = _run(tmp_path, risk)
    assert (result.rows_total, result.rows_past_retention, result.malformed_rows) == (4, 4, 0)
    assert result.exposures == () and result.exposed_persons == 0


def test_the_run_answers_the_same_before_and_after_the_retention_job(
    tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    generate(tmp_path, 20_000, as_of=AS_OF, hasher=hasher, malformed_rate=0.005)
    before = _run(tmp_path, risk)
    removed = apply_retention(tmp_path, as_of=AS_OF)
    after = _run(tmp_path, risk)
    assert before.rows_past_retention == removed.rows_deleted > 5_000 and after.rows_past_retention == 0
    assert before.rows_total - before.rows_past_retention == after.rows_total
    assert before.exposures == after.exposures and len(before.exposures) > 100
    assert (before.problems, before.unknown_codes, before.examples) == (
        after.problems,
        after.unknown_codes,
        after.examples,
    )
