"""Synthetic roaming records that look like Korean outbound travel.

About 28.7 million departures from Korea in 2019 (Korea Tourism Organization) spread over the
countries of countries.yaml by their rough 2019 visitor counts; stays follow a log-normal around
each country's typical stay; a stay is split into one to three records when the phone changes
visited network, which is why one person has several records and alerts must be deduplicated.
Subscriber keys are real keyed hashes of synthetic numbers (`synthetic_msisdn`), so a test can
link a home to a generated traveller by phone number.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from oneteam.services.epidemic.engine import DAY_S, epoch_s
from oneteam.services.epidemic.errors import RecordsError
from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.schema import MAX_WATCH_DAYS, RiskList, countries, country_codes

_LOGGER = logging.getLogger(__name__)

DEPARTURES_2019 = 28_700_000
RECORDS_PER_TRIP = (1, 2, 3)
RECORDS_PER_TRIP_P = (0.7, 0.2, 0.1)
"""Share of stays split into 1, 2 or 3 records (network changes while abroad)."""
TRIPS_PER_SUBSCRIBER = 1.25
"""Trips per traveller in the generated period: some people travel twice."""
MAX_SUBSCRIBERS = 20_000_000
"""Caps hashing time at 100 M rows; about the number of Koreans who travel abroad in a year."""
HISTORY_DAYS = 35
"""Records end up to this many days before `as_of`, so some are past the 21-day retention."""
MCC_SHARE = 0.3
"""Share of records that name the visited country by MCC instead of its ISO code."""
CHUNK_ROWS = 4_000_000
_MEAN_RECORDS = float(np.dot(RECORDS_PER_TRIP, RECORDS_PER_TRIP_P))
_MALFORMED_KINDS = ("unknown_code", "ends_before_start", "missing_key", "in_future")

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerateSummary:
    """What `generate` wrote."""

    rows: int
    files: int
    subscribers: int
    malformed_rows: int
    malformed_within_retention: int
    """Malformed rows outside the `day=` folders a run leaves unread (wholly before as_of − 21 days)."""
    elapsed_s: float
    traveller: Traveller | None = None
    """One generated person still in the watch period of a risk list's entry: a number to consent with."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Traveller:
    """A synthetic subscriber the records show back from a risk country, still under watch."""

    msisdn: str
    country: str
    last_seen: dt.datetime


def synthetic_msisdn(index: int) -> str:
    """The made-up mobile number of synthetic subscriber `index` (a bijection onto 010-0000-0000…)."""
    # 7919 is prime and shares no factor with 10⁸, so index ↦ number is one-to-one.
    return f"010{(index * 7919 + 12_345_678) % 100_000_000:08d}"


def subscriber_count(rows: int) -> int:
    """How many distinct travellers `rows` records are spread over."""
    return max(1, min(MAX_SUBSCRIBERS, round(rows / _MEAN_RECORDS / TRIPS_PER_SUBSCRIBER)))


def generate(
    out_dir: Path,
    rows: int,
    *,
    as_of: dt.datetime,
    hasher: SubscriberHasher,
    seed: int = 2015,
    file_format: str = "parquet",
    malformed_rate: float = 1e-5,
    progress: Progress | None = None,
    risk: RiskList | None = None,
) -> GenerateSummary:
    """Write `rows` synthetic records under `out_dir/day=YYYY-MM-DD/`; with a `risk` list, also name
    one traveller the records show exposed (for a consent that makes the quick start end in an alert)."""
    if rows < 1:
        raise RecordsError("--rows must be at least 1")
    if file_format not in ("parquet", "csv"):
        raise RecordsError(f"unknown format {file_format!r} (parquet or csv)")
    if not 0.0 <= malformed_rate <= 1.0:
        raise RecordsError("--malformed-rate must be between 0 and 1")
    started = time.perf_counter()
    report = progress or (lambda _phase, _done, _total: None)
    keys = _subscriber_keys(subscriber_count(rows), hasher, report)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    written = malformed = recent = 0
    cutoff_day = (epoch_s(as_of) - MAX_WATCH_DAYS * DAY_S) // DAY_S
    with _DayWriters(out_dir, file_format) as writers:
        while written < rows:
            need = min(CHUNK_ROWS, rows - written)
            table, bad_last_s = _chunk(rng, need, keys, epoch_s(as_of), malformed_rate)
            writers.write(table)
            written += need
            malformed += len(bad_last_s)
            # A row lies in the folder of its last_seen's UTC day (see _DayWriters.write).
            recent += int(np.count_nonzero(bad_last_s // DAY_S + 1 > cutoff_day))
            report("write", written, rows)
        files = len(writers.paths)
    exposed = None
    if risk is not None and file_format == "parquet":
        exposed = find_traveller(out_dir, keys, risk, as_of)
    summary = GenerateSummary(
        rows=written,
        files=files,
        subscribers=len(keys),
        malformed_rows=malformed,
        malformed_within_retention=recent,
        elapsed_s=round(time.perf_counter() - started, 2),
        traveller=exposed,
    )
    _LOGGER.info("generated %d records in %d files", summary.rows, summary.files)
    return summary


def find_traveller(out_dir: Path, keys: np.ndarray, risk: RiskList, as_of: dt.datetime) -> Traveller | None:
    """The subscriber of the latest record in a risk country whose stay overlaps the risk window and
    whose watch (last seen + incubation) has not ended at `as_of`; None when the records show none."""
    codes = country_codes()
    table = pq.read_table(out_dir, columns=["subscriber_key", "visited", "last_seen", "first_seen"])
    best: tuple[int, int, str] | None = None  # (last seen, key, country)
    now = epoch_s(as_of)
    for entry in risk.entries:
        visited = [code for code, iso in codes.items() if iso == entry.country]
        rows = table.filter(
            pc.and_(pc.is_in(table["visited"], pa.array(visited)), pc.is_valid(table["subscriber_key"]))
        )
        if rows.num_rows == 0:
            continue
        last = rows["last_seen"].cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
        first = rows["first_seen"].cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
        key = rows["subscriber_key"].to_numpy(zero_copy_only=False)
        ok = (
            (last <= now)
            & (last + entry.incubation_days * DAY_S > now + DAY_S)  # a day left, so it still holds tomorrow
            & (last >= epoch_s(entry.window_start))
            & (first <= epoch_s(entry.window_end))
        )
        for index in np.flatnonzero(ok):
            if best is None or int(last[index]) > best[0]:
                best = (int(last[index]), int(key[index]), entry.country)
    if best is None:
        return None
    position = np.flatnonzero(keys == best[1])
    if position.size == 0:
        return None
    return Traveller(
        msisdn=synthetic_msisdn(int(position[0])),
        country=best[2],
        last_seen=dt.datetime.fromtimestamp(best[0], tz=dt.UTC),
    )


def _subscriber_keys(count: int, hasher: SubscriberHasher, report: Progress) -> np.ndarray:
    keys = np.empty(count, dtype=np.int64)
    step = 500_000
    for start in range(0, count, step):
        stop = min(count, start + step)
        keys[start:stop] = hasher.keys_of(synthetic_msisdn(i) for i in range(start, stop))
        report("hash", stop, count)
    return keys


def _chunk(
    rng: np.random.Generator, need: int, keys: np.ndarray, as_of_s: int, malformed_rate: float
) -> tuple[pa.Table, np.ndarray]:
    table = list(countries().values())
    weights = np.array([c.weight_k for c in table])
    stay_days = np.array([c.stay_days for c in table])
    trips = math.ceil(need / _MEAN_RECORDS * 1.1) + 8
    who = rng.integers(0, len(keys), trips)
    where = rng.choice(len(table), size=trips, p=weights / weights.sum())
    stay_s = np.clip(stay_days[where] * DAY_S * rng.lognormal(0.0, 0.6, trips), 2 * 3600, 60 * DAY_S)
    last = as_of_s - rng.uniform(0, HISTORY_DAYS * DAY_S, trips)
    first = last - stay_s
    parts = rng.choice(RECORDS_PER_TRIP, size=trips, p=RECORDS_PER_TRIP_P)
    # One row per record: repeat each trip by its record count, and number the records in it.
    trip_of_row = np.repeat(np.arange(trips), parts)[:need]
    part_of_row = np.arange(len(trip_of_row)) - np.repeat(np.cumsum(parts) - parts, parts)[:need]
    k = parts[trip_of_row]
    span = stay_s[trip_of_row]
    seg_first = first[trip_of_row] + span * part_of_row / k
    # A gap of one minute between records of one stay: the phone re-attached to another network.
    seg_last = first[trip_of_row] + span * (part_of_row + 1) / k - np.where(part_of_row + 1 < k, 60, 0)
    country = where[trip_of_row]
    iso = np.array([c.iso2 for c in table], dtype=object)[country]
    mcc = np.array([c.mcc[0] if c.mcc else c.iso2 for c in table], dtype=object)[country]
    visited = np.where(rng.random(need) < MCC_SHARE, mcc, iso)
    first_s = seg_first.astype(np.int64)
    last_s = seg_last.astype(np.int64)
    key = keys[who[trip_of_row]]
    key_missing = np.zeros(need, dtype=bool)
    bad = np.flatnonzero(rng.random(need) < malformed_rate)
    kinds = rng.integers(0, len(_MALFORMED_KINDS), len(bad))
    for row, kind in zip(bad, kinds, strict=True):
        match _MALFORMED_KINDS[kind]:
            case "unknown_code":
                visited[row] = "XX" if row % 2 else "999"
            case "ends_before_start":
                first_s[row], last_s[row] = last_s[row] + 3600, first_s[row]
            case "missing_key":
                key_missing[row] = True
            case _:
                first_s[row] = as_of_s + 2 * DAY_S
                last_s[row] = as_of_s + 3 * DAY_S
    columns = {
        "subscriber_key": pa.array(key, mask=key_missing, type=pa.int64()),
        "visited": pa.array(visited, type=pa.string()),
        "first_seen": _timestamps(first_s),
        "last_seen": _timestamps(last_s),
    }
    return pa.table(columns), last_s[bad]


def _timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]").astype("datetime64[us]")).cast(
        pa.timestamp("us", tz="UTC")
    )


class _DayWriters:
    """One open file per `day=` folder, so each day is one file of large row groups however many
    chunks feed it (many small files would slow every reader down)."""

    def __init__(self, out_dir: Path, file_format: str) -> None:
        self._out_dir = out_dir
        self._format = file_format
        self._parquet: dict[int, pq.ParquetWriter] = {}
        self._csv: dict[int, pa_csv.CSVWriter] = {}
        self.paths: list[Path] = []

    def __enter__(self) -> _DayWriters:
        return self

    def __exit__(self, *_exc: object) -> None:
        for writer in (*self._parquet.values(), *self._csv.values()):
            writer.close()

    def write(self, table: pa.Table) -> None:
        """Append a chunk's rows to the files of their days (the UTC day of `last_seen`)."""
        days = table.column("last_seen").cast(pa.int64()).to_numpy() // (DAY_S * 1_000_000)
        order = np.argsort(days, kind="stable")
        table = table.take(pa.array(order))
        days = days[order]
        bounds = np.flatnonzero(np.diff(days)) + 1
        for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(days)], strict=True):
            piece = table.slice(int(start), int(stop - start))
            self._writer(int(days[start]), piece)

    def _writer(self, day_index: int, piece: pa.Table) -> None:
        if self._format == "parquet":
            if day_index not in self._parquet:
                path = self._path(day_index, "parquet")
                self._parquet[day_index] = pq.ParquetWriter(path, piece.schema)
            self._parquet[day_index].write_table(piece, row_group_size=len(piece))
            return
        text = _csv_table(piece)
        if day_index not in self._csv:
            path = self._path(day_index, "csv")
            self._csv[day_index] = pa_csv.CSVWriter(
                path, text.schema, write_options=pa_csv.WriteOptions(quoting_style="needed")
            )
        self._csv[day_index].write_table(text)

    def _path(self, day_index: int, suffix: str) -> Path:
        day = dt.date(1970, 1, 1) + dt.timedelta(days=day_index)
        folder = self._out_dir / f"day={day.isoformat()}"
        folder.mkdir(exist_ok=True)
        path = folder / f"part-0.{suffix}"
        self.paths.append(path)
        return path


def _csv_table(piece: pa.Table) -> pa.Table:
    def iso(column: str) -> pa.Array:
        seconds = piece.column(column).cast(pa.int64()).to_numpy() // 1_000_000
        text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
        return pa.array(np.char.add(text.astype(str), "Z"), type=pa.string())

    return pa.table(
        {
            "subscriber_key": piece.column("subscriber_key"),
            "visited": piece.column("visited"),
            "first_seen": iso("first_seen"),
            "last_seen": iso("last_seen"),
        }
    )
