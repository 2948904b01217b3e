"""Per-home parts a cluster process starts beside a home's Hub (cluster/host.py `open_home`): its
routine engine over the shared tables and its conversation agent. Imported lazily inside each, as a
process may serve homes without them (`ONETEAM_CLUSTER_PARTS`)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from fastapi import APIRouter

from oneteam.automation.store import RoutineStorage
from oneteam.hub import Hub


async def start_automation(
    hub: Hub,
    store: RoutineStorage,
    home_text: str,
    stack: AsyncExitStack,
    routers: list[APIRouter],
    state: dict[str, Any],
) -> None:
    """The home's routines, their runs and marks in the shared tables: a home taken over from a
    dead process resumes the runs it left in a delay (within the engine's grace)."""
    from oneteam.api import routines as routines_api
    from oneteam.automation import Engine

    engine = Engine(hub, store)
    # The Korean preset routines a lone hub gets (`oneteam serve`), installed once per home (a
    # mark in its rows): a home moved to another process does not get them again.
    await engine.start(home_text=home_text, presets="ko")
    stack.push_async_callback(engine.stop)
    routers.append(routines_api.router)
    state["automation"] = engine


async def start_conversation(hub: Hub) -> None:
    """The home's conversation agent (routines by voice too), over the process's one Kiwi."""
    from oneteam.voice.dialog import Conversation
    from oneteam.voice.routines import RoutineTalk

    # Both are seconds of CPU under load: off the loop, which must keep renewing the leases.
    conversation = await asyncio.to_thread(Conversation, hub)
    await asyncio.to_thread(conversation.understander.warm_up)
    hub.set_conversation_agent(RoutineTalk(hub, conversation))
