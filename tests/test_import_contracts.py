"""The import contracts in pyproject.toml ([tool.importlinter]) hold for the tree and catch a new
import that breaks them. Each case runs `lint-imports` on a copy of the package in a temporary
folder with one module added, so nothing is written into oneteam/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")


def _tree(tmp_path: Path, extra: dict[str, str]) -> Path:
    """A copy of oneteam/ and pyproject.toml under tmp_path, with `extra` modules written in."""
    shutil.copytree(ROOT / "oneteam", tmp_path / "oneteam", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for name, source in extra.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        check=False,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(_tree(tmp_path, {}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: (\d+) kept, 0 broken", result.stdout)


def test_make_lint_runs_the_contracts() -> None:
    recipe = re.search(r"^lint:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe is not None and "lint-imports" in recipe.group(1)


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        # hub imports only model and i18n
        ("oneteam/hub/arrow_probe.py", "import oneteam.voice.cli\n", "Rooms:"),
        # the voice ↔ interop cycle this contract set was written to end
        ("oneteam/voice/arrow_probe.py", "from oneteam.interop import wyoming\n", "Rooms:"),
        # feature rooms reach each other only through the hub
        ("oneteam/services/arrow_probe.py", "import oneteam.automation\n", "Rooms:"),
        ("oneteam/integrations/mqtt/arrow_probe.py", "import oneteam.integrations.thinq\n", "Integrations"),
        ("oneteam/interop/mcp/arrow_probe.py", "import oneteam.services.epidemic\n", "partner door and MCP"),
        # the cluster composes api and the rooms below it; nothing below reaches back up into it
        ("oneteam/api/arrow_probe.py", "import oneteam.cluster.host\n", "Rooms:"),
        ("oneteam/hub/arrow_probe.py", "from oneteam.cluster import pgshared\n", "Rooms:"),
    ],
)
def test_a_new_import_that_breaks_a_contract_fails_the_lint(
    tmp_path: Path, module: str, source: str, contract: str | None
) -> None:
    tree = _tree(tmp_path, {module: source})
    result = _lint(tree)
    assert result.returncode != 0, result.stdout
    probe = module.removesuffix(".py").replace("/", ".")
    assert probe in result.stdout, result.stdout
    assert re.search(rf"{re.escape(contract)}.*BROKEN", result.stdout, re.DOTALL), result.stdout
    assert not (ROOT / module).exists()


def test_a_type_only_import_back_into_the_hub_core_is_a_cycle(tmp_path: Path) -> None:
    """The scheduler reaches the hub through its SchedulerHost protocol; importing Hub back, even
    only for type checking, is the cycle the contracts forbid."""
    scheduler = (ROOT / "oneteam/hub/scheduler.py").read_text(encoding="utf-8")
    typed_back = (
        "\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from oneteam.hub.core import Hub\n"
    )
    result = _lint(_tree(tmp_path, {"oneteam/hub/scheduler.py": scheduler + typed_back}))
    assert result.returncode != 0, result.stdout
    assert ".scheduler -> .core" in result.stdout, result.stdout
