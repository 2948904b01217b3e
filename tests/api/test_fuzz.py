"""Schemathesis against the live OpenAPI spec of a real hub, with a token: no input gets a 5xx,
every status answered is one the spec documents, and every error body has the documented shape.

Bounded (a few examples per operation, a few hundred requests) so `make test` stays fast;
`make fuzz` (bench/fuzz_api.py) is the long run of 20,000+ requests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.conftest import HubProcess, start_hub, stop_hub

pytestmark = pytest.mark.fuzz
EXAMPLES_PER_OPERATION = 6


@pytest.fixture(scope="module")
def fuzzed_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubProcess, Path]]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    log = data_dir / "hub.log"
    hub = start_hub(data_dir, "--time-scale", "1", log_path=log)
    yield hub, log
    stop_hub(hub)


def _strategy(operation: Any) -> Any:
    """Valid requests and invalid ones (wrong types, missing fields, out-of-range values)."""
    modes = [operation.as_strategy(GenerationMode.POSITIVE)]
    with contextlib.suppress(Exception):  # an operation with nothing to make invalid
        modes.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(modes)


def test_no_request_gets_a_server_error(fuzzed_hub: tuple[HubProcess, Path]) -> None:
    hub, _ = fuzzed_hub
    schema = schemathesis.openapi.from_url(f"{hub.url}/openapi.json")
    sent = 0
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:

        @given(case=_strategy(operation))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            nonlocal sent
            response = case.call(headers=hub.headers, timeout=30)
            sent += 1
            case.validate_response(
                response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
            )

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:800]}")
    assert sent >= len(operations) * 2
    assert not failures, "\n\n".join(failures)


def test_the_hub_logged_no_traceback(fuzzed_hub: tuple[HubProcess, Path]) -> None:
    # Runs after the fuzzing above (same module, file order).
    _, log = fuzzed_hub
    assert "Traceback" not in log.read_text(errors="replace")
