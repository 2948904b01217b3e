"""A pure ASGI guard that refuses request bodies over a size limit with 413 before they are read whole."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oneteam.i18n import language_from_header, render


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Answer 413 for bodies above `limit_bytes`, by Content-Length or by counting a streamed body."""

    def __init__(self, app: ASGIApp, limit_bytes: int) -> None:
        self.app = app
        self.limit_bytes = limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        language = language_from_header(headers.get(b"accept-language", b"").decode("latin-1"))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit_bytes:
            await self._refuse(send, language)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, language)

    async def _refuse(self, send: Send, language: str) -> None:
        body = json.dumps(
            {
                "error": {
                    "key": "error.body_too_large",
                    "message": render("error.body_too_large", language, limit=self.limit_bytes),
                }
            },
            ensure_ascii=False,
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
