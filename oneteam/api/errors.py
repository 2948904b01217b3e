"""One place that turns every expected failure into an HTTP answer with a message in the caller's language."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from oneteam.hub.conversation import ConversationUnavailable
from oneteam.hub.group_commit import StorageFailed
from oneteam.i18n import language_from_header, render
from oneteam.model import (
    DeviceUnavailable,
    InvalidCommand,
    NotFound,
    OneteamError,
    PermissionDenied,
    VendorError,
)

_LOGGER = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[OneteamError], int], ...] = (
    (NotFound, 404),
    (PermissionDenied, 403),
    (InvalidCommand, 422),
    (DeviceUnavailable, 503),
    (ConversationUnavailable, 503),
    (StorageFailed, 503),
    (VendorError, 502),
)


def status_for(error: OneteamError) -> int:
    """The HTTP status of an expected failure."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def error_body(error: OneteamError, language: str) -> dict[str, object]:
    """The JSON body for an error: machine key, facts, and a message for people."""
    return {
        "error": {
            "key": error.key,
            "message": render(error.key, language, **error.params),
            "detail": str(error),
            "params": {k: v for k, v in error.params.items() if isinstance(v, str | int | float | bool)},
        }
    }


def language_of(request: Request) -> str:
    """The language the caller asked for."""
    return language_from_header(request.headers.get("accept-language"))


def _plain_error(key: str, status: int, language: str, **params: object) -> JSONResponse:
    return JSONResponse(
        {"error": {"key": key, "message": render(key, language, **params), "params": params}},
        status_code=status,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to a 4xx/5xx JSON answer; nothing leaks a traceback."""

    @app.exception_handler(OneteamError)
    async def _oneteam(request: Request, exc: OneteamError) -> JSONResponse:
        return JSONResponse(error_body(exc, language_of(request)), status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}" for err in exc.errors()
        )
        return _plain_error("error.malformed_request", 422, language_of(request), detail=detail)

    @app.exception_handler(json.JSONDecodeError)
    async def _json(request: Request, exc: json.JSONDecodeError) -> JSONResponse:
        return _plain_error("error.malformed_request", 422, language_of(request), detail=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        keys = {401: "error.unauthorized", 404: "error.not_found"}
        key = keys.get(exc.status_code)
        if key is None:
            return JSONResponse({"error": {"key": "error.http", "message": str(exc.detail)}}, exc.status_code)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        response = _plain_error(key, exc.status_code, language_of(request))
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _LOGGER.exception("unexpected error on %s %s", request.method, request.url.path)
        return _plain_error("error.unknown", 500, language_of(request))
