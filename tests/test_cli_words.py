"""The command line in words: Korean `--help` without `<bool>`/`<str>`, state and devices in words,
`events --kind` and the telemetry filter, clear errors for a missing folder or a wrong data folder."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer import _click as click

from oneteam.cli.help import commands, korean_help, localize
from oneteam.cli.main import app
from tests.conftest import HubProcess, oneteam_cli

HANGUL = re.compile(r"[가-힣]")
TYPE_LABEL = re.compile(r"<(bool|str|int|float|path|text|list\[[a-z]+\]|int range|float range)>")


def _tree() -> Any:
    return typer.main.get_command(app)


def test_every_help_text_of_every_command_has_a_korean_text() -> None:
    missing = set()
    for cmd in commands(_tree()):
        texts = [cmd.help, *(getattr(p, "help", None) for p in cmd.params)]
        missing |= {t for t in texts if t and t not in korean_help()}
    assert not missing, f"add to oneteam/cli/help_ko.yaml: {sorted(missing)}"
    assert all(HANGUL.search(text) for text in korean_help().values() if "devices.read" not in text)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_no_value_label_is_a_python_type_name(language: str) -> None:
    tree = _tree()
    localize(tree, language)
    labels = {}
    for cmd in commands(tree):
        ctx = click.Context(cmd)
        for param in [*cmd.params, cmd.get_help_option(ctx)]:
            if param is not None:
                labels[f"{cmd.name} {param.name}"] = param.display_type_rich(ctx)
    wrong = {where: label for where, label in labels.items() if label and TYPE_LABEL.search(label)}
    assert not wrong
    assert labels["serve demo"] == "" and labels["serve port"] == ("숫자" if language == "ko" else "NUMBER")


@pytest.mark.parametrize(
    "args", [(), ("serve",), ("events",), ("epidemic", "consent", "add"), ("maintenance", "train")]
)
def test_help_reads_korean_in_the_terminal(args: tuple[str, ...]) -> None:
    result = oneteam_cli("--lang", "ko", *args, "--help")
    assert result.returncode == 0, result.stderr
    assert not TYPE_LABEL.search(result.stdout), result.stdout
    assert "옵션" in result.stdout and "이 도움말을 보여 주고 끝내요" in result.stdout
    english = oneteam_cli("--lang", "en", *args, "--help")
    assert "Show this message and exit" in english.stdout and not TYPE_LABEL.search(english.stdout)


def test_state_and_devices_print_words(hub_server: HubProcess) -> None:
    env = {"ONETEAM_URL": hub_server.url, "ONETEAM_TOKEN": hub_server.token}
    assert oneteam_cli("do", "ac_living", "turn_on", env=env).returncode == 0
    assert oneteam_cli("do", "ac_living", "set_mode", "cool", env=env).returncode == 0
    state = oneteam_cli("--lang", "ko", "state", "ac_living", env=env)
    assert state.returncode == 0
    assert "전원" in state.stdout and "켜짐" in state.stdout and "냉방" in state.stdout
    assert "True" not in state.stdout and "power" not in state.stdout and "°C" in state.stdout
    listed = oneteam_cli("--lang", "ko", "devices", env=env)
    assert "에어컨" in listed.stdout and "켜짐" in listed.stdout
    assert "True" not in listed.stdout and "False" not in listed.stdout
    assert "air_conditioner" not in listed.stdout
    english = oneteam_cli("--lang", "en", "state", "ac_living", env=env)
    assert "power" in english.stdout and " on" in english.stdout and "True" not in english.stdout


def test_events_filters_by_kind_and_hides_telemetry_unless_asked(hub_server: HubProcess) -> None:
    env = {"ONETEAM_URL": hub_server.url, "ONETEAM_TOKEN": hub_server.token}
    assert oneteam_cli("do", "light_living", "turn_on", env=env).returncode == 0
    assert oneteam_cli("do", "washer", "start", env=env).returncode == 0  # its countdown ticks every second
    time.sleep(3)
    commands_only = json.loads(oneteam_cli("events", "--kind", "command", "--json", env=env).stdout)["events"]
    assert commands_only and {e["kind"] for e in commands_only} == {"command"}
    two = oneteam_cli("events", "--kind", "command", "--kind", "availability", "--json", env=env)
    assert {e["kind"] for e in json.loads(two.stdout)["events"]} <= {"command", "availability"}
    # The demo home's sensors and countdowns report every second: by default they stay out of the list.
    default = json.loads(oneteam_cli("events", "--limit", "50", "--json", env=env).stdout)["events"]
    noisy = {"current_temperature", "remaining_time", "pm25", "air_quality", "battery", "cleaned_s"}
    assert not [e for e in default if e["kind"] == "state_changed" and set(e["data"]) <= noisy]
    everything = oneteam_cli("events", "--all", "--limit", "200", "--json", env=env)
    assert [
        e
        for e in json.loads(everything.stdout)["events"]
        if e["kind"] == "state_changed" and set(e["data"]) <= noisy
    ]
    bad = oneteam_cli("events", "--kind", "nonsense", env=env)
    assert bad.returncode == 2 and "nonsense" in bad.stderr


def test_speak_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = oneteam_cli("--lang", "ko", "speak", "안녕하세요", "-o", str(tmp_path / "nowhere" / "a.wav"))
    assert result.returncode == 2
    # Words, not lines: Rich wraps at 80 columns and the temporary path's length moves the break.
    assert "폴더가 없어요" in " ".join(result.stderr.split()) and "Traceback" not in result.stderr


def test_a_command_run_outside_the_hubs_folder_says_so_instead_of_making_a_database(tmp_path: Path) -> None:
    env = {"ONETEAM_DATA_DIR": ""}
    result = oneteam_cli("--lang", "ko", "epidemic", "consent", "list", env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "허브 데이터가 없어요" in result.stderr and "--data-dir" in result.stderr
    assert not (tmp_path / "data").exists()
