"""Failures of the maintenance service a person can fix: bad input files, missing or mismatched models."""

from __future__ import annotations

from oneteam.model import InvalidCommand, NotFound, OneteamError


class MaintenanceInputError(InvalidCommand):
    """Input data the service cannot use (missing column, wrong type, empty file); HTTP 422."""

    def __init__(self, key: str, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.key = key


class ModelNotFound(NotFound):
    """No saved model under this name."""

    key = "maintenance.error.model_not_found"

    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(
            f"no saved model {name!r}; available: {', '.join(available) or 'none'}",
            model=name,
            available=", ".join(available) or "-",
        )


class ModelMismatch(OneteamError):
    """A saved model that does not fit the data or the code (other columns, other format)."""

    key = "maintenance.error.model_mismatch"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"model {name!r} cannot be used: {reason}", model=name, reason=reason)


class DatasetNotFound(NotFound):
    """A public data set that is not where it should be."""

    key = "maintenance.error.dataset_not_found"

    def __init__(self, path: str) -> None:
        super().__init__(f"data set file not found: {path}", path=path)
