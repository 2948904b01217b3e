"""The page's files as the hub serves them: no token, gzip, validators, and nothing outside the folder."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from oneteam.api.web import WEB_ROOT
from tests.conftest import HubProcess


def test_the_page_is_served_at_the_root_without_a_token(page_hub: HubProcess) -> None:
    response = httpx.get(page_hub.url + "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # A lone hub's page is based at the root; its URLs are all relative to that base.
    assert '<base href="/">' in response.text
    assert '<script type="module" src="static/app.js">' in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("name", ["app.js", "style.css", "i18n/ko.json", "icons.svg"])
def test_text_files_are_gzipped_and_match_the_file_on_disk(page_hub: HubProcess, name: str) -> None:
    response = httpx.get(f"{page_hub.url}/static/{name}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < (WEB_ROOT / name).stat().st_size
    assert response.content == (WEB_ROOT / name).read_bytes()  # httpx undid the gzip
    plain = httpx.get(f"{page_hub.url}/static/{name}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == (WEB_ROOT / name).read_bytes()


def test_an_unchanged_file_costs_a_304(page_hub: HubProcess) -> None:
    first = httpx.get(f"{page_hub.url}/static/app.js")
    assert first.headers["cache-control"] == "no-cache" and first.headers["etag"]
    again = httpx.get(f"{page_hub.url}/static/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/static/../api/web.py",
        "/static/%2e%2e/api/web.py",
        "/static/..%2fapi%2fweb.py",
        "/static/nothing.js",
        "/static/",
    ],
)
def test_files_outside_the_page_or_missing_are_404(page_hub: HubProcess, path: str) -> None:
    response = httpx.get(page_hub.url + path)
    assert response.status_code == 404
    assert response.json()["error"]["key"] == "error.not_found"


def test_the_string_tables_have_the_same_keys_in_korean_and_english() -> None:
    def keys(table: dict[str, object], prefix: str = "") -> set[str]:
        found: set[str] = set()
        for key, value in table.items():
            found |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
        return found

    korean = json.loads((WEB_ROOT / "i18n" / "ko.json").read_text(encoding="utf-8"))
    english = json.loads((WEB_ROOT / "i18n" / "en.json").read_text(encoding="utf-8"))
    assert keys(korean) == keys(english)
    assert korean["on"] == "켜짐" and english["on"] == "On"


def test_the_page_weighs_under_200_kb_compressed() -> None:
    total = sum(
        len(gzip.compress(path.read_bytes(), compresslevel=9))
        for path in WEB_ROOT.rglob("*")
        if path.is_file() and path.suffix in {".html", ".js", ".css", ".json", ".svg"}
    )
    assert total < 200 * 1024
