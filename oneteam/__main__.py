"""`python -m oneteam` runs the CLI."""

from oneteam.cli import main

main()
