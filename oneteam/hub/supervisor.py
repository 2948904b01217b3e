"""Supervision: every long-lived task is owned, named, logged when it fails and restarted.

A `Supervisor` belongs to one component (the hub, an adapter, the storage writer, an MQTT
client). Its tasks live in one `asyncio.TaskGroup`; each runs inside a guard that catches a
failure, logs it with its traceback, tells the owner (which marks the devices the task serves
unavailable, with the reason) and starts the work again after a capped exponential back-off.
A task that keeps running for `healthy_after_s` after a restart counts as recovered. Nothing a
supervisor owns can end without a log line, and `health()` lists what is failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

_LOGGER = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]] | Coroutine[Any, Any, None]
"""A factory of the task's coroutine (restartable), or one coroutine (runs once)."""
Devices = Iterable[str] | Callable[[], Iterable[str]]
"""The device ids a task serves, or a function that names them at the time of a failure."""
FailureHook = Callable[[str, list[str], BaseException], None]
"""(task name, devices it serves, the exception) when a task failed."""
RecoveryHook = Callable[[str, list[str]], None]
"""(task name, devices it serves) when a restarted task has run well for a while."""

BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 60.0
HEALTHY_AFTER_S = 30.0


@dataclass(slots=True, kw_only=True)
class _Entry:
    name: str
    work: Work
    devices: Devices
    restart: bool
    state: str = "starting"
    """starting, running, restarting (waiting out the back-off), failed (not restartable)."""
    failures: int = 0
    """Failures in a row (reset when the task recovers)."""
    total_failures: int = 0
    last_error: str = ""
    failed_at: float | None = None
    retry_at: float | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def device_ids(self) -> list[str]:
        devices = self.devices() if callable(self.devices) else self.devices
        return list(devices)


class Supervisor:
    """The named tasks of one component, in one TaskGroup, each restarted when it fails."""

    def __init__(
        self,
        name: str,
        *,
        on_failure: FailureHook | None = None,
        on_recovered: RecoveryHook | None = None,
        backoff_base_s: float = BACKOFF_BASE_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        healthy_after_s: float = HEALTHY_AFTER_S,
    ) -> None:
        self.name = name
        self.on_failure = on_failure
        self.on_recovered = on_recovered
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.healthy_after_s = healthy_after_s
        self._entries: dict[str, _Entry] = {}
        self._pending: list[_Entry] = []
        self._group: asyncio.TaskGroup | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifetime -------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether the supervisor's TaskGroup is up (or starting)."""
        return self._runner is not None and not self._runner.done()

    def start(self) -> None:
        """Open the TaskGroup on the running loop; tasks spawned before it opens start with it."""
        if self.is_running:
            return
        self._stopping = False
        self._runner = asyncio.get_running_loop().create_task(self._run(), name=f"{self.name}-supervisor")

    async def stop(self) -> None:
        """Cancel every task and wait until they are gone."""
        runner, self._runner = self._runner, None
        self._stopping = True
        self._pending.clear()
        if runner is not None and not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._group = None
        for entry in self._entries.values():
            coroutine = entry.work
            if entry.task is None and asyncio.iscoroutine(coroutine):
                coroutine.close()  # never started: no "coroutine was never awaited" warning
        self._entries.clear()

    async def __aenter__(self) -> Supervisor:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            pending, self._pending = self._pending, []
            for entry in pending:
                self._create(entry)
            # The group stays open until stop() cancels this task (which cancels every child).
            await asyncio.Event().wait()

    # -- tasks ----------------------------------------------------------------------------------

    def spawn(self, name: str, work: Work, *, devices: Devices = (), restart: bool = True) -> None:
        """Run `work` as the task `name`; a failure is logged, reported and (if `restart` and
        `work` is a factory) retried after a back-off. A task that returns is simply done."""
        if self._stopping:
            if asyncio.iscoroutine(work):
                work.close()
            return
        old = self._entries.get(name)
        if old is not None and old.task is not None and not old.task.done():
            old.task.cancel()
        entry = _Entry(name=name, work=work, devices=devices, restart=restart and callable(work))
        self._entries[name] = entry
        if self._group is None:
            self._pending.append(entry)
            if self._runner is None:
                self.start()
        else:
            self._create(entry)

    def cancel(self, name: str) -> None:
        """End one task (it is no longer needed)."""
        entry = self._entries.pop(name, None)
        if entry is not None and entry.task is not None:
            entry.task.cancel()

    async def end(self, name: str) -> None:
        """End one task and wait until it is gone (its part is closing before the component)."""
        entry = self._entries.pop(name, None)
        if entry is None:
            return
        if entry.task is None:
            if entry in self._pending:
                self._pending.remove(entry)
            if asyncio.iscoroutine(entry.work):
                entry.work.close()
            return
        entry.task.cancel()
        await asyncio.wait({entry.task})

    def _create(self, entry: _Entry) -> None:
        assert self._group is not None
        entry.task = self._group.create_task(self._guard(entry), name=entry.name)

    async def _guard(self, entry: _Entry) -> None:
        loop = asyncio.get_running_loop()
        while True:
            entry.state = "running"
            entry.retry_at = None
            healthy = (
                loop.call_later(self.healthy_after_s, self._recovered, entry) if entry.failures else None
            )
            try:
                work = entry.work
                await (work() if callable(work) else work)
            except Exception as exc:
                if healthy is not None:
                    healthy.cancel()  # before the back-off sleep, during which it could fire
                delay = self._failed(entry, exc)
                if delay is None:
                    return
                entry.state = "restarting"
                entry.retry_at = time.time() + delay
                await asyncio.sleep(delay)
                continue
            finally:
                if healthy is not None:
                    healthy.cancel()  # also when cancelled: a stopped component recovers nothing
            if healthy is not None:
                self._recovered(entry)
            if self._entries.get(entry.name) is entry:
                del self._entries[entry.name]
            return

    def _failed(self, entry: _Entry, exc: BaseException) -> float | None:
        """Log and report a failure; the back-off before the restart, or None when there is none."""
        entry.failures += 1
        entry.total_failures += 1
        entry.last_error = f"{exc.__class__.__name__}: {exc}"
        entry.failed_at = time.time()
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** (entry.failures - 1))
        if entry.restart:
            _LOGGER.error(
                "%s: task %s failed (%d in a row); restarting in %.1f s",
                self.name,
                entry.name,
                entry.failures,
                delay,
                exc_info=exc,
            )
        else:
            entry.state = "failed"
            _LOGGER.error("%s: task %s failed and cannot be restarted", self.name, entry.name, exc_info=exc)
        if self.on_failure is not None:
            try:
                self.on_failure(entry.name, entry.device_ids(), exc)
            except Exception:
                _LOGGER.exception("%s: reporting the failure of %s failed", self.name, entry.name)
        return delay if entry.restart else None

    def _recovered(self, entry: _Entry) -> None:
        if not entry.failures:
            return
        _LOGGER.warning("%s: task %s runs again after %d failure(s)", self.name, entry.name, entry.failures)
        entry.failures = 0
        if self.on_recovered is not None:
            try:
                self.on_recovered(entry.name, entry.device_ids())
            except Exception:
                _LOGGER.exception("%s: reporting the recovery of %s failed", self.name, entry.name)

    # -- health ---------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """The tasks owned now."""
        return list(self._entries)

    def health(self) -> list[dict[str, Any]]:
        """Each task: its state, failures and last error (for the health endpoint)."""
        return [
            {
                "component": self.name,
                "task": entry.name,
                "state": entry.state,
                "failures": entry.failures,
                "total_failures": entry.total_failures,
                "last_error": entry.last_error,
                "retry_at": entry.retry_at,
            }
            for entry in self._entries.values()
        ]

    def failing(self) -> list[dict[str, Any]]:
        """The tasks that failed and have not recovered yet."""
        return [row for row in self.health() if row["failures"] or row["state"] == "failed"]
