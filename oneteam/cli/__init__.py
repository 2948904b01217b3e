"""The `oneteam` command."""

from oneteam.cli.main import app, main

__all__ = ["app", "main"]
