"""Failure prediction: remaining life of machines and appliances, failure classification, live warnings.

The public names load on first use (PEP 562): `oneteam maintenance --help` and the other CLI
commands should not pay for importing LightGBM, scikit-learn and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from oneteam.services.maintenance.errors import (
    DatasetNotFound,
    MaintenanceInputError,
    ModelMismatch,
    ModelNotFound,
)

if TYPE_CHECKING:
    from oneteam.services.maintenance.service import MaintenanceService, MaintenanceWarning
    from oneteam.services.maintenance.store import ModelCard, ModelStore, SavedModel, models_dir

_LAZY = {
    "MaintenanceService": "oneteam.services.maintenance.service",
    "MaintenanceWarning": "oneteam.services.maintenance.service",
    "ModelCard": "oneteam.services.maintenance.store",
    "ModelStore": "oneteam.services.maintenance.store",
    "SavedModel": "oneteam.services.maintenance.store",
    "models_dir": "oneteam.services.maintenance.store",
}

__all__ = [
    "DatasetNotFound",
    "MaintenanceInputError",
    "MaintenanceService",
    "MaintenanceWarning",
    "ModelCard",
    "ModelMismatch",
    "ModelNotFound",
    "ModelStore",
    "SavedModel",
    "models_dir",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
