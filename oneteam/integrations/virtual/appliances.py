"""Simulated appliances that behave like real ones: courses count down, rooms cool, batteries drain.

Each appliance (appliance.py: the attribute book-keeping they share) keeps its attributes, answers
commands with the attributes they change, and `advance(dt_s)` moves simulated time forward (dt_s in
simulated seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from oneteam.integrations.virtual.appliance import Appliance, Changes, Outcome, num
from oneteam.model import Command, DeviceType, EventKind, InvalidValue, StateValue, ValueProblem

# Course lengths in seconds, from typical front-loader and heat-pump dryer programmes.
WASH_COURSE_S = {"standard": 3600, "wool": 2400, "bedding": 4800, "quick": 900}
DRY_COURSE_S = 3000
AMBIENT_C = 28.0  # a Korean summer living room
AC_APPROACH_PER_S = 1 / 600  # room closes 1/600 of its gap to target each second (~10 min time constant)
ROBOT_DRAIN_PCT_PER_S = 1 / 60  # 1 % a minute while cleaning
ROBOT_CHARGE_PCT_PER_S = 2 / 60
ROBOT_LOW_BATTERY_PCT = 15.0
ROBOT_RETURN_S = 60.0
ROBOT_CLEAN_S = 45 * 60.0
ROBOT_ZONE_CLEAN_S = 10 * 60.0  # one room
OVEN_HEAT_C_PER_S = 0.5  # ~6 minutes to 200 °C, as a convection oven preheats


class Light(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {"power": False, "brightness": 100}

    def _cmd_set_brightness(self, command: Command) -> Changes:
        level = num(float(command.value or 0))
        return self._set(brightness=level, power=level > 0)

    def _cmd_adjust_brightness(self, command: Command) -> Changes:
        spec = self.device.spec.brightness_range
        level = num(self._adjust("brightness", command, 20, spec.low, spec.high))
        return self._set(brightness=level, power=level > 0)


class Tv(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {"power": False, "volume": 10, "channel": 7}

    def _cmd_set_volume(self, command: Command) -> Changes:
        return self._set(volume=num(float(command.value or 0)))

    def _cmd_adjust_volume(self, command: Command) -> Changes:
        spec = self.device.spec.volume_range
        return self._set(volume=num(self._adjust("volume", command, 3, spec.low, spec.high)))

    def _cmd_set_channel(self, command: Command) -> Changes:
        return self._set(channel=num(float(command.value or 1)), power=True)


class AirConditioner(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {
        "power": False,
        "mode": "cool",
        "temperature": 24,
        "current_temperature": AMBIENT_C,
        "fan_speed": "auto",
    }

    def _cmd_set_temperature(self, command: Command) -> Changes:
        return self._set(temperature=num(float(command.value or 0)), power=True)

    def _cmd_adjust_temperature(self, command: Command) -> Changes:
        limit = self.device.spec.temperature_range
        low, high = (limit.low, limit.high) if limit else (16.0, 32.0)
        return self._set(temperature=num(self._adjust("temperature", command, 1, low, high)), power=True)

    def _cmd_set_mode(self, command: Command) -> Changes:
        return self._set(mode=str(command.value), power=True)

    def _cmd_set_fan_speed(self, command: Command) -> Changes:
        return self._set(fan_speed=str(command.value), power=True)

    def advance(self, dt_s: float) -> Outcome:
        current = float(self.attributes["current_temperature"] or AMBIENT_C)
        cooling = self.attributes["power"] and self.attributes["mode"] in ("cool", "dry", "auto", "heat")
        goal = float(self.attributes["temperature"] or AMBIENT_C) if cooling else AMBIENT_C
        factor = min(1.0, dt_s * AC_APPROACH_PER_S * (1.0 if cooling else 0.3))
        new = round(current + (goal - current) * factor, 1)
        if new == current:
            return Outcome()
        return Outcome(self._set(current_temperature=num(new)))


class _Cycle(Appliance):
    """A washer or dryer: idle → running ⇄ paused → finished, counting its course down."""

    defaults: ClassVar[Mapping[str, StateValue]] = {
        "run_state": "idle",
        "remaining_time": 0,
        "mode": "standard",
    }

    def course_s(self) -> int:
        return WASH_COURSE_S.get(str(self.attributes.get("mode")), WASH_COURSE_S["standard"])

    def _cmd_start(self, command: Command) -> Changes:
        if self.attributes["run_state"] == "running":
            return {}
        if self.attributes["run_state"] == "paused" and int(self.attributes["remaining_time"] or 0) > 0:
            return self._set(run_state="running")
        return self._set(run_state="running", remaining_time=self.course_s())

    def _cmd_pause(self, command: Command) -> Changes:
        if self.attributes["run_state"] != "running":
            return {}
        return self._set(run_state="paused")

    def _cmd_stop(self, command: Command) -> Changes:
        return self._set(run_state="idle", remaining_time=0)

    def _cmd_set_mode(self, command: Command) -> Changes:
        if self.attributes["run_state"] in ("running", "paused"):
            raise InvalidValue(
                "error.busy_running",
                "cannot change the course while a cycle runs",
                problem=ValueProblem.BUSY_RUNNING,
                device=self.device.name_in("ko"),
                device_en=self.device.name_in("en"),
            )
        return self._set(mode=str(command.value))

    def advance(self, dt_s: float) -> Outcome:
        if self.attributes["run_state"] != "running":
            return Outcome()
        before = float(self.attributes["remaining_time"] or 0)
        left = max(0, int(before - dt_s + 0.5)) if before - dt_s > 0 else 0
        if left > 0:
            return Outcome(self._set(remaining_time=left)) if left != int(before) else Outcome()
        outcome = Outcome(self._set(run_state="finished", remaining_time=0))
        outcome.events.append((EventKind.FINISHED, {"mode": self.attributes.get("mode")}))
        return outcome


class Washer(_Cycle):
    pass


class Dryer(_Cycle):
    defaults: ClassVar[Mapping[str, StateValue]] = {"run_state": "idle", "remaining_time": 0}

    def course_s(self) -> int:
        return DRY_COURSE_S


class Refrigerator(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {
        "fridge_temperature": 3,
        "freezer_temperature": -18,
        "door": "closed",
        "express_freeze": False,
    }
    _door_open_s = 0.0

    def execute(self, command: Command) -> Changes:
        if command.name in ("turn_on", "turn_off"):
            return self._set(express_freeze=command.name == "turn_on")
        return super().execute(command)

    def _cmd_set_temperature(self, command: Command) -> Changes:
        return self._set(**{f"{command.target}_temperature": num(float(command.value or 0))})

    def _cmd_adjust_temperature(self, command: Command) -> Changes:
        target = command.target or "fridge"
        limit = self.device.spec.compartments[target]
        return self._set(
            **{
                f"{target}_temperature": num(
                    self._adjust(f"{target}_temperature", command, 1, limit.low, limit.high)
                )
            }
        )

    def advance(self, dt_s: float) -> Outcome:
        # Someone opens the door about every two hours for about 20 seconds.
        if self.attributes["door"] == "open":
            self._door_open_s += dt_s
            if self._door_open_s >= 20:
                self._door_open_s = 0
                return Outcome(self._set(door="closed"))
            return Outcome()
        if self.rng.random() < min(1.0, dt_s / 7200):
            return Outcome(self._set(door="open"))
        return Outcome()


class AirPurifier(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {
        "power": False,
        "mode": "auto",
        "fan_speed": "auto",
        "pm25": 35,
        "air_quality": "moderate",
    }

    def _cmd_set_mode(self, command: Command) -> Changes:
        return self._set(mode=str(command.value), power=True)

    def _cmd_set_fan_speed(self, command: Command) -> Changes:
        return self._set(fan_speed=str(command.value), power=True)

    def advance(self, dt_s: float) -> Outcome:
        pm25 = float(self.attributes["pm25"] or 0)
        if self.attributes["power"]:
            pm25 = max(5.0, pm25 * (1 - min(1.0, dt_s / 900)))  # filtering: ~15 min time constant
        else:
            pm25 = min(120.0, pm25 + dt_s * 0.002 + self.rng.uniform(-0.01, 0.02) * dt_s)
        level = round(pm25)
        if level == self.attributes["pm25"]:
            return Outcome()
        # Korean PM2.5 bands (환경부): good ≤15, moderate ≤35, bad ≤75, very bad above.
        quality = (
            "good" if level <= 15 else "moderate" if level <= 35 else "bad" if level <= 75 else "very_bad"
        )
        return Outcome(self._set(pm25=level, air_quality=quality))


class RobotCleaner(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {
        "run_state": "docked",
        "battery": 100,
        "cleaned_s": 0,
        "zone": None,
    }
    """`zone`: the zone being cleaned (None: the whole home)."""

    def _cmd_start(self, command: Command) -> Changes:
        if float(self.attributes["battery"] or 0) <= ROBOT_LOW_BATTERY_PCT:
            raise InvalidValue(
                "error.battery_low",
                "battery too low to clean",
                problem=ValueProblem.BATTERY_LOW,
                device=self.device.name_in("ko"),
                device_en=self.device.name_in("en"),
            )
        if command.value is not None:  # validated against the device's zones
            return self._set(run_state="cleaning", zone=str(command.value), cleaned_s=0)
        if self.attributes["run_state"] == "paused":  # continue where it was, zone included
            return self._set(run_state="cleaning")
        return self._set(run_state="cleaning", zone=None)

    def _cmd_pause(self, command: Command) -> Changes:
        return self._set(run_state="paused") if self.attributes["run_state"] == "cleaning" else {}

    def _cmd_stop(self, command: Command) -> Changes:
        return self._set(run_state="idle") if self.attributes["run_state"] != "docked" else {}

    def _cmd_return_to_base(self, command: Command) -> Changes:
        if self.attributes["run_state"] == "docked":
            return {}
        self._returning_s = 0.0
        return self._set(run_state="returning")

    _returning_s = 0.0

    def advance(self, dt_s: float) -> Outcome:
        state = self.attributes["run_state"]
        battery = float(self.attributes["battery"] or 0)
        if state == "cleaning":
            battery = max(0.0, battery - dt_s * ROBOT_DRAIN_PCT_PER_S)
            cleaned = float(self.attributes["cleaned_s"] or 0) + dt_s
            changes: Changes = {"battery": round(battery, 1), "cleaned_s": int(cleaned)}
            outcome = Outcome()
            zone = self.attributes.get("zone")
            done = cleaned >= (ROBOT_ZONE_CLEAN_S if zone else ROBOT_CLEAN_S)
            if battery <= ROBOT_LOW_BATTERY_PCT or done:
                changes["run_state"] = "returning"
                self._returning_s = 0.0
                if done:
                    finished: dict[str, Any] = {"cleaned_s": int(cleaned)}
                    if zone:
                        finished["zone"] = zone
                    outcome.events.append((EventKind.FINISHED, finished))
                    changes["cleaned_s"] = 0
            outcome.changes = self._set(**changes)
            return outcome
        if state == "returning":
            self._returning_s += dt_s
            if self._returning_s >= ROBOT_RETURN_S:
                return Outcome(self._set(run_state="docked"))
            return Outcome()
        if state == "docked" and battery < 100:
            return Outcome(self._set(battery=round(min(100.0, battery + dt_s * ROBOT_CHARGE_PCT_PER_S), 1)))
        return Outcome()


class Switch(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {"power": False}


class Sensor(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {"value": 22.0}

    def advance(self, dt_s: float) -> Outcome:
        value = round(float(self.attributes["value"] or 0) + self.rng.uniform(-0.01, 0.01) * dt_s, 1)
        return Outcome(self._set(value=value)) if value != self.attributes["value"] else Outcome()


class DoorLock(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {"locked": True}

    def _cmd_lock(self, command: Command) -> Changes:
        return self._set(locked=True)

    def _cmd_unlock(self, command: Command) -> Changes:
        return self._set(locked=False)


class GasValve(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {"valve": "closed"}

    def _cmd_open(self, command: Command) -> Changes:
        return self._set(valve="open")

    def _cmd_close(self, command: Command) -> Changes:
        return self._set(valve="closed")


class Oven(Appliance):
    defaults: ClassVar[Mapping[str, StateValue]] = {
        "power": False,
        "temperature": 180,
        "current_temperature": 25.0,
    }

    def _cmd_set_temperature(self, command: Command) -> Changes:
        return self._set(temperature=num(float(command.value or 0)))

    def advance(self, dt_s: float) -> Outcome:
        current = float(self.attributes["current_temperature"] or 0)
        target = float(self.attributes["temperature"] or 0) if self.attributes["power"] else 25.0
        step = OVEN_HEAT_C_PER_S * dt_s
        moved = min(target, current + step) if current < target else max(target, current - step)
        moved = round(moved, 1)
        return Outcome(self._set(current_temperature=moved)) if moved != current else Outcome()


APPLIANCES: dict[DeviceType, type[Appliance]] = {
    DeviceType.LIGHT: Light,
    DeviceType.TV: Tv,
    DeviceType.AIR_CONDITIONER: AirConditioner,
    DeviceType.WASHER: Washer,
    DeviceType.DRYER: Dryer,
    DeviceType.REFRIGERATOR: Refrigerator,
    DeviceType.AIR_PURIFIER: AirPurifier,
    DeviceType.ROBOT_CLEANER: RobotCleaner,
    DeviceType.SWITCH: Switch,
    DeviceType.SENSOR: Sensor,
    DeviceType.DOOR_LOCK: DoorLock,
    DeviceType.GAS_VALVE: GasValve,
    DeviceType.OVEN: Oven,
}
