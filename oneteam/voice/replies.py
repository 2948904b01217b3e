"""What the home says back: replies rendered from message keys, in the listener's language.

Every word lives in `oneteam/i18n/messages/<lang>/dialog.yaml`; this module only picks keys and
fills them. Korean particles follow the final sound of the word before them (`에어컨을`,
`TV를`, `24도로`, `10으로`), and numbers are written the way they are read aloud: hours in
native Korean (`한 시간`, `오후 세 시`), everything else in digits, below zero as `영하`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from oneteam.i18n import render
from oneteam.model import Device, Home, OneteamError, State, StateValue
from oneteam.voice.nlu.result import Action, ClarifyResult, QueryResult, ScheduleResult

_LOGGER = logging.getLogger(__name__)

_PERIODS = ((0, 5, "dawn"), (5, 11, "morning"), (11, 12, "noon"), (12, 18, "afternoon"), (18, 21, "evening"))


def _plain(number: float) -> str:
    """24.0 → '24', 24.5 → '24.5'."""
    return str(int(number)) if float(number).is_integer() else str(number)


class Replies:
    """Renders replies about one home."""

    def __init__(self, home: Home) -> None:
        self._home = home

    # -- words -------------------------------------------------------------------------------

    def _word(self, word: str, lang: str, /, **params: object) -> str:
        return render(f"dialog.words.{word}", lang, **params)

    def device_name(self, device_id: str, lang: str) -> str:
        """What to call a device in `lang`."""
        device = self._home.devices.get(device_id)
        return device.name_in(lang) if device is not None else device_id

    def _home_name(self, names: Sequence[str], lang: str) -> str | None:
        return next((n for n in names if n.isascii() == (lang == "en")), None)

    def _mode(self, device: Device | None, mode: str, lang: str) -> str:
        names = self._home.mode_names.get(device.type, {}).get(mode, ()) if device else ()
        name = self._home_name(names, lang) or render(f"dialog.modes.{mode}", lang)
        # A washer's modes are courses people start ("울 코스"); an air conditioner's are modes.
        is_course = device is not None and "start" in device.spec.commands
        return self._word("course" if is_course else "mode", lang, name=name)

    def _fan(self, speed: str, lang: str) -> str:
        names = self._home.fan_speed_names.get(speed, ())
        return self._home_name(names, lang) or render(f"dialog.fan_speeds.{speed}", lang)

    def _compartment(self, target: str, lang: str) -> str:
        names = self._home.compartment_names.get(target, ())
        return self._home_name(names, lang) or render(f"dialog.compartments.{target}", lang)

    def degrees(self, value: float, lang: str) -> str:
        """24 → '24도'; -18 → '영하 18도' (Korean reads a minus sign as 영하)."""
        if value < 0:
            return self._word("below_zero", lang, number=_plain(-value))
        return self._word("degrees", lang, number=_plain(value))

    def duration(self, seconds: float, lang: str) -> str:
        """5400 → '한 시간 30분'."""
        total = max(0, round(seconds))
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        parts = []
        if hours:
            parts.append(self._word("hours", lang, hours=self._native(hours, lang)))
        if minutes:
            parts.append(self._word("minutes", lang, number=minutes))
        if secs or not parts:
            parts.append(self._word("seconds", lang, number=secs))
        return " ".join(parts)

    def clock(self, at: str, lang: str) -> str:
        """'15:30' → '오후 세 시 30분'."""
        hour, minute = (int(part) for part in at.split(":"))
        period = next((name for low, high, name in _PERIODS if low <= hour < high), "night")
        hour12 = hour % 12 or 12
        params = {
            "period": render(f"dialog.periods.{period}", lang),
            "hour": self._native(hour12, lang),
            "minute": f"{minute:02d}" if lang == "en" else str(minute),
        }
        return self._word("clock_minutes" if minute else "clock", lang, **params)

    def _native(self, number: int, lang: str) -> str:
        key = f"dialog.native_numbers.{number}"
        word = render(key, lang)
        return str(number) if word == key else word

    # -- values ------------------------------------------------------------------------------

    def _value(self, action: Action, lang: str) -> str:
        value = action.value
        if not isinstance(value, int | float):
            return str(value)
        if action.command.endswith("temperature"):
            return self.degrees(value, lang)
        if action.command.endswith("brightness"):
            return self._word("percent", lang, number=_plain(value))
        if action.command == "set_channel":
            return self._word("channel", lang, number=_plain(value))
        return _plain(value)

    def _aspect(self, action: Action, lang: str) -> str:
        aspect = action.command.split("_", 1)[1]
        word = self._word(aspect, lang)
        if action.target is not None:
            return f"{self._compartment(action.target, lang)} {word}"
        return word

    def _action(self, action: Action, lang: str, section: str, when: str, mode_start: bool) -> str:
        device = self._home.devices.get(action.device)
        params: dict[str, object] = {"device": self.device_name(action.device, lang), "when": when}
        key = action.command
        if mode_start:
            key = "mode_start"
            params["mode"] = self._mode(device, str(action.value), lang)
        elif action.command == "set_mode":
            params["mode"] = self._mode(device, str(action.value), lang)
        elif action.command == "set_fan_speed":
            params["value"] = self._fan(str(action.value), lang)
        elif action.command.startswith("adjust_"):
            key = (
                "adjust_up"
                if action.direction is not None and action.direction.value == "up"
                else "adjust_down"
            )
            params["aspect"] = self._aspect(action, lang)
            params["amount"] = (
                self._word("a_little", lang) if action.value is None else self._value(action, lang)
            )
        elif action.value is not None:
            params["value"] = self._value(action, lang)
            params["aspect"] = self._aspect(action, lang)
        prefix = section if "." in section else f"dialog.{section}"  # another room's keys: "routines.ask"
        return render(f"{prefix}.{key}", lang, **params)

    # -- replies -----------------------------------------------------------------------------

    def actions(self, actions: Sequence[Action], lang: str, schedule: ScheduleResult | None = None) -> str:
        """What was done (or, with `schedule`, what will be done and when)."""
        section, when = "done", ""
        if schedule is not None:
            section = "later"
            if schedule.delay_s is not None:
                when = render("dialog.when.delay", lang, duration=self.duration(schedule.delay_s, lang))
            elif schedule.at is not None:
                when = render("dialog.when.at", lang, clock=self.clock(schedule.at, lang))
        sentences: list[str] = []
        skip: set[int] = set()
        for index, action in enumerate(actions):
            if index in skip:
                continue
            following = actions[index + 1] if index + 1 < len(actions) else None
            # "이불 코스로 시작했어요" reads better than a mode change and a start said apart.
            mode_start = (
                action.command == "set_mode"
                and following is not None
                and following.command == "start"
                and following.device == action.device
            )
            if mode_start:
                skip.add(index + 1)
            sentences.append(self._action(action, lang, section, when, mode_start))
        return " ".join(sentences)

    def asked(self, actions: Sequence[Action], lang: str, *, when: str, keys: str) -> str:
        """The actions as sentences from the catalog section `keys` (`routines.ask.`), one per
        action (a routine's confirmation: `routines.ask.turn_on` "{when} {device|을} 켤까요?")."""
        return " ".join(self._action(action, lang, keys.rstrip("."), when, False) for action in actions)

    def clarify(self, result: ClarifyResult, lang: str) -> str:
        """Ask back which device was meant."""
        if not result.candidates:
            return render("dialog.clarify_any", lang)
        names = [self.device_name(d, lang) for d in result.candidates]
        return render("dialog.clarify", lang, options=self._word("and", lang).join(names))

    def none(self, lang: str, reason: str = "") -> str:
        """Not something the home does (or, with `reason`, why it was not read: `too_long`)."""
        return render(f"dialog.none_{reason}" if reason else "dialog.none", lang)

    def schedules_none(self, lang: str) -> str:
        """No booking is pending (that matches)."""
        return render("dialog.schedules.none", lang)

    def schedules_list(self, items: Sequence[str], lang: str) -> str:
        """The pending bookings, one sentence each."""
        return render("dialog.schedules.list", lang, count=len(items), items=" ".join(items))

    def schedules_cancelled(self, items: Sequence[str], lang: str) -> str:
        """The bookings cancelled."""
        return render("dialog.schedules.cancelled", lang, count=len(items), items=" ".join(items))

    def error(self, error: OneteamError, lang: str) -> str:
        """Why a command was refused, from the error's own message key."""
        return render(error.key, lang, **error.params)

    def answer(self, query: QueryResult, state: State, lang: str) -> str:
        """The answer to a question about one device's state."""
        name = self.device_name(query.device, lang)
        attribute = query.attribute
        value = state.get(attribute)
        if attribute == "temperature" and state.get("fridge_temperature") is not None:
            return self._fridge(query, state, name, lang)
        if attribute == "remaining_time":
            if state.get("run_state") not in ("running", "paused") or not value:
                return render("dialog.answer.not_running", lang, device=name)
            return render(
                "dialog.answer.remaining_time", lang, device=name, duration=self.duration(float(value), lang)
            )
        if value is None:
            return render("dialog.answer.unknown", lang, device=name)
        return self._attribute_answer(query, attribute, value, name, lang)

    def _attribute_answer(  # noqa: PLR0911 - one answer per attribute
        self, query: QueryResult, attribute: str, value: StateValue, name: str, lang: str
    ) -> str:
        if attribute == "power":
            return render("dialog.answer.power_on" if value else "dialog.answer.power_off", lang, device=name)
        if attribute == "door":
            return render(f"dialog.answer.door_{'open' if value == 'open' else 'closed'}", lang, device=name)
        if attribute in ("run_state", "air_quality"):
            return render(
                f"dialog.answer.{attribute}", lang, device=name, state=render(f"dialog.states.{value}", lang)
            )
        if attribute == "mode":
            device = self._home.devices.get(query.device)
            return render("dialog.answer.mode", lang, device=name, mode=self._mode(device, str(value), lang))
        if attribute == "fan_speed":
            return render("dialog.answer.fan_speed", lang, device=name, value=self._fan(str(value), lang))
        if attribute == "current_temperature":
            device = self._home.devices.get(query.device)
            room = self._home.rooms.get(device.room or "") if device else None
            room_name = (self._home_name(room.names, lang) if room else None) or name
            return render(
                "dialog.answer.current_temperature",
                lang,
                room=room_name,
                value=self._number(value, attribute, lang),
            )
        return render(
            f"dialog.answer.{attribute}", lang, device=name, value=self._number(value, attribute, lang)
        )

    def _number(self, value: StateValue, attribute: str, lang: str) -> str:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return str(value)
        if attribute.endswith("temperature"):
            return self.degrees(value, lang)
        if attribute in ("brightness", "battery"):
            return self._word("percent", lang, number=_plain(value))
        if attribute == "channel":
            return self._word("channel", lang, number=_plain(value))
        return _plain(value)

    def _fridge(self, query: QueryResult, state: State, name: str, lang: str) -> str:
        if query.target is not None:
            value = state.get(f"{query.target}_temperature")
            if value is None:
                return render("dialog.answer.unknown", lang, device=name)
            return render(
                "dialog.answer.compartment",
                lang,
                device=name,
                target=self._compartment(query.target, lang),
                value=self._number(value, "temperature", lang),
            )
        return render(
            "dialog.answer.compartments",
            lang,
            device=name,
            fridge=self._number(state.get("fridge_temperature"), "temperature", lang),
            freezer=self._number(state.get("freezer_temperature"), "temperature", lang),
        )
