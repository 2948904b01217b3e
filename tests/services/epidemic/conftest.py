"""Fixtures of the epidemic tests: an operator key, a fixed moment, and hand-written records."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.schema import RiskList, load_risk_list, sample_risk_path

AS_OF = dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC)
OPERATOR_KEY = bytes(range(32))


@pytest.fixture
def as_of() -> dt.datetime:
    """The moment every test runs at (inside the example risk windows)."""
    return AS_OF


@pytest.fixture
def hasher() -> SubscriberHasher:
    return SubscriberHasher(OPERATOR_KEY)


@pytest.fixture
def risk() -> RiskList:
    return load_risk_list(sample_risk_path())


def at(days_before: float) -> str:
    """An ISO time `days_before` days before AS_OF, as a CSV record carries it."""
    return (AS_OF - dt.timedelta(days=days_before)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, rows: list[tuple[object, ...]], header: tuple[str, ...] | None = None) -> Path:
    """Write records (subscriber_key, visited, first_seen, last_seen) as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header or ("subscriber_key", "visited", "first_seen", "last_seen"))
        writer.writerows(rows)
    return path


def known_records(hasher: SubscriberHasher) -> dict[str, int]:
    """Keys of the people in `write_known_records`, by name."""
    return {name: hasher.key_of(number) for name, number in PEOPLE.items()}


PEOPLE = {
    "mother": "010-1111-2222",  # Vietnam (dengue), one stay in two records
    "father": "010-3333-4444",  # Saudi Arabia by MCC 420 (MERS), and Vietnam: MERS watched longer
    "son": "010-5555-6666",  # Japan only: no alert
    "aunt": "010-7777-8888",  # Vietnam, but back before the dengue window opened
    "uncle": "010-9999-0000",  # Philippines 30 days ago: past retention and watch
    "cousin": "+82 10 1212 3434",  # DR Congo (Ebola, 21 days), back 20 days ago: still watched
}


def write_known_records(folder: Path, hasher: SubscriberHasher) -> Path:
    """A small, hand-computed set of records with one of every kind of malformed row."""
    key = known_records(hasher)
    rows: list[tuple[object, ...]] = [
        (key["mother"], "VN", at(10), at(8)),
        (key["mother"], "452", at(8), at(5)),
        (key["father"], "420", at(9), at(6)),
        (key["father"], "VN", at(12), at(10)),
        (key["son"], "JP", at(4), at(2)),
        (key["aunt"], "VN", at(70), at(60)),
        (key["uncle"], "PH", at(35), at(30)),
        (key["cousin"], "CD", at(25), at(20)),
        ("", "VN", at(3), at(2)),  # missing key
        ("not-a-key", "VN", at(3), at(2)),  # key that is not a number
        (key["son"], "", at(3), at(2)),  # missing country
        (key["son"], "JP", "yesterday", at(2)),  # bad first_seen
        (key["son"], "JP", at(3), "2026-13-45T99:00:00Z"),  # bad last_seen
        (key["son"], "JP", at(2), at(3)),  # ends before it starts
        (key["son"], "JP", at(-2), at(-3)),  # in the future
        (key["son"], "JP", at(-2), at(-4)),
        (key["son"], "XX", at(3), at(2)),  # unknown ISO code
        (key["son"], "999", at(3), at(2)),  # unknown MCC
        (key["son"], "999", at(6), at(5)),
    ]
    return write_csv(folder / "records.csv", rows)
