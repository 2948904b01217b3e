"""Appliance models trained by the platform on simulated fleets."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from oneteam.model import DeviceType
from oneteam.services.maintenance import MaintenanceInputError
from oneteam.services.maintenance.fleet import (
    RUL_CAP_DAYS,
    predict_appliance_frame,
    predict_days_left,
    simulate_fleet,
    train_appliance_model,
)
from oneteam.services.maintenance.store import SavedModel
from oneteam.sim import PROFILES, DegradingAppliance


@pytest.fixture(scope="module")
def fridge_model() -> SavedModel:
    return train_appliance_model(DeviceType.REFRIGERATOR, units=30)


def test_fleet_has_every_unit_run_to_failure() -> None:
    fleet = simulate_fleet(DeviceType.AIR_CONDITIONER, units=5, seed=3)
    assert fleet["unit"].nunique() == 5
    assert (fleet.groupby("unit")["days_to_failure"].min() == 0).all()
    assert set(PROFILES[DeviceType.AIR_CONDITIONER].attributes) <= set(fleet.columns)


@pytest.mark.parametrize("device_type", list(PROFILES))
def test_held_out_error_is_well_below_guessing(device_type: DeviceType) -> None:
    model = train_appliance_model(device_type, units=30)
    metrics = model.card.metrics
    # Guessing half the cap everywhere would be off by about RUL_CAP_DAYS / 3 on average.
    assert metrics["rmse_capped_days"] < RUL_CAP_DAYS / 5
    assert metrics["mae_last_30_days"] < 8
    assert model.card.settings["component"] == PROFILES[device_type].component


def test_worn_unit_is_predicted_to_fail_sooner_than_a_healthy_one(fridge_model: SavedModel) -> None:
    def history(days_left: float) -> np.ndarray:
        unit = DegradingAppliance(DeviceType.REFRIGERATOR, rng=random.Random(11), life_days=400.0)
        unit.day = unit.life_days - days_left - 30
        samples = [unit.advance() for _ in range(30)]
        return np.array([[s.values[a] for a in fridge_model.card.input_columns] for s in samples])

    assert predict_days_left(fridge_model, history(5.0)) < 15
    assert predict_days_left(fridge_model, history(200.0)) > 40


def test_telemetry_table_gets_one_answer_per_device(fridge_model: SavedModel) -> None:
    fleet = simulate_fleet(DeviceType.REFRIGERATOR, units=2, seed=99)
    fleet["device"] = fleet["unit"].map({0: "fridge_a", 1: "fridge_b"})
    answer = predict_appliance_frame(fridge_model, fleet)
    assert answer["device"].tolist() == ["fridge_a", "fridge_b"]
    assert (answer["days_left"] < 10).all()  # each table ends on its unit's failure day


def test_telemetry_without_the_duty_column_names_it(fridge_model: SavedModel) -> None:
    frame = pd.DataFrame({"ambient_temperature_c": [20.0, 21.0]})
    with pytest.raises(MaintenanceInputError) as caught:
        predict_appliance_frame(fridge_model, frame)
    assert caught.value.params["column"] == "compressor_duty_pct"


def test_appliance_without_a_failure_model_is_refused() -> None:
    with pytest.raises(MaintenanceInputError) as caught:
        train_appliance_model(DeviceType.TV)
    assert caught.value.key == "maintenance.error.unknown_appliance"
