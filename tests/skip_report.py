"""Tests that did not run are never silent: a loud block at the end says which and why, and in CI
(`CI=true`, or `ONETEAM_REQUIRE_ALL=1` anywhere) a skipped test fails instead.

Most skips mean a tool is missing (Mosquitto, Chromium, PostgreSQL, Java...);
`scripts/system-deps.sh` installs them. Loaded by tests/conftest.py.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Generator

import pytest

STRICT_ENV = ("CI", "ONETEAM_REQUIRE_ALL")
_SHOWN_PER_REASON = 3


def strict() -> bool:
    """Whether every test must run (CI)."""
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes") for name in STRICT_ENV)


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and strict():
        report.outcome = "failed"
        report.longrepr = f"did not run, and CI must run every test: {_reason(report)}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped: list[pytest.TestReport] = [
        r for r in terminalreporter.stats.get("skipped", []) if not hasattr(r, "wasxfail")
    ]
    if not skipped:
        return
    by_reason: dict[str, list[str]] = defaultdict(list)
    for report in skipped:
        by_reason[_reason(report)].append(report.nodeid)
    write = terminalreporter.write_line
    terminalreporter.write_sep("!", f"{len(skipped)} TESTS DID NOT RUN", red=True, bold=True)
    for reason, ids in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        write(f"{len(ids):4d} × {reason}", red=True, bold=True)
        for nodeid in ids[:_SHOWN_PER_REASON]:
            write(f"       {nodeid}")
        if len(ids) > _SHOWN_PER_REASON:
            write(f"       … and {len(ids) - _SHOWN_PER_REASON} more")
    write("Install what they need with `sudo scripts/system-deps.sh` (or run .ci/run).", bold=True)
    write("With CI=true or ONETEAM_REQUIRE_ALL=1 a test that does not run fails.", bold=True)
    terminalreporter.write_sep("!", red=True, bold=True)
