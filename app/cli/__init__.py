"""`tutor`: the command line. One module per command group, each a thin layer over the
services: it parses, calls one function and renders (`app/cli/render.py`)."""

from __future__ import annotations

import gc
import sys

import typer

# Imported for their commands, in the order `tutor --help` shows their panels.
# isort: off
from app.cli import plan, journal, library, ask, practice, cards, check, progress, mastery, ops  # noqa: F401,E501

# isort: on
from app.cli.base import app
from app.cli.base import err
from app.cli.base import reflowed
from app.cli.base import via_api_or_here

__all__ = ["app", "main", "via_api_or_here"]


def _reflow_help(group: typer.Typer) -> None:
    """Each command's --help (groups' too: `tutor cards add`) wrapped at the terminal's width."""
    for command in group.registered_commands:
        if command.help is None and command.callback is not None and command.callback.__doc__:
            command.help = reflowed(command.callback.__doc__)
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _reflow_help(sub.typer_instance)


_reflow_help(app)

# New container objects between two runs of Python's cyclic collector (Python's default: 700).
GC_THRESHOLD = 100_000


def main() -> None:
    """Run `tutor`, with Python's cyclic collector in larger steps and skipped at exit.

    A command's imports (chromadb, onnxruntime, pydantic, ...) make hundreds of thousands of
    objects that live until it exits; at the default threshold the collector walked them
    again and again as they were made, and once more at exit, for nothing: 0.28 s of a 1.4 s
    cold `tutor search` (docs/benchmarks.md). Garbage is still collected, in larger steps;
    what is alive at exit is frozen, so the interpreter's last collection skips it."""
    gc.set_threshold(GC_THRESHOLD)
    try:
        app()
    except Exception as exc:
        if (told := _learner_database_problem(exc)) is None:
            raise
        err.print(f"[bold red]error:[/bold red] {told}")
        raise SystemExit(1) from None
    finally:
        gc.freeze()


def _learner_database_problem(exc: Exception) -> str | None:
    """What to tell of a learner database that failed in the middle of a command (a command
    reports one that won't open itself), or None for any other exception. Another process
    writing for longer than SQLite's busy timeout ("database is locked") ended `tutor ask` in
    a traceback (a helper's find)."""
    from app.records.base import LearnerRecordsError

    if isinstance(exc, LearnerRecordsError):
        return str(exc)
    database_errors = sys.modules.get("sqlalchemy.exc")  # imported only where it was used
    if database_errors is not None and isinstance(exc, database_errors.DatabaseError):
        return (
            f"the learner database could not be read or written ({exc.orig}): another "
            "program may be writing it; try again in a moment (what the command was storing "
            "then was not stored)"
        )
    return None
