"""Notifiers beyond the page: an MQTT topic on a real Mosquitto, a spoken announcement, a webhook on
a real local HTTP server; the built-in warning and epidemic notices pass their words on and can be
turned off."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.automation import AutomationInvalid, AutomationStore, Engine
from oneteam.automation.notify import MqttNotifier, WebhookNotifier
from oneteam.hub import EventQuery, Hub
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker, find_mosquitto
from oneteam.model import Event, EventKind
from tests.automation.conftest import make_hub, wait_runs
from tests.conftest import free_port

TOPIC = "home/notices"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed")
    running = MosquittoBroker(directory=tmp_path / "mosquitto", username="notify", password="pw-1")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def listener(broker: MosquittoBroker) -> Iterator[queue.Queue[dict[str, Any]]]:
    """A real MQTT client subscribed to the notice topic."""
    received: queue.Queue[dict[str, Any]] = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set("notify", "pw-1")
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(TOPIC, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, message: received.put(json.loads(message.payload))
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert subscribed.wait(10)
    yield received
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notices", received
    server.shutdown()
    server.server_close()


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    running = await make_hub(tmp_path / "hub.sqlite3")
    async with running:
        yield running


def _mqtt(broker: MosquittoBroker) -> MqttNotifier:
    return MqttNotifier.from_url(f"mqtt://notify:pw-1@127.0.0.1:{broker.port}/{TOPIC}")


async def test_a_notice_reaches_an_mqtt_topic_and_a_dead_broker_is_said_in_the_trace(
    hub: Hub, tmp_path: Path, broker: MosquittoBroker, listener: queue.Queue[dict[str, Any]]
) -> None:
    wrong_password = MqttNotifier("127.0.0.1", broker.port, TOPIC, username="notify", password="nope")
    engine = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"), notifiers=[_mqtt(broker)])
    await engine.start()
    try:
        await engine.put(
            {"id": "tell", "actions": [{"notify": {"ko": "현관문이 열렸어요", "en": "Door open"}}]}
        )
        record = await engine.run_now("tell", wait_s=10)
        assert record.trace["steps"][0]["delivered"] == ["page", "mqtt"]
        message = listener.get(timeout=10)
        assert message["text"] == {"ko": "현관문이 열렸어요", "en": "Door open"}
        assert message["routine"] == "tell" and message["run"] == record.id
        # A broker that refuses the login, and one that is not there: that notifier's failure only.
        engine.notifiers[-1] = wrong_password
        refused = await engine.run_now("tell", wait_s=10)
        engine.notifiers[-1] = MqttNotifier("127.0.0.1", free_port(), TOPIC)
        absent = await engine.run_now("tell", wait_s=10)
    finally:
        await engine.stop()
    for run, why in ((refused, "Not authorized"), (absent, "refused")):
        step = run.trace["steps"][0]
        assert run.status == "done" and step["status"] == "partial" and step["delivered"] == ["page"]
        assert step["failed"][0]["notifier"] == "mqtt" and why in step["failed"][0]["error"]
    assert listener.empty()


async def test_speech_is_used_only_when_named_and_unknown_notifiers_are_refused(
    hub: Hub, tmp_path: Path
) -> None:
    engine = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"))
    await engine.start()
    try:
        await engine.put({"id": "loud", "actions": [{"notify": "택배가 왔어요", "to": ["speech", "mqtt"]}]})
        await engine.put({"id": "quiet", "actions": [{"notify": "택배가 왔어요"}]})
        loud = await engine.run_now("loud", wait_s=5)
        quiet = await engine.run_now("quiet", wait_s=5)
        with pytest.raises(AutomationInvalid) as refused:
            await engine.put({"id": "bad", "actions": [{"notify": "x", "to": ["pager"]}]})
    finally:
        await engine.stop()
    assert loud.trace["steps"][0]["delivered"] == ["speech"]
    assert loud.trace["steps"][0]["not_set_up"] == ["mqtt"]  # named, but this hub has no MQTT notifier
    assert quiet.trace["steps"][0]["delivered"] == ["page"]
    said = await hub.events(EventQuery(kinds=(EventKind.SAY,), limit=5))
    assert [e.data["run"] for e in said] == [loud.id]
    assert refused.value.key == "automation.bad_notifier" and refused.value.params["where"].endswith(".to")


async def test_built_in_warning_and_epidemic_notices_pass_their_words_on_and_can_be_turned_off(
    hub: Hub,
    tmp_path: Path,
    broker: MosquittoBroker,
    listener: queue.Queue[dict[str, Any]],
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    url, posted = webhook
    engine = Engine(
        hub, AutomationStore(tmp_path / "hub.sqlite3"), notifiers=[_mqtt(broker), WebhookNotifier(url)]
    )
    await engine.start(presets="ko")
    try:
        warning = {"text": {"ko": "배수 펌프가 2주 안에 고장 날 수 있어요.", "en": "Drain pump may fail."}}
        hub.publish(Event(kind=EventKind.WARNING, device_id="washer", data={**warning, "status": "active"}))
        runs = await wait_runs(engine, "warning_notice", within_s=10)
        assert runs[0].status == "done" and runs[0].trace["steps"][0]["delivered"] == ["mqtt", "webhook"]
        message = listener.get(timeout=10)
        assert message["text"]["ko"] == "세탁기: 배수 펌프가 2주 안에 고장 날 수 있어요."
        assert message["text"]["en"].endswith(": Drain pump may fail.")
        assert posted[0]["text"] == message["text"]
        # Not on the page again: the warning's own card is there already.
        assert await hub.events(EventQuery(kinds=(EventKind.NOTICE,), limit=5)) == []
        # A dismissed card sends nothing; an epidemic alert goes out with its own words.
        hub.publish(
            Event(kind=EventKind.WARNING, device_id="washer", data={**warning, "status": "dismissed"})
        )
        alert = {"text": {"ko": "메르스 노출 알림이에요.", "en": "MERS exposure notice."}}
        hub.publish(Event(kind=EventKind.ALERT, device_id="tv", data=alert))
        alerts = await wait_runs(engine, "epidemic_notice", within_s=10)
        assert alerts[0].status == "done"
        assert listener.get(timeout=10)["text"]["ko"] == "메르스 노출 알림이에요."
        assert len(engine.store.runs("warning_notice")) == 1
        # The household turns the warning notice off: the next warning reaches no notifier.
        await engine.set_enabled("warning_notice", False)
        hub.publish(Event(kind=EventKind.WARNING, device_id="dryer", data=warning))
        hub.publish(Event(kind=EventKind.ALERT, device_id="tv", data=alert))
        await wait_runs(engine, "epidemic_notice", 2, within_s=10)
        assert len(engine.store.runs("warning_notice")) == 1
    finally:
        await engine.stop()
    assert listener.get(timeout=10)["text"]["en"] == "MERS exposure notice."
    assert listener.empty() and len(posted) == 3
