"""Epidemic-exposure alerts: roaming records → exposures (DuckDB or Spark, one SQL) → consenting homes."""

from oneteam.services.epidemic.delivery import AlertDelivery, alert_event, alert_payload, tv_of
from oneteam.services.epidemic.engine import AlertQuery, ConsentedExposure, Exposure, QueryResult
from oneteam.services.epidemic.engine_duckdb import DuckDBEngine
from oneteam.services.epidemic.errors import (
    AlertNotFound,
    ConsentNotFound,
    EngineUnavailable,
    EpidemicError,
    InvalidPhoneNumber,
    OperatorKeyError,
    RecordsError,
    RiskListError,
)
from oneteam.services.epidemic.privacy import SubscriberHasher, load_operator_key, normalize_msisdn
from oneteam.services.epidemic.records import AlertRecord, ConsentLink
from oneteam.services.epidemic.schema import RiskList, load_risk_list, sample_risk_path
from oneteam.services.epidemic.service import EpidemicService, RunReport, make_engine
from oneteam.services.epidemic.store import EpidemicStore

__all__ = [
    "AlertDelivery",
    "AlertNotFound",
    "AlertQuery",
    "AlertRecord",
    "ConsentLink",
    "ConsentNotFound",
    "ConsentedExposure",
    "DuckDBEngine",
    "EngineUnavailable",
    "EpidemicError",
    "EpidemicService",
    "EpidemicStore",
    "Exposure",
    "InvalidPhoneNumber",
    "OperatorKeyError",
    "QueryResult",
    "RecordsError",
    "RiskList",
    "RiskListError",
    "RunReport",
    "SubscriberHasher",
    "alert_event",
    "alert_payload",
    "load_operator_key",
    "load_risk_list",
    "make_engine",
    "normalize_msisdn",
    "sample_risk_path",
    "tv_of",
]
