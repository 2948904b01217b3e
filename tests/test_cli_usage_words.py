"""The words typer and click print around every command — "Usage:", the section titles, "Error" and
each usage error — are Korean when the language is Korean, without `<bool>`/`<str>` labels, and
English again when it is English. Run through typer's CLI runner on the localized command tree, and
once as the real `oneteam` process."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer
import typer.testing

from oneteam.cli.help import localize
from oneteam.cli.main import app
from tests.conftest import oneteam_cli

TYPE_LABEL = re.compile(r"<(bool|str|int|float|path|text|list\[[a-z]+\])>")
ENGLISH = (
    "Usage:",
    "Options",
    "Error",
    "Missing",
    "No such",
    "Invalid value",
    "Try '",
    "[OPTIONS]",
    "COMMAND [ARGS]",
)
MISTAKES = [
    (("member", "add"), "인자 'name'이(가) 빠졌어요."),
    (("member", "add", "mina"), "옵션 '--role'이(가) 빠졌어요."),
    (("member", "add", "mina", "--role", "child", "--bogus"), "--bogus 옵션은 없어요."),
    (("serve", "--port", "abc"), "'--port'의 값이 맞지 않아요: 정수를 써 주세요."),
    (("no-such-command",), "'no-such-command' 명령은 없어요."),
    (("token", "revoke"), "인자 'token_id'이(가) 빠졌어요."),
]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.testing.CliRunner]:
    """A CLI runner whose app is the localized command tree (as `oneteam` builds it at start)."""
    tree = typer.main.get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: tree)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("ONETEAM_DATA_DIR", "")
    runner = typer.testing.CliRunner()
    runner.tree = tree  # type: ignore[attr-defined]
    yield runner
    localize(tree, "en")  # typer's words are process-wide: leave them English for other tests


@pytest.mark.parametrize(("args", "said"), MISTAKES, ids=[" ".join(a) for a, _ in MISTAKES])
def test_usage_errors_are_korean(run: typer.testing.CliRunner, args: tuple[str, ...], said: str) -> None:
    localize(run.tree, "ko")  # type: ignore[attr-defined]
    result = run.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert "사용법:" in result.output and "오류" in result.output and "도움말은" in result.output
    assert not [word for word in ENGLISH if word in result.output], result.output


@pytest.mark.parametrize("args", [(), ("member",), ("member", "add"), ("token", "create"), ("serve",)])
def test_help_is_korean_to_the_last_word(run: typer.testing.CliRunner, args: tuple[str, ...]) -> None:
    localize(run.tree, "ko")  # type: ignore[attr-defined]
    result = run.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "사용법:" in result.output and "옵션" in result.output and "[옵션]" in result.output
    assert not [word for word in ENGLISH if word in result.output], result.output
    assert not TYPE_LABEL.search(result.output)


def test_english_keeps_clicks_words(run: typer.testing.CliRunner) -> None:
    localize(run.tree, "ko")  # type: ignore[attr-defined]
    localize(run.tree, "en")  # type: ignore[attr-defined]
    result = run.invoke(app, ["member", "add"])
    assert result.exit_code == 2
    assert (
        "Usage:" in result.output and "Missing argument 'name'." in result.output and "Error" in result.output
    )
    assert "사용법" not in result.output and "빠졌어요" not in result.output


def test_the_real_command_says_it_in_korean() -> None:
    result = oneteam_cli("--lang", "ko", "member", "add", "mina", "--role", "child", "--bogus")
    assert result.returncode == 2
    assert "사용법:" in result.stderr and "--bogus 옵션은 없어요." in result.stderr
    assert "Usage:" not in result.stderr and "No such option" not in result.stderr
