"""Failures of the automation room, each with a message key in i18n/messages/*/automation.yaml."""

from __future__ import annotations

from typing import Any

from oneteam.i18n import render
from oneteam.model import InvalidCommand, NotFound, OneteamError


class AutomationInvalid(InvalidCommand):
    """A routine or scene that cannot be accepted; `where` says which part (`actions[2]`)."""

    def __init__(self, key: str, where: str, message: str, **params: Any) -> None:
        super().__init__(f"{where}: {message}", where=where, **params)
        self.key = key

    @classmethod
    def refused(cls, where: str, error: OneteamError) -> AutomationInvalid:
        """A step the device itself refuses (unknown command, value out of range), with the
        device's reason in both languages so any door can show it in its reader's."""
        return cls(
            "automation.step_refused",
            where,
            str(error),
            reason_ko=render(error.key, "ko", **error.params),
            reason_en=render(error.key, "en", **error.params),
            reason_key=error.key,
        )


class RoutineNotFound(NotFound):
    """No routine or scene with this id."""

    key = "automation.not_found"

    def __init__(self, routine_id: str) -> None:
        super().__init__(f"no routine {routine_id!r}", id=routine_id)


class RunNotFound(NotFound):
    """No stored run with this id."""

    key = "automation.run_not_found"

    def __init__(self, run_id: int) -> None:
        super().__init__(f"no run {run_id}", id=run_id)


class RoutineExists(OneteamError):
    """Creating a routine whose id is taken (replace it with PUT instead)."""

    key = "automation.exists"

    def __init__(self, routine_id: str) -> None:
        super().__init__(f"routine {routine_id!r} exists", id=routine_id)
