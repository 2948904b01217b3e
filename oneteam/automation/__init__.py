"""Routines, scenes and automations: the home acts on its own, through the hub's one command path.

Imports `hub` and `model` (and i18n), never api/cli/voice. The engine (engine.py) watches the bus
and the clock, runs actions through `hub.dispatch` as `Grant(principal="routine:<id>",
door=Door.ROUTINE)` within the limits of whoever saved the routine as they stand at each run,
and keeps routines, runs and traces in its own tables (store.py).
"""

from oneteam.automation.engine import Engine, RoutineBusy, grant_for
from oneteam.automation.errors import AutomationInvalid, RoutineExists, RoutineNotFound, RunNotFound
from oneteam.automation.store import AutomationStore, RoutineStorage, RunRecord
from oneteam.automation.timing import Place

__all__ = [
    "AutomationInvalid",
    "AutomationStore",
    "Engine",
    "Place",
    "RoutineBusy",
    "RoutineExists",
    "RoutineNotFound",
    "RoutineStorage",
    "RunNotFound",
    "RunRecord",
    "grant_for",
]
