"""Schemathesis hooks for bench/fuzz_api.py: count every response by status, across worker threads.

Loaded by the schemathesis CLI through SCHEMATHESIS_HOOKS; the counts are written as JSON to the
file named by ONETEAM_FUZZ_COUNTS when the run ends.
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
_lock = threading.Lock()


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    with _lock:
        _counts[int(response.status_code)] += 1


def _write() -> None:
    path = os.environ.get("ONETEAM_FUZZ_COUNTS")
    if path:
        with _lock:
            Path(path).write_text(json.dumps({str(k): v for k, v in sorted(_counts.items())}))


atexit.register(_write)
