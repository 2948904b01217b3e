"""The text of one NATS node's config: routes, JetStream, MQTT and one user per home.

Every home's user is in the one account `ACCOUNT`, may connect over MQTT only, and may publish and
subscribe on its own subjects plus the `$MQTT.sub.>` delivery subjects NATS's MQTT layer uses for
QoS 1 (the server refuses MQTT subscriptions under that prefix, so it is no way into another home).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import bcrypt

from oneteam.cluster.nats_node import NatsNode

ACCOUNT = "HOMES"
"""The NATS account every home's user belongs to (JetStream on: MQTT needs it)."""
TOPIC_PREFIX = "oneteam"
"""A home's topics are `oneteam/<home_id>/...` (NATS subjects `oneteam.<home_id>...`)."""


def hash_password(password: str, cost: int) -> str:
    """A bcrypt hash of `password` in the spelling nats-server reads."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()
    # nats-server's bcrypt takes the "$2a$" spelling; the hash is the same as "$2b$".
    return "$2a$" + hashed[4:]


def quote(text: str) -> str:
    """A NATS config string: JSON's escaping is accepted, and quoting keeps '$' from meaning a variable."""
    return json.dumps(text)


@dataclass(frozen=True, slots=True)
class NatsUser:
    """One login: its name, bcrypt hash, and the subjects it may publish and subscribe on."""

    username: str
    hashed: str
    subjects: tuple[str, ...]

    def block(self) -> str:
        publish = ", ".join(quote(s) for s in self.subjects)
        subscribe = ", ".join(quote(s) for s in [*self.subjects, "$MQTT.sub.>"])
        return (
            f"      {{user: {quote(self.username)}, password: {quote(self.hashed)}, "
            f'allowed_connection_types: ["MQTT"], '
            f"permissions: {{publish: {{allow: [{publish}]}}, subscribe: {{allow: [{subscribe}]}}}}}}"
        )


def home_subjects(home_id: str) -> tuple[str, ...]:
    """The NATS subjects of a home's topics: `oneteam.<home_id>` and everything under it."""
    root = f"{TOPIC_PREFIX}.{home_id}"
    return (root, f"{root}.>")


@dataclass(frozen=True, slots=True)
class MqttOptions:
    """How every node's MQTT listener treats QoS 1 deliveries."""

    ack_wait_s: float
    """How long a node waits for a PUBACK before it sends the message again."""
    max_ack_pending: int
    """Unacknowledged messages per subscription before a node holds the rest back."""
    stream_replicas: int | None = None
    """Copies of each MQTT stream (sessions, retained states, QoS 1 messages) and consumer; None:
    one per node, at most 3. One copy costs the nodes about a third of the CPU per retained
    publish, but a dead node then takes what it alone held, and with the session stream on it no
    MQTT client signs in anywhere until it is back (docs/operator.md): not for a cluster that must
    ride out a node's death."""

    def replicas(self, nodes: int) -> int:
        """How many copies in a cluster of `nodes` (ValueError when more than there are nodes)."""
        if self.stream_replicas is None:
            return min(3, nodes)
        if not 1 <= self.stream_replicas <= nodes:
            raise ValueError(f"stream_replicas must be between 1 and {nodes}, not {self.stream_replicas}")
        return self.stream_replicas


def node_config(
    node: NatsNode, *, peers: list[NatsNode], host: str, users: list[NatsUser], mqtt: MqttOptions
) -> str:
    """The whole config of `node` in a cluster of `node` and `peers` (routes go to the peers)."""
    routes = ", ".join(f'"nats-route://{host}:{other.route_port}"' for other in peers)
    store = node.directory / "jetstream"
    replicas = mqtt.replicas(len(peers) + 1)
    return "\n".join(
        [
            f"# Written by oneteam.cluster.broker for node {node.name}; edits are overwritten.",
            f"server_name: {node.name}",
            f"listen: {host}:{node.client_port}",
            f"http: {host}:{node.http_port}",
            f"log_file: {quote(str(node.log_path))}",
            "logtime: true",
            f"jetstream {{ store_dir: {quote(str(store))}, max_memory_store: 256MB, max_file_store: 2GB }}",
            "cluster {",
            "  name: oneteam",
            f"  listen: {host}:{node.route_port}",
            f"  routes: [{routes}]",
            "}",
            "mqtt {",
            f"  listen: {host}:{node.mqtt_port}",
            f'  ack_wait: "{mqtt.ack_wait_s:g}s"',
            f"  max_ack_pending: {mqtt.max_ack_pending}",
            # Sessions, retained messages and QoS 1 deliveries survive a node's death only
            # if their streams and consumers are replicated over the nodes.
            f"  stream_replicas: {replicas}",
            f"  consumer_replicas: {replicas}",
            "}",
            "accounts {",
            f"  {ACCOUNT}: {{",
            "    jetstream: enabled",
            "    users: [",
            *(user.block() for user in users),
            "    ]",
            "  }",
            "}",
            "",
        ]
    )
