"""Saved models: LightGBM text models beside a JSON card of metrics, data fingerprint, version and columns.

Layout: `<models_dir>/<name>/model_<i>.txt` (one per ensemble member) and `card.json`. Text
models and JSON keep loading free of pickle, so a models folder copied from elsewhere cannot run
code. The folder is `<data_dir>/models`, with data_dir from the argument, `ONETEAM_DATA_DIR`
or `data/`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from oneteam import __version__
from oneteam.services.maintenance.errors import MaintenanceInputError, ModelMismatch, ModelNotFound

_LOGGER = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bumped when the card or the features change so that old models are refused, not misread."""

MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""A model is named, never located: letters, digits, `-` and `_`, so no path (`/`, `\\`, `..`,
an absolute path) can reach a file outside the models folder."""


def check_model_name(name: str) -> str:
    """`name` if it is a model name, else MaintenanceInputError (HTTP 422) saying what is allowed."""
    if not re.fullmatch(MODEL_NAME_PATTERN, name):
        raise MaintenanceInputError(
            "maintenance.error.bad_model_name", f"{name[:80]!r} is not a model name", model=name[:80]
        )
    return name


def models_dir(data_dir: Path | None = None) -> Path:
    """Where models are saved: `<data_dir>/models`."""
    base = data_dir or Path(os.environ.get("ONETEAM_DATA_DIR") or "data")
    return base / "models"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCard:
    """What a saved model is, what it was trained on, and how well it did."""

    name: str
    """Store key: `cmapss-FD001`, `ai4i`, `appliance-washer`."""
    kind: str
    """`rul` (regression of remaining life) or `failure` (classification)."""
    dataset: str
    fingerprint: str
    """sha256 of the training data."""
    version: int
    """1 for the first model saved under this name, then counting up."""
    input_columns: tuple[str, ...]
    """Columns the model reads from its input, in order."""
    feature_names: tuple[str, ...]
    metrics: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Everything else prediction needs (normaliser, caps, thresholds), JSON-ready."""
    created_at: float = 0.0
    format_version: int = FORMAT_VERSION
    oneteam_version: str = __version__

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "dataset": self.dataset,
            "fingerprint": self.fingerprint,
            "version": self.version,
            "input_columns": list(self.input_columns),
            "feature_names": list(self.feature_names),
            "metrics": dict(self.metrics),
            "settings": dict(self.settings),
            "created_at": self.created_at,
            "format_version": self.format_version,
            "oneteam_version": self.oneteam_version,
        }

    def summary(self) -> dict[str, Any]:
        """The card without the long lists (for listings)."""
        data = self.as_dict()
        data.pop("feature_names")
        data.pop("settings")
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedModel:
    """A card and its LightGBM ensemble; predictions average the members."""

    card: ModelCard
    boosters: tuple[lgb.Booster, ...]

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Mean prediction of the ensemble members."""
        if features.shape[1] != len(self.card.feature_names):
            raise ModelMismatch(
                self.card.name,
                f"expects {len(self.card.feature_names)} features, got {features.shape[1]}",
            )
        return np.asarray(np.mean([b.predict(features) for b in self.boosters], axis=0), dtype=float)

    def require_columns(self, columns: Sequence[str]) -> None:
        """Refuse a model trained on other columns than the caller will give it."""
        if tuple(columns) != self.card.input_columns:
            missing = [c for c in self.card.input_columns if c not in columns]
            extra = [c for c in columns if c not in self.card.input_columns]
            raise ModelMismatch(
                self.card.name,
                f"trained on columns {list(self.card.input_columns)}; "
                f"missing here {missing}, unknown to the model {extra}",
            )


class ModelStore:
    """A folder of saved models."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        """Saved model names, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "card.json").is_file())

    def cards(self) -> list[ModelCard]:
        """Every saved model's card (unreadable ones are skipped with a log line)."""
        cards = []
        for name in self.names():
            try:
                cards.append(self.card(name))
            except ModelMismatch as exc:
                _LOGGER.warning("skipping %s: %s", name, exc)
        return cards

    def card(self, name: str) -> ModelCard:
        """One model's card."""
        path = self.root / check_model_name(name) / "card.json"
        if not path.is_file():
            raise ModelNotFound(name, self.names())
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            card = ModelCard(
                name=str(data["name"]),
                kind=str(data["kind"]),
                dataset=str(data["dataset"]),
                fingerprint=str(data["fingerprint"]),
                version=int(data["version"]),
                input_columns=tuple(str(c) for c in data["input_columns"]),
                feature_names=tuple(str(c) for c in data["feature_names"]),
                metrics=dict(data.get("metrics", {})),
                settings=dict(data.get("settings", {})),
                created_at=float(data.get("created_at", 0.0)),
                format_version=int(data.get("format_version", 0)),
                oneteam_version=str(data.get("oneteam_version", "")),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ModelMismatch(name, f"unreadable card.json: {exc}") from exc
        if card.format_version != FORMAT_VERSION:
            raise ModelMismatch(
                name,
                f"saved in format {card.format_version}, this oneteam reads {FORMAT_VERSION}; retrain it",
            )
        return card

    def load(self, name: str) -> SavedModel:
        """A saved model, ready to predict."""
        card = self.card(name)
        folder = self.root / name
        boosters = tuple(
            lgb.Booster(model_str=p.read_text(encoding="utf-8")) for p in sorted(folder.glob("model_*.txt"))
        )
        if not boosters:
            raise ModelMismatch(name, "no model_*.txt beside card.json")
        for booster in boosters:
            if tuple(booster.feature_name()) != card.feature_names:
                raise ModelMismatch(name, "the model's features differ from its card")
        return SavedModel(card=card, boosters=boosters)

    def save(self, card: ModelCard, boosters: Sequence[lgb.Booster]) -> ModelCard:
        """Save a model under `card.name`, numbering its version after any earlier one."""
        check_model_name(card.name)
        previous = 0
        try:
            previous = self.card(card.name).version
        except (ModelNotFound, ModelMismatch):
            previous = 0
        final = ModelCard(**{**_fields(card), "version": previous + 1, "created_at": time.time()})
        folder = self.root / card.name
        staging = self.root / f".{card.name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for index, booster in enumerate(boosters):
            (staging / f"model_{index}.txt").write_text(booster.model_to_string(), encoding="utf-8")
        (staging / "card.json").write_text(
            json.dumps(final.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        # Swap whole folders so a reader never sees a card beside another version's models.
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        _LOGGER.info("saved model %s version %d", final.name, final.version)
        return final


def _fields(card: ModelCard) -> dict[str, Any]:
    return {name: getattr(card, name) for name in ModelCard.__dataclass_fields__}
