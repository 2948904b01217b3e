"""A broken home file is refused whole and the hub keeps the home it ran before."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import oneteam_cli, start_hub, stop_hub


def test_a_broken_home_file_keeps_the_stored_home(tmp_path: Path, fixture_home_path: Path) -> None:
    first = start_hub(tmp_path, "--home", str(fixture_home_path))
    stop_hub(first)
    broken = tmp_path / "broken.yaml"
    broken.write_text("rooms:\n  den: {names: [서재]}\ndevices:\n  - id: lamp\n    type: lava_lamp\n")
    second = start_hub(tmp_path, "--home", str(broken), token=first.token)
    try:
        devices = httpx.get(f"{second.url}/api/devices", headers=second.headers).json()["devices"]
    finally:
        stop_hub(second)
    assert {d["id"] for d in devices} >= {"ac_living", "fridge", "washer"}
    assert "lamp" not in {d["id"] for d in devices}


def test_a_broken_home_file_without_a_stored_home_is_refused_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("rooms:\n  den: {names: [서재]}\ndevices:\n  - id: lamp\n    type: lava_lamp\n")
    result = oneteam_cli("serve", "--home", str(broken), "--data-dir", str(tmp_path / "fresh"), "--port", "0")
    assert result.returncode == 2
    assert f"{broken}:5:" in result.stderr and "lava_lamp" in result.stderr
    assert "Traceback" not in result.stderr
