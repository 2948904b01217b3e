"""The page shows each member only the controls their role allows: a child signed in with their own
token sees the small-room light and the TV to use, and every other device read-only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selenium import webdriver

from tests.conftest import HubProcess, oneteam_cli, start_hub, stop_hub
from tests.web.browser import by_testid, sign_in

ALLOWED = ("light_small", "tv")


@pytest.fixture(scope="module")
def household(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubProcess, str]]:
    """A demo hub with a child member limited to two devices, and that child's token."""
    data_dir = tmp_path_factory.mktemp("roles")
    added = oneteam_cli(
        "member", "add", "mina", "--role", "child", *(a for d in ALLOWED for a in ("--allow", d)),
        "--data-dir", str(data_dir),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    created = oneteam_cli("token", "create", "--member", "mina", "--quiet", "--data-dir", str(data_dir))
    assert created.returncode == 0, created.stderr
    hub = start_hub(data_dir, "--time-scale", "1")
    yield hub, created.stdout.strip()
    stop_hub(hub)


def _usable(browser: webdriver.Chrome, device: str) -> bool:
    card = by_testid(browser, f"device-{device}")
    return card.get_attribute("data-read-only") != "true"


def test_a_child_sees_controls_only_for_what_they_may_use(
    browser: webdriver.Chrome, household: tuple[HubProcess, str]
) -> None:
    hub, child_token = household
    sign_in(browser, hub.url, child_token)
    assert browser.execute_script("return document.body.dataset.role") == "child"
    me = httpx.get(f"{hub.url}/api/me", headers={"Authorization": f"Bearer {child_token}"}).json()
    allowed = set(me["devices"])
    assert set(ALLOWED) <= allowed and "washer" not in allowed and "ac_living" not in allowed
    cards = browser.find_elements("css selector", "article.card")
    assert len(cards) == 12
    for card in cards:
        device = str(card.get_attribute("data-device"))
        assert _usable(browser, device) == (device in allowed), device
        if device in allowed:
            assert by_testid(browser, f"read-only-{device}").is_displayed() is False
        else:
            assert by_testid(browser, f"read-only-{device}").is_displayed()
            # Looking is allowed (the history view); nothing that acts is shown.
            acting = "button:not([hidden]):not(.history-open), select:not([hidden])"
            assert not card.find_elements("css selector", acting)
            assert by_testid(browser, f"history-open-{device}").is_displayed()
    for device in ALLOWED:
        assert by_testid(browser, f"toggle-{device}").is_displayed()
    # The owner's token sees every control.
    sign_in(browser, hub.url, hub.token)
    assert browser.execute_script("return document.body.dataset.role") == "owner"
    assert all(_usable(browser, d) for d in ("washer", "ac_living", "light_small"))
