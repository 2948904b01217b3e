"""AI4I 2020 machine-failure classification: cross-validated, failure modes as labels only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oneteam.services.maintenance import MaintenanceInputError
from oneteam.services.maintenance.classify import (
    FEATURES,
    predict_failure,
    train_ai4i,
)
from oneteam.services.maintenance.datasets import AI4I_MODES
from oneteam.services.maintenance.store import SavedModel


@pytest.fixture(scope="module")
def ai4i_slice(ai4i: tuple[pd.DataFrame, str]) -> pd.DataFrame:
    """3,000 rows with every failure (about 300 failures among them)."""
    frame = ai4i[0]
    failures = frame[frame["Machine failure"] == 1]
    healthy = frame[frame["Machine failure"] == 0].sample(n=3000 - len(failures), random_state=0)
    return pd.concat([failures, healthy]).sample(frac=1.0, random_state=1).reset_index(drop=True)


@pytest.fixture(scope="module")
def model(ai4i_slice: pd.DataFrame) -> SavedModel:
    return train_ai4i(ai4i_slice, "slice")


def test_failure_modes_are_never_features(ai4i_slice: pd.DataFrame, model: SavedModel) -> None:
    assert not set(AI4I_MODES) & {f.upper() for f in FEATURES}
    scrambled = ai4i_slice.copy()
    rng = np.random.default_rng(0)
    for mode in AI4I_MODES:
        scrambled[mode] = rng.integers(0, 2, len(scrambled))
    scrambled["Machine failure"] = 0
    before = predict_failure(model, ai4i_slice)["failure_probability"]
    after = predict_failure(model, scrambled)["failure_probability"]
    assert np.array_equal(before.to_numpy(), after.to_numpy())


def test_cross_validation_reports_f1_precision_recall_auc_and_modes(
    ai4i_slice: pd.DataFrame, model: SavedModel
) -> None:
    metrics = model.card.metrics
    assert metrics["folds"] == 5
    assert metrics["rows"] == len(ai4i_slice)
    assert metrics["failures"] == int(ai4i_slice["Machine failure"].sum())
    assert 0.8 < metrics["f1"] <= 1.0
    assert metrics["roc_auc"] > 0.9
    assert set(metrics["modes_caught"]) == set(AI4I_MODES)
    # Heat-dissipation failures follow from temperature difference and speed: all are caught.
    hdf = metrics["modes_caught"]["HDF"]
    assert hdf["caught"] >= hdf["total"] - 2


def test_missing_torque_column_is_named(ai4i_slice: pd.DataFrame, model: SavedModel) -> None:
    with pytest.raises(MaintenanceInputError) as caught:
        predict_failure(model, ai4i_slice.drop(columns=["Torque [Nm]"]))
    assert caught.value.params["column"] == "Torque [Nm]"


def test_unknown_product_type_is_refused(ai4i_slice: pd.DataFrame, model: SavedModel) -> None:
    bad = ai4i_slice.head(3).copy()
    bad.loc[bad.index[1], "Type"] = "Q"
    with pytest.raises(MaintenanceInputError) as caught:
        predict_failure(model, bad)
    assert caught.value.params["row"] == 2
