"""`python -m app.cli`: the `tutor` command, as the launcher and tests start it."""

from app.cli import main

main()
