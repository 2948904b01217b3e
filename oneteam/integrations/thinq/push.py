"""LG's push: the SDK's MQTT client (`ThinQMQTTClient`, AWS IoT over mutual TLS) for state reports.

The SDK's own `async_prepare_mqtt` downloads Amazon's root CA from the internet at run time; we
do the same steps with the SDK's public calls instead and read the root CA from a file
(`/etc/ssl/certs/Amazon_Root_CA_1.pem` from the ca-certificates package by default). MQTT
callbacks arrive on awscrt's threads and are handed to the loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from thinqconnect import ThinQMQTTClient
from thinqconnect.mqtt_client import CLIENT_BODY

from oneteam.integrations.thinq.const import PushEvent

_LOGGER = logging.getLogger(__name__)
AMAZON_ROOT_CA = Path("/etc/ssl/certs/Amazon_Root_CA_1.pem")
STATUS_REPORT = "DEVICE_STATUS"
NOTIFICATION = "DEVICE_PUSH"
_ALREADY_SUBSCRIBED = "1207"


class PushUnavailable(Exception):
    """Push could not be set up; the adapter keeps polling."""


class PushChannel:
    """One MQTT push connection for the account."""

    def __init__(
        self,
        api: Any,
        client_id: str,
        root_ca: Path,
        *,
        on_message: Callable[[dict[str, Any]], None],
        on_connection: Callable[[PushEvent, str], None],
    ) -> None:
        """`on_connection(what, detail)` is called on the loop for each of the SDK's connection
        callbacks: `connected` (also after an automatic reconnect), `interrupted`, `failed`
        (a connect or reconnect attempt failed) and `closed`."""
        self._api = api
        self._client_id = client_id
        self._root_ca = root_ca
        self._on_message = on_message
        self._on_connection = on_connection
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False

    @property
    def is_connected(self) -> bool:
        """Whether the MQTT connection is up."""
        return bool(self._client is not None and self._client.is_connected)

    async def connect(self, thinq_ids: list[str]) -> None:
        """Register the client, get its certificate, subscribe the devices and connect."""
        self._loop = asyncio.get_running_loop()
        try:
            root_ca = await asyncio.to_thread(self._root_ca.read_bytes)
        except OSError as exc:
            raise PushUnavailable(f"root CA {self._root_ca} not readable") from exc
        client = await ThinQMQTTClient(
            self._api,
            self._client_id,
            self._message,
            on_connection_interrupted=self._interrupted,
            on_connection_success=self._succeeded,
            on_connection_failure=self._failed,
            on_connection_closed=self._closed,
        )
        await self._api.async_post_client_register(payload=CLIENT_BODY)
        key_pem, csr = await asyncio.to_thread(_key_and_csr)
        client.bytes_root_ca = root_ca
        client.bytes_private_key = key_pem
        client.csr_str = csr
        if not await client.issue_certificate():
            raise PushUnavailable("LG issued no client certificate")
        for thinq_id in thinq_ids:
            for subscribe in (self._api.async_post_push_subscribe, self._api.async_post_event_subscribe):
                try:
                    await subscribe(thinq_id)
                except Exception as exc:
                    if str(getattr(exc, "code", "")) != _ALREADY_SUBSCRIBED:
                        raise
        self._client = client
        # The SDK waits for the MQTT CONNACK on the loop's thread; on a reachable broker that is
        # one TLS handshake.
        await client.async_connect_mqtt()
        if not client.is_connected:
            raise PushUnavailable("MQTT connection refused")

    async def close(self) -> None:
        """Unsubscribe, unregister the client and close the MQTT connection."""
        self._closing = True  # the callbacks of our own disconnect are not news for the adapter
        client, self._client = self._client, None
        if client is None:
            return
        # The SDK's async_disconnect unsubscribes and unregisters but leaves the awscrt connection
        # (and its reconnect thread) running, so the connection it made is closed here.
        connection = getattr(client, "_mqtt_connection", None)
        try:
            if client.is_connected:
                await client.async_disconnect()
        finally:
            if connection is not None:
                await asyncio.wrap_future(connection.disconnect())

    def _message(self, topic: str, payload: bytes, dup: bool, qos: Any, retain: bool, **kwargs: Any) -> None:
        try:
            message = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            _LOGGER.warning("ThinQ push message not JSON (%d bytes) ignored", len(payload))
            return
        if isinstance(message, dict) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_message, message)

    def _tell(self, what: PushEvent, detail: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed() and not self._closing:
            loop.call_soon_threadsafe(self._on_connection, what, detail)

    # awscrt calls these on its own threads.
    def _interrupted(self, connection: Any, error: Any, **kwargs: Any) -> None:
        self._tell(PushEvent.INTERRUPTED, str(error))

    def _succeeded(self, connection: Any, callback_data: Any, **kwargs: Any) -> None:
        self._tell(PushEvent.CONNECTED, "")

    def _failed(self, connection: Any, callback_data: Any, **kwargs: Any) -> None:
        self._tell(PushEvent.FAILED, str(getattr(callback_data, "error", callback_data)))

    def _closed(self, connection: Any, callback_data: Any, **kwargs: Any) -> None:
        self._tell(PushEvent.CLOSED, "")


def _key_and_csr() -> tuple[bytes, str]:
    """A fresh RSA key and a CSR for it, in the form LG's certificate call expects (PEM body only)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lg_thinq")]))
        .sign(key, hashes.SHA512())
    )
    lines = csr.public_bytes(serialization.Encoding.PEM).decode("ascii").strip().splitlines()
    return key_pem, "".join(lines[1:-1])
