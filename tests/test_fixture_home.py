"""The repository's copy of the evaluation fixture home (tests/fixtures/home.yaml) loads as a home
and, where shared/ is beside the repository, says the same as shared/eval/home.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

from oneteam.hub import load_home
from tests.conftest import FIXTURE_HOME


def test_the_copy_is_a_home_with_the_devices_the_tests_name() -> None:
    home = load_home(FIXTURE_HOME)
    assert {"ac_living", "light_living", "tv", "fridge", "washer"} <= set(home.devices)


def test_the_copy_matches_the_shared_fixture_home(shared_dir: Path) -> None:
    shared = yaml.safe_load((shared_dir / "eval" / "home.yaml").read_text(encoding="utf-8"))
    assert yaml.safe_load(FIXTURE_HOME.read_text(encoding="utf-8")) == shared
