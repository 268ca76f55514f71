"""`tutor`: the command line, a thin layer over the modules (one function per command)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from app.config import Settings
from ingest.curriculum import CurriculumError, WeekOutOfRange, load_curriculum

app = typer.Typer(
    name="tutor",
    help="Study Tutor: your AI/ML learning plan, a searchable course library and a tutor that "
    "cites its sources. Works offline.\n\nStart with [bold]tutor plan[/bold] to see the 18 months, "
    "or [bold]tutor plan --week 18[/bold] for one week.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console()
err = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the index and database live (default: $TUTOR_DATA_DIR or ./data).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.callback()
def _root() -> None:
    """Keeps `tutor` a group of commands even while few exist."""


def settings_for(data_dir: Path | None) -> Settings:
    """Settings from the environment, with --data-dir (when given) winning."""
    settings = Settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/bold red] {message}")
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@app.command()
def plan(
    week: Annotated[
        int | None,
        typer.Option("--week", "-w", help="Show one week (1-72; weeks 49-72 are months 13-18).",
                     show_default=False),
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Show the learning plan: the 18-month overview, or one week in detail.

    [dim]Examples:[/dim]
      tutor plan                  the months, phases and capstones at a glance
      tutor plan --week 18        week 18: readings, videos, practice hours, the next capstone
      tutor plan --week 18 --json the same as JSON, for scripts
    """
    from app.render import render_overview, render_week

    settings_for(data_dir)  # validates TUTOR_* settings early, like every command
    try:
        curriculum = load_curriculum()
        if week is None:
            if as_json:
                print_json(curriculum.model_dump(mode="json", include={"phases", "months", "capstones"}))
            else:
                out.print(render_overview(curriculum))
            return
        week_plan = curriculum.week(week)
    except WeekOutOfRange as exc:
        fail(str(exc), code=2)
    except CurriculumError as exc:
        fail(str(exc))
    if as_json:
        print_json(week_plan.model_dump(mode="json"))
    else:
        out.print(render_week(week_plan))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
