"""The data the epidemic service reads: roaming records, the country table and the risk list.

Roaming records (Parquet or CSV files under one folder, any depth; `day=YYYY-MM-DD/` sub-folders
are what `generate` writes and what the retention job deletes whole):

- subscriber_key: INT64 (CSV: a decimal integer). The pseudonymous subscriber: the first 8 bytes
  of HMAC-SHA256(operator key, normalized number), big-endian, signed (privacy.py).
- visited: STRING. The visited country as an ISO 3166-1 alpha-2 code (`JP`) or a mobile country
  code (MCC, `440`), as the visited network reports it.
- first_seen: TIMESTAMP, UTC (CSV: `2026-11-03T08:15:00Z`). First time seen on a network there.
- last_seen: TIMESTAMP, UTC (CSV: `2026-11-07T21:40:00Z`). Last time seen there.

A raw export from the operator's switch (`msisdn` instead of `subscriber_key`) is turned into
records by `ingest`, which hashes each number and never writes it (see privacy.py).

The risk list is YAML (see risk_example.yaml) or CSV with the columns `RISK_CSV_COLUMNS`.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oneteam.i18n import render
from oneteam.services.epidemic.errors import RiskListError

_LOGGER = logging.getLogger(__name__)

RECORD_COLUMNS = ("subscriber_key", "visited", "first_seen", "last_seen")
RAW_COLUMNS = ("msisdn", "visited", "first_seen", "last_seen")
RISK_CSV_COLUMNS = (
    "country",
    "disease",
    "name_ko",
    "name_en",
    "window_start",
    "window_end",
    "incubation_days",
    "symptoms_ko",
    "symptoms_en",
    "advice_ko",
    "advice_en",
)
MAX_WATCH_DAYS = 21
"""The longest the Korean health authority monitors after return; also how long records are kept."""
DEFAULT_HOTLINE = "1339"
"""The KDCA call centre."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Country:
    """One country as the service knows it."""

    iso2: str
    """ISO 3166-1 alpha-2 code, the id used everywhere inside."""
    mcc: tuple[str, ...]
    """Mobile country codes a roaming record may carry instead."""
    names: Mapping[str, str]
    """Name per language (`ko`, `en`)."""
    weight_k: float
    """Rough 2019 Korean visitors in thousands (synthetic data only)."""
    stay_days: float
    """Typical stay (synthetic data only)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskEntry:
    """One (country, disease) pair on the health authority's list."""

    country: str
    disease: str
    names: Mapping[str, str]
    window_start: dt.datetime
    """First moment of the risk window (UTC)."""
    window_end: dt.datetime
    """Last moment of the risk window (UTC, the end of its last day)."""
    incubation_days: int
    symptoms: Mapping[str, str]
    advice: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskList:
    """The authority's list of countries and diseases to watch."""

    entries: tuple[RiskEntry, ...]
    hotline: str = DEFAULT_HOTLINE
    authority: Mapping[str, str]
    is_example: bool = False

    def entry(self, country: str, disease: str) -> RiskEntry:
        """The entry of one (country, disease) pair."""
        for entry in self.entries:
            if entry.country == country and entry.disease == disease:
                return entry
        raise KeyError((country, disease))


@cache
def countries() -> dict[str, Country]:
    """Every known country by ISO code (package data countries.yaml)."""
    text = (resources.files("oneteam.services.epidemic") / "countries.yaml").read_text(encoding="utf-8")
    table: dict[str, Country] = {}
    # libyaml's loader where built (package data, loaded once per run: pure-Python YAML took 0.1 s).
    for item in yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["countries"]:
        table[item["iso2"]] = Country(
            iso2=item["iso2"],
            mcc=tuple(str(code) for code in item["mcc"]),
            names={"ko": item["ko"], "en": item["en"]},
            weight_k=float(item["weight_k"]),
            stay_days=float(item["stay_days"]),
        )
    return table


def country_codes() -> dict[str, str]:
    """Every code a record may carry (ISO alpha-2 or MCC) → ISO alpha-2."""
    codes: dict[str, str] = {}
    for country in countries().values():
        codes[country.iso2] = country.iso2
        for mcc in country.mcc:
            codes[mcc] = country.iso2
    return codes


def sample_risk_path() -> Path:
    """The packaged example risk list (invented entries)."""
    return Path(str(resources.files("oneteam.services.epidemic") / "risk_example.yaml"))


def _default_authority() -> dict[str, str]:
    """The Korean health authority's name in each language, from the message catalogs."""
    return {language: render("epidemic.default_authority", language) for language in ("ko", "en")}


class _Texts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ko: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _EntryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country: str = Field(min_length=2, max_length=2)
    disease: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    name: _Texts
    window_start: dt.date
    window_end: dt.date
    incubation_days: int = Field(ge=1, le=MAX_WATCH_DAYS)
    symptoms: _Texts
    advice: _Texts


class _ListModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    example: bool = False
    authority: _Texts = Field(default_factory=lambda: _Texts(**_default_authority()))
    hotline: str = Field(default=DEFAULT_HOTLINE, pattern=r"^[0-9-]{3,20}$")
    # The alert query packs the entry number into 12 bits (sql.EXPOSURES).
    entries: list[_EntryModel] = Field(min_length=1, max_length=4000)


def load_risk_list(path: Path) -> RiskList:
    """Read and check a risk list (YAML or CSV)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RiskListError(str(path), exc.strerror or str(exc)) from exc
    try:
        raw: Any = _csv_document(text) if path.suffix.lower() == ".csv" else yaml.safe_load(text)
        model = _ListModel.model_validate(raw)
    except (yaml.YAMLError, csv.Error) as exc:
        raise RiskListError(str(path), f"cannot parse: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise RiskListError(str(path), problems) from exc
    return _to_risk_list(str(path), model)


def _csv_document(text: str) -> dict[str, Any]:
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in RISK_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise csv.Error(f"missing columns {', '.join(missing)}")
    entries = []
    for row in reader:
        entries.append(
            {
                "country": row["country"].strip().upper(),
                "disease": row["disease"].strip(),
                "name": {"ko": row["name_ko"], "en": row["name_en"]},
                "window_start": row["window_start"].strip(),
                "window_end": row["window_end"].strip(),
                "incubation_days": row["incubation_days"].strip(),
                "symptoms": {"ko": row["symptoms_ko"], "en": row["symptoms_en"]},
                "advice": {"ko": row["advice_ko"], "en": row["advice_en"]},
            }
        )
    return {"entries": entries}


def _to_risk_list(path: str, model: _ListModel) -> RiskList:
    known = countries()
    seen: set[tuple[str, str]] = set()
    entries: list[RiskEntry] = []
    for item in model.entries:
        country = item.country.upper()
        if country not in known:
            raise RiskListError(path, f"unknown country code {country!r}")
        if item.window_end < item.window_start:
            raise RiskListError(path, f"{country}/{item.disease}: window ends before it starts")
        if (country, item.disease) in seen:
            raise RiskListError(path, f"{country}/{item.disease} is listed twice")
        seen.add((country, item.disease))
        start = dt.datetime.combine(item.window_start, dt.time(), tzinfo=dt.UTC)
        end = dt.datetime.combine(item.window_end, dt.time(23, 59, 59), tzinfo=dt.UTC)
        entries.append(
            RiskEntry(
                country=country,
                disease=item.disease,
                names=item.name.model_dump(),
                window_start=start,
                window_end=end,
                incubation_days=item.incubation_days,
                symptoms=item.symptoms.model_dump(),
                advice=item.advice.model_dump(),
            )
        )
    if model.example:
        _LOGGER.warning("risk list %s is marked as an example, not a real advisory", path)
    return RiskList(
        entries=tuple(entries),
        hotline=model.hotline,
        authority=model.authority.model_dump(),
        is_example=model.example,
    )
