"""The OpenAPI spec says how to authenticate and what each error looks like; /docs works offline."""

from __future__ import annotations

import re

import httpx
import pytest
from selenium.webdriver.common.by import By

from oneteam.model.conversation import MAX_SENTENCE_CHARS
from tests.conftest import HubProcess
from tests.web.browser import browser_paths, quit_chromium, start_chromium, wait_for

PUBLIC = {"/healthz", "/api/info"}
SIGN_IN = ("post", "/api/session")  # a name and password (or a one-time link) in, a session out
PARTNER_DOOR = ("/oauth/", "/api/smarthome/fulfillment")  # OAuth client credentials / partner tokens


def _operations(spec: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    return [(method, path, op) for path, ops in paths.items() for method, op in ops.items()]


def test_protected_operations_declare_the_bearer_scheme(hub_server: HubProcess) -> None:
    spec = httpx.get(f"{hub_server.url}/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A hub token from `oneteam token create`.",
    }
    protected = [
        (m, p, op)
        for m, p, op in _operations(spec)
        if p not in PUBLIC and not p.startswith(PARTNER_DOOR) and (m, p) != SIGN_IN
    ]
    assert len(protected) >= 20
    for method, path, op in protected:
        assert op.get("security") == [{"HTTPBearer": []}], (method, path)
    for method, path, op in _operations(spec):
        if path in PUBLIC or (method, path) == SIGN_IN:
            assert "security" not in op, (method, path)


def test_every_error_status_is_documented_with_its_body(hub_server: HubProcess) -> None:
    spec = httpx.get(f"{hub_server.url}/openapi.json").json()
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    for method, path, op in _operations(spec):
        responses = op["responses"]
        assert isinstance(responses, dict)
        wanted = set()
        if path not in PUBLIC and not path.startswith(PARTNER_DOOR):
            wanted |= {"400", "401", "413", "422"}
        if "{" in path:
            wanted.add("404")
        assert wanted <= set(responses), (method, path, sorted(responses))
        for status in wanted:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == error_body, (method, path, status)
    commands = spec["paths"]["/api/devices/{device_id}/commands"]["post"]["responses"]
    assert {"403", "404", "409", "502", "503"} <= set(commands)
    token = spec["paths"]["/oauth/token"]["post"]["responses"]
    assert token["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OAuthError"
    }


def test_every_operation_declares_the_errors_its_shape_can_answer(hub_server: HubProcess) -> None:
    """A body can be unreadable, too large or invalid; parameters invalid; ids unknown; a token
    missing or revoked: whichever router an operation comes from, its spec says so. Schemathesis'
    status_code_conformance (tests/api/test_fuzz.py, bench/fuzz_api.py) checks the statuses seen."""
    spec = httpx.get(f"{hub_server.url}/openapi.json").json()
    assert len(_operations(spec)) >= 40
    for method, path, op in _operations(spec):
        parameters = op.get("parameters", [])
        assert isinstance(parameters, list)
        wanted = set()
        if "requestBody" in op:
            wanted |= {"400", "413", "422"}
        if parameters:
            wanted.add("422")
        if any(p.get("in") == "path" for p in parameters):
            wanted.add("404")
        if op.get("security"):
            wanted.add("401")
        responses = op["responses"]
        assert isinstance(responses, dict)
        assert wanted <= set(responses), (method, path, sorted(wanted - set(responses)))
    paths = spec["paths"]
    # A command the device received but has not confirmed: 202 error.command_pending.
    commands = paths["/api/devices/{device_id}/commands"]["post"]["responses"]
    assert {"202", "403", "404", "409", "413", "422", "502", "503"} <= set(commands)
    assert commands["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    conversation = paths["/api/conversation"]["post"]["responses"]
    assert {"400", "401", "403", "413", "422", "503"} <= set(conversation)
    assert f"{MAX_SENTENCE_CHARS} characters" in conversation["422"]["description"]


def test_the_docs_page_names_no_other_host(hub_server: HubProcess) -> None:
    page = httpx.get(f"{hub_server.url}/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3 and all(a.startswith("/docs/assets/") for a in assets)
    for asset in assets:
        response = httpx.get(hub_server.url + asset)
        assert response.status_code == 200 and len(response.content) > 500, asset
    assert '"validatorUrl": null' in page.text  # Swagger UI would otherwise call validator.swagger.io
    assert httpx.get(f"{hub_server.url}/redoc").status_code == 404  # ReDoc loads from a CDN: off
    assert httpx.get(f"{hub_server.url}/docs/assets/index.html").status_code == 404  # only the three


def test_the_docs_page_renders_without_the_internet(hub_server: HubProcess) -> None:
    if browser_paths() is None:
        pytest.skip("chromium and chromium-driver are not installed (.ci/run installs them)")
    browser = start_chromium()
    try:
        browser.get(f"{hub_server.url}/docs")
        wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) >= 20, timeout_s=30)
        loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert loaded and all(name.startswith(hub_server.url) for name in loaded), loaded
        assert "/api/devices/{device_id}/commands" in browser.page_source
    finally:
        quit_chromium(browser)
