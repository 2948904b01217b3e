"""What one clause asks for, before any device is chosen, and the commands it means for a device.

`Intent` gathers a clause's cues (actions, the value to change, amounts, modes); `actions_for`
turns an intent into the commands one device's type accepts. Both are language-free: they see
only canonical ids (`on`, `temperature`, `cool`) that the lexicon gave.
"""

from __future__ import annotations

from dataclasses import dataclass

from oneteam.model import Device, Direction, Range
from oneteam.voice.nlu.clauses import Clause
from oneteam.voice.nlu.lexicon import Kind
from oneteam.voice.nlu.quantities import Quantity
from oneteam.voice.nlu.result import Action

# When several actions are said, the one that stops things wins ("그만 돌려" is stop).
_ACTION_ORDER = ("return_to_base", "pause", "stop", "off", "on", "resume", "start")
_UNIT_ASPECTS = {"degree": "temperature", "number": "channel"}
# Values changed by turning a dial: a "start" verb with them (채널 돌려) does not mean start.
_DIALED = frozenset({"temperature", "brightness", "volume", "channel"})
# Units that by themselves say what is changed (24도 → a temperature), so "24도로 맞춰" needs no device.
_NAMING_UNITS = frozenset({"degree", "percent"})
_SWITCHES = frozenset({"on", "off", "start", "resume", "stop", "pause", "return_to_base"})
# Resuming is the hub's own command (model/state_rules.py): it continues a paused cycle and never
# begins a new one, so it is meant only for types that both start and pause.
_RESUMABLE = frozenset({"start", "pause"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    """The cues of one clause."""

    actions: frozenset[str]
    """Action ids: on, off, start, resume, pause, stop, return_to_base, up, down, set, max, min."""
    aspect: str | None
    """What to change, if named: temperature, brightness, volume, channel, mode, fan_speed, ..."""
    direction: Direction | None
    directed_aspect: str | None
    """The aspect a directed word carries (밝게 → brightness)."""
    modes: tuple[tuple[str, str], ...]
    """(mode id, device type) pairs."""
    fans: tuple[str, ...]
    quantities: tuple[Quantity, ...]
    compartment: str | None
    is_activity: bool
    """An activity word said as a request (빨래해 줘, 청소 좀) implies starting it."""
    features: frozenset[str] = frozenset()
    """Device types whose feature was named (급속냉동 → refrigerator)."""
    feature_switched: frozenset[str] = frozenset()
    """Device types whose on/off switch a feature, which must then be named."""
    is_booked: bool = False
    """A booking with a time and no action (오후 세 시에 세탁기 예약): start what runs cycles."""

    @property
    def has_cue(self) -> bool:
        """Whether there is anything to do."""
        return bool(
            self.actions
            or self.direction
            or self.modes
            or self.fans
            or self.quantities
            or self.is_activity
            or self.is_booked
        )

    @property
    def names_something(self) -> bool:
        """Whether the intent itself points at a kind of device (an aspect, a compartment)."""
        units = {q.unit for q in self.quantities}
        return bool(self.aspect or self.directed_aspect or self.compartment or units & _NAMING_UNITS)


def intent_of(
    clause: Clause,
    *,
    is_request: bool,
    is_booking: bool = False,
    feature_switched: frozenset[str] = frozenset(),
) -> Intent:
    """The intent of one clause of an utterance (`is_request`: it asks for something;
    `is_booking`: a booking word with a time)."""
    actions = {s.value for s in clause.senses(Kind.ACTION)}
    if clause.has(Kind.BRIEF) and "stop" in actions:
        actions = (actions - {"stop"}) | {"pause"}  # 잠시 중단: stop for a moment is a pause
    elif clause.has(Kind.COMPLETE) and "pause" in actions:
        actions = (actions - {"pause"}) | {"stop"}  # 아예 멈춰: a halt for good is a stop
    is_activity = any(s.extra == "done" for s in clause.senses(Kind.ACTIVITY)) or (
        is_request and clause.has(Kind.ACTIVITY)
    )
    goes_on = any(s.extra == "done" for s in clause.senses(Kind.CONTINUE))  # 계속해, 이어서 해
    if clause.has(Kind.CONTINUE) and (
        actions & {"start", "resume"} or ((is_activity or goes_on) and not actions)
    ):
        actions = (actions - {"start"}) | {"resume"}  # 계속 돌려, 청소 이어서 해: go on, not anew
    if "resume" in actions and actions & (_SWITCHES - {"resume", "start"}):
        actions.discard("resume")  # 이어서 불 꺼: "next", and the other action is what is asked
    if (clause.has(Kind.PURPOSE) or (is_request and clause.has(Kind.FEATURE))) and not actions & _SWITCHES:
        # 공기 깨끗하게 해 줘, 급속냉동 해 줘: a wanted condition or a feature said as a request
        actions.add("on")
    directed = clause.senses(Kind.DIRECTED)
    # A complaint ("너무 밝아") counts only beside something asked: an action or a request.
    # With a switch ("추워 에어컨 좀 꺼") it is only the reason; alone it is not a request.
    complaints = (
        clause.senses(Kind.COMPLAINT)
        if (actions - _SWITCHES or (is_request and not actions & _SWITCHES))
        else []
    )
    direction: Direction | None = None
    if "up" in actions or "down" in actions:
        direction = Direction.UP if "up" in actions else Direction.DOWN
    elif directed:
        direction = Direction(directed[0].extra)
    elif complaints:
        direction = Direction(complaints[0].extra)
    aspects = _aspects_by_nearness(clause)
    compartments = clause.senses(Kind.COMPARTMENT)
    steering = [*directed, *complaints]
    is_booked = is_booking and not actions
    return Intent(
        actions=frozenset(actions),
        aspect=aspects[0] if aspects else None,
        direction=direction,
        directed_aspect=steering[0].value if steering else None,
        features=frozenset(s.value for s in clause.senses(Kind.FEATURE)),
        feature_switched=feature_switched,
        is_booked=is_booked,
        modes=tuple((s.value, s.extra) for s in clause.senses(Kind.MODE)),
        fans=tuple(s.value for s in clause.senses(Kind.FAN)),
        quantities=clause.quantities,
        compartment=compartments[0].value if compartments else None,
        # "빨래 많다" names an activity without asking for it; "빨래해", "빨래 돌려 줘" ask.
        is_activity=is_activity,
    )


def _aspects_by_nearness(clause: Clause) -> list[str]:
    """The aspects a clause names, the one said nearest its action first: in "바람이 차가우니
    설정 온도 올려" the wind is what the complaint is about, the temperature what is raised."""
    aspects = [(m.start, s.value) for m in clause.mentions for s in m.senses if s.kind is Kind.ASPECT]
    acting = [m.start for m in clause.mentions if m.has(Kind.ACTION)]
    if len(aspects) < 2 or not acting:
        return [value for _, value in aspects]
    action = acting[0]
    return [value for _, value in sorted(aspects, key=lambda a: (a[0] > action, abs(action - a[0])))]


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else number


def _default_aspect(device: Device, prefix: str) -> str | None:
    for aspect in ("temperature", "brightness", "channel", "volume"):
        if f"{prefix}_{aspect}" in device.spec.commands:
            return aspect
    return None


def _value_aspect(intent: Intent, quantity: Quantity, device: Device) -> str | None:
    aspect = intent.aspect or intent.directed_aspect
    if aspect == "current_temperature":
        return "temperature"
    if aspect in _DIALED:
        return aspect
    # "24도 바람 강하게": a number goes to what its unit measures, not to the fan or mode named.
    if quantity.unit == "percent":
        return "brightness" if "set_brightness" in device.spec.commands else "volume"
    if quantity.unit in _UNIT_ASPECTS:
        return _UNIT_ASPECTS[quantity.unit]
    return _default_aspect(device, "set")


def _target(device: Device, compartment: str | None, value: float | None) -> str | None:
    """The compartment named, or the one whose range holds the value (-18 °C → freezer)."""
    compartments = device.spec.compartments
    if not compartments:
        return None
    if compartment in compartments:
        return compartment
    if value is not None:
        return next((name for name, limit in compartments.items() if value in limit), None)
    return None


def _signed(device: Device, compartment: str | None, value: float) -> float:
    """ "냉동실 18도" means minus 18: a freezer setting said without 영하 is below zero."""
    limit = device.spec.compartments.get(compartment or "")
    if limit is not None and value > 0 and value not in limit and -value in limit:
        return -value
    return value


def _range(device: Device, aspect: str) -> Range | None:
    spec = device.spec
    if aspect == "brightness":
        return spec.brightness_range
    if aspect == "volume":
        return spec.volume_range
    if aspect == "temperature":
        return spec.temperature_range
    return None


def _fitting(device: Device, intent: Intent, aspect: str, quantity: Quantity) -> float:
    """The reading of the number that fits the device: "에어컨이십사도" is 24 (이 read as a digit),
    not 14 after the particle 이, because 14 °C is outside the air conditioner's range. When both
    fit, the glued reading comes first: typed without a space, a command drops its particle
    ("볼륨이십으로" is 20) far more often than it uses the subject particle before a value."""
    readings = [*quantity.alternatives, quantity.value]
    if aspect == "temperature":
        readings = [_signed(device, intent.compartment, v) for v in readings]
    limit = _range(device, aspect)
    if limit is not None and device.spec.compartments and aspect == "temperature":
        limits = list(device.spec.compartments.values())
        fits = [v for v in readings if any(v in each for each in limits)]
    else:
        fits = [v for v in readings if limit is None or v in limit]
    return fits[0] if fits else readings[0]


def _amount_action(device: Device, intent: Intent, quantity: Quantity) -> list[Action]:
    """`24도로` sets a value; `2도 올려` (an amount with a direction) adjusts by it."""
    aspect = _value_aspect(intent, quantity, device)
    if aspect is None:
        return []
    if intent.direction is not None and not quantity.is_absolute:
        name = f"adjust_{aspect}"
        action = Action(
            device=device.id,
            command=name,
            value=_plain(abs(quantity.value)),
            direction=intent.direction,
            target=_target(device, intent.compartment, None),
        )
    else:
        name = f"set_{aspect}"
        value = _fitting(device, intent, aspect, quantity)
        action = Action(
            device=device.id,
            command=name,
            value=_plain(value),
            target=_target(device, intent.compartment, value),
        )
    return [action] if name in device.spec.commands else []


def _extreme_action(
    device: Device, extreme: str, aspect: str, compartment: str | None = None
) -> list[Action] | None:
    """`최대로`, `minimum`: the end of the value's range, or the strongest/weakest fan speed."""
    can = device.spec.commands
    if aspect == "fan_speed":
        speeds = [s for s in device.spec.fan_speeds if s != "auto"]  # listed slowest first
        if not speeds or "set_fan_speed" not in can:
            return None
        fan = speeds[-1] if extreme == "max" else speeds[0]
        return [Action(device=device.id, command="set_fan_speed", value=fan)]
    limit = _range(device, aspect)
    target = None
    if aspect == "temperature" and device.spec.compartments:
        # A refrigerator's limits are its compartment's ("냉동실 제일 차갑게" → -23)
        target = compartment if compartment in device.spec.compartments else None
        limit = device.spec.compartments[target] if target is not None else None
    name = f"set_{aspect}"
    if limit is None or name not in can:
        return None
    value = limit.high if extreme == "max" else limit.low
    if aspect == "brightness" and value <= 0:
        value = min(1, limit.high)  # the dimmest light is still on: brightness 0 would be off
    return [Action(device=device.id, command=name, value=_plain(value), target=target)]


def _value_actions(device: Device, intent: Intent) -> list[Action] | None:
    """Actions from an amount, a maximum/minimum or a direction; None when none was said."""
    if intent.quantities:
        quantity = intent.quantities[0]
        if quantity.unit is None and _value_aspect(intent, quantity, device) is None:
            return None  # a stray number ("둘 다") with nothing it could set
        return _amount_action(device, intent, quantity)
    aspect = intent.aspect or intent.directed_aspect or _default_aspect(device, "adjust")
    if aspect is None:
        return [] if intent.direction is not None else None
    extreme = "max" if "max" in intent.actions else "min" if "min" in intent.actions else None
    if intent.direction is not None and (extreme is not None or "extreme" in intent.actions):
        # 최대로 시원하게, 가장 어둡게: the end of the range in the direction said
        extreme = "max" if intent.direction is Direction.UP else "min"
    if extreme is not None:
        extreme_actions = _extreme_action(device, extreme, aspect, intent.compartment)
        if extreme_actions is not None:
            return extreme_actions
    return None if intent.direction is None else _adjust_action(device, intent, aspect)


def _adjust_action(device: Device, intent: Intent, aspect: str) -> list[Action]:
    """`더 밝게`, `온도 좀 낮춰`: a step the device chooses, up or down."""
    name = f"adjust_{aspect}"
    if name not in device.spec.commands:
        return []
    target = _target(device, intent.compartment, None)
    return [Action(device=device.id, command=name, direction=intent.direction, target=target)]


def _plain_action(device: Device, intent: Intent, *, is_strict: bool) -> list[Action]:
    can = device.spec.commands
    fallbacks = {
        "return_to_base": ("return_to_base",),
        "pause": ("pause",),
        "stop": ("stop", "turn_off"),
        "off": ("turn_off", "stop"),
        "on": ("turn_on", "start"),
        "start": ("start", "turn_on"),
    }  # resume has no stand-in: below
    wanted = [a for a in _ACTION_ORDER if a in intent.actions]
    if device.type.value in intent.feature_switched and device.type.value not in intent.features:
        # "냉장고 꺼": its on/off only switch a feature, which was not named
        wanted = [a for a in wanted if a not in ("on", "off")]
    if intent.is_booked and not wanted:
        return [Action(device=device.id, command="start")] if "start" in can else []
    if intent.aspect in _DIALED:
        # "채널 돌려", "온도 바꿔" without a value: 돌리다 turns a dial here, it does not start.
        wanted = [a for a in wanted if a != "start"]
    if not wanted and intent.is_activity:
        wanted = ["start"]
    for action in wanted:
        if action == "resume":
            if set(can) >= _RESUMABLE:
                return [Action(device=device.id, command="resume")]
            continue
        # "Everything" requests take no stand-in that starts something ("거실 다 켜" does not
        # start the vacuum), but stopping stands in for turning off ("거실 다 꺼" stops it).
        strict = is_strict and action in ("on", "start")
        for name in fallbacks[action][:1] if strict else fallbacks[action]:
            if name in can:
                return [Action(device=device.id, command=name)]
    return []


def actions_for(device: Device, intent: Intent, *, is_strict: bool = False) -> list[Action]:
    """The commands `intent` means for `device` (empty when the device cannot do it).

    `is_strict` leaves out stand-ins ("끄다" meaning stop for a washer), for "everything in the
    room" requests where a stand-in would surprise ("거실 다 꺼" does not stop the vacuum)."""
    spec = device.spec
    mode = next((m for m, t in intent.modes if t == device.type.value and m in spec.modes), None)
    fan = next((f for f in intent.fans if f in spec.fan_speeds), None)
    if mode is not None and fan is not None:
        if intent.aspect == "fan_speed":
            mode = None
        else:
            fan = None
    out: list[Action] = []
    if mode is not None and "set_mode" in spec.commands:
        out.append(Action(device=device.id, command="set_mode", value=mode))
        if "start" in spec.commands and (
            intent.actions & {"on", "start"} or intent.is_activity or intent.is_booked
        ):
            out.append(Action(device=device.id, command="start"))
    if fan is not None and "set_fan_speed" in spec.commands:
        out.append(Action(device=device.id, command="set_fan_speed", value=fan))
    # "냉방 24도로", "24도 바람 강하게": a mode or fan speed and a value are both carried out.
    by_value = _value_actions(device, intent)
    if by_value:
        out.extend(by_value)
    if out or by_value is not None:
        return out
    return _plain_action(device, intent, is_strict=is_strict)
