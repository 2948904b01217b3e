"""Whether an automation's conditions hold now, with a result per condition for the trace."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from oneteam.automation.definitions import condition_to_dict
from oneteam.automation.model import (
    AllOf,
    AnyOf,
    Condition,
    HolidayCondition,
    Not,
    NumericCondition,
    StateCondition,
    TimeCondition,
    WeekdayCondition,
)
from oneteam.automation.timing import Place, in_window, is_holiday, weekday
from oneteam.model import State, StateValue

StateOf = Callable[[str], State | None]


def evaluate(
    conditions: Sequence[Condition], state_of: StateOf, now: float, place: Place
) -> tuple[bool, list[dict[str, Any]]]:
    """All conditions must hold; each top-level condition's result is listed (evaluation stops at
    the first that fails, as the later ones are not needed)."""
    results: list[dict[str, Any]] = []
    for index, condition in enumerate(conditions):
        passed = holds(condition, state_of, now, place)
        results.append({"index": index, "condition": condition_to_dict(condition), "passed": passed})
        if not passed:
            return False, results
    return True, results


def holds(condition: Condition, state_of: StateOf, now: float, place: Place) -> bool:  # noqa: PLR0911
    """One condition, now."""
    match condition:
        case StateCondition():
            value = _attribute(state_of, condition.device, condition.attribute)
            return any(_same(value, wanted) for wanted in condition.equals)
        case NumericCondition():
            return number_in(
                _attribute(state_of, condition.device, condition.attribute), condition.above, condition.below
            )
        case TimeCondition():
            return in_window(now, condition.after, condition.before, place)
        case WeekdayCondition():
            return weekday(now, place) in condition.days
        case HolidayCondition():
            return is_holiday(now, place, condition.country) == condition.is_holiday
        case AllOf():
            return all(holds(c, state_of, now, place) for c in condition.conditions)
        case AnyOf():
            return any(holds(c, state_of, now, place) for c in condition.conditions)
        case Not():
            return not holds(condition.condition, state_of, now, place)


def number_in(value: StateValue, above: float | None, below: float | None) -> bool:
    """Whether `value` is a number strictly between the limits given."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return (above is None or value > above) and (below is None or value < below)


def value_matches(
    value: StateValue, to: Sequence[StateValue], above: float | None, below: float | None
) -> bool:
    """A trigger's or wait's target: one of `to` (when given) and within the limits (when given)."""
    if to and not any(_same(value, wanted) for wanted in to):
        return False
    if above is not None or below is not None:
        return number_in(value, above, below)
    return True


def _same(value: StateValue, wanted: StateValue) -> bool:
    # True == 1 in Python; a state of `1` must not satisfy `is: true`, nor `true` satisfy `is: 1`.
    if isinstance(value, bool) or isinstance(wanted, bool):
        return isinstance(value, bool) and isinstance(wanted, bool) and value == wanted
    return value == wanted


def _attribute(state_of: StateOf, device: str, attribute: str) -> StateValue:
    state = state_of(device)
    if state is None:
        return None
    if attribute == "is_available":
        return state.is_available
    return state.get(attribute)
