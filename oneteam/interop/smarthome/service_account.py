"""Report state the way HomeGraph takes it: authenticated with a Google-style service account.

The partner gives the hub its service-account key file (JSON: `client_email`, `private_key`,
`token_uri`, `private_key_id`). The hub signs a short JWT assertion with that key (RS256, RFC 7523),
trades it at `token_uri` for an access token (cached until shortly before it expires), and sends
each push with `Authorization: Bearer <token>` to `<report_url>/v1/devices:reportStateAndNotification`
(or `:requestSync`). Partners without a service account keep the signed-webhook mode.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

HOMEGRAPH_SCOPE = "https://www.googleapis.com/auth/homegraph"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600
REFRESH_MARGIN_S = 60.0
"""An access token is renewed this long before it expires."""
PATHS = {"reportState": "/v1/devices:reportStateAndNotification", "requestSync": "/v1/devices:requestSync"}


class ServiceAccountError(ValueError):
    """A service-account key file that cannot be used (its reason says what is wrong)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAccount:
    """The fields of a service-account key file the hub needs."""

    client_email: str
    token_uri: str
    private_key_id: str = ""
    private_key: str = field(repr=False)

    @classmethod
    def from_json(cls, text: str) -> ServiceAccount:
        """Read a key file's JSON; ServiceAccountError names what is missing or unusable."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ServiceAccountError(f"not JSON: {exc}") from None
        if not isinstance(data, Mapping):
            raise ServiceAccountError("a service-account key file is a JSON object")
        missing = [
            k for k in ("client_email", "private_key", "token_uri") if not isinstance(data.get(k), str)
        ]
        if missing:
            raise ServiceAccountError(f"missing {', '.join(missing)}")
        if not str(data["token_uri"]).startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ServiceAccountError("token_uri must be https (or loopback http for local tests)")
        try:
            RSAKey.import_key(data["private_key"])
        except (JoseError, ValueError, TypeError) as exc:
            raise ServiceAccountError(f"private_key is not an RSA key: {type(exc).__name__}") from None
        return cls(
            client_email=data["client_email"],
            token_uri=data["token_uri"],
            private_key_id=str(data.get("private_key_id") or ""),
            private_key=data["private_key"],
        )

    def to_json(self) -> str:
        """The fields kept (sealed) in the partner store."""
        return json.dumps(
            {
                "client_email": self.client_email,
                "token_uri": self.token_uri,
                "private_key_id": self.private_key_id,
                "private_key": self.private_key,
            }
        )

    def assertion(self, now: float) -> str:
        """A signed JWT asking `token_uri` for a HomeGraph access token (RFC 7523 §2.1)."""
        header: dict[str, Any] = {"alg": "RS256", "typ": "JWT"}
        if self.private_key_id:
            header["kid"] = self.private_key_id
        claims = {
            "iss": self.client_email,
            "sub": self.client_email,
            "scope": HOMEGRAPH_SCOPE,
            "aud": self.token_uri,
            "iat": int(now),
            "exp": int(now) + ASSERTION_LIFETIME_S,
        }
        return jwt.encode(header, claims, RSAKey.import_key(self.private_key), algorithms=["RS256"])


class AccessTokens:
    """Access tokens per partner, fetched with a service-account assertion and cached."""

    def __init__(self, client: httpx.AsyncClient, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetched = 0
        """How many tokens were fetched (a cached token is not counted)."""

    async def bearer(self, client_id: str, account: ServiceAccount) -> str:
        """A valid access token for `client_id`; raises httpx.HTTPError or ValueError on failure."""
        async with self._locks.setdefault(client_id, asyncio.Lock()):
            cached = self._tokens.get(client_id)
            if cached is not None and cached[1] - REFRESH_MARGIN_S > self._clock():
                return cached[0]
            now = self._clock()
            response = await self._client.post(
                account.token_uri,
                data={"grant_type": JWT_BEARER, "assertion": account.assertion(now)},
            )
            response.raise_for_status()
            body = response.json()
            token, lifetime = body.get("access_token"), body.get("expires_in", 3600)
            if not isinstance(token, str) or not isinstance(lifetime, int | float):
                raise ValueError("the token endpoint answered without access_token/expires_in")
            self._tokens[client_id] = (token, now + float(lifetime))
            self.fetched += 1
            return token

    def forget(self, client_id: str) -> None:
        """Drop a token the endpoint refused (401), so the next push fetches a new one."""
        self._tokens.pop(client_id, None)
