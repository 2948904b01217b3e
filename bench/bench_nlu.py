"""Language understanding: accuracy and per-utterance latency, beside Home Assistant's matcher.

Run: `.venv/bin/python bench/bench_nlu.py` (needs the bench extras for the anchor: hassil and
home-assistant-intents). Both systems get the same sentences (shared/eval/nlu_dev_ko.jsonl)
against the same home (shared/eval/home.yaml) in the same run, and both are scored with
shared/eval/score.py's own rule.

Anchor: hassil matching home-assistant-intents' Korean sentences, with the home's device names
as the `name` list (tagged with Home Assistant's domain) and room names as the `area` list;
its intents are mapped to our result kinds (HassTurnOn → turn_on / start, HassLightSet →
set_brightness, ...). No match is `none`.

Latency is per utterance after one warm-up pass, over several passes. oneteam is measured twice:
with its per-text analysis cache off (every call runs Kiwi: the honest figure for new sentences)
and on (a repeated sentence, as a voice assistant hears "불 꺼" every night).
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, machine, summary_ms

from oneteam.hub import load_home
from oneteam.model import DeviceType, Home
from oneteam.voice.nlu import Understander

EVAL = SHARED / "eval"
PASSES = 5
# Home Assistant's domain for each of our device types.
HA_DOMAIN = {
    DeviceType.AIR_CONDITIONER: "climate",
    DeviceType.LIGHT: "light",
    DeviceType.TV: "media_player",
    DeviceType.AIR_PURIFIER: "fan",
    DeviceType.ROBOT_CLEANER: "vacuum",
    DeviceType.WASHER: "switch",
    DeviceType.DRYER: "switch",
    DeviceType.REFRIGERATOR: "switch",
}

Answer = Callable[[str, str | None], dict[str, Any]]


def load_scorer() -> ModuleType:
    """shared/eval/score.py, imported so both systems are judged by the very same rule."""
    spec = importlib.util.spec_from_file_location("score", EVAL / "score.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("cannot load shared/eval/score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows() -> list[dict[str, Any]]:
    with (EVAL / "nlu_dev_ko.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def hassil_answerer(home: Home) -> Answer | None:
    """Home Assistant's matcher over the same home, its results mapped to ours."""
    try:
        import home_assistant_intents
        from hassil import Intents, SlotList, TextSlotList, recognize
    except ImportError:
        return None
    data = home_assistant_intents.get_intents("ko")
    if data is None:
        return None
    intents = Intents.from_dict(data)
    names = [
        (name, device.id, {"domain": HA_DOMAIN.get(device.type, "switch")})
        for device in home.devices.values()
        for name in device.names
    ]
    areas = [(name, room.id) for room in home.rooms.values() for name in room.names]
    slot_lists: dict[str, SlotList] = {
        "name": TextSlotList.from_tuples(names),
        "area": TextSlotList.from_tuples(areas),
    }
    room_names = {room.id: room.names[0] for room in home.rooms.values()}

    def devices_for(entities: dict[str, Any], room: str | None) -> list[str]:
        if "name" in entities:
            return [str(entities["name"].value)]
        area = entities["area"].value if "area" in entities else room
        domain = entities["domain"].value if "domain" in entities else None
        return [
            d.id
            for d in home.devices.values()
            if d.room == area and (domain is None or HA_DOMAIN.get(d.type) == domain)
        ]

    def answer(text: str, room: str | None) -> dict[str, Any]:
        context = {"area": room_names[room]} if room else None
        result = recognize(text, intents, slot_lists=slot_lists, intent_context=context)
        if result is None:
            return {"kind": "none"}
        entities = result.entities
        targets = devices_for(entities, room)
        name = result.intent.name
        actions: list[dict[str, Any]] = []
        for device_id in targets:
            commands = home.devices[device_id].spec.commands
            if name in ("HassTurnOn", "HassTurnOff"):
                on = name == "HassTurnOn"
                command = "turn_on" if on else "turn_off"
                if command not in commands:
                    command = "start" if on else "stop"
                actions.append({"device": device_id, "command": command})
            elif name == "HassLightSet" and "brightness" in entities:
                actions.append(
                    {"device": device_id, "command": "set_brightness", "value": entities["brightness"].value}
                )
            elif name == "HassClimateSetTemperature" and "temperature" in entities:
                actions.append(
                    {
                        "device": device_id,
                        "command": "set_temperature",
                        "value": entities["temperature"].value,
                    }
                )
            elif name == "HassVacuumCleanArea":
                actions.append({"device": device_id, "command": "start"})
        if name == "HassGetState" and len(targets) == 1:
            return {"kind": "query", "device": targets[0], "attribute": "power"}
        if name == "HassClimateGetTemperature" and targets:
            return {"kind": "query", "device": targets[0], "attribute": "current_temperature"}
        return {"kind": "command", "actions": actions} if actions else {"kind": "none"}

    return answer


def oneteam_answerer(understander: Understander) -> Answer:
    """Our understander, answering in the eval JSON."""

    def answer(text: str, room: str | None) -> dict[str, Any]:
        return understander.understand(text, room).as_dict()

    return answer


def measure(
    answer: Answer, data: list[dict[str, Any]], scorer: ModuleType
) -> tuple[int, int, list[float], list[float]]:
    """(right, off-topic acted on, wall seconds and CPU seconds per utterance over PASSES passes).

    The first pass (the scoring one) is the warm-up. CPU time (this thread's) is shown beside
    wall time because the bench machine is shared: wall-time tails include waiting for a core."""
    right = acted = 0
    for row in data:
        got = answer(row["utt"], row["context_room"])
        right += bool(scorer.correct(row["expect"], got))
        if row["expect"]["kind"] == "none" and got["kind"] in ("command", "schedule"):
            acted += 1
    wall: list[float] = []
    cpu: list[float] = []
    gc.collect()
    for _ in range(PASSES):
        for row in data:
            start, start_cpu = time.perf_counter(), time.thread_time()
            answer(row["utt"], row["context_room"])
            cpu.append(time.thread_time() - start_cpu)
            wall.append(time.perf_counter() - start)
    return right, acted, wall, cpu


LONG_LENGTHS = (100, 250, 500, 1000, 2000)
# Clauses a person might chain, repeated to the length measured (spaced, and with no spaces).
LONG_CLAUSES = "거실 불 켜고 안방 에어컨 이십사 도로 맞추고 세탁기 돌리고 티비 소리 좀 줄이고 "


def long_input(understander: Understander, anchor: Answer | None) -> None:
    """Understanding time per length, 100 → 2,000 characters, without the analysis cache: it grows
    linearly (time per character stays flat). The anchor is the same system's time for one
    ordinary sentence in the same run, and hassil on the same text when it is installed."""
    short = "거실 불 켜 줘"
    understander.understand(short)
    start = time.perf_counter()
    for _ in range(20):
        understander.understand(short)
    base_ms = (time.perf_counter() - start) / 20 * 1000
    print(f"long input (no cache); anchor: one short sentence {base_ms:.2f} ms")
    # Measured past the doors' sentence limit (MAX_SENTENCE_CHARS), to show the growth is linear.
    understander.max_chars = max(LONG_LENGTHS)
    for spaced in (True, False):
        for length in LONG_LENGTHS:
            text = (LONG_CLAUSES * (length // len(LONG_CLAUSES) + 1))[:length]
            text = text if spaced else text.replace(" ", "")
            start = time.perf_counter()
            result = understander.understand(text)
            ms = (time.perf_counter() - start) * 1000
            line = (
                f"  {'spaced' if spaced else 'no spaces':9} {length:5} chars  {ms:8.1f} ms  "
                f"{1000 * ms / length:6.1f} µs/char  → {result.kind}"
            )
            if anchor is not None and length <= 500:
                start = time.perf_counter()
                anchor(text, None)
                line += f"   hassil {(time.perf_counter() - start) * 1000:8.1f} ms"
            print(line)
    refused = "불 켜 " * 700
    start = time.perf_counter()
    result = understander.understand(refused)
    print(f"  {len(refused)} chars refused as too long in {(time.perf_counter() - start) * 1e6:.0f} µs")


def main() -> None:
    if not (EVAL / "nlu_dev_ko.jsonl").is_file():
        sys.exit("shared/eval/nlu_dev_ko.jsonl is not beside the repository")
    scorer = load_scorer()
    home = load_home(EVAL / "home.yaml")
    data = rows()
    off_topic = sum(1 for row in data if row["expect"]["kind"] == "none")
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f} at start")
    print(f"set: shared/eval/nlu_dev_ko.jsonl, {len(data)} utterances ({off_topic} off-topic)")

    systems: list[tuple[str, Answer]] = []
    for label, cache_size in (("oneteam (no cache)", 0), ("oneteam (cached)", 4096)):
        understander = Understander(home, cache_size=cache_size)
        understander.warm_up()
        systems.append((label, oneteam_answerer(understander)))
    anchor = hassil_answerer(home)
    if anchor is None:
        print("anchor: hassil / home-assistant-intents not installed (pip install '.[bench]')")
    else:
        systems.append(("hassil + HA intents (anchor)", anchor))

    for label, answer in systems:
        right, acted, wall, cpu = measure(answer, data, scorer)
        print(
            f"{label:30} accuracy {right}/{len(data)} = {100 * right / len(data):5.1f}%  "
            f"off-topic acted on {acted}/{off_topic}"
        )
        print(f"{'':30} wall {summary_ms(wall)}")
        print(f"{'':30} cpu  {summary_ms(cpu)}")
    long_input(Understander(home, cache_size=0), anchor)


if __name__ == "__main__":
    main()
