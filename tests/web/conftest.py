"""Fixtures for the page's browser tests: a real hub process and one headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver

from tests.conftest import HubProcess, start_hub, stop_hub
from tests.web.browser import browser_paths, quit_chromium, start_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """A headless system Chromium with a fresh profile."""
    if browser_paths() is None:
        pytest.skip("chromium and chromium-driver are not installed (.ci/run installs them)")
    chromium = start_chromium()
    yield chromium
    quit_chromium(chromium)


@pytest.fixture(scope="module")
def page_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A real hub with the demo home, serving the page, on a free port."""
    hub = start_hub(tmp_path_factory.mktemp("web-hub"), "--time-scale", "1")
    yield hub
    stop_hub(hub)
