"""`oneteam thinq link`: checks the account against the (fake) API, stores settings, never shows the token."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oneteam.integrations.thinq.cli import app, link
from oneteam.integrations.thinq.cloud import TokenRejected
from oneteam.integrations.thinq.config import ThinqConfigError, config_path, load_thinq_config
from tests.integrations.thinq.fake_server import FakeThinqServer


async def test_link_lists_the_accounts_appliances_and_stores_a_client_id_once(
    tmp_path: Path, server: FakeThinqServer
) -> None:
    config, found, skipped = await asyncio.to_thread(
        link, tmp_path, token="test-token", country="kr", connector_factory=server.connector_factory
    )
    assert len(found) == 9 and sorted(skipped) == ["AS-BROKEN1", "S5MB"]
    path = config_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = load_thinq_config(path)
    assert stored.country == "KR" and stored.client_id == config.client_id
    assert "test-token" not in repr(stored) and "test-token" not in str(stored.model_dump())
    _, again, _ = await asyncio.to_thread(link, tmp_path, connector_factory=server.connector_factory)
    assert len(again) == 9 and load_thinq_config(path).client_id == config.client_id


async def test_link_with_a_refused_token_fails_and_stores_nothing(
    tmp_path: Path, server: FakeThinqServer
) -> None:
    with pytest.raises(TokenRejected):
        await asyncio.to_thread(
            link, tmp_path, token="wrong", country="KR", connector_factory=server.connector_factory
        )
    assert not config_path(tmp_path).exists()


def test_link_without_settings_asks_for_a_token(tmp_path: Path) -> None:
    with pytest.raises(ThinqConfigError):
        link(tmp_path)
    result = CliRunner().invoke(app, ["link", "--data-dir", str(tmp_path)], env={"ONETEAM_LANG": "en"})
    assert result.exit_code == 2 and "--token" in result.output


def test_a_broken_settings_file_names_the_fields_not_the_token(tmp_path: Path) -> None:
    config_path(tmp_path).write_text("access_token: secret-value\ncountry: KOREA\n", encoding="utf-8")
    with pytest.raises(ThinqConfigError) as broken:
        load_thinq_config(config_path(tmp_path))
    assert "country" in str(broken.value) and "secret-value" not in str(broken.value)
