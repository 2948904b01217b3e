"""A real hub and API served by uvicorn in a background thread, for tests that must act inside the hub
(publish a service's warning, unplug a device) while a browser watches."""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from oneteam.api.app import create_app
from oneteam.cli.serve import DEMO_HOME
from oneteam.hub import AdapterSink, Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Device, DeviceType, DeviceUnavailable, State
from oneteam.model.types import builtin_type_specs
from tests.conftest import free_port

T = TypeVar("T")


class PlugAdapter:
    """A smart plug reached over the network, which can be pulled out of the wall: something the
    virtual appliances never do. It speaks the real Adapter protocol to the hub."""

    name = "plug"

    def __init__(self) -> None:
        self.device = Device(
            id="plug_living",
            type=DeviceType.SWITCH,
            room="living_room",
            spec=builtin_type_specs()[DeviceType.SWITCH],
            names=("거실 플러그", "living room plug"),
            integration=self.name,
        )
        self.is_plugged_in = True
        self._sink: AdapterSink | None = None

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        self._sink = sink
        sink.report_state(self.device.id, {"power": False})

    async def devices(self) -> Sequence[Device]:
        return [self.device]

    async def execute(self, command: Command) -> None:
        if not self.is_plugged_in or self._sink is None:
            raise DeviceUnavailable(self.device.id)
        self._sink.report_state(self.device.id, {"power": command.name == "turn_on"})

    async def stop(self) -> None:
        self._sink = None

    def unplug(self) -> None:
        """The plug drops off the network."""
        self.is_plugged_in = False
        if self._sink is not None:
            self._sink.report_availability(self.device.id, False, "unplugged")


class LoopServer(ABC):
    """An ASGI app served by uvicorn on a free port, on an event loop in a thread of its own, so a
    test can act inside the app's loop (`run`) while a browser talks to it. Subclasses build what
    they serve in `_start` (ending with `await self._serve(app)`) and let go of it in `_release`."""

    def __init__(self, name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None

    def run(self, work: Callable[[], Coroutine[Any, Any, T]], timeout_s: float = 30) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work(), self._loop).result(timeout_s)

    def start(self) -> None:
        self._thread.start()
        self.run(self._start)

    def stop(self) -> None:
        self.run(self._stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @abstractmethod
    async def _start(self) -> None:
        """Build what is served and serve it (`await self._serve(app)`)."""

    @abstractmethod
    async def _release(self) -> None:
        """Close what `_start` opened (after the server has stopped)."""

    async def _serve(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve(), name=f"{self._thread.name}-server")
        async with asyncio.timeout(10):
            while not self._server.started:
                await asyncio.sleep(0.02)

    async def _stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
        await self._release()


class ThreadedHub(LoopServer):
    """The demo home plus a plug, with the full API (and page) on a free port, in its own event loop."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__("threaded-hub")
        self.data_dir = data_dir
        self.plug = PlugAdapter()
        self.token = ""
        self.hub: Hub | None = None

    async def _start(self) -> None:
        home = load_home(DEMO_HOME)
        hub = Hub(home, SqliteStorage(self.data_dir / "hub.db"))
        await hub.add_adapter(VirtualAdapter(home))
        await hub.add_adapter(self.plug)
        await hub.__aenter__()
        self.hub = hub
        self.token = await hub.create_token("web-test")
        await self._serve(create_app(hub))

    async def _release(self) -> None:
        if self.hub is not None:
            await self.hub.__aexit__(None, None, None)
