"""Expected results for NLU tests, and the scoring rule of shared/eval/README.md."""

from __future__ import annotations

from typing import Any


def _action_matches(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    return all(got.get(field) == value for field, value in expected.items())


def matches(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    """The scoring rule of shared/eval/README.md: kind, then the fields the expectation gives;
    actions as a set, with a turn_on implied by a set_* on the same device not judged."""
    if expected["kind"] != got["kind"]:
        return False
    if expected["kind"] == "query":
        return expected["device"] == got["device"] and expected["attribute"] == got["attribute"]
    if expected["kind"] in ("clarify", "none"):
        return "candidates" not in expected or set(expected["candidates"]) == set(got["candidates"])
    for key in ("delay_s", "at"):
        if key in expected and expected[key] != got.get(key):
            return False
    wanted = expected["actions"]
    setting = {a["device"] for a in got["actions"] if a["command"].startswith("set_")}
    have = [a for a in got["actions"] if not (a["command"] == "turn_on" and a["device"] in setting)]
    wanted = [a for a in wanted if not (a["command"] == "turn_on" and a["device"] in setting)]
    return len(have) == len(wanted) and all(any(_action_matches(w, h) for h in have) for w in wanted)


def cmd(*actions: tuple[Any, ...], **extra: Any) -> dict[str, Any]:
    """An expected command result from (device, command[, value[, direction[, target]]]) tuples."""
    out = []
    for action in actions:
        entry: dict[str, Any] = {"device": action[0], "command": action[1]}
        for field, value in zip(("value", "direction", "target"), action[2:], strict=False):
            if value is not None:
                entry[field] = value
        out.append(entry)
    return {"kind": "command", "actions": out, **extra}


def sched(actions: dict[str, Any], **when: Any) -> dict[str, Any]:
    """An expected schedule result: `sched(cmd(...), delay_s=600)`."""
    return {"kind": "schedule", "actions": actions["actions"], **when}


def query(device: str, attribute: str) -> dict[str, Any]:
    """An expected query result."""
    return {"kind": "query", "device": device, "attribute": attribute}


NONE = {"kind": "none"}
CLARIFY = {"kind": "clarify"}
