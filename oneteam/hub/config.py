"""Hub configuration: embedded defaults, overridable by a YAML file and ONETEAM_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oneteam.hub.sqlite_store import SqliteStorage
from oneteam.hub.storage import Storage
from oneteam.model import OneteamError


class ConfigError(OneteamError):
    """A configuration file or variable that cannot be used."""

    key = "error.config"

    def __init__(self, message: str, **params: Any) -> None:
        # The message is the detail the catalog's text shows (a file, a field, what is wrong).
        super().__init__(message, **{"detail": message, **params})


class HubConfig(BaseModel):
    """Everything the hub needs to start. Defaults run a home on one machine with nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default=Path("data"), description="SQLite file, models and other state live here.")
    database_url: str | None = Field(
        default=None, description="postgresql://... to keep hub state in PostgreSQL instead of SQLite."
    )
    home_file: Path | None = Field(default=None, description="The home to run; the demo home when unset.")
    host: str = "127.0.0.1"
    port: int = Field(default=8123, ge=0, le=65535)
    time_scale: float = Field(
        default=1.0, gt=0, description="Simulated seconds per real second (virtual devices)."
    )
    tick_s: float = Field(
        default=1.0, gt=0, description="How often virtual devices advance, in real seconds."
    )
    wear_day_s: float | None = Field(
        default=None,
        gt=0,
        description="Simulated seconds per day of appliance wear (a day; the demo uses 6 s).",
    )
    event_retention_days: float = Field(default=30.0, gt=0)
    retention_interval_s: float = Field(default=3600.0, gt=0)
    mqtt_url: str | None = Field(
        default=None, description="An MQTT broker to join (mqtt://user:pass@host:1883, mqtts:// for TLS)."
    )
    mqtt_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Embedded MQTT broker port (used when no mqtt_url).",
    )
    voice: bool = Field(
        default=True, description="Load the Korean speech pipeline (about 0.5 GB) for /api/voice."
    )
    timezone: str = Field(default="Asia/Seoul", description="Local time zone for schedules at a time of day.")
    durable_writes: bool = Field(default=False, description="fsync every commit (survives power loss).")
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    allowed_origins: tuple[str, ...] = Field(
        default=(),
        description="Web origins (https://host:port) besides the hub's own whose pages may open its "
        "WebSockets; programs that send no Origin are not affected.",
    )

    @property
    def database_path(self) -> Path:
        """The SQLite file of the hub."""
        return self.data_dir / "oneteam.sqlite3"


_ENV_FIELDS = {
    "ONETEAM_DATA_DIR": "data_dir",
    "ONETEAM_DATABASE_URL": "database_url",
    "ONETEAM_HOME": "home_file",
    "ONETEAM_TIME_SCALE": "time_scale",
    "ONETEAM_MQTT_URL": "mqtt_url",
    "ONETEAM_MQTT_PORT": "mqtt_port",
    "ONETEAM_VOICE": "voice",
    "ONETEAM_TICK_S": "tick_s",
    "ONETEAM_EVENT_RETENTION_DAYS": "event_retention_days",
}


def load_config(path: Path | None = None, **overrides: object) -> HubConfig:
    """The configuration from a YAML file (optional), then environment variables, then `overrides`."""
    values: dict[str, object] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"config {path} must be a mapping")
        values.update(loaded)
    for variable, field_name in _ENV_FIELDS.items():
        if variable in os.environ:
            values[field_name] = os.environ[variable]
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return HubConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc


class NoDatabaseHere(ConfigError):
    """A command that reads the hub's data, run where no hub keeps any (another working folder)."""

    key = "error.no_database_here"


def require_database(data_dir: Path | None) -> None:
    """Refuse to start a fresh database in `./data` of whatever folder a command happens to run in:
    without --data-dir or ONETEAM_DATA_DIR the hub's own folder must already hold one (NoDatabaseHere)."""
    if data_dir is not None or os.environ.get("ONETEAM_DATA_DIR"):
        return
    config = load_config(None)
    if config.database_url or config.database_path.exists():
        return
    raise NoDatabaseHere(
        f"no hub database at {config.database_path.resolve()}", path=str(config.database_path.resolve())
    )


def open_storage(config: HubConfig) -> Storage:
    """The storage backend the configuration names: PostgreSQL for a database URL, else SQLite."""
    if config.database_url:
        if not config.database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                f"database_url must start with postgresql:// (got {config.database_url.split(':')[0]})"
            )
        from oneteam.hub.postgres_store import PostgresStorage

        return PostgresStorage(config.database_url)
    return SqliteStorage(config.database_path, durable=config.durable_writes)
