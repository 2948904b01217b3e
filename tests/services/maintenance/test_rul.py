"""C-MAPSS remaining life: the capped target, the test protocol and the NASA score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oneteam.services.maintenance import MaintenanceInputError, ModelMismatch
from oneteam.services.maintenance.datasets import CmapssSet
from oneteam.services.maintenance.rul import (
    RUL_CAP,
    SavedModel,
    capped_rul,
    evaluate_cmapss,
    nasa_score,
    predict_last_cycle,
    rmse,
    train_cmapss,
)
from oneteam.services.maintenance.store import ModelCard


@pytest.fixture(scope="module")
def small_model(fd001_slice: CmapssSet) -> SavedModel:
    """A model trained on 30 FD001 units with few rounds (quick, not the benchmark model)."""
    return train_cmapss(fd001_slice, seeds=(0,), rounds=80)


def test_training_target_is_capped_at_125() -> None:
    frame = pd.DataFrame({"unit": [1] * 200, "cycle": range(1, 201)})
    target = capped_rul(frame)
    assert target[0] == RUL_CAP
    assert target[-1] == 0
    assert target[-50] == 49
    assert target.max() == RUL_CAP


def test_nasa_score_punishes_late_more_than_early() -> None:
    true = np.array([50.0])
    late = nasa_score(np.array([60.0]), true)
    early = nasa_score(np.array([40.0]), true)
    assert late == pytest.approx(np.exp(1.0) - 1.0)
    assert early == pytest.approx(np.exp(10.0 / 13.0) - 1.0)
    assert late > early
    assert nasa_score(true, true) == 0.0


def test_model_beats_predicting_the_mean_on_held_out_units(
    small_model: SavedModel, fd001_slice: CmapssSet
) -> None:
    evaluation = evaluate_cmapss(small_model, fd001_slice)
    capped = np.minimum(evaluation.true_raw, RUL_CAP)
    mean_baseline = rmse(np.full(len(capped), capped.mean()), capped)
    assert len(evaluation.units) == 30
    assert evaluation.rmse_capped < 0.6 * mean_baseline
    assert evaluation.rmse_raw >= evaluation.rmse_capped - 1e-9
    assert evaluation.metrics()["test_units"] == 30


def test_one_prediction_per_unit_at_its_last_cycle(small_model: SavedModel, fd001_slice: CmapssSet) -> None:
    predictions = predict_last_cycle(small_model, fd001_slice.test)
    last = fd001_slice.test.groupby("unit")["cycle"].max()
    assert predictions["unit"].tolist() == last.index.tolist()
    assert predictions["last_cycle"].tolist() == last.tolist()
    assert predictions["predicted_rul"].between(0, RUL_CAP).all()


def test_card_records_protocol_data_and_columns(small_model: SavedModel, fd001_slice: CmapssSet) -> None:
    card = small_model.card
    assert card.name == "cmapss-FD001"
    assert card.fingerprint == fd001_slice.fingerprint
    assert card.settings["rul_cap"] == 125
    assert card.settings["conditions"] == 1
    assert card.input_columns[:2] == ("unit", "cycle")


def test_input_without_a_sensor_column_names_it(small_model: SavedModel, fd001_slice: CmapssSet) -> None:
    with pytest.raises(MaintenanceInputError) as caught:
        predict_last_cycle(small_model, fd001_slice.test.drop(columns=["sensor_11"]))
    assert caught.value.params["column"] == "sensor_11"


def test_a_classifier_is_refused_for_remaining_life(small_model: SavedModel, fd001_slice: CmapssSet) -> None:
    fields = {name: getattr(small_model.card, name) for name in ModelCard.__dataclass_fields__}
    other = SavedModel(card=ModelCard(**{**fields, "kind": "failure"}), boosters=small_model.boosters)
    with pytest.raises(ModelMismatch):
        predict_last_cycle(other, fd001_slice.test)
