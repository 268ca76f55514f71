"""The course library: `tutor ingest`."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import argument
from app.cli.base import err
from app.cli.base import fail
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for


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

    def follow(self, job: dict[str, Any]) -> None:
        """Mirror an ingest running in the API."""
        self.progress.update(
            self.task,
            total=job["files_total"] or None,
            completed=job["files_done"],
            chunks=job["chunks"],
        )


@app.command(rich_help_panel="Library")
def ingest(
    paths: Annotated[
        list[str] | None,
        argument(help="Files, folders or git URLs (default: the bundled corpus/)."),
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

    Each skipped file and each warning (a guessed encoding, a PDF page without text) is
    named on its own line with what to do. Exit status: 0 all went in, 1 some files were
    skipped, 2 usage error.

    [dim]Settings:[/dim] TUTOR_INGEST_MAX_FILE_MB (larger files are skipped), TUTOR_CHROMA_URL
    (a Chroma server instead of the data dir), TUTOR_EMBEDDING_MODEL.
    """
    from rich.progress import BarColumn
    from rich.progress import MofNCompleteColumn
    from rich.progress import Progress
    from rich.progress import TextColumn
    from rich.progress import TimeElapsedColumn

    from app.cli.api_client import running_api_for
    from app.ingest.jobs import Forbidden
    from app.ingest.jobs import ingest_via_api
    from app.ingest.pipeline import CORPUS_DIR
    from app.ingest.pipeline import Ingestor
    from app.ingest.runs import IngestBusy
    from app.ingest.sources import SourceError
    from app.ingest.sources import check_local_paths
    from app.ingest.sources import is_git_url
    from app.ingest.sources import local_path
    from app.records.base import LearnerRecordsError
    from app.search.vectors import VectorStoreError

    settings = settings_for(data_dir)
    values = paths or [str(CORPUS_DIR)]
    columns = (
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[chunks]} chunks"),
        TimeElapsedColumn(),
    )
    try:
        check_local_paths(values)
        api = running_api_for(settings)
        with Progress(*columns, console=err, transient=True) as progress:
            reporter = _RichReporter(progress)
            if api:
                err.print(f"[dim]the API at {api} owns this index: ingesting through it[/dim]")
                absolute = [v if is_git_url(v) else str(local_path(v).resolve()) for v in values]
                reporter.start(0)
                job = ingest_via_api(api, absolute, rebuild, on_progress=reporter.follow)
                if job["state"] == "failed":
                    fail(job["error"], code=2 if job["usage_error"] else 1)
                summary = job["summary"]
            else:
                summary = (
                    Ingestor(settings).run(values, rebuild=rebuild, reporter=reporter).to_dict()
                )
    except SourceError as exc:
        fail(str(exc), code=2)
    except Forbidden as exc:
        fail(str(exc), code=2)
    except (IngestBusy, VectorStoreError, LearnerRecordsError) as exc:
        fail(str(exc))
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    raise typer.Exit(1 if summary["skipped"] else 0)


def _print_summary(summary: dict[str, Any]) -> None:
    """The counts on stdout; each skipped file and each warning, one line each, on stderr."""
    from rich.markup import escape

    skipped, warnings = summary["skipped"], summary["warnings"]
    out.print(
        f"[bold green]ingested[/bold green] {summary['added']} added, {summary['changed']} changed, "
        f"{summary['unchanged']} unchanged, {summary['removed']} removed, "
        f"[{'red' if skipped else 'dim'}]{len(skipped)} skipped[/], "
        f"[{'yellow' if warnings else 'dim'}]{len(warnings)} "
        f"{'warning' if len(warnings) == 1 else 'warnings'}[/]"
    )
    out.print(
        f"{summary['chunks']} chunks embedded in {summary['seconds']:.1f} s "
        f"({summary['chunks_per_s']:.1f} chunks/s); the index holds "
        f"{summary['index_chunks']} chunks"
    )
    if summary["cards_flagged"]:
        out.print(
            f"[yellow]cards quoting a passage this ingest changed or removed: "
            f"{summary['cards_flagged']}[/yellow] (`tutor cards list` shows the new text to "
            "accept or the card to retire)"
        )
    for item in skipped:  # file names and reasons are shown as they are, never as markup
        err.print(
            f"  [red]skipped[/red] {escape(item['source'])}: {escape(item['reason'])}",
            highlight=False,
        )
    for item in warnings:
        err.print(
            f"  [yellow]warning[/yellow] {escape(item['source'])}: {escape(item['message'])}",
            highlight=False,
        )
