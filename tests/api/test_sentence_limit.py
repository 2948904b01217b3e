"""One sentence limit (MAX_SENTENCE_CHARS, oneteam/model/conversation.py) at every door that takes a
sentence: a sentence of exactly the limit is understood, one character more is refused with
error.sentence_too_long in the caller's language.

A real hub (demo home, virtual appliances, SQLite file) with the Korean conversation agent behind
uvicorn; REST by httpx, MCP `say` through the MCP client (in process and over REST), Wyoming by its
own TCP client, the CLI as a subprocess, and the understanding itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.client.client import Client

from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.interop.mcp import LocalHome, RemoteHome, build_server
from oneteam.model.conversation import MAX_SENTENCE_CHARS, SentenceTooLong
from oneteam.voice.dialog import Conversation
from oneteam.voice.nlu.understand import Understander
from tests.conftest import oneteam_cli
from tests.interop.smarthome.conftest import DEMO_HOME, Serve

AT_LIMIT = ("거실 불 켜 줘 " * MAX_SENTENCE_CHARS)[: MAX_SENTENCE_CHARS - 1] + "."
OVER_LIMIT = AT_LIMIT + "."
KOREAN_REFUSAL = f"{MAX_SENTENCE_CHARS}자까지"
ENGLISH_REFUSAL = f"at most {MAX_SENTENCE_CHARS} characters"


def test_the_sentences_are_the_limit_and_one_more() -> None:
    assert (len(AT_LIMIT), len(OVER_LIMIT)) == (MAX_SENTENCE_CHARS, MAX_SENTENCE_CHARS + 1)


@dataclass
class Served:
    hub: Hub
    url: str
    token: str


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with hub:
        hub.set_conversation_agent(Conversation(hub))
        token = await hub.create_token("limit")
        async with Serve(create_app(hub)) as api:
            yield Served(hub, api.url, token)


def test_the_understanding_reads_the_limit_and_refuses_one_more() -> None:
    understander = Understander(load_home(DEMO_HOME))
    assert understander.max_chars == MAX_SENTENCE_CHARS
    assert getattr(understander.understand(AT_LIMIT), "reason", None) != "too_long"
    over = understander.understand(OVER_LIMIT)
    assert (over.kind, getattr(over, "reason", None)) == ("none", "too_long")


@pytest.mark.parametrize("language", ["ko", "en"])
async def test_rest(served: Served, language: str) -> None:
    headers = {"Authorization": f"Bearer {served.token}", "Accept-Language": language}
    async with httpx.AsyncClient(base_url=served.url, headers=headers, timeout=60) as client:
        at = await client.post("/api/conversation", json={"text": AT_LIMIT})
        over = await client.post("/api/conversation", json={"text": OVER_LIMIT})
    assert at.status_code == 200, at.text
    assert over.status_code == 422
    assert over.json()["error"]["key"] == "error.sentence_too_long"
    assert (KOREAN_REFUSAL if language == "ko" else ENGLISH_REFUSAL) in over.json()["error"]["message"]


async def test_hub_converse_the_voice_and_wyoming_in_process_door(served: Served) -> None:
    reply = await served.hub.converse(AT_LIMIT)
    assert reply.result.get("reason") != "too_long"
    with pytest.raises(SentenceTooLong) as raised:
        await served.hub.converse(OVER_LIMIT)
    assert raised.value.params == {"length": MAX_SENTENCE_CHARS + 1, "limit": MAX_SENTENCE_CHARS}


def _say_result(result: Any) -> tuple[bool, str]:
    return bool(result.is_error), str(result.structured_content or result.content)


@pytest.mark.parametrize("remote", [False, True], ids=["in-process", "over-rest"])
async def test_mcp_say(served: Served, remote: bool) -> None:
    home = (
        RemoteHome(served.url, served.token, language="ko")
        if remote
        else LocalHome(served.hub, language="ko")
    )
    async with Client(build_server(home)) as agent:
        at_error, at_text = _say_result(await agent.call_tool("say", {"text": AT_LIMIT, "language": "ko"}))
        over_error, over_text = _say_result(
            await agent.call_tool("say", {"text": OVER_LIMIT, "language": "ko"})
        )
    assert not at_error and KOREAN_REFUSAL not in at_text, at_text
    assert over_error and KOREAN_REFUSAL in over_text, over_text


async def test_wyoming_transcript(served: Served) -> None:
    """`oneteam wyoming` hands transcripts to the hub's /api/conversation (voice/cli.py hub_act)."""
    from oneteam.voice.cli import hub_act

    act = hub_act(served.url, served.token, session="wyoming")
    at = await act(AT_LIMIT, None)
    over = await act(OVER_LIMIT, None)
    assert KOREAN_REFUSAL not in at.text
    assert over.kind == "none" and KOREAN_REFUSAL in over.text


@pytest.mark.parametrize("language", ["ko", "en"])
def test_cli_understand(language: str) -> None:
    at = oneteam_cli("understand", AT_LIMIT, env={"ONETEAM_LANG": language})
    over = oneteam_cli("understand", OVER_LIMIT, env={"ONETEAM_LANG": language})
    assert at.returncode == 0, at.stderr
    assert '"too_long"' not in at.stdout
    assert over.returncode == 2
    words = KOREAN_REFUSAL if language == "ko" else "too long"
    assert words in over.stderr and "Traceback" not in over.stderr
