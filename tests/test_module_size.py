"""No module under oneteam/ passes 400 lines, and `make lint` says which one does: a module that
grows past it is split by responsibility rather than left to drift."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def _size_check() -> str:
    """The module-size step of the lint recipe, as the shell runs it (make's `$$` is `$`)."""
    recipe = re.search(r"^lint:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe is not None
    lines = [line.strip() for line in recipe.group(1).splitlines()]
    start = next(i for i, line in enumerate(lines) if "find oneteam" in line)
    step = " ".join(line.removesuffix("\\") for line in lines[start : start + 2])
    assert f"NR > {MAX_LINES}" in step
    return step.lstrip("@").replace("$$", "$")


def _run(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", _size_check()], cwd=tree, capture_output=True, text=True, check=False, timeout=60
    )


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / "oneteam").rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these by responsibility: {long}"


def test_make_lint_names_a_module_that_passes_400_lines(tmp_path: Path) -> None:
    package = tmp_path / "oneteam" / "room"
    package.mkdir(parents=True)
    (package / "fits.py").write_text("x = 1\n" * MAX_LINES)
    assert _run(tmp_path).returncode == 0
    (package / "grew.py").write_text("x = 1\n" * (MAX_LINES + 1))
    result = _run(tmp_path)
    assert result.returncode != 0
    assert "oneteam/room/grew.py: 401 lines" in result.stdout
    assert "fits.py" not in result.stdout
