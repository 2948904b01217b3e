"""The epidemic-alert service: consent, the daily run, delivery. CLI and API both drive this."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oneteam.model import Event
from oneteam.services.epidemic.delivery import AlertDelivery, AlertRenderer, Publish, TvFinder, alert_day
from oneteam.services.epidemic.engine import AlertEngine, AlertQuery, QueryResult
from oneteam.services.epidemic.engine_duckdb import DuckDBEngine
from oneteam.services.epidemic.errors import EngineUnavailable
from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.records import AlertRecord, ConsentLink, NewAlert
from oneteam.services.epidemic.schema import RiskList, load_risk_list
from oneteam.services.epidemic.store import EpidemicStore

_LOGGER = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")


def make_engine(name: str, *, threads: int | None = None, memory_limit: str | None = None) -> AlertEngine:
    """An alert engine by name."""
    if name == "duckdb":
        return DuckDBEngine(threads=threads, memory_limit=memory_limit)
    if name == "spark":
        from oneteam.services.epidemic.engine_spark import SparkEngine

        return SparkEngine(master=f"local[{threads}]" if threads else "local[*]")
    raise EngineUnavailable(name, f"unknown engine; choose one of {', '.join(ENGINES)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """What one daily run found and did."""

    as_of: dt.datetime
    result: QueryResult
    risk: RiskList
    queued: int
    """New alerts (one per consent link and day)."""
    duplicates: int
    """Consented exposures that already had today's alert."""
    delivered: int
    timings_s: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: counts and timings, never a subscriber key."""
        result = self.result
        return {
            "engine": result.engine,
            "as_of": self.as_of.isoformat(),
            "risk_list_is_example": self.risk.is_example,
            "rows": result.rows_total,
            "rows_past_retention": result.rows_past_retention,
            "malformed_rows": result.malformed_rows,
            "problems": dict(result.problems),
            "unknown_country_codes": dict(result.unknown_codes),
            "examples": [
                {
                    "problem": e.problem,
                    "visited": e.visited,
                    "first_seen": e.first_seen,
                    "last_seen": e.last_seen,
                    "has_key": e.has_key,
                }
                for e in result.examples
            ],
            "exposed_persons": result.exposed_persons,
            "exposed_records": result.exposed_records,
            "consented_alerts": len(result.alerts),
            "queued": self.queued,
            "duplicates": self.duplicates,
            "delivered": self.delivered,
            "timings_s": {**result.timings_s, **self.timings_s},
        }


class EpidemicService:
    """Consent links, the alert run and delivery over one store."""

    def __init__(
        self,
        store: EpidemicStore,
        hasher: SubscriberHasher,
        *,
        publish: Publish | None = None,
        tv_for: TvFinder | None = None,
        default_home_id: str = "home",
    ) -> None:
        self.store = store
        self._hasher = hasher
        self._delivery = AlertDelivery(store, publish, tv_for or (lambda _home: None)) if publish else None
        self.default_home_id = default_home_id

    def link(
        self, phone: str, *, home_id: str | None = None, label: str = "", language: str = "ko"
    ) -> ConsentLink:
        """Link a person (by phone number, hashed at once and never kept) to a home."""
        key = self._hasher.key_of(phone)
        return self.store.link(
            subscriber_key=key, home_id=home_id or self.default_home_id, label=label, language=language
        )

    def revoke(self, link_id: str) -> ConsentLink:
        """Revoke a consent link."""
        return self.store.revoke(link_id)

    def consents(self, *, home_id: str | None = None, include_revoked: bool = False) -> list[ConsentLink]:
        """Consent links."""
        return self.store.consents(home_id=home_id, include_revoked=include_revoked)

    def alerts(self, *, home_id: str | None = None, limit: int = 100) -> list[AlertRecord]:
        """Alerts, newest first."""
        return self.store.alerts(home_id=home_id, limit=limit)

    def run(
        self,
        records_dir: Path,
        risk_path: Path,
        *,
        engine: AlertEngine | None = None,
        as_of: dt.datetime | None = None,
        deliver: bool = True,
    ) -> RunReport:
        """The daily run: compute exposures, queue one alert per consenting person and home, deliver.

        Pass `deliver=False` when running in a worker thread: hub.publish belongs to the event loop's
        thread, so the caller delivers afterwards with `deliver_pending()` there."""
        moment = as_of or dt.datetime.now(dt.UTC)
        risk = load_risk_list(risk_path)
        runner = engine or DuckDBEngine()
        result = runner.run(
            AlertQuery(records_dir=records_dir, risk=risk, as_of=moment, consent=self.store.live_keys())
        )
        started = time.perf_counter()
        renderer = AlertRenderer(risk)
        new_alerts = [
            NewAlert(
                link_id=alert.link_id,
                disease=alert.exposure.disease,
                country=alert.exposure.country,
                watch_until=alert.exposure.watch_until.timestamp(),
                payload=renderer.payload(alert.exposure, label=alert.label, language=alert.language),
            )
            for alert in result.alerts
        ]
        queued = self.store.add_alerts(new_alerts, alert_day(moment))
        delivered = self.deliver_pending() if deliver else []
        self.store.audit(
            "run",
            f"engine={result.engine} rows={result.rows_total} malformed={result.malformed_rows}"
            f" exposed={result.exposed_persons} queued={queued} delivered={len(delivered)}",
        )
        return RunReport(
            as_of=moment,
            result=result,
            risk=risk,
            queued=queued,
            duplicates=len(new_alerts) - queued,
            delivered=len(delivered),
            timings_s={"deliver": round(time.perf_counter() - started, 4)},
        )

    def deliver_pending(self) -> list[Event]:
        """Publish queued alerts (no-op without a hub to publish on)."""
        return self._delivery.deliver_pending() if self._delivery else []

    async def deliver_loop(self, interval_s: float = 60.0) -> None:
        """Deliver alerts queued by batch runs (`oneteam epidemic run`) while the hub runs."""
        while True:
            # On the loop's thread on purpose: hub.publish is not thread-safe, and the SQLite
            # reads and writes here are a few small rows.
            self.deliver_pending()
            await asyncio.sleep(interval_s)
