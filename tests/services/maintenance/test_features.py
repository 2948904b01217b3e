"""Window features are causal and measure what they say; conditions are normalised apart."""

from __future__ import annotations

import numpy as np

from oneteam.services.maintenance.features import (
    ConditionNormaliser,
    feature_names,
    window_features,
)


def _column(features: np.ndarray, name: str, signals: list[str], *, with_history: bool) -> np.ndarray:
    return features[:, feature_names(signals, with_history=with_history).index(name)]


def test_slope_of_a_straight_line_is_its_gradient() -> None:
    series = (3.0 + 0.5 * np.arange(40))[:, None]
    features = window_features(series, with_history=True)
    assert np.allclose(_column(features, "x_slope10", ["x"], with_history=True)[1:], 0.5)
    assert np.allclose(_column(features, "x_slope_all", ["x"], with_history=True)[1:], 0.5)
    assert np.allclose(_column(features, "age", ["x"], with_history=True), np.arange(1, 41))


def test_features_at_a_time_ignore_later_samples() -> None:
    rng = np.random.default_rng(0)
    series = rng.normal(size=(50, 3))
    full = window_features(series, with_history=True)
    cut = window_features(series[:20], with_history=True)
    assert np.allclose(full[:20], cut)


def test_delta_measures_drift_from_the_units_own_baseline() -> None:
    series = np.concatenate([np.full(20, 5.0), np.full(20, 8.0)])[:, None]
    features = window_features(series, with_history=False)
    delta = _column(features, "x_delta", ["x"], with_history=False)
    assert delta[15] == 0.0
    assert delta[-1] == 3.0


def test_feature_names_match_feature_columns() -> None:
    series = np.ones((12, 2))
    for with_history in (True, False):
        features = window_features(series, with_history=with_history)
        assert features.shape == (12, len(feature_names(["a", "b"], with_history=with_history)))


def test_normaliser_removes_each_conditions_offset() -> None:
    rng = np.random.default_rng(1)
    conditions = rng.integers(0, 3, size=600)
    settings = np.column_stack([conditions * 10.0, conditions * 0.3]) + rng.normal(0, 0.01, (600, 2))
    sensors = (conditions * 100.0)[:, None] + rng.normal(0, 1.0, (600, 1))
    normaliser = ConditionNormaliser.fit(settings, sensors, n_conditions=3)
    normalised = normaliser.transform(settings, sensors)
    for condition in range(3):
        chosen = normalised[conditions == condition]
        assert abs(chosen.mean()) < 1e-9
        assert abs(chosen.std() - 1.0) < 1e-9
    again = ConditionNormaliser.from_json(normaliser.to_json())
    assert np.allclose(again.transform(settings, sensors), normalised)
