"""Report state HomeGraph-style: a service-account JWT (RS256) traded for an access token, pushes
to `/v1/devices:reportStateAndNotification`, against a local fake of both endpoints (a real HTTP
server on 127.0.0.1) that checks the assertion's signature and claims and the body's shape."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI, Request, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from oneteam.interop.smarthome.service_account import HOMEGRAPH_SCOPE, JWT_BEARER, ServiceAccountError
from oneteam.model import Command
from tests.interop.smarthome.conftest import Door, Serve, link_account, load_schema

# The reportStateAndNotification request body
# (developers.home.google.com/cloud-to-cloud/integration/report-state).
REPORT_BODY = {
    "type": "object",
    "required": ["requestId", "agentUserId", "payload"],
    "additionalProperties": False,
    "properties": {
        "requestId": {"type": "string", "minLength": 1},
        "eventId": {"type": "string"},
        "agentUserId": {"type": "string", "minLength": 1},
        "followUpToken": {"type": "string"},
        "payload": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "devices": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "states": {"type": "object", "additionalProperties": {"type": "object"}},
                        "notifications": {"type": "object"},
                    },
                }
            },
        },
    },
}


@dataclass
class FakeHomeGraph:
    """Google's token endpoint and HomeGraph, as far as report state needs them."""

    public_key: RSAKey
    client_email: str
    url: str = ""
    tokens: set[str] = field(default_factory=set)
    reports: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/token")
        async def token(request: Request) -> Response:
            form = await request.form()
            if form.get("grant_type") != JWT_BEARER:
                self.refused.append("grant_type")
                return Response(status_code=400)
            try:
                assertion = jwt.decode(str(form.get("assertion")), self.public_key, algorithms=["RS256"])
            except (JoseError, ValueError):
                self.refused.append("signature")
                return Response(status_code=401)
            claims, now = assertion.claims, time.time()
            if (
                assertion.header.get("alg") != "RS256"
                or claims.get("iss") != self.client_email
                or claims.get("aud") != f"{self.url}/token"
                or claims.get("scope") != HOMEGRAPH_SCOPE
                or not claims.get("iat", 0) - 60 <= now < claims.get("exp", 0)
            ):
                self.refused.append("claims")
                return Response(status_code=401)
            issued = "ya29." + secrets.token_urlsafe(24)
            self.tokens.add(issued)
            body = {"access_token": issued, "expires_in": 3599, "token_type": "Bearer"}
            return Response(json.dumps(body), media_type="application/json")

        @app.post("/v1/devices:reportStateAndNotification")
        async def report(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.tokens:
                self.refused.append("bearer")
                return Response(status_code=401)
            body = json.loads(await request.body())
            jsonschema.Draft7Validator(REPORT_BODY).validate(body)
            self.reports.append(body)
            return Response("{}", media_type="application/json")

        return app


def _key_file(key: RSAKey, client_email: str, token_uri: str) -> str:
    return json.dumps(
        {
            "type": "service_account",
            "client_email": client_email,
            "private_key_id": "k1",
            "private_key": key.as_pem(private=True).decode(),
            "token_uri": token_uri,
        }
    )


async def _wait(predicate: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_pushes_carry_a_service_account_token_and_the_homegraph_body(door: Door) -> None:
    key = RSAKey.generate_key(2048)
    email = "oneteam-push@partner-project.iam.gserviceaccount.example"
    fake = FakeHomeGraph(public_key=RSAKey.import_key(key.as_pem(private=False)), client_email=email)
    async with Serve(fake.app()) as homegraph:
        fake.url = homegraph.url
        partner, secret = door.service.store.add_partner(
            "Google-like", ["https://partner.example/link/callback"], report_url=homegraph.url
        )
        door.service.store.set_service_account(
            partner.client_id, _key_file(key, email, f"{homegraph.url}/token")
        )
        async with httpx.AsyncClient(timeout=10) as client:
            tokens = await link_account(client, door, partner, secret)
        assert tokens["access_token"]
        await door.hub.dispatch(Command(device_id="tv", name="turn_on"))
        await door.hub.dispatch(Command(device_id="light_living", name="set_brightness", value=40))
        await _wait(lambda: any("light_living" in r["payload"]["devices"]["states"] for r in fake.reports))
        await door.hub.dispatch(Command(device_id="tv", name="set_volume", value=21))
        await _wait(
            lambda: any(
                r["payload"]["devices"]["states"].get("tv", {}).get("currentVolume") == 21
                for r in fake.reports
            )
        )
    assert fake.refused == []
    pusher = door.service.pusher
    assert pusher.tokens.fetched == 1  # one assertion, then the cached token
    states = {d: s for r in fake.reports for d, s in r["payload"]["devices"]["states"].items()}
    jsonschema.Draft7Validator(load_schema("traits/onoff/onoff.states.schema.json")).validate(states["tv"])
    jsonschema.Draft7Validator(load_schema("traits/brightness/brightness.states.schema.json")).validate(
        states["light_living"]
    )
    assert pusher.stats.dead_letters == 0


async def test_a_key_homegraph_does_not_know_is_refused_and_counted(door: Door) -> None:
    known, stranger = RSAKey.generate_key(2048), RSAKey.generate_key(2048)
    email = "push@partner.example"
    fake = FakeHomeGraph(public_key=RSAKey.import_key(known.as_pem(private=False)), client_email=email)
    async with Serve(fake.app()) as homegraph:
        fake.url = homegraph.url
        partner, secret = door.service.store.add_partner(
            "Google-like", ["https://partner.example/link/callback"], report_url=homegraph.url
        )
        door.service.store.set_service_account(
            partner.client_id, _key_file(stranger, email, f"{homegraph.url}/token")
        )
        async with httpx.AsyncClient(timeout=10) as client:
            await link_account(client, door, partner, secret)
        await door.hub.dispatch(Command(device_id="tv", name="turn_on"))
        await _wait(lambda: door.service.pusher.stats.dead_letters >= 1)
    assert "signature" in fake.refused and fake.reports == []


@pytest.mark.parametrize(
    ("key_file", "reason"),
    [
        ("{", "not JSON"),
        ('{"client_email": "a@b"}', "missing private_key, token_uri"),
        (
            '{"client_email": "a@b", "private_key": "nope", "token_uri": "https://oauth2.example/token"}',
            "not an RSA key",
        ),
        (
            '{"client_email": "a@b", "private_key": "x", "token_uri": "http://evil.example/token"}',
            "must be https",
        ),
    ],
)
def test_unusable_key_files_are_refused_with_a_reason(door: Door, key_file: str, reason: str) -> None:
    partner, _ = door.service.store.add_partner("p", ["https://partner.example/cb"])
    with pytest.raises(ServiceAccountError, match=reason):
        door.service.store.set_service_account(partner.client_id, key_file)
