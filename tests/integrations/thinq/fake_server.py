"""A local fake of LG's ThinQ Connect API, for tests and the benchmark: nothing reaches LG.

A real aiohttp HTTPS server on 127.0.0.1 with a certificate from a test CA made at run time
(trustme). The SDK's own HTTP client reaches it through the aiohttp session it accepts: a resolver
sends every `*.lgthinq.com` name to the fake's port (and refuses any other host), and the
connector trusts the test CA. It speaks LG's envelope (`messageId`, `timestamp`, `response`;
errors as `{"error": {"code", "message"}}`), keeps each appliance's status so a control call
changes what the next status call returns, and can be scripted to fail: 401 expired token, 429
with Retry-After, 500s, slow answers, an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import json
import socket
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LG_DOMAIN = ".lgthinq.com"
TEST_CA = trustme.CA()
_SERVER_CERT = TEST_CA.issue_cert("*.lgthinq.com", "lgthinq.com", "127.0.0.1")


class LgOnlyResolver(AbstractResolver):
    """Resolves LG's API host names to the fake server; any other host is refused."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if not host.endswith(LG_DOMAIN):
            raise OSError(f"the fake ThinQ network resolves only {LG_DOMAIN}, not {host}")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self.port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


@dataclass
class Fault:
    """One scripted answer instead of the real one."""

    status: int
    code: str = "0000"
    message: str = ""
    retry_after: str | None = None
    delay_s: float = 0.0
    path_contains: str = ""
    """Only requests whose path contains this are hit (all when empty)."""


@dataclass
class FakeAppliance:
    """One appliance on the fake account: LG's device entry, profile and live status."""

    device: dict[str, Any]
    profile: dict[str, Any]
    status: dict[str, Any]
    door_open: bool = False
    offline: bool = False

    @property
    def device_type(self) -> str:
        return str(self.device["deviceInfo"]["deviceType"])


@dataclass
class Call:
    """A request the fake received."""

    method: str
    path: str
    at: float
    status: int = 200


@dataclass
class FakeThinq:
    """The fake account and its appliances; scripted faults; a log of every call."""

    valid_tokens: set[str] = field(default_factory=lambda: {"test-token"})
    appliances: dict[str, FakeAppliance] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    outage: bool = False
    delay_s: float = 0.0
    settle_s: float = 0.0
    """A control call is answered at once and the appliance acts this much later (as LG's cloud
    answers before the appliance has done anything): the status changes then, with a push."""
    calls: list[Call] = field(default_factory=list)
    push_topics: set[str] = field(default_factory=set)
    """MQTT topics of the clients that registered for push."""
    outbox: asyncio.Queue[dict[str, Any]] | None = None

    def add(self, fixture: str, *, device_id: str | None = None, alias: str | None = None) -> str:
        """Put an appliance from `fixtures/<fixture>/` on the account; returns its ThinQ device id."""
        folder = FIXTURES / fixture
        device = json.loads((folder / "device.json").read_text(encoding="utf-8"))
        if device_id is not None:
            device["deviceId"] = device_id
        if alias is not None:
            device["deviceInfo"]["alias"] = alias
        appliance = FakeAppliance(
            device=device,
            profile=json.loads((folder / "profile.json").read_text(encoding="utf-8")),
            status=json.loads((folder / "status.json").read_text(encoding="utf-8")),
        )
        self.appliances[device["deviceId"]] = appliance
        return str(device["deviceId"])

    def change(self, device_id: str, patch: dict[str, Any]) -> None:
        """The appliance changes by itself (someone pressed a button): deep-merge `patch` into its status."""
        _merge(self.appliances[device_id].status, patch)
        self.report(device_id, patch)

    def report(self, device_id: str, report: dict[str, Any]) -> None:
        """Push a status report to every registered MQTT client (when a broker is attached)."""
        if self.outbox is not None and self.push_topics:
            appliance = self.appliances[device_id]
            message = {
                "deviceId": device_id,
                "deviceType": appliance.device_type,
                "pushType": "DEVICE_STATUS",
                "report": copy.deepcopy(report),
            }
            self.outbox.put_nowait(message)

    def fail(self, fault: Fault, times: int = 1) -> None:
        """Answer the next `times` matching requests with `fault`."""
        self.faults.extend(copy.copy(fault) for _ in range(times))

    def count(self, path_contains: str = "") -> int:
        """Calls received whose path contains `path_contains`."""
        return sum(1 for call in self.calls if path_contains in call.path)


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class LgError(Exception):
    """An error answer in LG's envelope."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _envelope(request: web.Request, response: Any) -> dict[str, Any]:
    return {
        "messageId": request.headers.get("x-message-id", ""),
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
        "response": response,
    }


class FakeThinqServer:
    """Runs a FakeThinq behind real HTTPS on a free loopback port."""

    def __init__(self, fake: FakeThinq | None = None, *, broker_port: int | None = None) -> None:
        self.fake = fake or FakeThinq()
        self.port = 0
        self.broker_port = broker_port
        """A plain MQTT listener to publish push reports on (see fake_mqtt.py); None: no push."""
        self._runner: web.AppRunner | None = None
        self._publisher: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeThinqServer:
        app = web.Application(middlewares=[self._edge])
        app.router.add_get("/devices", self._devices)
        app.router.add_get("/devices/{device_id}/profile", self._profile)
        app.router.add_get("/devices/{device_id}/state", self._state)
        app.router.add_post("/devices/{device_id}/control", self._control)
        app.router.add_get("/route", self._route)
        app.router.add_post("/client", self._ok)
        app.router.add_delete("/client", self._ok)
        app.router.add_post("/client/certificate", self._certificate)
        for kind in ("push", "event"):
            app.router.add_post(f"/{kind}/{{device_id}}/subscribe", self._subscribe)
            app.router.add_delete(f"/{kind}/{{device_id}}/unsubscribe", self._subscribe)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        _SERVER_CERT.configure_cert(context)
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = int(server.sockets[0].getsockname()[1])
        if self.broker_port is not None:
            self.fake.outbox = asyncio.Queue()
            self._publisher = asyncio.create_task(self._publish(self.fake.outbox), name="fake-thinq-push")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        if self._runner is not None:
            await self._runner.cleanup()

    async def _publish(self, outbox: asyncio.Queue[dict[str, Any]]) -> None:
        """Send queued push reports to every registered client's topic."""
        async with aiomqtt.Client("127.0.0.1", port=self.broker_port or 0) as client:
            while True:
                message = await outbox.get()
                for topic in sorted(self.fake.push_topics):
                    await client.publish(topic, json.dumps(message), qos=1)

    def connector_factory(self) -> aiohttp.TCPConnector:
        """A connector for the SDK's session: LG names → this server, trusting the test CA."""
        context = ssl.create_default_context()
        TEST_CA.configure_trust(context)
        return aiohttp.TCPConnector(resolver=LgOnlyResolver(self.port), ssl=context)

    @web.middleware
    async def _edge(self, request: web.Request, handler: Any) -> web.StreamResponse:
        fake = self.fake
        call = Call(request.method, request.path, time.monotonic())
        fake.calls.append(call)
        try:
            response = await self._answer(request, handler)
        except LgError as exc:
            call.status = exc.status
            body = {"error": {"code": exc.code, "message": exc.message}}
            return web.json_response(body, status=exc.status, headers=exc.headers)
        call.status = response.status
        return response

    async def _answer(self, request: web.Request, handler: Any) -> web.StreamResponse:
        fake = self.fake
        if fake.delay_s:
            await asyncio.sleep(fake.delay_s)
        fault = next((f for f in fake.faults if f.path_contains in request.path), None)
        if fault is not None:
            fake.faults.remove(fault)
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            raise LgError(fault.status, fault.code, fault.message, headers)
        if fake.outage:
            raise LgError(503, "2000", "Internal server error")
        for header in ("x-api-key", "x-country", "x-client-id", "x-message-id"):
            if not request.headers.get(header):
                raise LgError(400, "1216", f"Incorrect header: {header}")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in fake.valid_tokens:
            raise LgError(401, "1103", "Invalid token")
        response: web.StreamResponse = await handler(request)
        return response

    def _appliance(self, request: web.Request) -> FakeAppliance:
        appliance = self.fake.appliances.get(request.match_info["device_id"])
        if appliance is None:
            raise LgError(404, "1205", "Not exist device")
        if appliance.offline:
            raise LgError(400, "1222", "Not connected device")
        return appliance

    async def _devices(self, request: web.Request) -> web.Response:
        return web.json_response(_envelope(request, [a.device for a in self.fake.appliances.values()]))

    async def _profile(self, request: web.Request) -> web.Response:
        return web.json_response(_envelope(request, self._appliance(request).profile))

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(_envelope(request, self._appliance(request).status))

    async def _route(self, request: web.Request) -> web.Response:
        return web.json_response(
            _envelope(
                request, {"apiServer": "https://api-kic.lgthinq.com", "mqttServer": "mqtts://localhost:8883"}
            )
        )

    async def _ok(self, request: web.Request) -> web.Response:
        return web.json_response(_envelope(request, {}))

    async def _subscribe(self, request: web.Request) -> web.Response:
        self._appliance(request)
        return web.json_response(_envelope(request, {}))

    async def _certificate(self, request: web.Request) -> web.Response:
        """Sign the SDK's CSR with the test CA, as LG's AWS IoT CA signs it for the real broker."""
        body = await request.json()
        pem = f"-----BEGIN CERTIFICATE REQUEST-----\n{body['csr']}\n-----END CERTIFICATE REQUEST-----\n"
        try:
            csr = x509.load_pem_x509_csr(pem.encode("ascii"))
        except ValueError as exc:
            raise LgError(400, "1102", "Unacceptable parameters: csr") from exc
        topic = f"app/clients/{request.headers['x-client-id']}/push"
        self.fake.push_topics.add(topic)
        return web.json_response(
            _envelope(request, {"result": {"certificatePem": _sign(csr), "subscriptions": [topic]}})
        )

    async def _control(self, request: web.Request) -> web.Response:
        appliance = self._appliance(request)
        if request.headers.get("x-conditional-control") != "true":
            raise LgError(400, "1216", "Incorrect header: x-conditional-control")
        payload = await request.json()
        status = copy.deepcopy(appliance.status)
        for properties, section, changes in _sections(appliance, status, payload):
            _apply(properties, section, changes, appliance)
        device_id = request.match_info["device_id"]
        if self.fake.settle_s:
            asyncio.get_running_loop().call_later(self.fake.settle_s, self._settle, device_id, status)
        else:
            self._settle(device_id, status)
        return web.json_response(_envelope(request, {}))

    def _settle(self, device_id: str, status: dict[str, Any]) -> None:
        """The appliance has acted: its status is the controlled one, and it says so by push."""
        self.fake.appliances[device_id].status = status
        self.fake.report(device_id, status)


def _sections(
    appliance: FakeAppliance, status: dict[str, Any], payload: dict[str, Any]
) -> list[tuple[Any, Any, Any]]:
    """(profile properties, status section, changes) for each part a control payload touches."""
    if appliance.device_type == "DEVICE_WASHTOWER":
        return [
            (appliance.profile[part]["property"], status[part], payload[part])
            for part in ("washer", "dryer")
            if part in payload
        ]
    properties = appliance.profile["property"]
    changes = {k: v for k, v in payload.items() if k != "location"}
    if isinstance(properties, list):  # per-location profiles (washer MAIN/MINI)
        wanted = payload.get("location", {}).get("locationName", "MAIN")
        properties = next(p for p in properties if p.get("location", {}).get("locationName") == wanted)
    return [(properties, status, changes)]


def _apply(
    properties: dict[str, Any], status: dict[str, Any], changes: dict[str, Any], appliance: FakeAppliance
) -> None:
    """Check `changes` against the profile's writable values, then change the status like the appliance."""
    for resource, values in changes.items():
        definition = properties.get(resource)
        if definition is None or not isinstance(values, dict):
            raise LgError(400, "1102", f"Unacceptable parameters: {resource}")
        if isinstance(definition, list):
            selector = "locationName" if "locationName" in values else "unit"
            entry = next((e for e in definition if e.get(selector) == values.get(selector)), None)
            if entry is None:
                raise LgError(400, "1102", f"Unacceptable parameters: {resource}.{selector}")
            updates = {k: v for k, v in values.items() if k != selector}
            _check(entry, updates, resource)
            rows = status.setdefault(resource, [])
            row = next((r for r in rows if r.get(selector) == values.get(selector)), None)
            if row is None:
                row = {selector: values[selector]}
                rows.append(row)
            row.update(updates)
            if "coolTargetTemperature" in updates:  # the cooling target is what the AC shows
                row["targetTemperature"] = updates["coolTargetTemperature"]
            continue
        _check(definition, values, resource)
        _operate(status, resource, dict(values), appliance)


def _check(definition: dict[str, Any], values: dict[str, Any], resource: str) -> None:
    for key, value in values.items():
        spec = definition.get(key)
        if not isinstance(spec, dict) or "w" not in spec.get("mode", []):
            raise LgError(400, "1102", f"Unacceptable parameters: {resource}.{key} is not writable")
        allowed = spec.get("value", {}).get("w")
        kind = spec.get("type")
        if kind == "enum" and value not in allowed:
            raise LgError(400, "1102", f"Unacceptable parameters: {resource}.{key}={value}")
        if kind == "range":
            low, high, step = allowed["min"], allowed["max"], allowed.get("step", 1)
            if not (low <= value <= high) or (value - low) % step:
                raise LgError(400, "1102", f"Unacceptable parameters: {resource}.{key}={value}")
        if kind == "boolean" and not isinstance(value, bool):
            raise LgError(400, "1102", f"Unacceptable parameters: {resource}.{key}={value}")


_CYCLE_STATES = {"START": "RUNNING", "STOP": "PAUSE", "POWER_OFF": "POWER_OFF", "WAKE_UP": "INITIAL"}
_ROBOT_STATES = {
    "START": "CLEANING",
    "RESUME": "CLEANING",
    "PAUSE": "PAUSE",
    "STOP": "STANDBY",
    "HOMING": "HOMING",
}


def _operate(status: dict[str, Any], resource: str, values: dict[str, Any], appliance: FakeAppliance) -> None:
    """Write-only operations act on the run state; every other value is stored as sent."""
    for key in ("washerOperationMode", "dryerOperationMode"):
        if key in values:
            operation = values.pop(key)
            if operation == "START":
                if not status.get("remoteControlEnable", {}).get("remoteControlEnabled", False):
                    raise LgError(400, "2301", "Command not supported in remote off")
                if appliance.door_open:
                    raise LgError(400, "2302", "Command not supported in state: door is open")
                timer = status.setdefault("timer", {})
                if not timer.get("remainHour") and not timer.get("remainMinute"):
                    timer.update(remainHour=1, remainMinute=0, totalHour=1, totalMinute=0)
            status.setdefault("runState", {})["currentState"] = _CYCLE_STATES[operation]
    if "cleanOperationMode" in values:
        status.setdefault("runState", {})["currentState"] = _ROBOT_STATES[values.pop("cleanOperationMode")]
    if values:
        status.setdefault(resource, {}).update(values)


def _sign(csr: x509.CertificateSigningRequest) -> str:
    key = serialization.load_pem_private_key(TEST_CA.private_key_pem.bytes(), password=None)
    issuer = x509.load_pem_x509_certificate(TEST_CA.cert_pem.bytes())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(issuer.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
