"""Appliance remaining-life models, trained by the platform on simulated fleets (oneteam.sim).

A fleet is many units of one appliance type run from a healthy stretch to failure, one sample a
day. The model sees only the telemetry of the last days (window statistics, no age: a live
appliance is watched from whatever day the hub started) and predicts the days left, capped at
`RUL_CAP_DAYS` the way C-MAPSS targets are capped at 125 cycles. Its card records a held-out
score on units it never saw.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

from oneteam.model import DeviceType
from oneteam.services.maintenance.datasets import check_frame, fingerprint_frame
from oneteam.services.maintenance.errors import MaintenanceInputError, ModelMismatch
from oneteam.services.maintenance.features import feature_names, unit_features, window_features
from oneteam.services.maintenance.store import ModelCard, SavedModel
from oneteam.sim import PROFILES, FaultProfile, run_to_failure

_LOGGER = logging.getLogger(__name__)

RUL_CAP_DAYS = 60
"""Days: beyond two months ahead the telemetry of a healthy unit says nothing about its end."""
TRAIN_UNITS = 50
HOLDOUT_UNITS = 20
ROUNDS = 200
PARAMS: dict[str, object] = {
    "objective": "regression",
    "learning_rate": 0.06,
    "num_leaves": 15,
    "min_data_in_leaf": 30,
    "feature_fraction": 0.7,
    "max_bin": 63,
    # A few thousand rows: one thread is as fast, and never spins against the hub for a core.
    "num_threads": 1,
    "verbose": -1,
    "seed": 0,
}


def model_name(device_type: DeviceType) -> str:
    """Store key of a device type's model."""
    return f"appliance-{device_type.value}"


def profile_of(device_type: DeviceType | str) -> FaultProfile:
    """The fault profile of a device type, or a clear error."""
    try:
        return PROFILES[DeviceType(device_type)]
    except (KeyError, ValueError):
        known = ", ".join(sorted(PROFILES))
        raise MaintenanceInputError(
            "maintenance.error.unknown_appliance",
            f"no failure model for {device_type!r}; known: {known}",
            device_type=str(device_type),
            known=known,
        ) from None


def simulate_fleet(device_type: DeviceType, units: int, seed: int) -> pd.DataFrame:
    """Daily telemetry of `units` units run to failure: unit, day, attributes, days_to_failure."""
    profile = profile_of(device_type)
    rng = random.Random(seed)
    rows: list[dict[str, float]] = []
    for unit in range(units):
        for sample in run_to_failure(profile.device_type, rng):
            rows.append(
                {"unit": unit, "day": sample.day, **sample.values, "days_to_failure": sample.days_to_failure}
            )
    return pd.DataFrame(rows)


def _features(profile: FaultProfile, fleet: pd.DataFrame) -> np.ndarray:
    signals = fleet[list(profile.attributes)].to_numpy(dtype=float)
    features, _ = unit_features(fleet, "unit", signals, with_history=False, last_only=False)
    return features


def train_appliance_model(
    device_type: DeviceType,
    *,
    units: int = TRAIN_UNITS,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> SavedModel:
    """Simulate a fleet, train on it, and score on a separately simulated held-out fleet."""
    profile = profile_of(device_type)
    fleet = simulate_fleet(profile.device_type, units, seed)
    target = np.minimum(fleet["days_to_failure"].to_numpy(dtype=float), RUL_CAP_DAYS)
    names = feature_names(profile.attributes, with_history=False)
    dataset = lgb.Dataset(_features(profile, fleet), label=target, feature_name=names)
    booster = lgb.train(PARAMS, dataset, num_boost_round=ROUNDS)
    if progress is not None:
        progress(0.8)
    holdout = simulate_fleet(profile.device_type, HOLDOUT_UNITS, seed + 10_000)
    predicted = np.clip(booster.predict(_features(profile, holdout)), 0.0, RUL_CAP_DAYS)
    truth = holdout["days_to_failure"].to_numpy(dtype=float)
    capped = np.minimum(truth, RUL_CAP_DAYS)
    near = truth <= 30
    metrics = {
        "dataset": f"sim:{profile.device_type.value}",
        "train_units": units,
        "holdout_units": HOLDOUT_UNITS,
        "rmse_capped_days": round(float(np.sqrt(np.mean((predicted - capped) ** 2))), 2),
        "mae_last_30_days": round(float(np.mean(np.abs(predicted[near] - truth[near]))), 2),
    }
    if progress is not None:
        progress(1.0)
    card = ModelCard(
        name=model_name(profile.device_type),
        kind="rul",
        dataset=f"sim:{profile.device_type.value}",
        fingerprint=fingerprint_frame(fleet),
        version=0,
        input_columns=profile.attributes,
        feature_names=tuple(names),
        metrics=metrics,
        settings={
            "rul_cap_days": RUL_CAP_DAYS,
            "device_type": profile.device_type.value,
            "component": profile.component,
            "seed": seed,
        },
    )
    return SavedModel(card=card, boosters=(booster,))


def predict_days_left(model: SavedModel, history: np.ndarray) -> float:
    """Days left for one unit, from its telemetry so far (rows in time order, the card's columns)."""
    features = window_features(history, with_history=False)[-1:]
    return float(np.clip(model.predict(features)[0], 0.0, float(model.card.settings["rul_cap_days"])))


def predict_appliance_frame(model: SavedModel, frame: pd.DataFrame) -> pd.DataFrame:
    """Days left at the last row of each device in a telemetry table (`device` column optional)."""
    if not model.card.dataset.startswith("sim:"):
        raise ModelMismatch(model.card.name, "not an appliance model")
    columns: Sequence[str] = model.card.input_columns
    checked = check_frame(frame, columns)
    model.require_columns(tuple(columns))
    devices = (
        frame["device"].astype(str) if "device" in frame.columns else pd.Series("device", index=frame.index)
    )
    results = []
    for device, rows in checked.groupby(devices, sort=True):
        days = predict_days_left(model, rows[list(columns)].to_numpy(dtype=float))
        results.append({"device": str(device), "samples": len(rows), "days_left": round(days, 1)})
    return pd.DataFrame(results)
