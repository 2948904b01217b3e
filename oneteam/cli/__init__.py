"""The `oneteam` command.

`oneteam understand "…"` is answered without importing the rest of the command (the hub's
integrations, services and partner doors take seconds to import and are not used by it).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: the full command, or the `understand` command alone when that is asked."""
    if len(sys.argv) > 1 and sys.argv[1] == "understand":
        from oneteam.voice.nlu.kiwi_analyser import prestart

        prestart()  # Kiwi's model loads while the rest is imported and the home file read
        from oneteam.voice.nlu.cli import main as understand_main

        sys.argv = [f"{sys.argv[0]} understand", *sys.argv[2:]]
        understand_main()
        return
    from oneteam.cli.main import main as full_main

    full_main()


def __getattr__(name: str) -> Any:
    if name == "app":
        from oneteam.cli.main import app

        return app
    raise AttributeError(name)
