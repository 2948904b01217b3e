"""The live failure-prediction service: watches appliance telemetry on the event bus and warns in time.

Wiring (done by the hub's owner):

    service = MaintenanceService(ModelStore(models_dir(data_dir)), publish=hub.publish)
    await service.start()                      # loads the appliance models, trains any missing one
    async with hub.subscribe("maintenance") as events:
        await service.run(events)

Telemetry arrives as STATE_CHANGED events whose data carries the attributes named in
`oneteam.sim` (`motor_current_a`, `vibration_mm_s`, `load_kg`, `compressor_duty_pct`,
`ambient_temperature_c`, `refrigerant_pressure_kpa`, `outdoor_temperature_c`), one event per day
of use. Warnings go out as WARNING events with the days left, a message key with its
parameters, and the text rendered in Korean and English for the page and the speakers.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections import deque
from collections.abc import AsyncIterable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oneteam.i18n import LANGUAGES, render
from oneteam.model import DeviceType, Event, EventKind
from oneteam.model.warning import DeviceWarning, Severity
from oneteam.services.maintenance.classify import predict_failure
from oneteam.services.maintenance.errors import MaintenanceInputError, ModelMismatch, ModelNotFound
from oneteam.services.maintenance.fleet import (
    model_name,
    predict_appliance_frame,
    predict_days_left,
    train_appliance_model,
)
from oneteam.services.maintenance.rul import predict_last_cycle
from oneteam.services.maintenance.store import ModelCard, ModelStore, SavedModel
from oneteam.sim import PROFILES, FaultProfile, profile_for_attributes

_LOGGER = logging.getLogger(__name__)

WARN_LEVELS_DAYS = (30, 14, 7, 3)
"""A device is warned when its predicted days left first drop to each level, not on every sample."""
MIN_SAMPLES = 10
"""Days of telemetry needed before the first prediction (the windows need a baseline)."""
HISTORY = 60
"""Days of telemetry kept per device; the longest window is 30."""
SMOOTHING = 3
"""Predictions are the median of the last three, so one noisy day does not raise a warning."""
REARM_DAYS = 45.0
"""A prediction back above this (a repaired unit) clears the device's warning."""

Publish = Callable[[Event], object]


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceWarning:
    """One device's current warning."""

    device_id: str
    device_type: DeviceType
    component: str
    days_left: int
    level_days: int
    """The warning level crossed (30, 14, 7 or 3 days)."""
    at: float
    model_version: int

    def payload(self) -> DeviceWarning:
        """The shared warning shape: one per device and worn part, updated as the days run down."""
        params = {"days": self.days_left}
        key = f"maintenance.warning.{self.component}"
        return DeviceWarning(
            key=key,
            problem=self.component,
            source="maintenance",
            device_id=self.device_id,
            params=params,
            severity=Severity.CRITICAL if self.days_left <= 3 else Severity.WARNING,
            text={lang: render(key, lang, **params) for lang in LANGUAGES},
            advice={lang: render(f"maintenance.advice.{self.component}", lang) for lang in LANGUAGES},
            facts={lang: render("warnings.days_left", lang, **params) for lang in LANGUAGES},
        )

    def data(self) -> dict[str, Any]:
        """The WARNING event's data (and the API's JSON): the shared shape plus the prediction's facts."""
        return {
            **self.payload().as_data(),
            "device": self.device_id,
            "device_type": self.device_type.value,
            "component": self.component,
            "days_left": self.days_left,
            "advice_key": f"maintenance.advice.{self.component}",
            "level_days": self.level_days,
            "model_version": self.model_version,
            "at": self.at,
        }


class _DeviceWatch:
    """Telemetry history and recent predictions of one device."""

    def __init__(self, profile: FaultProfile) -> None:
        self.profile = profile
        self.history: deque[tuple[float, ...]] = deque(maxlen=HISTORY)
        self.predictions: deque[float] = deque(maxlen=SMOOTHING)
        self.warned_level: int | None = None


class MaintenanceService:
    """Appliance warnings from live telemetry, and predictions on tables for the CLI and API."""

    def __init__(
        self,
        store: ModelStore,
        *,
        publish: Publish | None = None,
        device_types: tuple[DeviceType, ...] = tuple(PROFILES),
    ) -> None:
        self.store = store
        self.publish = publish
        self.device_types = device_types
        self._appliance_models: dict[DeviceType, SavedModel] = {}
        self._watches: dict[str, _DeviceWatch] = {}
        self._warnings: dict[str, MaintenanceWarning] = {}

    async def start(self) -> None:
        """Load the appliance models; train and save any that is missing (a second or so each)."""
        await asyncio.to_thread(self.ensure_appliance_models)

    def ensure_appliance_models(self) -> None:
        """Blocking twin of `start`."""
        for device_type in self.device_types:
            name = model_name(device_type)
            try:
                model = self.store.load(name)
                model.require_columns(PROFILES[device_type].attributes)
            except ModelNotFound:
                _LOGGER.info("first start: training %s on a simulated fleet", name)
                model = self._train_and_save(device_type)
            except ModelMismatch as exc:
                # A model for other telemetry columns (an older simulator) is refused, not misread.
                _LOGGER.warning("%s; training %s again on a simulated fleet", exc, name)
                model = self._train_and_save(device_type)
            self._appliance_models[device_type] = model

    def _train_and_save(self, device_type: DeviceType) -> SavedModel:
        model = train_appliance_model(device_type)
        card = self.store.save(model.card, model.boosters)
        return SavedModel(card=card, boosters=model.boosters)

    async def run(self, events: AsyncIterable[Event]) -> None:
        """Consume events until the iterator ends (or the task is cancelled)."""
        async for event in events:
            self.observe(event)

    def observe(self, event: Event) -> Event | None:
        """Take one event; return (and publish) the warning it triggers, if any."""
        if event.kind is not EventKind.STATE_CHANGED or event.device_id is None:
            return None
        profile = profile_for_attributes(event.data)
        if profile is None or profile.device_type not in self._appliance_models:
            return None
        watch = self._watches.get(event.device_id)
        if watch is None or watch.profile is not profile:
            watch = self._watches[event.device_id] = _DeviceWatch(profile)
        values = _reading(event.data, profile, watch.history[-1] if watch.history else None)
        if values is None:
            _LOGGER.debug("telemetry of %s lacks some of %s", event.device_id, profile.attributes)
            return None
        watch.history.append(values)
        if len(watch.history) < MIN_SAMPLES:
            return None
        model = self._appliance_models[profile.device_type]
        watch.predictions.append(predict_days_left(model, np.asarray(watch.history, dtype=float)))
        days_left = statistics.median(watch.predictions)
        return self._maybe_warn(event, watch, days_left, model.card.version)

    def _maybe_warn(self, event: Event, watch: _DeviceWatch, days_left: float, version: int) -> Event | None:
        device_id = str(event.device_id)
        if days_left > REARM_DAYS:
            watch.warned_level = None
            self._warnings.pop(device_id, None)
            return None
        crossed = [level for level in WARN_LEVELS_DAYS if days_left <= level]
        if not crossed or (watch.warned_level is not None and crossed[-1] >= watch.warned_level):
            return None
        watch.warned_level = crossed[-1]
        warning = MaintenanceWarning(
            device_id=device_id,
            device_type=watch.profile.device_type,
            component=watch.profile.component,
            days_left=max(round(days_left), 1),
            level_days=crossed[-1],
            at=event.at,
            model_version=version,
        )
        self._warnings[device_id] = warning
        out = Event(
            kind=EventKind.WARNING,
            device_id=device_id,
            data=warning.data(),
            source="maintenance",
            at=event.at,
        )
        _LOGGER.info("warning for %s: %s, %d days left", device_id, warning.component, warning.days_left)
        if self.publish is not None:
            self.publish(out)
        return out

    def warnings(self) -> list[MaintenanceWarning]:
        """Current warnings, soonest failure first."""
        return sorted(self._warnings.values(), key=lambda w: (w.days_left, w.device_id))

    def models(self) -> list[ModelCard]:
        """Cards of every saved model."""
        return self.store.cards()

    def predict(self, frame: pd.DataFrame, model: str | None = None) -> tuple[ModelCard, pd.DataFrame]:
        """Predictions for a table with the model named, or the one its columns fit."""
        if frame.empty:
            raise MaintenanceInputError("maintenance.error.empty", "the input has no rows")
        name = model or self._model_for(frame)
        saved = self.store.load(name)
        if saved.card.dataset.startswith("cmapss"):
            return saved.card, predict_last_cycle(saved, frame)
        if saved.card.kind == "failure":
            return saved.card, predict_failure(saved, frame)
        return saved.card, predict_appliance_frame(saved, frame)

    def _model_for(self, frame: pd.DataFrame) -> str:
        columns = set(frame.columns)
        names = self.store.names()
        if {"unit", "cycle"} <= columns:
            preferred = [n for n in names if n.startswith("cmapss-")]
            if preferred:
                return preferred[0]
        if "Type" in columns and "ai4i" in names:
            return "ai4i"
        profile = profile_for_attributes(columns)
        if profile is not None and model_name(profile.device_type) in names:
            return model_name(profile.device_type)
        raise MaintenanceInputError(
            "maintenance.error.unknown_input",
            f"cannot tell which model fits columns {sorted(columns)}",
            available=", ".join(names) or "-",
        )


def _reading(
    data: Mapping[str, Any], profile: FaultProfile, previous: tuple[float, ...] | None
) -> tuple[float, ...] | None:
    """The event's readings in model order; a condition left out (unchanged) keeps its last value."""
    values = []
    for index, name in enumerate(profile.attributes):
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values.append(float(value))
        elif previous is not None and name not in profile.signals:
            values.append(previous[index])
        else:
            return None
    return tuple(values)
