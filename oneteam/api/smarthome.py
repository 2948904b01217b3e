"""The partner door over HTTP: OAuth2 account linking, the fulfillment endpoint, and links for the web page.

`public_router` carries its own authentication (the person's hub token on the consent page, the
client secret at /oauth/token, the partner's access token at the fulfillment endpoint), so it is
mounted WITHOUT the hub-token dependency. `router` is for the household's web page and is mounted
behind it like every other resource.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from oneteam.api.auth import bearer, hub_of
from oneteam.api.errors import language_of
from oneteam.api.schemas import error_responses, oauth_error_responses
from oneteam.hub.callers import Caller, member_agent_id
from oneteam.i18n import LANGUAGES, render
from oneteam.interop.smarthome import ALL_DEVICES, Grantee, OAuthRefusal, SmartHomeService
from oneteam.interop.smarthome.consent import (
    FORM_FIELDS,
    SESSION_COOKIE,
    SESSION_TTL_S,
    ConsentSessions,
    consent_devices,
    render_consent,
    render_refusal,
    render_signin,
)
from oneteam.interop.smarthome.oauth import Answer
from oneteam.interop.smarthome.records import Link
from oneteam.model import Device, Door

_LOGGER = logging.getLogger(__name__)

public_router = APIRouter(tags=["smarthome"])
router = APIRouter(prefix="/api/smarthome", tags=["smarthome"])

_HTML: dict[str, Any] = {"text/html": {}}
_PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"content": _HTML, "description": "A refused request, explained on the page (never redirected)."},
    302: {"description": "Back to the partner's redirect URI with an error (a trusted URI)."},
}
_DECISION_ANSWERS: dict[int | str, dict[str, Any]] = {
    **_PAGE_ERRORS,
    302: {"description": "Back to the partner with a code (allowed) or access_denied."},
    401: {"content": _HTML, "description": "The hub token on the form is not valid; the page again."},
}

MAX_FULFILLMENT_BYTES = 256 * 1024
"""Largest fulfillment body read; above it the answer is protocolError (the app's own limit may be lower)."""


def service_of(request: Request) -> SmartHomeService:
    """The running partner door."""
    service: SmartHomeService = request.app.state.smarthome
    return service


def _page_language(request: Request) -> str:
    # OIDC's ui_locales lets the partner ask for the person's language ("ko", "en-US").
    asked = request.query_params.get("ui_locales", "").split(" ")[0].split("-")[0].lower()
    return asked if asked in LANGUAGES else language_of(request)


def _answer(answer: Answer) -> Response:
    headers = dict(answer.headers)
    if isinstance(answer.body, str):
        return Response(answer.body, status_code=answer.status, headers=headers)
    headers.pop("Content-Type", None)
    return JSONResponse(dict(answer.body), status_code=answer.status, headers=headers)


def _refused(refusal: OAuthRefusal, language: str) -> Response:
    if refusal.answer is not None:  # the redirect URI is trusted: tell the partner (RFC 6749 §4.1.2.1)
        return _answer(refusal.answer)
    html = render_refusal(language=language, error=refusal.error, description=refusal.description)
    return HTMLResponse(html, status_code=400)


def _sessions(request: Request) -> ConsentSessions:
    sessions: ConsentSessions | None = getattr(request.app.state, "consent_sessions", None)
    if sessions is None:
        sessions = request.app.state.consent_sessions = ConsentSessions()
    return sessions


async def _signed_in(request: Request) -> bool:
    """Whether the consent page's session cookie belongs to a hub token that is valid now."""
    token = _sessions(request).token(request.cookies.get(SESSION_COOKIE))
    return token is not None and await hub_of(request).check_token(token)


async def _signer(request: Request, typed: str) -> Caller | None:
    """Who approves on the consent page: its session cookie's hub token, or one typed in the form
    (a household token, a member's token or sign-in session)."""
    household = hub_of(request).household
    for value in (_sessions(request).token(request.cookies.get(SESSION_COOKIE)), typed):
        caller = await household.caller(value) if value else None
        if caller is not None:
            return caller
    return None


async def _signer_devices(request: Request, signer: Caller | None = None) -> list[Device]:
    """The devices the consent page offers: those the signed-in member may use (all for the owner
    and a household token)."""
    hub = hub_of(request)
    signer = signer or await _signer(request, "")
    grant = None if signer is None else hub.household.grant_of(signer, Door.PARTNER)
    return [d for d in hub.devices() if grant is None or grant.devices is None or d.id in grant.devices]


async def _consent_page(
    request: Request, query: list[tuple[str, str]], language: str, error: str = "", status: int = 200
) -> Response:
    service = service_of(request)
    try:
        consent = await asyncio.to_thread(service.oauth.consent_request, str(request.url), query)
    except OAuthRefusal as refusal:
        return _refused(refusal, language)
    hub = hub_of(request)
    if not await _signed_in(request):
        # Nothing about the home until the household signs in: the partner's name only.
        html = render_signin(
            language=language,
            partner=consent.partner.name,
            action=str(request.url_for("authorize_signin")),
            params=query,
            error=error,
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    html = render_consent(
        language=language,
        partner=consent.partner.name,
        home=hub.home.name or hub.home.id,
        action=str(request.url_for("authorize_decision")),
        params=query,
        scopes=consent.scope.split(),
        devices=consent_devices(await _signer_devices(request), hub.home, language),
        error=error,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@public_router.get("/oauth/authorize", response_class=HTMLResponse, responses=_PAGE_ERRORS)
async def authorize_page(request: Request) -> Response:
    """The consent page for a partner's authorization request."""
    return await _consent_page(request, list(request.query_params.multi_items()), _page_language(request))


@public_router.post(
    "/oauth/authorize/signin",
    name="authorize_signin",
    response_model=None,
    responses={**_DECISION_ANSWERS, 303: {"description": "Signed in: back to the consent page."}},
)
async def authorize_signin(request: Request) -> Response:
    """Sign in on the consent page with a hub token; back to the consent page with a session cookie."""
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    query = [(k, v) for k, v in pairs if k not in FORM_FIELDS]
    language = _page_language(request)
    token = dict(pairs).get("hub_token", "")
    if not token or not await hub_of(request).check_token(token):
        return await _consent_page(
            request, query, language, render("interop.consent.bad_token", language), 401
        )
    session = _sessions(request).start(token)
    target = f"{request.url_for('authorize_page')}?{urlencode(query)}"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(SESSION_TTL_S),
        # Under the prefix a cluster serves the home at (/homes/<id>), or the browser drops it.
        path=request.scope.get("root_path", "") + "/oauth",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@public_router.post("/oauth/authorize", name="authorize_decision", responses=_DECISION_ANSWERS)
async def authorize_decision(request: Request) -> Response:
    """The person's decision: a code (allow) or access_denied (deny), sent back to the partner."""
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    query = [(k, v) for k, v in pairs if k not in FORM_FIELDS]
    fields = dict(pairs)
    language = _page_language(request)
    service, hub = service_of(request), hub_of(request)
    grantee: Grantee | None = None
    if fields.get("decision") == "allow":
        signer = await _signer(request, fields.get("hub_token", ""))
        if signer is None:
            return await _consent_page(
                request, query, language, render("interop.consent.bad_token", language), 401
            )
        known = {d.id for d in await _signer_devices(request, signer)}
        chosen = tuple(v for k, v in pairs if k == "device" and v in known)
        device_ids = (ALL_DEVICES,) if fields.get("all_devices") else chosen
        if not device_ids:
            return await _consent_page(
                request, query, language, render("interop.consent.no_devices", language), 400
            )
        # A member's link acts as that member (within what they may use); a household token's as the home.
        agent = hub.home.id if signer.name is None else member_agent_id(hub.home.id, signer.name)
        grantee = Grantee(agent_user_id=agent, device_ids=device_ids)
    try:
        answer = await asyncio.to_thread(service.oauth.decide, str(request.url), query, grantee)
    except OAuthRefusal as refusal:
        return _refused(refusal, language)
    return _answer(answer)


@public_router.post("/oauth/token", responses=oauth_error_responses(400, 401, 429))
async def token(request: Request) -> Response:
    """The token endpoint: authorization_code (with PKCE) and refresh_token grants."""
    service = service_of(request)
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    client_id = dict(pairs).get("client_id") or _basic_client_id(request)
    partner = await asyncio.to_thread(service.store.partner, client_id) if client_id else None
    if partner is not None:
        wait_s = service.limiter.retry_after_s(partner.client_id, partner.rate_per_minute)
        if wait_s is not None:
            return _too_many(wait_s)
    try:
        answer = await asyncio.to_thread(service.oauth.token, str(request.url), request.headers, pairs)
    except OAuthRefusal as refusal:
        if refusal.error == "server_error":
            return JSONResponse({"error": refusal.error}, status_code=500)
        return JSONResponse({"error": refusal.error, "error_description": refusal.description}, 400)
    return _answer(answer)


def _basic_client_id(request: Request) -> str | None:
    token = request.headers.get("authorization", "")
    scheme, _, value = token.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def _too_many(wait_s: float) -> JSONResponse:
    seconds = max(1, round(wait_s + 0.5))
    return JSONResponse(
        {"error": "rate_limited", "retry_after_s": seconds},
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )


def _unauthorized() -> JSONResponse:
    # RFC 6750 §3.1: an invalid, expired or revoked token is invalid_token with 401.
    return JSONResponse(
        {"error": "invalid_token"},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


@public_router.post("/api/smarthome/fulfillment", responses=oauth_error_responses(401, 413, 429))
async def fulfillment(request: Request) -> Response:
    """SYNC, QUERY, EXECUTE and DISCONNECT for the link behind the partner's bearer token."""
    service = service_of(request)
    access = bearer(request.headers.get("authorization"))
    found = await asyncio.to_thread(service.oauth.authenticate, access) if access else None
    if found is None:
        return _unauthorized()
    link, _ = found
    partner = await asyncio.to_thread(service.store.partner, link.client_id)
    if partner is None:
        return _unauthorized()
    wait_s = service.limiter.retry_after_s(partner.client_id, partner.rate_per_minute)
    if wait_s is not None:
        return _too_many(wait_s)
    raw = await _read_limited(request, MAX_FULFILLMENT_BYTES)
    if raw is None:
        return JSONResponse(service.fulfillment.protocol_error("", None, "request body too large"))
    try:
        body: Any = json.loads(raw)
    except ValueError as exc:  # not UTF-8, not JSON, or an integer of 4300+ digits
        return JSONResponse(service.fulfillment.protocol_error("", None, f"not JSON: {str(exc)[:200]}"))
    return Response(await service.fulfillment.encoded(body, link), media_type="application/json")


async def _read_limited(request: Request, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _link_json(link: Link, partner_name: str) -> dict[str, Any]:
    return {
        "id": link.id,
        "partner": {"client_id": link.client_id, "name": partner_name},
        "devices": list(link.device_ids),
        "scope": link.scope,
        "created_at": link.created_at,
        "revoked_at": link.revoked_at,
    }


@router.get("/links")
async def list_links(request: Request) -> dict[str, Any]:
    """Every account link, for the web page (active first)."""
    store = service_of(request).store
    links = await asyncio.to_thread(store.links)
    names = {p.client_id: p.name for p in await asyncio.to_thread(store.partners)}
    ordered = sorted(links, key=lambda link: (link.revoked_at is not None, -link.created_at))
    return {"links": [_link_json(link, names.get(link.client_id, "")) for link in ordered]}


@router.delete("/links/{link_id}", responses=error_responses(404))
async def revoke_link(link_id: Annotated[str, Path(max_length=128)], request: Request) -> Response:
    """End a link now: its tokens stop working at once."""
    store = service_of(request).store
    if not await asyncio.to_thread(store.revoke_link, link_id):
        language = language_of(request)
        message = render("interop.cli.link_missing", language, link_id=link_id)
        return JSONResponse(
            {"error": {"key": "interop.cli.link_missing", "message": message}}, status_code=404
        )
    return JSONResponse({"ok": True, "id": link_id})
