"""`oneteam member ...`, `oneteam token ...` and the owner's sign-in link from `oneteam serve`, as
a person runs them (real processes, a real data folder, a real hub)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from oneteam.i18n import render
from tests.conftest import oneteam_cli, start_hub, stop_hub


def _with_stdin(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oneteam", *args],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ONETEAM_LANG": "en"},
        check=False,
    )


def test_members_and_their_tokens_from_the_command_line(tmp_path: Path) -> None:
    data = ("--data-dir", str(tmp_path))
    added = _with_stdin(
        "a child's password\n", "member", "add", "minji", "--role", "child", "--room", "small_room",
        "--allow", "tv", "--password-stdin", "--json", *data,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    member = json.loads(added.stdout)
    assert member["permissions"]["rooms"] == ["small_room"] and member["has_password"] is True
    guest = oneteam_cli("member", "add", "visitor", "--role", "guest", "--expires", "2h", "--json", *data)
    assert json.loads(guest.stdout)["expires_at"] is not None
    changed = oneteam_cli("member", "set", "minji", "--deny", "light_small", "--json", *data)
    assert json.loads(changed.stdout)["permissions"]["deny"] == ["light_small"]
    listed = json.loads(oneteam_cli("member", "list", "--json", *data).stdout)["members"]
    assert [m["name"] for m in listed] == ["minji", "visitor"]
    made = oneteam_cli(
        "token", "create", "--member", "minji", "--name", "tablet", "--expires", "7d", "--json", *data
    )
    token = json.loads(made.stdout)
    assert token["member"] == "minji" and token["expires_at"] is not None
    rows = json.loads(oneteam_cli("token", "list", "--json", *data).stdout)["tokens"]
    assert [(r["name"], r["member"]) for r in rows] == [("tablet", "minji")] and token["token"] not in str(
        rows
    )
    link = json.loads(oneteam_cli("member", "link", "minji", "--json", *data).stdout)
    assert re.fullmatch(r"http://127\.0\.0\.1:8123/signin\?code=ol_[\w-]+", link["url"])
    removed = oneteam_cli("member", "remove", "minji", *data)
    assert removed.returncode == 0 and render("cli.member_removed", "ko", name="minji") in removed.stdout
    assert json.loads(oneteam_cli("token", "list", "--json", *data).stdout)["tokens"] == []  # gone with her


ROLES = "owner, adult, child, guest"


def test_bad_member_commands_are_a_message_and_exit_2(tmp_path: Path) -> None:
    data = ("--data-dir", str(tmp_path))
    cases = [
        (("member", "add", "minsu", "--role", "boss"),
         render("error.member.bad_role", "ko", role="boss", roles=ROLES)),
        (("member", "add", "minsu", "--role", "guest", "--expires", "soon"),
         render("cli.bad_duration", "ko", value="soon")),
        (("member", "remove", "nobody"), render("error.member.not_found", "ko", name="nobody")),
        (("token", "create", "--member", "nobody"), render("error.member.not_found", "ko", name="nobody")),
        (("token", "create", "--expires", "1d"), render("cli.token_expiry_needs_member", "ko")),
        (("token", "revoke", "99"), render("cli.token_missing", "ko", id=99)),
    ]  # fmt: skip
    for args, message in cases:
        result = oneteam_cli(*args, *data)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in " ".join(result.stderr.split()), (args, result.stderr)


def test_serve_prints_a_one_time_sign_in_link_for_the_owner_not_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")  # the banner reaches the log file as it is printed
    log = tmp_path / "serve.log"
    hub = start_hub(tmp_path, "--demo", "--time-scale", "1", log_path=log)
    try:
        printed = log.read_text(encoding="utf-8")
        links = re.findall(r"(http://127\.0\.0\.1:\d+/signin\?code=ol_[\w-]+)", printed)
        assert len(links) == 1 and "ot_" not in printed  # no lasting token minted by the start
        with httpx.Client(follow_redirects=True) as browser:
            first = browser.get(links[0])  # follows the redirect to the page, signed in
            assert first.status_code == 200 and browser.cookies.get("oneteam_session")
            me = browser.get(f"{hub.url}/api/me").json()
            assert me["role"] == "owner" and me["member"]["name"] == "owner"
        with httpx.Client() as stranger:
            assert stranger.get(links[0], follow_redirects=False).status_code == 401  # used up
    finally:
        stop_hub(hub)


@pytest.mark.parametrize(
    "args",
    [
        ("member", "list"),
        ("member", "add", "mina", "--role", "child"),
        ("member", "link", "mina"),
        ("token", "create", "--name", "phone"),
        ("token", "list"),
        ("token", "revoke", "1"),
    ],
    ids=" ".join,
)
def test_member_and_token_commands_refuse_to_make_a_database_in_the_wrong_folder(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = oneteam_cli("--lang", "ko", *args, env={"ONETEAM_DATA_DIR": ""}, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert "여기에는 허브 데이터가 없어요" in said and "--data-dir" in said
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing made: no data folder, no database file
    # Told where the hub's data is, the same command makes its database there (a first start).
    done = oneteam_cli("member", "list", "--data-dir", str(tmp_path / "data"), env={"ONETEAM_DATA_DIR": ""})
    assert done.returncode == 0, done.stderr
    assert any((tmp_path / "data").iterdir())
