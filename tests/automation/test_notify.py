"""`notify` reaches the page (a NOTICE event) and a real webhook server, signed; a dead webhook is
that notifier's failure in the trace, not the run's."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from oneteam.automation import AutomationStore, Engine
from oneteam.automation.notify import WebhookNotifier
from oneteam.hub import EventQuery, Hub
from oneteam.model import EventKind
from tests.automation.conftest import wait_runs
from tests.conftest import free_port

SECRET = "s3cret"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": body, "signature": self.headers.get("X-Oneteam-Signature")})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


async def test_a_notice_goes_to_the_page_and_a_signed_webhook(
    hub: Hub, tmp_path: Path, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    engine = Engine(
        hub,
        AutomationStore(tmp_path / "hub.sqlite3"),
        notifiers=[WebhookNotifier(url, SECRET), WebhookNotifier(dead, attempts=2)],
    )
    await engine.start()
    try:
        await engine.put(
            {"id": "tell", "actions": [{"notify": {"ko": "세탁이 끝났어요", "en": "The wash is done"}}]}
        )
        record = await engine.run_now("tell", wait_s=5)
        runs = await wait_runs(engine, "tell")
    finally:
        await engine.stop()
    step = runs[0].trace["steps"][0]
    assert record.id == runs[0].id
    assert runs[0].status == "done"  # the notice was delivered to the page; one webhook failed
    assert step["status"] == "partial"
    assert step["delivered"] == ["page", "webhook"]
    assert step["failed"][0]["notifier"] == "webhook" and "ConnectError" in step["failed"][0]["error"]
    assert len(received) == 1
    body = received[0]["body"]
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert received[0]["signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["text"] == {"ko": "세탁이 끝났어요", "en": "The wash is done"}
    assert payload["routine"] == "tell" and payload["run"] == record.id
    notices = await hub.events(EventQuery(kinds=(EventKind.NOTICE,), limit=5))
    assert notices[0].data["text"]["ko"] == "세탁이 끝났어요"
    assert notices[0].source == "routine:tell"
