"""A pure ASGI guard that refuses request bodies over a size limit with 413 before they are read whole."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oneteam.i18n import language_from_header, render


class BodyTooLarge(Exception):
    """Raised into the app when a streamed body passes the limit (the guard answers 413)."""


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
        too_large = False
        replaced = False
        started = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit_bytes:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app may catch BodyTooLarge itself (FastAPI turns any body-reading error into 400):
            # whatever it answers then is replaced by the 413 it should have been.
            nonlocal replaced, started
            if too_large and (replaced or not started):
                if message["type"] == "http.response.start" and not replaced:
                    replaced = True
                    await self._refuse(send, language)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not replaced and not started:
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
