"""One place that turns every expected failure into an HTTP answer with a message in the caller's language."""

from __future__ import annotations

import json
import logging
import time

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from oneteam.api.limits import BodyTooLarge
from oneteam.automation.engine import RoutineBusy
from oneteam.hub.accounts import MemberExists, NotAllowed, SignInFailed
from oneteam.hub.conversation import ConversationUnavailable
from oneteam.hub.group_commit import StorageFailed
from oneteam.i18n import language_from_header, render
from oneteam.model import (
    CommandPending,
    DeviceUnavailable,
    InvalidCommand,
    NotFound,
    OneteamError,
    PermissionDenied,
    VendorError,
)
from oneteam.model.conversation import SentenceTooLong
from oneteam.model.state_rules import StateConflict

_LOGGER = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[OneteamError], int], ...] = (
    (NotFound, 404),
    (PermissionDenied, 403),
    (NotAllowed, 403),
    (SignInFailed, 401),
    (MemberExists, 409),
    (InvalidCommand, 422),
    (StateConflict, 409),
    (RoutineBusy, 409),  # the routine is running and its mode allows no second run now
    (DeviceUnavailable, 503),
    (ConversationUnavailable, 503),
    (SentenceTooLong, 422),
    (StorageFailed, 503),
    (CommandPending, 202),  # before VendorError: sent, the device's answer is what is missing
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


_TRACEBACK_EVERY_S = 300.0
_last_traceback: dict[tuple[str, str, str], float] = {}


def _log_unexpected(request: Request, exc: Exception) -> None:
    """Log a traceback once per route and error type every few minutes, so a client repeating a
    failing request cannot flood the log; repeats in between get one line each at most."""
    route = request.scope.get("route")
    where = str(getattr(route, "path", request.url.path))
    key = (request.method, where, type(exc).__name__)
    now = time.monotonic()
    if now - _last_traceback.get(key, -_TRACEBACK_EVERY_S) >= _TRACEBACK_EVERY_S:
        if len(_last_traceback) > 1000:
            _last_traceback.clear()
        _last_traceback[key] = now
        _LOGGER.error("unexpected error on %s %s", request.method, where, exc_info=exc)
    else:
        _LOGGER.error("unexpected error on %s %s again: %s", request.method, where, type(exc).__name__)


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
        if exc.status_code == 400:  # e.g. a body FastAPI could not parse
            return _plain_error("error.malformed_request", 400, language_of(request), detail=str(exc.detail))
        keys = {401: "error.unauthorized", 404: "error.not_found"}
        key = keys.get(exc.status_code)
        if key is None:
            return JSONResponse({"error": {"key": "error.http", "message": str(exc.detail)}}, exc.status_code)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        response = _plain_error(key, exc.status_code, language_of(request))
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # Only input makes a number overflow (an id past SQLite's 64 bits, an int past float range);
        # routes bound their numbers, and this keeps one that forgot from answering 500.
        _LOGGER.warning("number out of range on %s %s: %s", request.method, request.url.path, exc)
        return _plain_error(
            "error.malformed_request", 422, language_of(request), detail="a number is out of range"
        )

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        # A route that reads its body as a stream met the limit; BodySizeLimit answers the 413.
        return Response(status_code=413)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log_unexpected(request, exc)
        return _plain_error("error.unknown", 500, language_of(request))
