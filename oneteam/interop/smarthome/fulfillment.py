"""The fulfillment endpoint of the partner door: action.devices.SYNC, QUERY, EXECUTE and DISCONNECT.

EXECUTE goes through `hub.dispatch` like every other door, so validation and errors are the hub's;
they are translated once, here, into the API's error codes. A device the link does not cover is
answered exactly like a device that does not exist (`deviceNotFound`) and never acted on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from oneteam import __version__
from oneteam.hub import Hub
from oneteam.hub.callers import agent_member
from oneteam.interop.smarthome.challenge import ChallengeNeeded, Challenges
from oneteam.interop.smarthome.errors import error_code
from oneteam.interop.smarthome.execute import to_commands
from oneteam.interop.smarthome.records import ALL_DEVICES, Link
from oneteam.interop.smarthome.request import (
    MAX_DEVICES,
    ExecutePayload,
    Execution,
    QueryPayload,
    Request,
    RequestId,
    echoed_id,
)
from oneteam.interop.smarthome.scenes import Scenes, routine_of
from oneteam.interop.smarthome.traits import TranslationError, describe, google_state, sensor_kind
from oneteam.model import (
    CommandPending,
    Device,
    DeviceNotFound,
    DeviceType,
    DeviceUnavailable,
    Door,
    Grant,
    Home,
    OneteamError,
)

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Outcome:
    status: str
    states: Mapping[str, Any] | None = None
    error_code: str | None = None
    challenge: str | None = None
    """The two-factor challenge type to ask for (`ackNeeded`, `pinNeeded`, ...)."""


def dumps(answer: Mapping[str, Any]) -> bytes:
    """JSON as the API sends it (compact, UTF-8, no NaN)."""
    return json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class _SyncEntry:
    """One device's SYNC entry and its JSON, valid while the device, the home and (for a sensor)
    the quantity it measures stay the same objects/values."""

    device: Device
    home: Home
    kind: str | None
    entry: dict[str, Any]
    encoded: bytes


class Fulfillment:
    """Answers one partner request for one account link."""

    def __init__(self, hub: Hub, *, on_disconnect: Callable[[Link], None]) -> None:
        self._hub = hub
        self._on_disconnect = on_disconnect
        self.challenges = Challenges()
        self.scenes = Scenes(hub)
        self._sync_cache: dict[str, _SyncEntry] = {}
        """SYNC entries by device id: a TV lists up to 200 channels, so a 1,000-device home is ~2 MB
        of JSON that only changes when a device or the home file does."""

    async def encoded(self, body: object, link: Link) -> bytes:
        """`handle`'s answer as JSON bytes; SYNC joins each device's entry encoded once."""
        link = await self._as_member(link)
        try:
            request = Request.model_validate(body)
        except ValidationError:
            request = None
        if request is not None and request.inputs[0].intent == "action.devices.SYNC":
            devices = self._hub.devices()
            entries = [self._sync_entry(d).encoded for d in devices if link.covers(d.id)]
            entries += [dumps(self.scenes.sync_entry(e)) for e in self.scenes.offered(link_grant(link))]
            if len(self._sync_cache) > 2 * len(devices) + 100:  # devices removed since: drop them
                present = {d.id for d in devices}
                self._sync_cache = {k: v for k, v in self._sync_cache.items() if k in present}
            head = dumps({"requestId": request.requestId, "payload": {"agentUserId": link.agent_user_id}})
            return head[:-2] + b',"devices":[' + b",".join(entries) + b"]}}"
        return dumps(await self.handle(body, link))

    async def _as_member(self, link: Link) -> Link:
        """A link made by a household member covers only what that member may use now."""
        member = agent_member(link.agent_user_id)
        if member is None:
            return link
        allowed = await self._hub.household.member_devices(member)
        if allowed is None:
            return link
        chosen = allowed if ALL_DEVICES in link.device_ids else allowed & set(link.device_ids)
        return replace(link, device_ids=tuple(sorted(chosen)))

    def _sync_entry(self, device: Device) -> _SyncEntry:
        home = self._hub.home
        kind = sensor_kind(device, self._hub.state(device.id)) if device.type is DeviceType.SENSOR else None
        cached = self._sync_cache.get(device.id)
        if cached is not None and cached.device is device and cached.home is home and cached.kind == kind:
            return cached
        entry = self._describe(device, home)
        fresh = _SyncEntry(device, home, kind, entry, dumps(entry))
        self._sync_cache[device.id] = fresh
        return fresh

    async def handle(self, body: object, link: Link) -> dict[str, Any]:
        """The response body for a request body (already parsed JSON); bad input → protocolError."""
        request_id = echoed_id(body)
        try:
            request = Request.model_validate(body)
            intent = request.inputs[0]
            if intent.intent == "action.devices.SYNC":
                return self._envelope(request.requestId, self.sync(link))
            if intent.intent == "action.devices.QUERY":
                self._require(link, "devices.read")
                query = QueryPayload.model_validate(intent.payload or {})
                return self._envelope(request.requestId, {"devices": self.query(link, query)})
            if intent.intent == "action.devices.EXECUTE":
                self._require(link, "devices.control")
                execute = ExecutePayload.model_validate(intent.payload or {})
                return self._envelope(request.requestId, {"commands": await self.execute(link, execute)})
            await asyncio.to_thread(self._on_disconnect, link)
            return {}
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
            return self.protocol_error(request_id, body, detail)
        except TranslationError as exc:
            return self._envelope(
                request_id, {"errorCode": exc.code, "debugString": str(exc), **_empty(body)}
            )

    @staticmethod
    def protocol_error(request_id: RequestId, body: object, detail: str) -> dict[str, Any]:
        """A request-level protocolError answer (the payload keeps the intent's required fields)."""
        return {
            "requestId": request_id,
            "payload": {"errorCode": "protocolError", "debugString": detail, **_empty(body)},
        }

    @staticmethod
    def _envelope(request_id: RequestId, payload: dict[str, Any]) -> dict[str, Any]:
        return {"requestId": request_id, "payload": payload}

    @staticmethod
    def _require(link: Link, scope: str) -> None:
        if scope not in link.scope.split():
            raise TranslationError("authFailure", f"the link does not grant {scope}")

    def sync(self, link: Link) -> dict[str, Any]:
        """The SYNC payload: the devices this link covers."""
        devices = [self.sync_device(d) for d in self._hub.devices() if link.covers(d.id)]
        devices += [self.scenes.sync_entry(e) for e in self.scenes.offered(link_grant(link))]
        return {"agentUserId": link.agent_user_id, "devices": devices}

    def sync_device(self, device: Device) -> dict[str, Any]:
        """One device as SYNC describes it (a shallow copy of the cached entry)."""
        return dict(self._sync_entry(device).entry)

    def _describe(self, device: Device, home: Home) -> dict[str, Any]:
        described = describe(device, home, self._hub.state(device.id))
        room = home.rooms.get(device.room or "")
        out: dict[str, Any] = {
            "id": device.id,
            "type": described.type,
            "traits": list(described.traits),
            "name": {"name": device.display_name, "nicknames": list(device.names[1:]), "defaultNames": []},
            "willReportState": True,
            "deviceInfo": {
                "manufacturer": device.manufacturer or "oneteam",
                "model": device.model or device.type.value,
                "swVersion": __version__,
            },
            "attributes": dict(described.attributes),
        }
        if room is not None:
            out["roomHint"] = room.names[0] if room.names else room.id
        return out

    def query(self, link: Link, query: QueryPayload) -> dict[str, Any]:
        """The QUERY payload's `devices` map."""
        return {ref.id: self.device_state(link, ref.id) for ref in query.devices}

    def device_state(self, link: Link, device_id: str) -> dict[str, Any]:
        """One device's QUERY entry (deviceNotFound for devices the link does not cover)."""
        if routine_of(device_id) is not None:
            return self.scenes.query_state(link_grant(link), device_id)
        device = self._covered(link, device_id)
        if device is None:
            return {"online": False, "status": "ERROR", "errorCode": "deviceNotFound"}
        state = self._hub.state(device_id)
        if not state.is_available:
            return {"online": False, "status": "OFFLINE", "errorCode": "deviceOffline"}
        return {"online": True, "status": "SUCCESS", **google_state(device, state)}

    def _covered(self, link: Link, device_id: str) -> Device | None:
        if not link.covers(device_id):
            return None
        try:
            return self._hub.device(device_id)
        except DeviceNotFound:
            return None

    async def execute(self, link: Link, execute: ExecutePayload) -> list[dict[str, Any]]:
        """Carry out every command group; one result per device, grouped by identical outcome."""
        plan: dict[str, list[Execution]] = {}
        for group in execute.commands:
            for ref in group.devices:
                plan.setdefault(ref.id, []).extend(group.execution)
        if len(plan) > MAX_DEVICES:
            raise TranslationError("protocolError", f"at most {MAX_DEVICES} devices per request")
        outcomes: dict[str, asyncio.Task[_Outcome]] = {}
        # Devices run side by side; the executions of one device run in order.
        async with asyncio.TaskGroup() as tasks:
            for device_id, executions in plan.items():
                outcomes[device_id] = tasks.create_task(
                    self._execute_device(link, device_id, executions), name=f"execute-{device_id}"
                )
        return _grouped({device_id: task.result() for device_id, task in outcomes.items()})

    async def _execute_device(self, link: Link, device_id: str, executions: list[Execution]) -> _Outcome:
        grant = link_grant(link)
        if routine_of(device_id) is not None:
            return await self._activate(grant, device_id, executions)
        device = self._covered(link, device_id)
        if device is None:
            return _Outcome(status="ERROR", error_code="deviceNotFound")
        try:
            for execution in executions:
                commands = to_commands(
                    device, self._hub.state(device_id), execution.command, execution.params
                )
                self.challenges.require(
                    device, [c.name for c in commands], (execution.model_extra or {}).get("challenge")
                )
                for command in commands:
                    await self._hub.dispatch(command, grant=grant)
        except (TranslationError, ChallengeNeeded, OneteamError) as exc:
            return self._refusal(device, exc)
        state = self._hub.state(device_id)
        return _Outcome(status="SUCCESS", states={"online": True, **google_state(device, state)})

    async def _activate(self, grant: Grant, device_id: str, executions: list[Execution]) -> _Outcome:
        """ActivateScene on a routine, each execution in order; the first refusal ends it."""
        for execution in executions:
            challenge = (execution.model_extra or {}).get("challenge")
            status, code, asked = await self.scenes.activate(
                grant, device_id, execution.command, execution.params, challenge
            )
            if status != "SUCCESS":
                return _Outcome(status=status, error_code=code, challenge=asked)
        return _Outcome(status="SUCCESS", states={"online": True})

    def _refusal(self, device: Device, exc: TranslationError | ChallengeNeeded | OneteamError) -> _Outcome:
        """The outcome of an EXECUTE item that did not (or not yet) succeed."""
        if isinstance(exc, TranslationError):
            return _Outcome(status="ERROR", error_code=exc.code)
        if isinstance(exc, ChallengeNeeded):
            return _Outcome(status="ERROR", error_code=exc.code, challenge=exc.challenge)
        if isinstance(exc, DeviceUnavailable):
            return _Outcome(status="OFFLINE", error_code="deviceOffline")
        if isinstance(exc, CommandPending):
            # Delivered, not yet confirmed: the final state follows in a report-state push.
            state = self._hub.state(device.id)
            return _Outcome(status="PENDING", states={"online": True, **google_state(device, state)})
        _LOGGER.debug("partner command on %s refused: %s", device.id, exc.key)
        return _Outcome(status="ERROR", error_code=error_code(exc))


def link_grant(link: Link) -> Grant:
    """What a partner acts as: the linked home's devices the household chose, and nothing else.
    "All devices" (also those added later) is a link without a device limit, not a device named "*"."""
    devices = None if ALL_DEVICES in link.device_ids else frozenset(link.device_ids)
    member = agent_member(link.agent_user_id)  # the log says which member's link acted
    principal = f"partner:{link.client_id}" + (f":member:{member}" if member else "")
    return Grant(principal=principal, door=Door.PARTNER, devices=devices)


def _grouped(outcomes: dict[str, _Outcome]) -> list[dict[str, Any]]:
    """Devices with the same failure share one entry; each success keeps its own states."""
    results: list[dict[str, Any]] = []
    failures: dict[tuple[str, str, str | None], list[str]] = {}
    for device_id, outcome in outcomes.items():
        if outcome.status in ("SUCCESS", "PENDING"):
            results.append(
                {"ids": [device_id], "status": outcome.status, "states": dict(outcome.states or {})}
            )
        else:
            key = (outcome.status, outcome.error_code or "unknownError", outcome.challenge)
            failures.setdefault(key, []).append(device_id)
    for (status, code, challenge), ids in failures.items():
        entry: dict[str, Any] = {"ids": ids, "status": status, "errorCode": code}
        if challenge is not None:
            entry["challengeNeeded"] = {"type": challenge}
        results.append(entry)
    return results


def _empty(body: object) -> dict[str, Any]:
    """The fields the response schema requires even on a request-level error, by intent."""
    intent = ""
    if isinstance(body, dict) and isinstance(body.get("inputs"), list) and body["inputs"]:
        first = body["inputs"][0]
        intent = first.get("intent", "") if isinstance(first, dict) else ""
    if intent == "action.devices.QUERY":
        return {"devices": {}}
    if intent == "action.devices.SYNC":
        return {"agentUserId": "", "devices": []}
    return {}
