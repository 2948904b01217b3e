"""OAuth 2.0 account linking on Authlib: authorization code with PKCE S256, short-lived access tokens,
rotating refresh tokens, exact redirect URIs, hashes only.

Authlib does the protocol (RFC 6749, RFC 7636); this module gives it our storage. Authlib is
synchronous and untyped, so its objects stay inside this module and every call into it runs in a
worker thread. Security rules beyond Authlib's defaults, each from the RFCs:
- PKCE is required and only S256 is accepted (RFC 9700 §2.1.1), except for a partner registered
  explicitly as a confidential client without PKCE (`partners add --no-pkce`): it may omit
  code_challenge (and then must not send a code_verifier); a `plain` challenge is still refused.
- A code is redeemed once, atomically; a replay is `invalid_grant` and revokes the link the code
  produced (RFC 6749 §4.1.2).
- A refresh token is exchanged once; presenting a rotated one again is treated as theft and
  revokes the whole link (RFC 9700 §4.14.2). The access token issued beside the exchanged refresh
  token stays valid until it expires (partner clouds retry requests in flight with it).
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge

from oneteam.interop.smarthome.records import CodeRecord, Link, Partner, TokenRecord, digest
from oneteam.interop.smarthome.store import PartnerStorage
from oneteam.interop.smarthome.transport import transport_allowed

SCOPES = ("devices.read", "devices.control")
CODE_TTL_S = 300.0  # RFC 6749 §4.1.2 recommends at most 10 minutes
ACCESS_TTL_S = 900.0
REFRESH_TTL_S = 90 * 86400.0

Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Grantee:
    """The person who approved a link, and what they chose to share."""

    agent_user_id: str
    device_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """An HTTP answer from the authorization server, framework-free."""

    status: int
    body: Mapping[str, Any] | str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRequest:
    """A validated authorization request, ready to show on the consent page."""

    partner: Partner
    scope: str
    params: tuple[tuple[str, str], ...]
    """The original query parameters, carried through the consent form."""


class OAuthRefusal(Exception):
    """An authorization request refused before any redirect: shown to the person, never redirected."""

    def __init__(self, error: str, description: str, answer: Answer | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.answer = answer
        """A redirect back to the partner with the error, when the redirect URI is trusted."""


class _Payload(OAuth2Payload):
    def __init__(self, pairs: Pairs) -> None:
        self._data = dict(pairs)
        self._datalist: dict[str, list[str]] = {}
        for key, value in pairs:
            self._datalist.setdefault(key, []).append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


def _check_parameters(pairs: Pairs) -> None:
    # RFC 6749 Appendix A: every parameter is printable ASCII; a URI holds no backslash or quote.
    # Authlib would raise ValueError (a 500) when it quotes such a value in an error description.
    for name, value in pairs:
        bad = any(not " " <= c <= "~" for c in value) or (
            name == "redirect_uri" and any(c in value for c in '\\"')
        )
        if bad:
            raise OAuthRefusal("invalid_request", f"{name[:40]!r} holds characters that are not allowed")


class _Request(OAuth2Request):
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], query: Pairs, form: Pairs) -> None:
        if not transport_allowed(uri):
            raise OAuthRefusal("invalid_request", "https is required beyond the home network")
        _check_parameters([*query, *form])
        # Authlib's own check refuses http beyond loopback; the home network was allowed above.
        super().__init__(
            method=method, uri="https:" + uri[5:] if uri.startswith("http:") else uri, headers=headers
        )
        self.uri = uri
        self._args = dict(query)
        self._form = dict(form)
        self.payload = _Payload([*query, *form])

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _Client(ClientMixin):
    def __init__(self, partner: Partner) -> None:
        self.partner = partner

    def get_client_id(self) -> str:
        return self.partner.client_id

    def get_default_redirect_uri(self) -> str | None:
        # RFC 6749 §3.1.2.3: with several registered URIs the request must name one.
        uris = self.partner.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        allowed = [s for s in self.partner.scopes if s in SCOPES]
        if not scope:
            return " ".join(allowed)
        asked = scope.split()
        return " ".join(s for s in asked if s in allowed) if set(asked) <= set(allowed) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string match only: no prefixes, no other ports or paths (RFC 9700 §4.1.3).
        return redirect_uri in self.partner.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(digest(client_secret), self.partner.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class _Code:
    def __init__(self, record: CodeRecord) -> None:
        self.record = record
        self.code_challenge = record.code_challenge
        self.code_challenge_method = record.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.record.redirect_uri

    def get_scope(self) -> str:
        return self.record.scope


class _Refresh:
    def __init__(self, record: TokenRecord) -> None:
        self.record = record

    def check_client(self, client: _Client) -> bool:
        return self.record.client_id == client.partner.client_id

    def get_scope(self) -> str:
        return self.record.scope


@dataclass(frozen=True, slots=True)
class _Holder:
    """What `save_token` needs: the link the tokens belong to."""

    link: Link


class _S256Only(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ("S256",)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        client = grant.request.client
        opted_out = isinstance(client, _Client) and not client.partner.pkce_required
        if opted_out and not data.get("code_challenge") and not data.get("code_challenge_method"):
            return  # a confidential client registered without PKCE; its secret is checked at /token
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        super().validate_code_challenge(grant, redirect_uri)


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
    store: PartnerStorage

    def save_authorization_code(self, code: str, request: Any) -> None:
        payload = request.payload.data
        grantee: Grantee = request.user
        self.store.save_code(
            code,
            CodeRecord(
                code_hash="",
                client_id=request.client.partner.client_id,
                redirect_uri=payload.get("redirect_uri", ""),
                scope=request.scope,
                code_challenge=payload.get("code_challenge"),
                code_challenge_method=payload.get("code_challenge_method"),
                agent_user_id=grantee.agent_user_id,
                device_ids=grantee.device_ids,
                expires_at=time.time() + CODE_TTL_S,
                used_at=None,
                link_id=None,
            ),
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        record = self.store.code(code)
        if record is None or record.client_id != client.partner.client_id:
            return None
        if record.used_at is not None:
            if record.link_id:  # a replay: end what the first redemption produced
                self.store.revoke_link(record.link_id)
            return None
        return _Code(record) if record.expires_at > time.time() else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        """Nothing to do: the code was claimed (marked used) in `authenticate_user`."""

    def authenticate_user(self, authorization_code: _Code) -> _Holder:
        record = authorization_code.record
        link = self.store.create_link(record.client_id, record.agent_user_id, record.device_ids, record.scope)
        if not self.store.claim_code(record.code_hash, link.id):
            self.store.revoke_link(link.id)
            raise InvalidGrantError("The code was already used.")
        return _Holder(link)


class _RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
    INCLUDE_NEW_REFRESH_TOKEN = True
    store: PartnerStorage

    def authenticate_refresh_token(self, refresh_token: str) -> _Refresh | None:
        record = self.store.by_refresh(refresh_token)
        if record is None or record.revoked_at is not None:
            return None
        if record.rotated_at is not None:
            self.store.revoke_link(record.link_id)  # reuse of a rotated token: assume it leaked
            return None
        return _Refresh(record) if record.refresh_expires_at > time.time() else None

    def authenticate_user(self, refresh_token: _Refresh) -> _Holder | None:
        link = self.store.link(refresh_token.record.link_id)
        if link is None or link.revoked_at is not None:
            return None
        if not self.store.claim_refresh(refresh_token.record.id):
            raise InvalidGrantError("The refresh token was already used.")
        return _Holder(link)

    def revoke_old_credential(self, refresh_token: _Refresh) -> None:
        """Nothing left to do: `authenticate_user` already retired the old pair."""


class _Server(AuthorizationServer):
    def __init__(self, store: PartnerStorage, access_ttl_s: float) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.store = store
        self.access_ttl_s = access_ttl_s
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **_: "ota_" + secrets.token_urlsafe(32),
                lambda **_: "otr_" + secrets.token_urlsafe(32),
                int(access_ttl_s),
            ),
        )

    def query_client(self, client_id: str) -> _Client | None:
        partner = self.store.partner(client_id)
        return _Client(partner) if partner else None

    def save_token(self, token: Mapping[str, Any], request: Any) -> None:
        holder: _Holder = request.user
        self.store.save_tokens(
            holder.link.id,
            holder.link.client_id,
            token["access_token"],
            token.get("refresh_token"),
            token.get("scope", holder.link.scope),
            self.access_ttl_s,
            REFRESH_TTL_S,
        )

    def create_oauth2_request(self, request: _Request) -> _Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> Answer:
        return Answer(status=status, body=body, headers=tuple((str(k), str(v)) for k, v in headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's hook for framework signals; we log nothing extra here."""


class OAuthService:
    """The authorization server of the partner door, over a `PartnerStorage` (blocking: use a thread)."""

    def __init__(self, store: PartnerStorage, *, access_ttl_s: float = ACCESS_TTL_S) -> None:
        self.store = store
        self._server = _Server(store, access_ttl_s)
        code_grant = type("CodeGrant", (_CodeGrant,), {"store": store})
        refresh_grant = type("RefreshGrant", (_RefreshGrant,), {"store": store})
        self._server.register_grant(code_grant, [_S256Only(required=True)])
        self._server.register_grant(refresh_grant)

    def consent_request(self, uri: str, query: Pairs) -> ConsentRequest:
        """Validate an authorization request for the consent page, or raise OAuthRefusal."""
        request = _Request("GET", uri, {}, query, ())
        try:
            grant = self._server.get_consent_grant(request)
        except OAuth2Error as error:
            raise self._refusal(request, error) from None
        return ConsentRequest(partner=grant.client.partner, scope=request.scope or "", params=tuple(query))

    def decide(self, uri: str, query: Pairs, grantee: Grantee | None) -> Answer:
        """The redirect back to the partner: a code when approved, `access_denied` when not."""
        request = _Request("POST", uri, {}, query, ())
        try:
            grant = self._server.get_consent_grant(request)
        except OAuth2Error as error:
            raise self._refusal(request, error) from None
        answer: Answer = self._server.create_authorization_response(request, grant_user=grantee, grant=grant)
        return answer

    def token(self, uri: str, headers: Mapping[str, str], form: Pairs) -> Answer:
        """The token endpoint (authorization_code and refresh_token grants)."""
        try:
            answer: Answer = self._server.create_token_response(_Request("POST", uri, headers, (), form))
        except sqlite3.Error as exc:
            raise OAuthRefusal("server_error", str(exc)) from exc
        return answer

    def authenticate(self, access_token: str) -> tuple[Link, TokenRecord] | None:
        """The live link behind a bearer token, or None (unknown, expired, rotated or revoked)."""
        record = self.store.by_access(access_token)
        if record is None or record.revoked_at is not None or record.access_expires_at <= time.time():
            return None
        link = self.store.link(record.link_id)
        if link is None or link.revoked_at is not None:
            return None
        return link, record

    def _refusal(self, request: _Request, error: Any) -> OAuthRefusal:
        error.state = request.payload.state
        answer = self._server.handle_error_response(request, error) if error.redirect_uri else None
        return OAuthRefusal(str(error.error), str(error.description or ""), answer)
