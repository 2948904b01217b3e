"""Runs of a routine: its mode (single, restart, queued, parallel with max_runs), the queue, a
run's life from start to its stored end, runs cut off by a restart resumed or skipped, and runs
asked for by a person (`run_now`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

from oneteam.automation.engine_state import EngineState, OwnerRevoked, RoutineBusy, refusal
from oneteam.automation.model import Automation, Mode, Scene
from oneteam.automation.steps import scene_status
from oneteam.automation.store import RunRecord

_LOGGER = logging.getLogger(__name__)
_RUN_ERROR = "automation.run_error"


class Runs(EngineState):
    """Starting, queueing, restarting and finishing runs."""

    def _start(
        self,
        routine: Automation,
        info: dict[str, Any],
        conditions: list[dict[str, Any]],
    ) -> RunRecord | None:
        """Start a run unless the routine's mode refuses it. Its row is written by its own task,
        off the loop (its id is 0 until then)."""
        active = self._active.setdefault(routine.id, set())
        if active:
            if routine.mode is Mode.SINGLE:
                self.stats["ignored"] += 1
                return None
            if routine.mode is Mode.RESTART:
                for task in list(active):
                    self._restarting.add(task)
                    task.cancel()
                active.clear()
            elif routine.mode is Mode.QUEUED:
                queue = self._queues.setdefault(routine.id, deque())
                if len(queue) >= routine.max_runs:
                    self.stats["dropped"] += 1
                    return None
                queue.append({"info": info, "conditions": conditions})
                return None
            elif len(active) >= routine.max_runs:
                self.stats["dropped"] += 1
                return None
        record = RunRecord(
            id=0, routine_id=routine.id, status="running", trigger=info, started_at=time.time()
        )
        record.trace["conditions"] = conditions
        self._launch(routine, record, resume=False)
        return record

    def _launch(self, routine: Automation, record: RunRecord, *, resume: bool) -> asyncio.Task[None]:
        self.stats["runs"] += 1
        task = asyncio.create_task(
            self._run(routine, record, resume=resume), name=f"routine:{routine.id}:{record.id}"
        )
        self._active.setdefault(routine.id, set()).add(task)
        task.add_done_callback(lambda done: self._run_done(routine.id, done, record))
        return task

    def _run_done(self, routine_id: str, task: asyncio.Task[None], record: RunRecord) -> None:
        restarted = task in self._restarting
        self._restarting.discard(task)
        if task.cancelled() and record.id == 0:
            self._record_unstarted(
                record, "restarted" if restarted else "running" if self._stopping else "cancelled"
            )
        active = self._active.get(routine_id, set())
        active.discard(task)
        queue = self._queues.get(routine_id)
        routine = self.routines.get(routine_id)
        if queue and not active and not self._stopping and isinstance(routine, Automation):
            waiting = queue.popleft()
            record = RunRecord(
                id=0, routine_id=routine_id, status="running", trigger=waiting["info"], started_at=time.time()
            )
            record.trace["conditions"] = waiting["conditions"]
            record.trace["notes"].append({"key": "automation.note_queued"})
            self._launch(routine, record, resume=False)

    async def _run(self, routine: Automation, record: RunRecord, *, resume: bool, depth: int = 0) -> None:
        task = asyncio.current_task()
        try:
            if record.id == 0:
                await self._insert(record)
            self._announce(record, "started", resumed=resume)
            grant = await self.grant_now(routine.id)
            record.status = await self._steps(routine, record, grant, resume=resume, depth=depth)
        except OwnerRevoked as exc:
            # Before any step: nothing is dispatched for someone who may no longer act.
            _LOGGER.warning("routine %s not run: %s", routine.id, exc)
            record.status = "failed"
            record.trace["notes"].append(refusal(exc))
        except asyncio.CancelledError:
            if task is not None and task in self._restarting:
                record.status = "restarted"
            elif self._stopping:
                raise  # the stored position stays "running": the next start resumes or skips it
            else:
                record.status = "cancelled"
            if depth > 0:  # a nested run ends with its parent, which records its own status
                record.finished_at = time.time()
                await self._io(self.store.save_run, record)
                raise
        except Exception as exc:  # a bug must not leave a run silently half-done
            _LOGGER.exception("routine %s run %d failed", routine.id, record.id)
            record.status = "failed"
            record.trace["notes"].append({"key": _RUN_ERROR, "error": repr(exc)})
        record.finished_at = time.time()
        record.resume_at = None
        if record.id:  # 0: its first row could not be written (logged above): nothing to update
            await self._io(self.store.save_run, record)
        refused = next((n for n in record.trace["notes"] if n.get("key") == OwnerRevoked.key), None)
        self._announce(record, "finished", **({"error": refused} if refused else {}))
        if record.id % 20 == 0:
            await self._io(self.store.prune_runs, routine.id)

    def _record_unstarted(self, record: RunRecord, status: str) -> None:
        """A triggered run cut before its task began (a restart-mode routine fired again at once,
        or the engine stopping): its row is written off the loop (a refused write is logged), so it
        is listed like any other run ("running" when stopping: the next start resumes it, as a
        run cut in its first step)."""
        record.status = status
        record.finished_at = time.time()
        self._later(self._write_finished, record)

    async def _insert(self, record: RunRecord) -> None:
        """Write a triggered run's first row off the loop and take its id. Cancelled meanwhile (a
        restart-mode routine fired again), the row is still written and its id kept, so the run's
        end is recorded on it rather than left "running" for the next start to resume."""
        insert = asyncio.ensure_future(self._io(self.store.start_run, record.routine_id, record.trigger))
        try:
            stored = await asyncio.shield(insert)
        except asyncio.CancelledError:
            stored = await insert
            record.id, record.started_at = stored.id, stored.started_at
            raise
        record.id, record.started_at = stored.id, stored.started_at

    async def _resume_runs(self) -> None:
        cut = await self._io(self.store.runs, status="running", limit=100_000)
        now = time.time()
        for record in cut:
            routine = self.routines.get(record.routine_id)
            note: dict[str, Any]
            if isinstance(routine, Automation) and record.resume_at is not None:
                late = now - record.resume_at
                if late <= self.grace_s:
                    record.trace["notes"].append(
                        {"key": "automation.note_resumed", "at": now, "step": record.step}
                    )
                    self._launch(routine, record, resume=True)
                    continue
                record.status = "skipped"
                note = {
                    "key": "automation.note_resume_skipped",
                    "due_at": record.resume_at,
                    "late_s": round(late),
                    "grace_s": self.grace_s,
                }
            else:
                # Cut off in the middle of a command (or the routine is gone): not repeated, since
                # the command may already have reached the device.
                record.status = "interrupted"
                note = {"key": "automation.note_interrupted", "step": record.step}
            record.trace["notes"].append(note)
            record.finished_at = now
            record.resume_at = None
            await self._io(self.store.save_run, record)

    async def run_now(self, routine_id: str, *, source: str = "api", wait_s: float = 0.0) -> RunRecord:
        """Run a routine's actions now (conditions are not checked) or apply a scene; with
        `wait_s`, wait up to that long for the run to finish."""
        routine = self.get(routine_id)
        info: dict[str, Any] = {"kind": "manual", "by": source, "fired_at": time.time()}
        if isinstance(routine, Scene):
            record = await self._io(self.store.start_run, routine.id, info)
            self._announce(record, "started")
            started, clock = time.time(), time.perf_counter()
            try:
                grant = await self.grant_now(routine.id)
            except OwnerRevoked as exc:
                record.status = "failed"
                record.trace["notes"].append(refusal(exc))
                record.finished_at = time.time()
                await self._io(self.store.save_run, record)
                self._announce(record, "finished", error=refusal(exc))
                return record
            results = await self.apply_scene(routine, grant)
            status = scene_status(results)
            record.trace["steps"].append(
                {
                    "index": 0,
                    "action": "scene",
                    "status": status,
                    "at": started,
                    "ms": round((time.perf_counter() - clock) * 1000, 2),
                    "scene": routine.id,
                    "results": results,
                }
            )
            record.status = "done" if status == "ok" else status
            record.finished_at = time.time()
            await self._io(self.store.save_run, record)
            self._announce(record, "finished")
            return record
        started_record = self._start(routine, info, [])
        if started_record is None:
            raise RoutineBusy(routine.id, routine.mode.value)
        # Its task writes its row first, off the loop: the id comes within a round trip.
        while started_record.id == 0 and started_record.finished_at is None:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        if started_record.id == 0:
            return started_record  # its row could not be written (logged by its task)
        if wait_s > 0:
            deadline = time.time() + wait_s
            while time.time() < deadline:
                current = await self._io(self.store.run, started_record.id)
                if current is not None and current.status != "running":
                    return current
                await asyncio.sleep(0.05)
        return await self._io(self.store.run, started_record.id) or started_record
