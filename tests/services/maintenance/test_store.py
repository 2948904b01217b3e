"""Saved models: metrics, fingerprint, version and columns travel with the model; mismatches are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oneteam.i18n import render
from oneteam.model import DeviceType
from oneteam.services.maintenance import ModelMismatch, ModelNotFound, ModelStore, SavedModel, models_dir
from oneteam.services.maintenance.fleet import train_appliance_model


@pytest.fixture(scope="module")
def washer_model() -> SavedModel:
    return train_appliance_model(DeviceType.WASHER, units=12)


def test_saved_model_loads_with_its_card(tmp_path: Path, washer_model: SavedModel) -> None:
    store = ModelStore(tmp_path)
    card = store.save(washer_model.card, washer_model.boosters)
    loaded = store.load(card.name)
    assert loaded.card.version == 1
    assert loaded.card.fingerprint == washer_model.card.fingerprint
    assert loaded.card.metrics == washer_model.card.metrics
    assert loaded.card.input_columns == ("motor_current_a", "vibration_mm_s", "load_kg")
    assert loaded.card.created_at > 0
    assert store.names() == ["appliance-washer"]


def test_saving_again_counts_the_version_up(tmp_path: Path, washer_model: SavedModel) -> None:
    store = ModelStore(tmp_path)
    store.save(washer_model.card, washer_model.boosters)
    assert store.save(washer_model.card, washer_model.boosters).version == 2
    assert [c.version for c in store.cards()] == [2]


def test_model_trained_on_other_columns_is_refused(tmp_path: Path, washer_model: SavedModel) -> None:
    with pytest.raises(ModelMismatch) as caught:
        washer_model.require_columns(("motor_current_a", "vibration_mm_s", "spin_rpm"))
    message = render(caught.value.key, "en", **caught.value.params)
    assert "spin_rpm" in message
    assert "load_kg" in message


def test_old_format_is_refused(tmp_path: Path, washer_model: SavedModel) -> None:
    store = ModelStore(tmp_path)
    store.save(washer_model.card, washer_model.boosters)
    card_path = tmp_path / "appliance-washer" / "card.json"
    data = json.loads(card_path.read_text())
    data["format_version"] = 0
    card_path.write_text(json.dumps(data))
    with pytest.raises(ModelMismatch, match="retrain"):
        store.load("appliance-washer")


def test_card_naming_other_features_than_the_model_is_refused(
    tmp_path: Path, washer_model: SavedModel
) -> None:
    store = ModelStore(tmp_path)
    store.save(washer_model.card, washer_model.boosters)
    card_path = tmp_path / "appliance-washer" / "card.json"
    data = json.loads(card_path.read_text())
    data["feature_names"][0] = "something_else"
    card_path.write_text(json.dumps(data))
    with pytest.raises(ModelMismatch, match="features differ"):
        store.load("appliance-washer")


def test_unknown_model_lists_the_saved_ones(tmp_path: Path, washer_model: SavedModel) -> None:
    store = ModelStore(tmp_path)
    store.save(washer_model.card, washer_model.boosters)
    with pytest.raises(ModelNotFound) as caught:
        store.load("cmapss-FD001")
    assert caught.value.params["available"] == "appliance-washer"


def test_models_dir_follows_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert models_dir(tmp_path) == tmp_path / "models"
    monkeypatch.setenv("ONETEAM_DATA_DIR", str(tmp_path / "env"))
    assert models_dir() == tmp_path / "env" / "models"
    monkeypatch.delenv("ONETEAM_DATA_DIR")
    assert models_dir() == Path("data") / "models"
