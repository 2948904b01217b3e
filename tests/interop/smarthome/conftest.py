"""A real hub + API on a uvicorn server, and a fake partner cloud: an httpx client that links an
account through the consent page, plus its own uvicorn endpoint that receives report-state pushes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jsonschema
import pytest
import uvicorn
import yaml
from fastapi import FastAPI, Request, Response

from oneteam.api import smarthome as smarthome_api
from oneteam.api.app import create_app
from oneteam.api.proxies import server_options
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.interop.smarthome import SmartHomeService, verify
from oneteam.interop.smarthome.records import Partner
from oneteam.model import Home
from tests.conftest import SHARED, free_port

FORM = {"content-type": "application/x-www-form-urlencoded"}
DB = "oneteam.sqlite3"
"""The hub's SQLite file in the test's folder; the door keeps its tables in it too."""
DEMO_HOME = Path(__file__).resolve().parents[3] / "oneteam" / "homes" / "demo.yaml"
SCHEMA_DIR = SHARED / "data" / "smarthome" / "google-home-smart-home-schema"


def schema_dir() -> Path:
    """The public Google smart-home schemas, or skip."""
    if not SCHEMA_DIR.is_dir():
        pytest.skip("shared/data/smarthome is not beside the repository")
    return SCHEMA_DIR


def load_schema(relative: str) -> dict[str, Any]:
    """One schema, with its `examples` left out."""
    data: dict[str, Any] = json.loads((schema_dir() / relative).read_text(encoding="utf-8"))
    data.pop("examples", None)
    return data


def examples(relative: str) -> list[dict[str, Any]]:
    """A schema's examples, `$comment` removed as the README says."""
    data = json.loads((schema_dir() / relative).read_text(encoding="utf-8"))
    return [{k: v for k, v in e.items() if k != "$comment"} for e in data.get("examples", [])]


def type_example(name: str) -> dict[str, Any]:
    """A device-type example (types/<name>/examples.yaml)."""
    loaded: dict[str, Any] = yaml.safe_load((schema_dir() / "types" / name / "examples.yaml").read_text())
    return loaded


def validate(instance: object, relative: str) -> None:
    """Validate against a public schema (draft-07)."""
    jsonschema.Draft7Validator(load_schema(relative)).validate(instance)


class Serve:
    """A uvicorn server on a free loopback port inside the test's event loop."""

    def __init__(
        self,
        app: Any,
        *,
        port: int | None = None,
        lifespan: Literal["auto", "on", "off"] = "off",
        trusted_proxies: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The product's settings (api/proxies.py), not uvicorn's: no X-Forwarded-For believed.
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan=lifespan,
            **server_options(trusted_proxies),
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Serve:
        self.task = asyncio.create_task(self.server.serve(), name=f"uvicorn-{self.port}")
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


@dataclass
class PartnerEndpoint:
    """The partner's own receiving side: keeps every push, and whether its signature checked out."""

    key: str = ""
    pushes: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    fail_next: int = 0
    """Answer 503 to this many pushes first (to exercise retries)."""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/homegraph")
        async def receive(request: Request) -> Response:
            body = await request.body()
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=503)
            signature = request.headers.get("x-oneteam-signature", "")
            self.pushes.append(
                {
                    "kind": request.headers.get("x-oneteam-kind"),
                    "body": json.loads(body),
                    "signed": verify(self.key, body, signature, now=time.time()),
                    "at": asyncio.get_running_loop().time(),
                }
            )
            self.arrived.set()
            return Response(status_code=200)

        return app

    async def wait_for(self, predicate: Any, timeout_s: float = 5.0) -> dict[str, Any]:
        """The first push matching `predicate` (waits for it)."""
        async with asyncio.timeout(timeout_s):
            while True:
                for push in self.pushes:
                    if predicate(push):
                        return push
                self.arrived.clear()
                await self.arrived.wait()


@dataclass
class Door:
    """Everything a test needs: the hub, its URL and token, the partner door, the partner endpoint."""

    hub: Hub
    url: str
    hub_token: str
    service: SmartHomeService
    endpoint: PartnerEndpoint
    endpoint_url: str

    def add_partner(
        self, *, name: str = "GiGA Genie", rate_per_minute: int = 600, **kw: Any
    ) -> tuple[Partner, str]:
        redirect = kw.pop("redirect_uris", ["https://partner.example/link/callback"])
        report_url = kw.pop("report_url", f"{self.endpoint_url}/homegraph")
        partner, secret = self.service.store.add_partner(
            name, redirect, rate_per_minute=rate_per_minute, report_url=report_url, **kw
        )
        self.endpoint.key = partner.report_key
        return partner, secret


@dataclass
class Linked:
    """One linked account of a partner: its client and access token, posting to the fulfillment URL."""

    door: Door
    client: httpx.AsyncClient
    token: str

    async def post(self, body: object) -> dict[str, Any]:
        response = await self.client.post(
            f"{self.door.url}/api/smarthome/fulfillment",
            content=json.dumps(body),
            headers={"Authorization": f"Bearer {self.token}", "content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@asynccontextmanager
async def serve_door(hub: Hub, db: Path, **service: Any) -> AsyncIterator[Door]:
    """The partner door in front of a running hub: a hub token, the door's service on the hub's
    SQLite file, the API with the door's routes and the partner's receiving side, each on a real
    server."""
    endpoint = PartnerEndpoint()
    token = await hub.create_token("test")
    async with SmartHomeService(hub, db, **service) as smarthome:
        app = create_app(
            hub, extra_routers=[smarthome_api.router], public_routers=[smarthome_api.public_router]
        )
        app.state.smarthome = smarthome
        async with Serve(app) as api, Serve(endpoint.app()) as partner_side:
            yield Door(hub, api.url, token, smarthome, endpoint, partner_side.url)


async def link(
    door: Door, client: httpx.AsyncClient, partner: Partner, secret: str, devices: list[str] | None = None
) -> Linked:
    """A linked account (consent page, code, token exchange) of `partner`, used through `client`."""
    tokens = await link_account(client, door, partner, secret, devices)
    return Linked(door, client, tokens["access_token"])


@pytest.fixture
def partner_home() -> Home:
    """The home behind the door: the demo home; a test module overrides it with its own."""
    return load_home(DEMO_HOME)


@pytest.fixture
async def partner_hub(partner_home: Home, tmp_path: Path) -> AsyncIterator[Hub]:
    """A running hub with `partner_home`'s virtual appliances; a module that needs other devices
    (MQTT, a slow plug) overrides it."""
    hub = Hub(partner_home, SqliteStorage(tmp_path / DB))
    await hub.add_adapter(VirtualAdapter(partner_home, time_scale=1.0, tick_s=3600))
    async with hub:
        yield hub


@pytest.fixture
async def door(partner_hub: Hub, tmp_path: Path) -> AsyncIterator[Door]:
    """`partner_hub` behind its API with the partner door, and a partner side (short report-state
    batching, so pushes arrive within a test's wait)."""
    async with serve_door(
        partner_hub, tmp_path / DB, report_batch_window_s=0.05, report_backoff_s=0.05
    ) as served:
        yield served


@pytest.fixture
async def linked(door: Door) -> AsyncIterator[Linked]:
    """One partner with one account linked to every device."""
    partner, secret = door.add_partner(rate_per_minute=10_000)
    async with httpx.AsyncClient(timeout=10) as client:
        yield await link(door, client, partner, secret)


class _FormReader(HTMLParser):
    """Reads the consent form the way a browser would: action, inputs, checkboxes that are checked."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: list[tuple[str, str]] = []
        self.devices: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        if tag == "input" and values.get("type") == "hidden":
            self.fields.append((values["name"], values.get("value", "")))
        if tag == "input" and values.get("type") == "checkbox" and values.get("name") == "device":
            self.devices.append(values["value"])

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_form(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


@dataclass
class Pkce:
    """A PKCE verifier and its S256 challenge (RFC 7636 §4.1-4.2)."""

    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_params(partner: Partner, pkce: Pkce, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": partner.client_id,
        "redirect_uri": partner.redirect_uris[0],
        "state": "st-" + secrets.token_hex(4),
        "scope": "devices.read devices.control",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return params


async def signed_in_page(
    client: httpx.AsyncClient, door: Door, params: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    """Open the consent link, sign in with the hub token as a person would, and get the consent page
    (the client keeps the session cookie)."""
    extra = headers or {}
    page = await client.get(f"{door.url}/oauth/authorize", params=params, headers=extra)
    assert page.status_code == 200, page.text
    signin = read_form(page.text)
    data = [*signin.fields, ("hub_token", door.hub_token)]
    answer = await client.post(signin.action, content=urlencode(data), headers={**FORM, **extra})
    assert answer.status_code == 303, answer.text
    consent = await client.get(answer.headers["location"], headers=extra)
    assert consent.status_code == 200, consent.text
    return consent


async def get_code(
    client: httpx.AsyncClient, door: Door, params: dict[str, str], devices: list[str] | None = None
) -> tuple[str, dict[str, list[str]]]:
    """Sign in on the consent page, approve, and return the code from the redirect."""
    page = await signed_in_page(client, door, params)
    form = read_form(page.text)
    data = [*form.fields, ("decision", "allow")]
    data += [("device", d) for d in (devices if devices is not None else form.devices)]
    answer = await client.post(form.action, content=urlencode(data), headers=FORM)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    query = parse_qs(location.query)
    return query["code"][0], query


async def link_account(
    client: httpx.AsyncClient,
    door: Door,
    partner: Partner,
    secret: str,
    devices: list[str] | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """The whole account linking: consent page, code, token exchange with PKCE. Returns the tokens."""
    pkce = Pkce()
    params = authorize_params(partner, pkce, **({"scope": scope} if scope else {}))
    code, query = await get_code(client, door, params, devices)
    assert query["state"] == [params["state"]]
    response = await client.post(
        f"{door.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "code_verifier": pkce.verifier,
        },
        auth=(partner.client_id, secret),
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def intent(name: str, payload: dict[str, Any] | None = None, request_id: str = "") -> dict[str, Any]:
    """A fulfillment request body."""
    body: dict[str, Any] = {"intent": f"action.devices.{name}"}
    if payload is not None:
        body["payload"] = payload
    return {"requestId": request_id or secrets.token_hex(8), "inputs": [body]}


def execute_body(device_ids: list[str], command: str, params: dict[str, Any]) -> dict[str, Any]:
    return intent(
        "EXECUTE",
        {
            "commands": [
                {
                    "devices": [{"id": d} for d in device_ids],
                    "execution": [{"command": f"action.devices.commands.{command}", "params": params}],
                }
            ]
        },
    )
