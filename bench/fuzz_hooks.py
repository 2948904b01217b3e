"""Schemathesis hooks for bench/fuzz_api.py: keep the fuzzer's own token alive, count every
response by status and time each API operation, across worker threads.

Loaded by the schemathesis CLI through SCHEMATHESIS_HOOKS. The counts (and per-operation seconds)
are written as JSON to the file named by ONETEAM_FUZZ_COUNTS every 500 answers and when the run
ends, so the driver can follow the run and stop it once it has sent enough requests.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis

_counts: Counter[int] = Counter()
_seconds: Counter[str] = Counter()
_calls: Counter[str] = Counter()
_answers: Counter[tuple[str, int]] = Counter()
_lock = threading.Lock()
_EVERY = 500


_OWN_TOKEN_ID = os.environ.get("ONETEAM_FUZZ_TOKEN_ID")


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """The fuzzer never revokes the token it fuzzes with (every later case would only test the
    401 answer); revoking other ids, existing or not, is still fuzzed."""
    if case.operation.method.upper() != "DELETE" or case.operation.path != "/api/tokens/{token_id}":
        return
    parameters = case.path_parameters or {}
    if _OWN_TOKEN_ID is not None and str(parameters.get("token_id")) == _OWN_TOKEN_ID:
        case.path_parameters = {**parameters, "token_id": int(_OWN_TOKEN_ID) + 1_000_000}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    method = case.operation.method.upper()
    operation = f"{method} {case.operation.path}"
    # The coverage phase also sends other methods to a path (405 is right there): those answers
    # are counted, but only the operation's own method is held to its declared statuses.
    own = str(getattr(response.request, "method", method)).upper() == method
    with _lock:
        _counts[int(response.status_code)] += 1
        _seconds[operation] += float(response.elapsed)
        _calls[operation] += 1
        if own:
            _answers[(operation, int(response.status_code))] += 1
        due = sum(_counts.values()) % _EVERY == 0
    if due:
        _write()


def _write() -> None:
    path = os.environ.get("ONETEAM_FUZZ_COUNTS")
    if not path:
        return
    with _lock:
        data = {
            "status": {str(k): v for k, v in sorted(_counts.items())},
            "operations": {
                op: {
                    "calls": _calls[op],
                    "seconds": round(_seconds[op], 3),
                    "status": {str(s): n for (o, s), n in sorted(_answers.items()) if o == op},
                }
                for op in sorted(_calls)
            },
        }
    partial = Path(f"{path}.{threading.get_ident()}.part")
    partial.write_text(json.dumps(data))
    partial.replace(path)  # the driver never reads a half-written file


atexit.register(_write)
