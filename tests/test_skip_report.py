"""Tests that do not run are reported loudly, and fail in CI (tests/skip_report.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = """
import pytest

def test_runs():
    assert True

def test_needs_a_widget():
    pytest.skip("widget is not installed (apt-get install widget)")

@pytest.mark.xfail(reason="known bug", strict=True)
def test_known_bug():
    raise AssertionError
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "ONETEAM_REQUIRE_ALL")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.skip_report", "-p", "no:cacheprovider",
         "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), str(tmp_path / "test_sample.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=120,
        check=False,
    )  # fmt: skip


def test_a_skipped_test_is_listed_with_its_reason_in_a_loud_block(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "1 TESTS DID NOT RUN" in result.stdout
    assert "1 × widget is not installed (apt-get install widget)" in result.stdout
    assert "test_sample.py::test_needs_a_widget" in result.stdout
    assert "test_known_bug" not in result.stdout.split("TESTS DID NOT RUN")[1]  # an xfail is not a skip


@pytest.mark.parametrize("env", [{"CI": "true"}, {"ONETEAM_REQUIRE_ALL": "1"}])
def test_in_ci_a_skipped_test_fails(tmp_path: Path, env: dict[str, str]) -> None:
    result = _run(tmp_path, **env)
    assert result.returncode == 1, result.stdout
    assert "did not run, and CI must run every test: widget is not installed" in result.stdout
    assert "1 failed, 1 passed, 1 xfailed" in result.stdout
