"""Talking to a running hub over its HTTP API (the commands that act on live devices)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from oneteam.cli.context import OUT

DEFAULT_URL = "http://127.0.0.1:8123"


class HubClient:
    """A small synchronous client for the CLI."""

    def __init__(self, url: str | None, token: str | None) -> None:
        self.url = (url or os.environ.get("ONETEAM_URL") or DEFAULT_URL).rstrip("/")
        token = token or os.environ.get("ONETEAM_TOKEN")
        if not token:
            OUT.fail(OUT.t("cli.no_token"))
        self._client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "Accept-Language": OUT.language},
            timeout=10.0,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; a 4xx/5xx answer becomes the hub's message and exit code 2 (4xx) or 1."""
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError:
            OUT.fail(OUT.t("cli.unreachable", url=self.url), code=1)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text or str(response.status_code)
            OUT.fail(message, code=2 if response.status_code < 500 else 1)
        return response.json()
