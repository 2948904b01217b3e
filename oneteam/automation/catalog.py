"""The engine's routines: checked and stored (REST, voice, YAML import, the home file, presets),
listed, exported, and loaded again at start (a routine that no longer fits the home is kept, not run)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import yaml

from oneteam.automation.definitions import check_references, parse_routine, routine_to_dict
from oneteam.automation.engine_state import Allow, EngineState
from oneteam.automation.errors import AutomationInvalid, RoutineExists
from oneteam.automation.model import Automation, Routine, Scene
from oneteam.automation.store import StoredRoutine
from oneteam.automation.timing import Place
from oneteam.model import Grant

_LOGGER = logging.getLogger(__name__)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Catalog(EngineState):
    """Routines in, routines out."""

    async def put(
        self,
        data: Any,
        *,
        origin: str = "api",
        replace_existing: bool = True,
        kind: str | None = None,
        allow: Allow | None = None,
        owner: Grant | None = None,
    ) -> dict[str, Any]:
        """Check and store one routine or scene; returns it as data with the notes of dropped steps.
        `allow` may refuse it (raise) after it is checked and before it is stored; it runs within
        `owner`'s limits as they stand at each run (None: the household's own). Stored (off the
        loop) before it is answered."""
        parsed = parse_routine(data, self.devices(), kind=kind)
        routine = parsed.routine
        if not replace_existing and routine.id in self.routines:
            raise RoutineExists(routine.id)
        combined = {**self.routines, routine.id: routine}
        check_references(combined, routine)
        if allow is not None:
            allow(combined, routine)
        await self._save(routine, origin, owner)
        self._reindex()
        return {"routine": self.describe(routine), "notes": parsed.notes}

    async def delete(self, routine_id: str) -> None:
        if routine_id in self._unfit:  # one that does not fit the home can still be deleted
            await self._io(self.store.delete_routine, routine_id)
            self._unfit.pop(routine_id, None)
            self.problems = [p for p in self.problems if p.get("id") != routine_id]
            return
        self.get(routine_id)
        await self._io(self.store.delete_routine, routine_id)
        if self.routines.pop(routine_id, None) is None:
            return  # deleted by another call while this one was storing
        self.origins.pop(routine_id, None)
        self.owners.pop(routine_id, None)
        self._reindex()

    async def set_enabled(self, routine_id: str, enabled: bool) -> Routine:
        self.get(routine_id)
        await self._io(self.store.set_enabled, routine_id, enabled)
        routine = replace(self.get(routine_id), enabled=enabled)  # as it stands after the write
        self.routines[routine_id] = routine
        self._reindex()
        return routine

    def describe(self, routine: Routine) -> dict[str, Any]:
        """A routine for listings: its definition, kind, origin and whether it is running."""
        return {
            "kind": "scene" if isinstance(routine, Scene) else "automation",
            "origin": self.origins.get(routine.id, "api"),
            "owner": owner.principal if (owner := self.owners.get(routine.id)) is not None else None,
            "running": len(self._active.get(routine.id, ())),
            **routine_to_dict(routine),
            "enabled": routine.enabled,
        }

    async def import_yaml(
        self,
        text: str,
        *,
        origin: str,
        replace_existing: bool = True,
        strict: bool = True,
        allow: Allow | None = None,
        owner: Grant | None = None,
    ) -> dict[str, Any]:
        """Routines and scenes from YAML (`scenes:` and `routines:` lists), all or nothing when
        `strict`; otherwise a bad entry is left out with a note. `allow` may refuse the import
        (raise) before anything is stored; `owner` is whom the imported routines act as (None: the
        household's own, for the CLI and home files)."""
        try:
            data = yaml.load(text, Loader=_YAML_LOADER) or {}  # the C-accelerated safe loader when present
        except (yaml.YAMLError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise AutomationInvalid("automation.bad_yaml", "yaml", reason, reason=reason) from None
        if not isinstance(data, dict):
            raise AutomationInvalid("automation.not_mapping", "yaml", "expected a mapping")
        return await self._import(
            data, origin=origin, replace_existing=replace_existing, strict=strict, allow=allow, owner=owner
        )

    async def _import(
        self,
        data: dict[str, Any],
        *,
        origin: str,
        replace_existing: bool,
        strict: bool,
        allow: Allow | None = None,
        owner: Grant | None = None,
    ) -> dict[str, Any]:
        devices = self.devices()
        parsed: list[Routine] = []
        notes: list[dict[str, Any]] = []
        skipped: list[str] = []
        for section, kind in (("scenes", "scene"), ("routines", "automation")):
            items = data.get(section) or []
            if not isinstance(items, list):
                raise AutomationInvalid("automation.not_list", section, "expected a list")
            for index, item in enumerate(items):
                try:
                    result = parse_routine(item, devices, kind=kind, where=f"{section}[{index}].")
                except AutomationInvalid as exc:
                    if strict:
                        raise
                    notes.append({"key": exc.key, **exc.params})
                    continue
                if not replace_existing and result.routine.id in self.routines:
                    skipped.append(result.routine.id)
                    continue
                parsed.append(result.routine)
                notes.extend(result.notes)
        combined = {**self.routines, **{r.id: r for r in parsed}}
        accepted: list[Routine] = []
        for routine in parsed:
            try:
                check_references(combined, routine)
            except AutomationInvalid as exc:
                if strict:
                    raise
                notes.append({"key": exc.key, **exc.params})
                continue
            accepted.append(routine)
        if allow is not None:
            for routine in accepted:
                allow(combined, routine)
        for routine in accepted:
            await self._save(routine, origin, owner)
        self._reindex()
        return {"imported": [r.id for r in accepted], "skipped": skipped, "notes": notes}

    def export_yaml(self, ids: list[str] | None = None) -> str:
        chosen = [self.get(i) for i in ids] if ids else list(self.routines.values())
        data = {
            "scenes": [routine_to_dict(r) for r in chosen if isinstance(r, Scene)],
            "routines": [routine_to_dict(r) for r in chosen if isinstance(r, Automation)],
        }
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

    async def _save(self, routine: Routine, origin: str, owner: Grant | None = None) -> None:
        kind = "scene" if isinstance(routine, Scene) else "automation"
        stored_owner = None if owner is None else owner.as_dict()
        await self._io(
            self.store.put_routine,
            routine.id,
            kind,
            routine_to_dict(routine),
            routine.enabled,
            origin,
            stored_owner,
        )
        self._unfit.pop(routine.id, None)
        self.routines[routine.id] = routine
        self.origins[routine.id] = origin
        if owner is None:
            self.owners.pop(routine.id, None)
        else:
            self.owners[routine.id] = owner

    def _load_stored(self, stored_routines: Iterable[StoredRoutine]) -> None:
        """Routines as stored (read off the loop at start; those waiting for a device, from
        `_unfit`, when one joins)."""
        devices = self.devices()
        for stored in stored_routines:
            try:
                routine = parse_routine(stored.body, devices, kind=stored.kind).routine
            except AutomationInvalid as exc:
                # A device left the home (or has not joined yet: MQTT devices are discovered while
                # the hub runs): keep the definition, do not run it, say why, try again later.
                if stored.id not in self._unfit:
                    self.problems.append({"id": stored.id, "key": exc.key, **exc.params})
                    _LOGGER.warning("routine %s does not fit the home now: %s", stored.id, exc)
                self._unfit[stored.id] = stored
                continue
            self._unfit.pop(stored.id, None)
            self.problems = [p for p in self.problems if p.get("id") != stored.id]
            self.routines[stored.id] = replace(routine, enabled=stored.enabled)
            self.origins[stored.id] = stored.origin
            if stored.owner is None:
                self.owners.pop(stored.id, None)
            else:
                self.owners[stored.id] = Grant.from_dict(stored.owner)
        for routine in list(self.routines.values()):
            try:
                check_references(self.routines, routine)
            except AutomationInvalid as exc:
                problem = {"id": routine.id, "key": exc.key, **exc.params}
                if problem not in self.problems:
                    self.problems.append(problem)
        self._reindex()

    async def _load_home(self, text: str) -> None:
        """The home file's `location:`, `scenes:` and `routines:` (home-file routines replace those
        the home file made before; routines made by people with the same id are kept)."""
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            return  # the hub itself refuses a home file that is not YAML
        if not isinstance(data, dict):
            return
        location = data.get("location")
        if isinstance(location, dict):
            try:
                self.place = Place(
                    latitude=float(location["latitude"]),
                    longitude=float(location["longitude"]),
                    timezone=str(location.get("timezone", self.place.timezone)),
                )
            except (KeyError, TypeError, ValueError):
                self.problems.append({"id": "location", "key": "automation.bad_location"})
        ours = {k: v for k, v in data.items() if k in ("scenes", "routines")}
        if not ours:
            return
        taken = {i for i, o in self.origins.items() if o != "home"}
        for section in ("scenes", "routines"):
            items = ours.get(section)
            if isinstance(items, list):
                ours[section] = [i for i in items if not (isinstance(i, dict) and i.get("id") in taken)]
        try:
            result = await self._import(ours, origin="home", replace_existing=True, strict=False)
        except AutomationInvalid as exc:
            self.problems.append({"id": "home", "key": exc.key, **exc.params})
            return
        self.problems.extend({"id": "home", **note} for note in result["notes"])
