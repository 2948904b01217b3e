"""Constants of the MQTT integration: topics, limits and the Home Assistant discovery vocabulary."""

from __future__ import annotations

from typing import Final

from oneteam.model import DeviceType

DOMAIN: Final = "mqtt"
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"
DEFAULT_BASE_TOPIC: Final = "oneteam"
"""Where the hub publishes its own devices' state and listens for their commands."""
HUB_NODE_ID: Final = "oneteam"
"""The node id in the topics of configs the hub publishes; the adapter skips those, so nothing echoes."""
STATUS_SUFFIX: Final = "status"
"""`<prefix>/status` carries the birth/will message (`online`/`offline`), as Home Assistant's does."""
PAYLOAD_ONLINE: Final = "online"
PAYLOAD_OFFLINE: Final = "offline"

MAX_CONFIG_BYTES: Final = 64 * 1024
"""A discovery config bigger than this is refused: real ones (Zigbee2MQTT, ESPHome) are under 4 KiB."""
MAX_STATE_BYTES: Final = 16 * 1024
"""A state payload bigger than this is refused before parsing."""
MAX_ID_LENGTH: Final = 128
MAX_WARNED_TOPICS: Final = 10_000
"""Bad topics remembered so each is logged once; bounded so a flood of bad topics cannot grow memory."""

CONFIRM_TIMEOUT_S: Final = 5.0
"""How long `execute` waits for the device to report the commanded state before it gives up."""
RECONNECT_MIN_S: Final = 0.1
RECONNECT_MAX_S: Final = 2.0
"""Backoff ceiling: small, so devices are back within a few seconds after a broker restart."""
SUBSCRIBE_BATCH: Final = 500
"""Topics per SUBSCRIBE packet when thousands of devices are discovered at once."""

COMPONENT_TYPES: Final[dict[str, DeviceType]] = {
    "light": DeviceType.LIGHT,
    "switch": DeviceType.SWITCH,
    "climate": DeviceType.AIR_CONDITIONER,
    "fan": DeviceType.AIR_PURIFIER,
    "vacuum": DeviceType.ROBOT_CLEANER,
    "sensor": DeviceType.SENSOR,
}
TYPE_COMPONENTS: Final[dict[DeviceType, str]] = {v: k for k, v in COMPONENT_TYPES.items()}

# Home Assistant climate modes ↔ our air-conditioner modes (HA says `fan_only` where we say `fan`).
HA_TO_MODE: Final[dict[str, str]] = {
    "cool": "cool",
    "dry": "dry",
    "fan_only": "fan",
    "auto": "auto",
    "heat": "heat",
}
MODE_TO_HA: Final[dict[str, str]] = {v: k for k, v in HA_TO_MODE.items()}

# Fan speeds as a fan's percentage: low/medium/high are the thirds HA itself uses for 3-speed fans.
SPEED_PERCENT: Final[dict[str, int]] = {"low": 33, "medium": 66, "high": 100}

# The abbreviations of Home Assistant's MQTT discovery that ESPHome and Zigbee2MQTT send
# (`stat_t` for `state_topic`, ...); only the keys this integration reads are listed.
ABBREVIATIONS: Final[dict[str, str]] = {
    "avty": "availability",
    "avty_mode": "availability_mode",
    "avty_t": "availability_topic",
    "bri_cmd_t": "brightness_command_topic",
    "bri_scl": "brightness_scale",
    "bri_stat_t": "brightness_state_topic",
    "bri_val_tpl": "brightness_value_template",
    "brightness": "brightness",
    "cmd_t": "command_topic",
    "curr_temp_t": "current_temperature_topic",
    "curr_temp_tpl": "current_temperature_template",
    "dev": "device",
    "dev_cla": "device_class",
    "fan_mode_cmd_t": "fan_mode_command_topic",
    "fan_mode_stat_t": "fan_mode_state_topic",
    "fan_mode_stat_tpl": "fan_mode_state_template",
    "max_temp": "max_temp",
    "min_temp": "min_temp",
    "mode_cmd_t": "mode_command_topic",
    "mode_stat_t": "mode_state_topic",
    "mode_stat_tpl": "mode_state_template",
    "name": "name",
    "obj_id": "object_id",
    "pct_cmd_t": "percentage_command_topic",
    "pct_stat_t": "percentage_state_topic",
    "pct_val_tpl": "percentage_value_template",
    "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available",
    "pl_off": "payload_off",
    "pl_on": "payload_on",
    "pl_paus": "payload_pause",
    "pl_ret": "payload_return_to_base",
    "pl_strt": "payload_start",
    "pl_stop": "payload_stop",
    "pow_cmd_t": "power_command_topic",
    "pr_mode_cmd_t": "preset_mode_command_topic",
    "pr_mode_stat_t": "preset_mode_state_topic",
    "pr_mode_val_tpl": "preset_mode_value_template",
    "pr_modes": "preset_modes",
    "schema": "schema",
    "stat_off": "state_off",
    "stat_on": "state_on",
    "stat_t": "state_topic",
    "stat_val_tpl": "state_value_template",
    "sup_feat": "supported_features",
    "temp_cmd_t": "temperature_command_topic",
    "temp_stat_t": "temperature_state_topic",
    "temp_stat_tpl": "temperature_state_template",
    "t": "topic",
    "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement",
    "val_tpl": "value_template",
}
DEVICE_ABBREVIATIONS: Final[dict[str, str]] = {
    "ids": "identifiers",
    "mf": "manufacturer",
    "mdl": "model",
    "sa": "suggested_area",
    "sw": "sw_version",
}
