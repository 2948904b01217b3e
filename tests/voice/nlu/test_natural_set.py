"""The project's own natural-sentence set (natural_ko.jsonl), scored like shared/eval/score.py.

Besides accuracy it counts WRONG ACTIONS separately: an answer that would make the home do
something the person did not ask for — a command or schedule where the expectation is a query,
`none` or `clarify`; acting on a device the expectation does not name; the opposite direction,
another command (pause for stop, set_channel for set_volume), another value or compartment; now
instead of later, or at another time. Doing less than asked (one light of three) is a miss but
not a wrong action; a `turn_on` implied by a setting of the same device is not judged either way.

The set is written for this repository (not copied from shared/eval) and checked against the
fixture home, so a typo in a device id, command or value fails loudly instead of scoring as a miss.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from oneteam.voice.nlu import Understander
from tests.voice.nlu.conftest import EVAL

SET = Path(__file__).with_name("natural_ko.jsonl")
REPO = Path(__file__).resolve().parents[3]
ACCURACY_FLOOR = 0.95
"""A little under what the product reached (07:40 UTC, 3 Dec): 644/656 = 98.2%, no wrong action.
Lines 375–546 were written after the nlu work began and kept from it until measured (91.9% there);
lines 547–656 likewise for the 3 Dec rules (90.9% and 3 wrong actions at first, 95.5% and none after)."""
WRONG_ACTION_SHARE = 0.01
"""The issue's bar: at most 1 in 100 sentences may make the home act wrongly."""

Row = dict[str, Any]
KINDS = {"command", "query", "schedule", "clarify", "none"}
PHENOMENA = {
    "question_state",
    "question_perfective",
    "perceived",
    "extreme",
    "exclusion",
    "everything",
    "here",
    "soft",
    "booking",
    "pause_stop",
    "typo",
    "glued_number",
    "device_mode",
    "out_of_reach",
    "follow_up",
    "command",
    "schedule",
    "multi",
    "clarify",
    "resume",
}
STYLES = {"casual", "polite", "formal", "terse", "filler", "elderly", "child", "english"}


# -- loading ---------------------------------------------------------------------------------


def _load_score() -> ModuleType:
    """shared/eval/score.py as a module, so its matching rules are used, not re-typed."""
    spec = importlib.util.spec_from_file_location("shared_eval_score", EVAL / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def score() -> ModuleType:
    if not (EVAL / "score.py").is_file():
        pytest.skip("shared/eval/score.py is not beside the repository")
    return _load_score()


@pytest.fixture(scope="module")
def home_spec() -> dict[str, Any]:
    """The fixture home as plain YAML (its types' commands, queries, ranges and canonical values)."""
    path = EVAL / "home.yaml"
    if not path.is_file():
        pytest.skip("shared/eval/home.yaml is not beside the repository")
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return spec


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def answers(understander: Understander, rows: list[Row]) -> list[dict[str, Any]]:
    """The product's answer for each row, in the eval JSON."""
    return [understander.understand(r["utt"], r["context_room"]).as_dict() for r in rows]


# -- the set is well formed against the fixture home ------------------------------------------


def _range(home_spec: dict[str, Any], device: str, command: str, target: str | None) -> tuple[float, float]:
    """The value range a command of a device accepts (°C for temperatures, 0–100 otherwise)."""
    kind = _device(home_spec, device)["type"]
    if command.endswith("_temperature"):
        bounds = home_spec["types"][kind]["temperature_range"]
        if isinstance(bounds, dict):
            bounds = bounds[target] if target else [min(b[0] for b in bounds.values()), 0]
        return float(bounds[0]), float(bounds[1])
    if command == "set_channel":
        return 1.0, 999.0
    return 0.0, 100.0


def _device(home_spec: dict[str, Any], device_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [d for d in home_spec["devices"] if d["id"] == device_id]
    assert found, f"unknown device {device_id!r}"
    return found[0]


def _check_value(home_spec: dict[str, Any], device: dict[str, Any], action: dict[str, Any]) -> list[str]:
    """The value of one action: a canonical name the type lists, or a number in its range."""
    spec, command = home_spec["types"][device["type"]], action["command"]
    if "value" not in action:
        return [f"{command} without a value"] if command.startswith("set_") else []
    value = action["value"]
    names = {"set_mode": spec.get("modes", {}), "set_fan_speed": home_spec["fan_speeds"]}.get(command)
    if names is not None:
        return [] if value in names else [f"{device['id']} has no {command[4:]} {value!r}"]
    if not isinstance(value, int | float) or isinstance(value, bool):
        return [f"{command} value {value!r} is not a number"]
    if command.startswith("set_"):
        low, high = _range(home_spec, device["id"], command, action.get("target"))
        return [] if low <= value <= high else [f"{command} {value} outside {low}..{high}"]
    return [] if 0 < value <= 100 else [f"{command} amount {value} is not a step"]


def _check_action(home_spec: dict[str, Any], action: dict[str, Any]) -> list[str]:
    try:
        device = _device(home_spec, action["device"])
    except AssertionError as exc:
        return [str(exc)]
    spec, command = home_spec["types"][device["type"]], action["command"]
    # `resume` is the hub's own command for every type that starts and pauses (model/state_rules.py).
    resumable = command == "resume" and {"start", "pause"} <= set(spec["commands"])
    if command not in spec["commands"] and not resumable:
        return [f"{device['id']} ({device['type']}) has no command {command!r}"]
    target = action.get("target")
    checks = {
        f"unknown fields in {sorted(action)}": bool(
            set(action) - {"device", "command", "value", "direction", "target"}
        ),
        f"direction {action.get('direction')!r} on {command}": (
            command.startswith("adjust_") != (action.get("direction") in ("up", "down"))
        ),
        f"{device['id']} has no compartment {target!r}": (
            target is not None and target not in spec.get("compartments", {})
        ),
        "a refrigerator temperature names its compartment": (
            device["type"] == "refrigerator" and command.endswith("_temperature") and target is None
        ),
    }
    return [problem for problem, failed in checks.items() if failed] + _check_value(home_spec, device, action)


def _check_when(expect: dict[str, Any]) -> list[str]:
    when = [k for k in ("delay_s", "at") if k in expect]
    if len(when) != 1:
        return [f"a schedule gives delay_s or at, not {when}"]
    if when == ["at"] and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(expect["at"])):
        return [f"at {expect['at']!r} is not HH:MM"]
    if when == ["delay_s"] and not (isinstance(expect["delay_s"], int) and expect["delay_s"] > 0):
        return [f"delay_s {expect['delay_s']!r}"]
    return []


def _check_expect(home_spec: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    kind = expect.get("kind")
    fields = {
        "query": {"kind", "device", "attribute"},
        "command": {"kind", "actions"},
        "schedule": {"kind", "actions", "delay_s", "at"},
    }.get(str(kind), {"kind"})
    problems = [f"fields {sorted(expect)} for a {kind}"] if set(expect) - fields else []
    if kind not in KINDS:
        return [f"kind {kind!r}"]
    if kind == "query":
        try:
            device = _device(home_spec, expect.get("device", ""))
        except AssertionError as exc:
            return [*problems, str(exc)]
        if expect.get("attribute") not in home_spec["types"][device["type"]]["queries"]:
            problems.append(f"{device['id']} has no query {expect.get('attribute')!r}")
    elif kind in ("command", "schedule"):
        actions = expect.get("actions")
        if not isinstance(actions, list) or not actions:
            return [*problems, "no actions"]
        for action in actions:
            problems.extend(_check_action(home_spec, action))
        if kind == "schedule":
            problems.extend(_check_when(expect))
    return problems


def _check_row(home_spec: dict[str, Any], row: Row) -> list[str]:
    problems: list[str] = []
    if set(row) != {"utt", "context_room", "cats", "expect"}:
        problems.append(f"fields {sorted(row)}")
    if not isinstance(row.get("utt"), str) or not row["utt"].strip():
        problems.append("empty utterance")
    room = row.get("context_room")
    if room is not None and room not in home_spec["rooms"]:
        problems.append(f"unknown room {room!r}")
    cats = set(row.get("cats", []))
    if not cats & PHENOMENA or cats - PHENOMENA - STYLES:
        problems.append(f"categories {sorted(cats)} (need a phenomenon; known: {sorted(PHENOMENA | STYLES)})")
    return problems + _check_expect(home_spec, row.get("expect", {}))


def test_every_line_names_what_the_fixture_home_has(home_spec: dict[str, Any], rows: list[Row]) -> None:
    problems = [f"{r.get('utt')}: {p}" for r in rows for p in _check_row(home_spec, r)]
    assert problems == []


def test_the_checker_catches_typos(home_spec: dict[str, Any]) -> None:
    """The check above can fail: each of these lines is wrong in one place."""

    def line(expect: dict[str, Any], room: str | None = None) -> Row:
        return {"utt": "x", "context_room": room, "cats": ["command"], "expect": expect}

    broken = [
        line({"kind": "command", "actions": [{"device": "light_livingroom", "command": "turn_on"}]}),
        line({"kind": "command", "actions": [{"device": "washer", "command": "turn_on"}]}),
        line(
            {"kind": "command", "actions": [{"device": "ac_living", "command": "set_mode", "value": "dry_"}]}
        ),
        line(
            {
                "kind": "command",
                "actions": [{"device": "ac_living", "command": "set_temperature", "value": 14}],
            }
        ),
        line(
            {"kind": "command", "actions": [{"device": "fridge", "command": "set_temperature", "value": -20}]}
        ),
        line(
            {
                "kind": "command",
                "actions": [{"device": "tv", "command": "adjust_volume", "direction": "loud"}],
            }
        ),
        line({"kind": "query", "device": "tv", "attribute": "brightness"}),
        line({"kind": "schedule", "at": "25:00", "actions": [{"device": "tv", "command": "turn_off"}]}),
        line({"kind": "none"}, room="attic"),
    ]
    assert all(_check_row(home_spec, r) for r in broken)
    good = line(
        {"kind": "command", "actions": [{"device": "light_small", "command": "set_brightness", "value": 1}]}
    )
    assert _check_row(home_spec, good) == []


def test_the_set_covers_every_phenomenon_in_several_styles(rows: list[Row]) -> None:
    cats = Counter(c for r in rows for c in r["cats"])
    kinds = Counter(r["expect"]["kind"] for r in rows)
    assert len(rows) >= 300
    thin = {p: cats[p] for p in PHENOMENA - {"follow_up"} if cats[p] < 5}
    assert thin == {}
    assert {s for s in STYLES if cats[s] >= 5} == STYLES
    assert all(kinds[k] >= 0.05 * len(rows) for k in KINDS), kinds
    keys = Counter((r["utt"], r["context_room"]) for r in rows)
    assert [k for k, n in keys.items() if n > 1] == []


# -- kept apart from the development set and from product files --------------------------------


def _bare(text: str) -> str:
    """A sentence without spacing and punctuation, so '켜 줘' and '켜줘' count as the same."""
    return re.sub(r"[\s?!.,~]+", "", text).lower()


def test_the_set_does_not_overlap_the_development_set(rows: list[Row]) -> None:
    path = EVAL / "nlu_dev_ko.jsonl"
    if not path.is_file():
        pytest.skip("shared/eval/nlu_dev_ko.jsonl is not beside the repository")
    dev = {
        _bare(json.loads(line)["utt"])
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert [r["utt"] for r in rows if _bare(r["utt"]) in dev] == []


def test_product_files_hold_no_sentence_of_the_set(rows: list[Row]) -> None:
    sentences = {r["utt"] for r in rows if len(r["utt"]) >= 8}
    found: list[str] = []
    for path in (REPO / "oneteam").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".json", ".md", ".txt", ".html", ".js"):
            text = path.read_text(encoding="utf-8", errors="ignore")
            found.extend(f"{path.relative_to(REPO)}: {s}" for s in sentences if s in text)
    assert found == []


# -- wrong actions ------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _step_meets_setting(home_spec: dict[str, Any], setting: dict[str, Any], step: dict[str, Any]) -> bool:
    """A set_X to the limit and an adjust_X toward that limit go the same way (another size)."""
    value = _number(setting.get("value"))
    target = setting.get("target") or step.get("target")
    low, high = _range(home_spec, setting["device"], setting["command"], target)
    if value is None:
        return False
    return (step.get("direction") == "up" and value >= high) or (
        step.get("direction") == "down" and value <= max(low, 1)
    )


def _same_value(home_spec: dict[str, Any], exp: dict[str, Any], got: dict[str, Any]) -> bool:
    """The same setting: equal, or both at the same limit of the range (lowest brightness 1 or 0)."""
    e, g = _number(exp.get("value")), _number(got.get("value"))
    if e is None or g is None:
        return bool(exp.get("value") == got.get("value"))
    low, high = _range(home_spec, exp["device"], exp["command"], exp.get("target"))
    return e == g or (e >= high and g >= high) or (e <= max(low, 1) and g <= max(low, 1))


def _compatible(home_spec: dict[str, Any], exp: dict[str, Any], got: dict[str, Any]) -> bool:
    """Whether `got` does what `exp` asks of the same device, or the same thing less or more of it."""
    e_cmd, g_cmd = exp["command"], str(got.get("command"))
    if ("target" in exp and got.get("target") != exp["target"]) or (
        g_cmd == "turn_on" and e_cmd.startswith("set_")  # power-on implied by a setting
    ):
        return "target" not in exp or got.get("target") == exp["target"]
    if e_cmd == g_cmd and e_cmd.startswith("adjust_"):
        return bool(got.get("direction") == exp.get("direction"))
    if e_cmd == g_cmd:
        return "value" not in exp or _same_value(home_spec, exp, got)
    if e_cmd.startswith("set_") and g_cmd == "adjust_" + e_cmd[4:]:
        return _step_meets_setting(home_spec, exp, got)
    if g_cmd.startswith("set_") and e_cmd == "adjust_" + g_cmd[4:]:
        return _step_meets_setting(home_spec, got, exp)
    return False


def _why_wrong_actions(home_spec: dict[str, Any], wanted: list[dict[str, Any]], got: list[Any]) -> str | None:
    for action in got:
        same_device = [e for e in wanted if e["device"] == action.get("device")]
        if not same_device:
            return f"acts on {action.get('device')}, not asked"
        if not any(_compatible(home_spec, e, action) for e in same_device):
            done, asked = (json.dumps(x, ensure_ascii=False) for x in (action, same_device))
            return f"{done} instead of {asked}"
    return None


def wrong_action(
    home_spec: dict[str, Any], score: ModuleType, expect: dict[str, Any], got: Any
) -> str | None:
    """Why `got` would make the home act wrongly for `expect`, or None when it would not."""
    if not isinstance(got, dict) or got.get("kind") not in ("command", "schedule"):
        return None
    why: str | None = None
    if expect["kind"] not in ("command", "schedule"):
        why = f"{got['kind']} where a {expect['kind']} was due"
    elif expect["kind"] != got["kind"]:
        why = "acts now instead of later" if got["kind"] == "command" else "waits instead of acting now"
    else:
        late = [k for k in ("delay_s", "at") if k in expect and got.get(k) != expect[k]]
        why = f"{late[0]} {got.get(late[0])!r} instead of {expect[late[0]]!r}" if late else None
    if why is None:
        wanted = score._without_implied_power_on(expect["actions"])
        why = _why_wrong_actions(home_spec, wanted, score._without_implied_power_on(got.get("actions") or []))
    return why


def test_wrong_action_rule_tells_acting_wrongly_from_missing(
    home_spec: dict[str, Any], score: ModuleType
) -> None:
    def cmd(*actions: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "command", "actions": list(actions)}

    def wrong(expect: dict[str, Any], got: dict[str, Any]) -> bool:
        return wrong_action(home_spec, score, expect, got) is not None

    off = {"device": "light_bedroom", "command": "turn_off"}
    on = {"device": "light_bedroom", "command": "turn_on"}
    assert wrong(
        {"kind": "query", "device": "washer", "attribute": "run_state"},
        cmd({"device": "washer", "command": "start"}),
    )
    assert wrong({"kind": "clarify"}, cmd(off))
    assert wrong(cmd(off), cmd(on))
    assert wrong(cmd(off), cmd({"device": "light_living", "command": "turn_off"}))
    assert wrong(cmd({"device": "washer", "command": "pause"}), cmd({"device": "washer", "command": "stop"}))
    assert wrong(
        cmd({"device": "ac_living", "command": "set_temperature", "value": 18}),
        cmd({"device": "ac_living", "command": "set_temperature", "value": 30}),
    )
    assert wrong(
        cmd({"device": "ac_living", "command": "set_temperature", "value": 18}),
        cmd({"device": "ac_living", "command": "adjust_temperature", "direction": "up"}),
    )
    assert wrong({"kind": "schedule", "delay_s": 600, "actions": [off]}, cmd(off))
    # not wrong: doing less, the limit approached by a step, nothing done, an implied power-on
    assert not wrong(cmd(off, {"device": "light_small", "command": "turn_off"}), cmd(off))
    assert not wrong(
        cmd({"device": "light_bedroom", "command": "set_brightness", "value": 1}),
        cmd({"device": "light_bedroom", "command": "adjust_brightness", "direction": "down"}),
    )
    assert not wrong(cmd(off), {"kind": "none"})
    assert not wrong(  # the lowest brightness, said as 1 or 0
        cmd({"device": "light_small", "command": "set_brightness", "value": 1}),
        cmd({"device": "light_small", "command": "set_brightness", "value": 0}),
    )
    assert wrong(
        cmd({"device": "light_small", "command": "set_brightness", "value": 20}),
        cmd({"device": "light_small", "command": "set_brightness", "value": 10}),
    )
    assert not wrong(
        cmd({"device": "purifier", "command": "set_mode", "value": "sleep"}),
        cmd(
            {"device": "purifier", "command": "turn_on"},
            {"device": "purifier", "command": "set_mode", "value": "sleep"},
        ),
    )


# -- the measurement ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(
    home_spec: dict[str, Any], score: ModuleType, rows: list[Row], answers: list[dict[str, Any]]
) -> dict[str, Any]:
    """Right and wrongly-acting rows, with a per-category table printed (pytest -s shows it)."""
    right = [bool(score.correct(r["expect"], a)) for r, a in zip(rows, answers, strict=True)]
    wrong = [wrong_action(home_spec, score, r["expect"], a) for r, a in zip(rows, answers, strict=True)]
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for row, ok, bad in zip(rows, right, wrong, strict=True):
        for cat in set(row["cats"]) | {row["expect"]["kind"]}:
            table[cat]["n"] += 1
            table[cat]["ok"] += ok
            table[cat]["wrong"] += bad is not None
    print(f"\nnatural set: {len(rows)} sentences")
    print(f"{'category':>20} {'n':>4} {'right':>6} {'acc':>7} {'wrong':>6}")
    for cat in sorted(table, key=lambda c: (c not in KINDS, c not in PHENOMENA, c)):
        c = table[cat]
        print(f"{cat:>20} {c['n']:4d} {c['ok']:6d} {100 * c['ok'] / c['n']:6.1f}% {c['wrong']:6d}")
    accuracy = sum(right) / len(rows)
    listed = [(r, a, w) for r, a, w in zip(rows, answers, wrong, strict=True) if w is not None]
    print(f"accuracy: {sum(right)}/{len(rows)} = {100 * accuracy:.1f}%; wrong actions: {len(listed)}")
    for row, answer, why in listed:
        room = f" [in {row['context_room']}]" if row["context_room"] else ""
        print(f"  WRONG {row['utt']}{room}: {why}\n        got {json.dumps(answer, ensure_ascii=False)}")
    return {"accuracy": accuracy, "wrong": [r["utt"] for r, _, _ in listed], "n": len(rows)}


def test_accuracy_keeps_its_floor(scored: dict[str, Any]) -> None:
    assert scored["accuracy"] >= ACCURACY_FLOOR, f"{scored['accuracy']:.3f} < {ACCURACY_FLOOR}"


def test_wrong_actions_stay_within_one_percent(scored: dict[str, Any]) -> None:
    allowed = int(WRONG_ACTION_SHARE * scored["n"])
    assert len(scored["wrong"]) <= allowed, scored["wrong"]


def test_development_set_wrong_actions_stay_within_one_percent(
    home_spec: dict[str, Any], score: ModuleType, understander: Understander
) -> None:
    """The same count on shared/eval's development set (its accuracy has its own test)."""
    path = EVAL / "nlu_dev_ko.jsonl"
    if not path.is_file():
        pytest.skip("shared/eval/nlu_dev_ko.jsonl is not beside the repository")
    dev = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    wrong = []
    for row in dev:
        got = understander.understand(row["utt"], row["context_room"]).as_dict()
        why = wrong_action(home_spec, score, row["expect"], got)
        if why is not None:
            wrong.append((row["utt"], why))
    print(f"\ndevelopment set: {len(dev)} sentences, wrong actions: {len(wrong)} {wrong}")
    assert len(wrong) <= int(WRONG_ACTION_SHARE * len(dev)), wrong
