"""`python -m oneteam.interop.mcp` runs the same command as `oneteam mcp`."""

import typer

from oneteam.interop.server_cli import mcp

if __name__ == "__main__":
    typer.run(mcp)
