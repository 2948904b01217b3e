"""Devices from any maker over MQTT, with Home Assistant-style discovery in and out."""

from oneteam.integrations.mqtt.adapter import MqttAdapter
from oneteam.integrations.mqtt.broker import EmbeddedBroker
from oneteam.integrations.mqtt.client import BrokerError, BrokerSettings, MqttClient, Will, parse_broker_url
from oneteam.integrations.mqtt.discovery_out import DiscoveryPublisher
from oneteam.integrations.mqtt.service import mqtt_for_hub

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
