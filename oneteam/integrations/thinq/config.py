"""The ThinQ account settings: a personal access token, a country and a client id made once.

They live in their own YAML file beside the hub's data (`<data_dir>/thinq.yaml`, mode 0600);
the token is a `SecretStr`, so it never appears in a repr, a log line or an API answer.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from oneteam.integrations.thinq import const
from oneteam.model import OneteamError

CONFIG_FILE = "thinq.yaml"
# LG's own apps and Home Assistant prefix client ids the same way; any unique string works.
CLIENT_ID_PREFIX = "oneteam-"


class ThinqConfigError(OneteamError):
    """The ThinQ settings cannot be read or are incomplete."""

    key = "thinq.config_invalid"


class PollingConfig(BaseModel):
    """How often the hub may ask LG for state while push is not running."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_s: float = Field(default=const.DEFAULT_POLL_INTERVAL_S, gt=0)
    calls_per_hour: int = Field(default=const.DEFAULT_CALLS_PER_HOUR, gt=0)
    command_reserve: float = Field(default=const.DEFAULT_COMMAND_RESERVE, ge=0, lt=1)
    jitter: float = Field(default=const.DEFAULT_JITTER, ge=0, lt=1)
    backoff_base_s: float = Field(default=const.DEFAULT_BACKOFF_BASE_S, gt=0)
    backoff_max_s: float = Field(default=const.DEFAULT_BACKOFF_MAX_S, gt=0)
    request_timeout_s: float = Field(default=const.DEFAULT_REQUEST_TIMEOUT_S, gt=0)
    rediscover_s: float = Field(
        default=const.DEFAULT_REDISCOVER_S,
        gt=0,
        description="How often to look for added or removed appliances.",
    )
    push_interval_s: float = Field(
        default=const.DEFAULT_PUSH_POLL_INTERVAL_S,
        gt=0,
        description="Safety poll per device while push is up.",
    )


class ThinqConfig(BaseModel):
    """One ThinQ Connect account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    access_token: SecretStr = Field(description="ThinQ Connect personal access token (PAT).")
    country: str = Field(min_length=2, max_length=2, description="ISO country code of the account: KR.")
    client_id: str = Field(
        default_factory=lambda: f"{CLIENT_ID_PREFIX}{uuid.uuid4()}",
        min_length=8,
        description="Made once and kept: LG counts clients per account.",
    )
    rooms: dict[str, str] = Field(
        default_factory=dict, description="Appliance alias (or ThinQ device id) → hub room id."
    )
    use_push: bool = Field(default=True, description="Use LG's MQTT push when it can be set up.")
    push_root_ca: Path = Field(
        default=Path("/etc/ssl/certs/Amazon_Root_CA_1.pem"),
        description="Root CA of LG's MQTT broker (AWS IoT); read from disk, never downloaded.",
    )
    polling: PollingConfig = Field(default_factory=PollingConfig)

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def with_token(self, token: str) -> ThinqConfig:
        """The same account with a new access token."""
        return self.model_copy(update={"access_token": SecretStr(token)})


def config_path(data_dir: Path) -> Path:
    """Where the ThinQ settings of a hub live."""
    return data_dir / CONFIG_FILE


def load_thinq_config(path: Path) -> ThinqConfig:
    """The settings from `path`, or ThinqConfigError with what is wrong (never the token)."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ThinqConfigError(f"cannot read {path}: {exc.__class__.__name__}", path=str(path)) from exc
    if not isinstance(loaded, dict):
        raise ThinqConfigError(f"{path} must be a mapping", path=str(path))
    try:
        return ThinqConfig.model_validate(loaded)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
        raise ThinqConfigError(f"{path}: invalid fields: {fields}", path=str(path), fields=fields) from None


def save_thinq_config(path: Path, config: ThinqConfig) -> None:
    """Write the settings, readable by the owner only (the file holds the token)."""
    data = config.model_dump(mode="json")
    data["access_token"] = config.access_token.get_secret_value()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, allow_unicode=True, sort_keys=False)
    temporary.replace(path)
