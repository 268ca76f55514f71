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
err = Console(stderr=True, soft_wrap=True)  # messages stay one greppable line

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


class _RichReporter:
    """A progress bar over files, counting chunks as they are embedded."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task: Any = None
        self.chunks = 0

    def start(self, files: int) -> None:
        self.task = self.progress.add_task("ingesting", total=files, chunks=0)

    def advance(self, files: int, chunks: int) -> None:
        self.chunks += chunks
        self.progress.update(self.task, advance=files, chunks=self.chunks)


@app.command()
def ingest(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files, folders or git URLs (default: the bundled corpus/).",
                       show_default=False),
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Empty the index first.")] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Index course material so the tutor can search and cite it.

    Reads .md, .mdx, .txt, .html, .pdf and .ipynb files. Only new or changed files are
    embedded; files deleted from an ingested folder leave the index. A file that cannot be
    read is reported by name and skipped; the rest still goes in.

    [dim]Examples:[/dim]
      tutor ingest                                   our notes and the curriculum
      tutor ingest ~/notes/cs231n                    a folder of course notes
      tutor ingest https://github.com/cs231n/cs231n.github.io.git   a git repository
      tutor ingest --rebuild --json                  start over; print the summary as JSON

    Exit status: 0 all went in, 1 some files were skipped, 2 usage error.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.store import StoreError
    from ingest.pipeline import CORPUS_DIR, IngestBusy, Ingestor
    from ingest.sources import SourceError

    settings = settings_for(data_dir)
    columns = (TextColumn("[bold blue]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("files · {task.fields[chunks]} chunks"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err, transient=True) as progress:
            summary = Ingestor(settings).run(paths or [str(CORPUS_DIR)], rebuild=rebuild,
                                             reporter=_RichReporter(progress))
    except SourceError as exc:
        fail(str(exc), code=2)
    except (IngestBusy, StoreError) as exc:
        fail(str(exc))
    if as_json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)
    raise typer.Exit(summary.exit_code)


def _print_summary(summary: Any) -> None:
    out.print(
        f"[bold green]ingested[/bold green] {summary.added} added, {summary.changed} changed, "
        f"{summary.unchanged} unchanged, {summary.removed} removed, "
        f"[{'red' if summary.skipped else 'dim'}]{len(summary.skipped)} skipped[/]"
    )
    out.print(f"{summary.chunks} chunks embedded in {summary.seconds:.1f} s "
              f"({summary.chunks_per_s:.1f} chunks/s); the index holds {summary.index_chunks} chunks")
    for skipped in summary.skipped:
        err.print(f"  [yellow]skipped[/yellow] {skipped.source}: {skipped.reason}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What you want to find, in your own words.")],
    week: Annotated[int | None, typer.Option("--week", "-w", help="Favour material of this week.",
                                             show_default=False)] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="How many hits.")] = 5,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Search the indexed course material (our notes, the curriculum, public notes).

    [dim]Examples:[/dim]
      tutor search "why divide by the square root of d_k" --week 18
      tutor search "LSTM forget gate" --k 3 --json
    """
    from app.retrieval import search as run_search
    from app.store import Embedder, Store, StoreError
    from ingest.curriculum import LAST_WEEK

    if week is not None and not 1 <= week <= LAST_WEEK:
        fail(str(WeekOutOfRange(week)), code=2)
    settings = settings_for(data_dir)
    try:
        store = Store(settings)
    except StoreError as exc:
        fail(str(exc))
    if store.count() == 0:
        fail("the index is empty: run `tutor ingest` first")
    hits = run_search(store, Embedder(settings.embedding_model), query, k=k, week=week)
    if as_json:
        print_json([hit.to_dict() for hit in hits])
        return
    for rank, hit in enumerate(hits, 1):
        where = f" · week {hit.week}" if hit.week else ""
        out.print(f"[bold]{rank}. {hit.source}[/bold]  [dim]{hit.heading}{where} · {hit.score:.3f}[/dim]")
        snippet = " ".join(hit.text.split())
        out.print(f"   {snippet[:240]}{'…' if len(snippet) > 240 else ''}\n", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
