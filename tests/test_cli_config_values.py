"""A setting out of its range (`oneteam serve --port 99999999`, a time scale of 0, a host with a
space, the same through ONETEAM_* variables) is named with the value and what it takes, in Korean
or English, exit code 2, and no validator's words. Run as the real `oneteam` process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import oneteam_cli

CASES = [
    (
        ("serve", "--port", "99999999"),
        {},
        "설정 port에 99999999는 쓸 수 없어요. 0부터 65535까지의 수를 쓰세요.",
    ),
    (("serve", "--time-scale", "0"), {}, "설정 time_scale에 0.0은 쓸 수 없어요. 0보다 큰 수를 쓰세요."),
    (("serve", "--host", "a host"), {}, "설정 host에 a host는 쓸 수 없어요. IP 주소나 호스트 이름"),
    (("serve",), {"ONETEAM_MQTT_PORT": "70000"}, "설정 mqtt_port에 70000은 쓸 수 없어요. 0부터 65535까지"),
    (("serve",), {"ONETEAM_TICK_S": "fast"}, "설정 tick_s에 fast는 쓸 수 없어요. 수를 쓰세요."),
    (
        ("serve", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "proxy.example"),
        {},
        "설정 trusted_proxies에 proxy.example는 쓸 수 없어요. 프록시의 IP 주소나 네트워크",
    ),
    (
        ("serve", "--cluster", "--database-url", "postgresql://nobody@127.0.0.1:1/none"),
        {"ONETEAM_TRUSTED_PROXIES": "127.0.0.1, 300.1.2.3"},
        "설정 trusted_proxies에 300.1.2.3은 쓸 수 없어요.",
    ),
]
VALIDATOR_WORDS = ("validation error", "pydantic", "Input should", "errors.pydantic.dev")


@pytest.mark.parametrize(("args", "env", "said"), CASES, ids=[" ".join(a) + str(e) for a, e, _ in CASES])
def test_a_setting_out_of_range_is_named_in_korean(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], said: str
) -> None:
    done = oneteam_cli(*args, env={"ONETEAM_DATA_DIR": str(tmp_path), **env}, cwd=tmp_path)
    said_all = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, said_all
    assert said in said_all
    assert not [w for w in VALIDATOR_WORDS if w in said_all], said_all


def test_a_setting_out_of_range_is_named_in_english(tmp_path: Path) -> None:
    done = oneteam_cli("serve", "--port", "99999999", env={"ONETEAM_LANG": "en"}, cwd=tmp_path)
    said_all = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2
    assert "Setting port cannot be 99999999: use a number from 0 to 65535." in said_all
