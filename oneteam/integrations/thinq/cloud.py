"""The account's connection to LG: one aiohttp session the SDK talks through, and its failures sorted.

The SDK raises `ThinQAPIException(code, message, headers)` where `headers` are the *request*
headers, so the HTTP status and a `Retry-After` of the answer are lost. The session carries a
trace hook that files each answer's status and Retry-After under the request's `x-message-id`,
which the exception does carry; `classify` joins the two.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp
from thinqconnect import ThinQAPIException

from oneteam.integrations.thinq import const

_LOGGER = logging.getLogger(__name__)
_MESSAGE_ID = "x-message-id"
_REMEMBERED_ANSWERS = 512

ConnectorFactory = Callable[[], aiohttp.BaseConnector]


class CloudError(Exception):
    """A failure of a call to LG, sorted by what the integration does about it."""


class TokenRejected(CloudError):
    """The access token is expired, revoked or wrong (HTTP 401, LG codes 1103/1218/...)."""


class RateLimited(CloudError):
    """LG refused because of too many calls (HTTP 429, LG code 1306)."""

    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class CloudDown(CloudError):
    """LG is unreachable, slow or failing (timeouts, connection errors, 5xx)."""


class ApplianceOffline(CloudError):
    """LG answers, but the appliance is not connected."""


class ApplianceRefusal(CloudError):
    """The appliance refused a command; `code` is LG's, `message` the appliance's own words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What the trace hook saw of one HTTP answer."""

    status: int
    retry_after_s: float | None


class AnswerLog:
    """Recent answers by message id, and a count of every HTTP call made to LG."""

    def __init__(self) -> None:
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self.calls = 0

    def record(self, message_id: str | None, answer: Answer) -> None:
        """File an answer (keeps the last few hundred)."""
        self.calls += 1
        if not message_id:
            return
        self._answers[message_id] = answer
        while len(self._answers) > _REMEMBERED_ANSWERS:
            self._answers.popitem(last=False)

    def find(self, message_id: str | None) -> Answer | None:
        """The answer to the request with this message id, if seen."""
        return self._answers.get(message_id or "")

    def trace_config(self) -> aiohttp.TraceConfig:
        """An aiohttp trace hook that records every answer here."""
        trace = aiohttp.TraceConfig()

        async def on_end(
            session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
        ) -> None:
            response = params.response
            answer = Answer(
                status=response.status, retry_after_s=parse_retry_after(response.headers.get("Retry-After"))
            )
            self.record(params.headers.get(_MESSAGE_ID), answer)

        trace.on_request_end.append(on_end)
        return trace


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def open_session(answers: AnswerLog, connector_factory: ConnectorFactory | None) -> aiohttp.ClientSession:
    """The session the SDK's ThinQApi talks through (a custom connector in tests and the demo)."""
    connector = connector_factory() if connector_factory is not None else None
    return aiohttp.ClientSession(connector=connector, trace_configs=[answers.trace_config()])


def classify(exc: BaseException, answers: AnswerLog) -> CloudError:
    """Sort an exception from the SDK or aiohttp into one of the CloudError kinds."""
    if isinstance(exc, ThinQAPIException):
        return _classify_api(exc, answers)
    if isinstance(exc, aiohttp.ClientResponseError):
        return _classify_http(exc)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return CloudDown("timed out")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return CloudDown(exc.__class__.__name__)
    return CloudDown(f"unexpected answer ({exc.__class__.__name__})")


def _classify_http(exc: aiohttp.ClientResponseError) -> CloudError:
    """An answer whose body was not LG's JSON envelope (a gateway's 429 or 502 page, say)."""
    if exc.status == 429:
        retry = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        return RateLimited(f"HTTP 429 {exc.message}", retry)
    if exc.status == 401:
        return TokenRejected(f"HTTP 401 {exc.message}")
    return CloudDown(f"HTTP {exc.status} {exc.message}")


def _classify_api(exc: Any, answers: AnswerLog) -> CloudError:
    code = str(exc.code)
    message = str(exc.message)
    headers = exc.headers if isinstance(exc.headers, dict) else {}
    answer = answers.find(headers.get(_MESSAGE_ID))
    status = answer.status if answer is not None else 0
    if status == 429 or code in const.RATE_LIMIT_ERRORS:
        return RateLimited(f"{code}: {message}", answer.retry_after_s if answer is not None else None)
    if status == 401 or code in const.TOKEN_ERRORS:
        return TokenRejected(f"{code}: {message}")
    if status >= 500 or code in const.OUTAGE_ERRORS:
        return CloudDown(f"{code}: {message}")
    if code in const.OFFLINE_ERRORS:
        return ApplianceOffline(f"{code}: {message}")
    return ApplianceRefusal(code, message)
