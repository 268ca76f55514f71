"""`tutor`: the command line. One module per command group, each a thin layer over the
services: it parses, calls one function and renders (`app/cli/render.py`)."""

from __future__ import annotations

# Imported for their commands, in the order `tutor --help` shows their panels.
# isort: off
from app.cli import plan, journal, library, ask, practice, cards, check, progress, mastery, ops  # noqa: F401,E501

# isort: on
from app.cli.base import app
from app.cli.base import via_api_or_here

__all__ = ["app", "main", "via_api_or_here"]


def main() -> None:
    app()
