"""Hub configuration: embedded defaults, overridable by a YAML file and ONETEAM_* environment variables."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oneteam.hub.sqlite_store import SqliteStorage
from oneteam.hub.storage import Storage
from oneteam.model import OneteamError


class ConfigError(OneteamError):
    """A configuration file or variable that cannot be used."""

    key = "error.config"

    def __init__(self, message: str, **params: Any) -> None:
        # The message is the detail the catalog's text shows (a file, a field, what is wrong).
        super().__init__(message, **{"detail": message, **params})


class ConfigValueError(ConfigError):
    """One setting with a value it cannot take (`--port 99999999`): the setting, the value and
    what it takes, in the reader's words rather than the validator's."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.key = key


class HubConfig(BaseModel):
    """Everything the hub needs to start. Defaults run a home on one machine with nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default=Path("data"), description="SQLite file, models and other state live here.")
    database_url: str | None = Field(
        default=None, description="postgresql://... to keep hub state in PostgreSQL instead of SQLite."
    )
    home_file: Path | None = Field(default=None, description="The home to run; the demo home when unset.")
    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9._:%\-\[\]]+$",
        description="The address to listen on (an IP address or a host name).",
    )
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
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Reverse proxies (IP addresses or networks like 10.0.0.0/8, or *) whose "
        "X-Forwarded-For names the caller. None by default: the caller is the socket's address.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """ONETEAM_TRUSTED_PROXIES and a YAML string list them comma-separated."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in value:
            if proxy == "*":
                continue
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(proxy[:80]) from None  # the entry itself: the message names it
        return value

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
    "ONETEAM_TRUSTED_PROXIES": "trusted_proxies",
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
        raise _value_error(exc.errors()[0]) from exc


_BOUNDS = {"greater_than_equal": "ge", "less_than_equal": "le", "greater_than": "gt", "less_than": "lt"}


_KEYS = {
    "int_parsing": "error.config_not_number",
    "float_parsing": "error.config_not_number",
    "int_from_float": "error.config_not_number",
    "finite_number": "error.config_not_number",
    "bool_parsing": "error.config_not_bool",
    "extra_forbidden": "error.config_unknown",
    "string_pattern_mismatch": "error.config_host",
    "string_too_short": "error.config_host",
    "string_too_long": "error.config_host",
}
"""Each validator's kind of problem → the message that says what the setting takes."""


def _value_error(error: Mapping[str, Any]) -> ConfigError:
    """The first problem of a validation error as one message that names the setting."""
    field = ".".join(str(part) for part in error["loc"]) or "config"
    value = str(error.get("input", ""))[:80] or '""'
    kind = str(error["type"])
    detail = f"{field}: {error.get('msg', kind)} ({value})"
    facts: dict[str, Any] = {"field": field, "value": value}
    key = _KEYS.get(kind)
    if kind in _BOUNDS:
        limits = _limits(field)
        low, high = limits.get("ge", limits.get("gt")), limits.get("le", limits.get("lt"))
        if low is not None and high is not None:
            key, facts = "error.config_between", {**facts, "low": low, "high": high}
        elif low is not None:
            key = "error.config_above" if "gt" in limits else "error.config_at_least"
            facts = {**facts, "low": low}
    if kind == "value_error" and field == "trusted_proxies":
        key, facts["value"] = "error.config_proxy", str(error.get("ctx", {}).get("error", value))
    if key is None or (key == "error.config_host" and field != "host"):
        return ConfigError(detail)
    return ConfigValueError(key, detail, **facts)


def _limits(field: str) -> dict[str, Any]:
    """The numeric bounds a field declares (`ge`, `gt`, `le`, `lt`)."""
    info = HubConfig.model_fields.get(field)
    found: dict[str, Any] = {}
    for rule in info.metadata if info is not None else ():
        for name in ("ge", "gt", "le", "lt"):
            if getattr(rule, name, None) is not None:
                found[name] = getattr(rule, name)
    return found


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
