"""How `oneteam serve` starts and stops: ports claimed before anything is printed, and one clean
shutdown (flush storage, stop adapters) for Ctrl-C and SIGTERM alike."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Callable, Generator, Iterator

import uvicorn

from oneteam.hub import ConfigError

_LOGGER = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class PortInUse(ConfigError):
    """Another program listens on a port the hub needs (exit code 2, like any bad setting)."""

    key = "error.port_in_use"

    def __init__(self, host: str, port: int, what: str, option: str) -> None:
        super().__init__(f"{host}:{port} is already in use", host=host, port=port, what=what, option=option)


class PortUnavailable(ConfigError):
    """A port the hub may not listen on (a privileged port, an address this machine lacks)."""

    key = "error.port_unavailable"

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}", host=host, port=port, reason=reason)


def claim_port(host: str, port: int, *, what: str, option: str) -> socket.socket:
    """A listening socket on host:port, or PortInUse / PortUnavailable (nothing else started yet)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        return socket.create_server(address, family=family, backlog=2048)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(host, port, what, option) from None
        raise PortUnavailable(host, port, exc.strerror or str(exc)) from None


def check_port_free(host: str, port: int, *, what: str, option: str) -> None:
    """Raise PortInUse now if host:port is taken (the part that listens on it starts later)."""
    claim_port(host, port, what=what, option=option).close()


class HubServer(uvicorn.Server):
    """uvicorn without its own signal handling: serve.py owns SIGINT and SIGTERM. (uvicorn raises
    a caught SIGTERM again after serving, which killed the process before the hub flushed storage
    and stopped its adapters.)"""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class StopSignals:
    """SIGINT and SIGTERM ask for the same clean stop; a second Ctrl-C stops without waiting."""

    def __init__(self, on_stop: Callable[[str], None]) -> None:
        self.requested: str | None = None
        """The signal's name once a stop was asked for."""
        self.server: uvicorn.Server | None = None
        self._on_stop = on_stop

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopSignals]:
        """Handle the signals on the running loop while the block runs."""
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._handle, sig)
        try:
            yield self
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def _handle(self, sig: signal.Signals) -> None:
        if self.requested is not None:
            if sig == signal.SIGINT and self.server is not None:
                self.server.force_exit = True
            return
        self.requested = sig.name
        _LOGGER.info("%s received: stopping the hub", sig.name)
        self._on_stop(sig.name)
        if self.server is not None:
            self.server.should_exit = True
