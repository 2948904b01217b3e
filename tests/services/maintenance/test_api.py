"""The maintenance router: list models, predict on posted rows, list warnings; bad rows get a 422."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from oneteam.api.errors import install_error_handlers
from oneteam.api.maintenance import router
from oneteam.model import DeviceType, Event, EventKind
from oneteam.services.maintenance import MaintenanceService, ModelStore
from oneteam.sim import DegradingAppliance


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> MaintenanceService:
    service = MaintenanceService(ModelStore(tmp_path_factory.mktemp("models")))
    service.ensure_appliance_models()
    washer = DegradingAppliance(DeviceType.WASHER, rng=random.Random(3), life_days=400.0)
    washer.day = washer.life_days - 40
    for _ in range(38):
        sample = washer.advance()
        service.observe(
            Event(kind=EventKind.STATE_CHANGED, device_id="washer", data=dict(sample.values), at=sample.day)
        )
    return service


@pytest.fixture(scope="module")
def client(service: MaintenanceService) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.state.maintenance = service
    return TestClient(app)


def test_models_are_listed_with_metrics_and_versions(client: TestClient) -> None:
    models = client.get("/api/maintenance/models").json()["models"]
    assert [m["name"] for m in models] == [
        "appliance-air_conditioner",
        "appliance-refrigerator",
        "appliance-washer",
    ]
    assert all(m["version"] == 1 and len(m["fingerprint"]) == 64 for m in models)
    assert all("rmse_capped_days" in m["metrics"] for m in models)


def test_warnings_list_the_worn_washer(client: TestClient) -> None:
    warnings = client.get("/api/maintenance/warnings", headers={"accept-language": "ko"}).json()["warnings"]
    assert [w["device"] for w in warnings] == ["washer"]
    assert warnings[0]["days_left"] >= 1
    assert "점검" in warnings[0]["text"]["ko"]


def test_predict_on_posted_telemetry_rows(client: TestClient) -> None:
    washer = DegradingAppliance(DeviceType.WASHER, rng=random.Random(9), life_days=300.0)
    washer.day = washer.life_days - 30
    rows = [{**washer.advance().values, "device": "w1"} for _ in range(25)]
    answer = client.post("/api/maintenance/predict", json={"rows": rows})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == "appliance-washer"
    assert body["predictions"][0]["device"] == "w1"
    assert body["predictions"][0]["days_left"] < 20


def test_row_with_text_for_a_number_is_a_422_naming_the_column(client: TestClient) -> None:
    rows = [{"motor_current_a": 2.0, "vibration_mm_s": "loud", "load_kg": 5.0}]
    answer = client.post(
        "/api/maintenance/predict",
        json={"model": "appliance-washer", "rows": rows},
        headers={"accept-language": "en"},
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["params"]["column"] == "vibration_mm_s"
    assert "vibration_mm_s" in error["message"]


def test_no_rows_and_unknown_model_are_clear_errors(client: TestClient) -> None:
    empty = client.post("/api/maintenance/predict", json={"rows": []})
    assert empty.status_code == 422
    assert empty.json()["error"]["key"] == "maintenance.error.empty"
    unknown = client.post("/api/maintenance/predict", json={"model": "cmapss-FD001", "rows": [{"unit": 1}]})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["key"] == "maintenance.error.model_not_found"


def test_columns_fit_no_model_is_a_clear_error(client: TestClient, tmp_path: Path) -> None:
    answer = client.post("/api/maintenance/predict", json={"rows": [{"x": 1}]})
    assert answer.status_code == 422
    assert answer.json()["error"]["key"] == "maintenance.error.unknown_input"
    assert pd.DataFrame([{"x": 1}]).shape == (1, 1)
