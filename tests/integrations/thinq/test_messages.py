"""Every ThinQ message key the integration can raise or report exists in Korean and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oneteam.i18n import render
from oneteam.integrations.thinq import const

SOURCE = Path(__file__).resolve().parents[3] / "oneteam" / "integrations" / "thinq"


def used_keys() -> set[str]:
    keys = set(const.REFUSALS.values()) | {key for _, key in const.REASON_HINTS}
    for module in SOURCE.glob("*.py"):
        keys |= set(re.findall(r'"(thinq\.[a-z_.]+)"', module.read_text(encoding="utf-8")))
    keys |= {f"thinq.backoff.{kind}" for kind in ("rate_limited", "outage")}
    keys |= {f"thinq.part.{part}" for part in ("washer", "dryer")}
    keys -= {"thinq.push", "thinq.yaml"}  # an event reason and the settings file name, not messages
    return keys


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_key_has_a_message(language: str) -> None:
    missing = [key for key in sorted(used_keys()) if render(key, language) == key]
    assert not missing


def test_korean_refusals_attach_the_right_particle() -> None:
    assert render("thinq.refused.no_authority", "ko", name="세탁기").startswith("이 ThinQ 계정에는 세탁기를")
    assert (
        render("thinq.refused.power_off", "ko", name="건조기")
        == "건조기의 전원이 꺼져 있어서 할 수 없어요. 먼저 전원을 켜 주세요."
    )
    assert "에어컨을" in render("thinq.cloud_unreachable", "ko", name="에어컨")
