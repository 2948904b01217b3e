"""When time triggers fire and whether time conditions hold, in the home's zone and place.

Recurring times use croniter, sunrise/sunset use astral for the home's coordinates, and Korean
public holidays (lunar ones included) come from the `holidays` package.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from astral import Observer
from astral.sun import sunrise, sunset
from croniter import croniter

from oneteam.automation.definitions import clock_seconds
from oneteam.automation.model import CronTrigger, SunTrigger, TimeTrigger

SEOUL = (37.5665, 126.9780)


@dataclass(frozen=True, slots=True)
class Place:
    """Where and in which time zone the home is (Seoul unless the home file says `location:`)."""

    latitude: float = SEOUL[0]
    longitude: float = SEOUL[1]
    timezone: str = "Asia/Seoul"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def next_fire(trigger: TimeTrigger | CronTrigger | SunTrigger, after: float, place: Place) -> float | None:
    """The first Unix time strictly after `after` at which the trigger fires (None: never within a year)."""
    zone = place.zone
    local = dt.datetime.fromtimestamp(after, zone)
    if isinstance(trigger, CronTrigger):
        fire = croniter(trigger.cron, local).get_next(float)
        return float(fire) if fire > after else None
    if isinstance(trigger, TimeTrigger):
        seconds = clock_seconds(trigger.at) or 0
        for days in range(0, 9):
            day = local.date() + dt.timedelta(days=days)
            if trigger.weekdays and day.weekday() not in trigger.weekdays:
                continue
            midnight = dt.datetime.combine(day, dt.time(), zone)
            fire = (midnight + dt.timedelta(seconds=seconds)).timestamp()
            if fire > after:
                return fire
        return None
    observer = Observer(latitude=place.latitude, longitude=place.longitude)
    when = sunrise if trigger.event == "sunrise" else sunset
    for days in range(-1, 366):
        day = local.date() + dt.timedelta(days=days)
        try:
            moment = when(observer, date=day, tzinfo=zone)
        except ValueError:  # no sunrise or sunset that day (polar day or night)
            continue
        fire = moment.timestamp() + trigger.offset_s
        if fire > after:
            return fire
    return None


def last_fire(
    trigger: TimeTrigger | CronTrigger | SunTrigger, after: float, until: float, place: Place
) -> float | None:
    """The latest fire time in (after, until], or None (for catching up after downtime)."""
    latest: float | None = None
    moment = after
    for _ in range(10_000):  # a long downtime with a per-second cron is bounded, not endless
        fire = next_fire(trigger, moment, place)
        if fire is None or fire > until:
            break
        latest, moment = fire, fire
    return latest


def in_window(now: float, after: str | None, before: str | None, place: Place) -> bool:
    """Whether local time of day is in [after, before); a window whose end is earlier wraps midnight."""
    local = dt.datetime.fromtimestamp(now, place.zone)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    start = clock_seconds(after) if after else None
    end = clock_seconds(before) if before else None
    if start is not None and end is not None and end < start:
        return seconds >= start or seconds < end
    return (start is None or seconds >= start) and (end is None or seconds < end)


def weekday(now: float, place: Place) -> int:
    """Local weekday, 0 = Monday."""
    return dt.datetime.fromtimestamp(now, place.zone).weekday()


def is_holiday(now: float, place: Place, country: str = "KR") -> bool:
    """Whether the local date is a public holiday (Korean lunar holidays and substitutes included)."""
    day = dt.datetime.fromtimestamp(now, place.zone).date()
    return day in _holidays(country, day.year)


@lru_cache(maxsize=16)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)
