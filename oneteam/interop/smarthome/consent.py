"""The consent page a person sees when a partner asks to link: which partner, which devices, which
permissions, in Korean or English (words from the i18n catalogs, HTML from templates/).

The home's name and devices are shown only to someone signed in with a hub token: a sign-in page
comes first and sets a short-lived session cookie (`ConsentSessions`), kept only in memory."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from oneteam.i18n import render
from oneteam.model import Device, Home

# Our own form fields on the consent page; everything else is the partner's OAuth request.
FORM_FIELDS = frozenset({"hub_token", "decision", "device", "all_devices"})
SESSION_COOKIE = "oneteam_consent"
SESSION_TTL_S = 600.0
MAX_SESSIONS = 1000


class ConsentSessions:
    """Sign-ins on the consent page: a random session id → the hub token it signed in with.

    The token is checked again on every use, so revoking it ends the session at once."""

    def __init__(self, ttl_s: float = SESSION_TTL_S) -> None:
        self._ttl_s = ttl_s
        self._sessions: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def start(self, token: str) -> str:
        """A new session for a valid hub token; its id goes in the cookie."""
        session = secrets.token_urlsafe(32)
        self._sessions[session] = (token, time.monotonic() + self._ttl_s)
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def token(self, session: str | None) -> str | None:
        """The hub token of a live session, or None."""
        if not session:
            return None
        found = self._sessions.get(session)
        if found is None:
            return None
        if found[1] < time.monotonic():
            del self._sessions[session]
            return None
        return found[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentDevice:
    """One device row on the page."""

    id: str
    name: str
    room: str


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("oneteam.interop.smarthome", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def consent_devices(devices: Sequence[Device], home: Home, language: str) -> list[ConsentDevice]:
    """The device rows, named in the page's language where the home file gives such a name."""
    rows = []
    for device in devices:
        room = home.rooms.get(device.room or "")
        rows.append(
            ConsentDevice(
                id=device.id,
                name=_pick(device.names, language) or device.id,
                room=_pick(room.names, language) if room else "",
            )
        )
    return rows


def _pick(names: Sequence[str], language: str) -> str:
    """The first Korean name for `ko`, the first non-Korean one for `en` (falling back to the first)."""
    for name in names:
        is_korean = any("\uac00" <= ch <= "\ud7a3" for ch in name)
        if is_korean == (language == "ko"):
            return name
    return names[0] if names else ""


def render_consent(
    *,
    language: str,
    partner: str,
    home: str,
    action: str,
    params: Sequence[tuple[str, str]],
    scopes: Sequence[str],
    devices: Sequence[ConsentDevice],
    error: str = "",
) -> str:
    """The consent page HTML."""
    return _page(
        "consent.html",
        language,
        partner=partner,
        home=home,
        action=action,
        params=[(k, v) for k, v in params if k not in FORM_FIELDS],
        scopes=scopes,
        devices=devices,
        error=error,
    )


def render_signin(
    *, language: str, partner: str, action: str, params: Sequence[tuple[str, str]], error: str = ""
) -> str:
    """The sign-in page: the partner's name only, nothing about the home."""
    return _page(
        "signin.html",
        language,
        partner=partner,
        action=action,
        params=[(k, v) for k, v in params if k not in FORM_FIELDS],
        error=error,
    )


def render_refusal(*, language: str, error: str, description: str) -> str:
    """The page for a request that cannot be sent back to the partner (bad client or redirect URI)."""
    return _page("refused.html", language, error=error, description=description)


def _page(name: str, language: str, **values: Any) -> str:
    def t(key: str, **params: Any) -> str:
        return render(key, language, **params)

    return _environment().get_template(name).render(lang=language, t=t, **values)
