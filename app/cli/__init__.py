"""`tutor`: the command line. One module per command group, each a thin layer over the
services: it parses, calls one function and renders (`app/cli/render.py`)."""

from __future__ import annotations

from app.cli import ask, cards, library, ops, plan, practice, progress  # noqa: F401 - registers
from app.cli.base import app, via_api_or_here

__all__ = ["app", "main", "via_api_or_here"]


def main() -> None:
    app()
