"""No page of the hub may be shown inside another site's frame (clickjacking the consent page or
the household page): every HTTP answer carries `X-Frame-Options: DENY` and CSP `frame-ancestors`."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_FRAME_ANCESTORS = b"frame-ancestors 'none'"


class NoFraming:
    """A pure ASGI middleware adding the two headers (merged into a CSP a route already sent)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_frame_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_frame_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    has_csp = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"x-frame-options":
            continue
        if lowered == b"content-security-policy":
            has_csp = True
            if b"frame-ancestors" not in value:
                out.append((name, value.rstrip(b"; ") + b"; " + _FRAME_ANCESTORS))
                continue
        out.append((name, value))
    out.append((b"x-frame-options", b"DENY"))
    if not has_csp:
        out.append((b"content-security-policy", _FRAME_ANCESTORS))
    return out
