"""Devices from any maker over MQTT, with Home Assistant-style discovery in and out."""

from oneteam.integrations.mqtt.adapter import MqttAdapter
from oneteam.integrations.mqtt.broker import EmbeddedBroker
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.discovery_out import DiscoveryPublisher
from oneteam.integrations.mqtt.service import mqtt_for_hub
from oneteam.integrations.mqtt.settings import BrokerError, BrokerSettings, Will, parse_broker_url

__all__ = [
    "BrokerError",
    "BrokerSettings",
    "DiscoveryPublisher",
    "EmbeddedBroker",
    "MqttAdapter",
    "MqttClient",
    "Will",
    "mqtt_for_hub",
    "parse_broker_url",
]
