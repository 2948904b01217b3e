"""Language understanding: what a person says to the home, resolved against the home.

The engine knows no language; words live in `lang/<language>/*.yaml` and the home file.
"""

from oneteam.voice.nlu.result import (
    Action,
    ClarifyResult,
    CommandResult,
    NoneResult,
    QueryResult,
    Result,
    ScheduleCancelResult,
    ScheduleListResult,
    ScheduleResult,
    commands,
)
from oneteam.voice.nlu.tokens import language_of
from oneteam.voice.nlu.understand import Understander

__all__ = [
    "Action",
    "ClarifyResult",
    "CommandResult",
    "NoneResult",
    "QueryResult",
    "Result",
    "ScheduleCancelResult",
    "ScheduleListResult",
    "ScheduleResult",
    "Understander",
    "commands",
    "language_of",
]
