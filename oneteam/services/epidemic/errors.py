"""Expected failures of the epidemic service, each with a message key and its facts."""

from __future__ import annotations

from oneteam.model import NotFound, OneteamError


class EpidemicError(OneteamError):
    """Something about the epidemic service's input a person can fix."""

    key = "epidemic.error.generic"


class RecordsError(EpidemicError):
    """Roaming records that cannot be read (missing folder, wrong columns)."""

    key = "epidemic.error.records"

    def __init__(self, reason: str) -> None:
        super().__init__(f"roaming records: {reason}", reason=reason)


class RiskListError(EpidemicError):
    """A risk list that cannot be used."""

    key = "epidemic.error.risk_list"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"risk list {path}: {reason}", path=path, reason=reason)


class OperatorKeyError(EpidemicError):
    """No usable operator key for the keyed hash of subscriber numbers."""

    key = "epidemic.error.operator_key"

    def __init__(self, reason: str) -> None:
        super().__init__(f"operator key: {reason}", reason=reason)


class InvalidPhoneNumber(EpidemicError):
    """A subscriber number that is not a Korean mobile number."""

    key = "epidemic.error.phone"

    def __init__(self) -> None:
        # The number itself is never repeated back: it must not reach logs.
        super().__init__("not a Korean mobile number (010-1234-5678 or +82 10-1234-5678)")


class ConsentNotFound(NotFound, EpidemicError):
    """No consent link with this id."""

    key = "epidemic.error.consent_not_found"

    def __init__(self, link_id: str) -> None:
        super().__init__(f"no consent link {link_id!r}", link=link_id)


class AlertNotFound(NotFound, EpidemicError):
    """No alert with this id."""

    key = "epidemic.error.alert_not_found"

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no alert {alert_id}", alert=alert_id)


class EngineUnavailable(EpidemicError):
    """The chosen query engine is not installed or cannot start."""

    key = "epidemic.error.engine"

    def __init__(self, engine: str, reason: str) -> None:
        super().__init__(f"engine {engine}: {reason}", engine=engine, reason=reason)
