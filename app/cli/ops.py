"""Running and measuring the product: `tutor check`, `eval`, `serve`, `ui` and `up`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from typing import Any

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import err
from app.cli.base import fail
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for
from app.cli.library import _print_summary
from app.config import Settings


class _EvalProgress:
    """One progress bar per eval stage (index, retrieval, grounding, answers...)."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task: Any = None

    def start(self, label: str, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, visible=False)
        self.task = self.progress.add_task(label, total=total)

    def advance(self) -> None:
        self.progress.advance(self.task)


@app.command("eval", rich_help_panel="Run and measure")
def eval_(
    suite: Annotated[
        str,
        typer.Option(
            "--suite",
            help="quick: retrieval, refusals and quizzes, "
            "no model (2-3 minutes); full: every answer too.",
        ),
    ] = "quick",
    compare: Annotated[
        str | None,
        typer.Option("--compare", metavar="RUN", help="An earlier run's name: show the deltas."),
    ] = None,
    public_notes: Annotated[
        Path | None,
        typer.Option(
            "--public-notes",
            help="Also index this folder of public course notes (slow the first time).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    held_out_notes: Annotated[
        Path | None,
        typer.Option(
            "--held-out-notes",
            help="The public notes the held-out retrieval split asks about "
            "(evals/retrieval): measured on an index of them beside the bundled corpus, "
            "built the first time (minutes); the golden set stays on the bundled corpus.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help="A smoke run: only the first N questions of each kind, and "
            "quizzes on the first N weeks.",
        ),
    ] = None,
    datasets: Annotated[
        Path | None,
        typer.Option(
            "--datasets",
            help="A folder of *.jsonl golden sets (default: evals/datasets).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    ablations: Annotated[
        bool,
        typer.Option(
            "--ablations",
            help="Full suite: also let the local model write its own (checked) "
            "answers, a second pass beside the sources' sentences.",
        ),
    ] = False,
    llm_quiz: Annotated[
        bool,
        typer.Option(
            "--llm-quiz",
            help="Also measure the model-written quiz kind (slow: a model call or two "
            "per question).",
        ),
    ] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Measure the tutor on the golden set (evals/datasets) and write a report.

    Writes evals/reports/<run>/report.json and report.html (TUTOR_EVAL_REPORTS_DIR). Exits 1
    when a headline metric falls below its floor in evals/thresholds.yaml.

    [dim]Examples:[/dim]
      tutor eval                                 # the quick suite, as CI runs it
      tutor eval --suite full                    # answers by the local model too (minutes)
      tutor eval --compare 20261125-140000-full  # deltas against an earlier run
      tutor eval --held-out-notes ../shared/public-notes  # + retrieval nobody tuned to
      tutor eval --json | jq .headline
    """
    from rich.progress import Progress

    from app.ingest.runs import IngestBusy
    from evals import report as reports
    from evals.datasets import DatasetError
    from evals.runner import Options
    from evals.runner import run

    if suite not in ("quick", "full"):
        fail(f"--suite must be quick or full, not {suite!r}", code=2)
    settings = settings_for(data_dir)
    try:
        baseline = reports.load_report(settings.eval_reports_dir, compare) if compare else None
        with Progress(console=err, transient=True, disable=as_json) as bar:
            result = run(
                settings,
                Options(
                    suite=suite,  # type: ignore[arg-type]  # checked above: quick or full
                    public_notes=public_notes,
                    held_out_notes=held_out_notes,
                    limit=limit,
                    datasets=datasets,
                    ablations=ablations,
                    llm_quiz=llm_quiz,
                    progress=_EvalProgress(bar),
                ),
            )
        result = reports.finalize(result, settings.eval_reports_dir, baseline)
    except (DatasetError, reports.ReportError) as exc:
        fail(str(exc), code=2)
    except IngestBusy as exc:  # the eval index is being built by another run
        fail(f"{exc} (another `tutor eval` on {settings.data_dir}?)")
    if as_json:
        print_json(result)
    else:
        _print_eval(result)
    if not result["passed"]:
        raise typer.Exit(1)


def _print_eval(result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"evals {result['run']}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    deltas = {r["metric"]: r for r in result.get("comparison", []) if r["scope"] == "headline"}
    if deltas:
        table.add_column(f"vs {result['compared_with']}", justify="right")
    for metric, value in result["headline"].items():
        row = [metric, "n/a" if value is None else f"{value:g}"]
        if deltas:
            d = deltas.get(metric)
            row.append("" if not d else f"[{'red' if d['worse'] else 'green'}]{d['delta']:+g}[/]")
        table.add_row(*row)
    out.print(table)
    for failure in result["failures"]:
        err.print(f"[bold red]below floor:[/bold red] {failure}")
    out.print(f"report: {result['folder']}/report.html")


@app.command(rich_help_panel="Run and measure")
def serve(
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Address to listen on (default TUTOR_API_HOST, 127.0.0.1). For a study "
            "group: 0.0.0.0, with the server's name in TUTOR_ALLOWED_HOSTS.",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port (default TUTOR_API_PORT, 8000)."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes answering requests, each with its own model. More "
            "than one wants PostgreSQL (TUTOR_DATABASE_URL) and a Chroma server (TUTOR_CHROMA_URL).",
        ),
    ] = 1,
    data_dir: DataDirOption = None,
) -> None:
    """Run the HTTP API (FastAPI) on TUTOR_API_HOST:TUTOR_API_PORT (default 127.0.0.1:8000).

    Interactive docs are at /docs once it is up. SIGTERM or Ctrl-C stops it.

    [dim]Examples:[/dim]
      tutor serve                                  this machine only
      TUTOR_ALLOWED_HOSTS='["tutor.lan"]' tutor serve --host 0.0.0.0   for a study group

    [dim]Settings:[/dim] TUTOR_ALLOWED_HOSTS, TUTOR_ASKS_PER_MINUTE, TUTOR_SIGNUPS_PER_HOUR,
    TUTOR_MODEL_QUEUE_SIZE, TUTOR_MODEL_WAIT_S, TUTOR_MAX_BODY_KB, TUTOR_MAX_UPLOAD_MB,
    TUTOR_INGEST_ROOTS, TUTOR_DATABASE_URL.
    """
    from app.cli.launcher import cannot_listen
    from app.cli.launcher import serve_api
    from app.search.lock import Claimed
    from app.search.lock import claim_for

    chosen = {"api_host": host, "api_port": port}
    settings = settings_for(data_dir).model_copy(
        update={name: value for name, value in chosen.items() if value is not None}
    )
    refuse_a_second_writer(settings, workers)
    if problem := cannot_listen(settings.api_host, settings.api_port):  # uvicorn's own: a raw
        fail(f"{problem}: give another with --port (or TUTOR_API_PORT)", code=2)  # [Errno 98]
    try:  # held from here on: another API started at the same instant is refused, not both run
        claimed = claim_for(settings)
    except Claimed as exc:
        fail(str(exc), code=2)
    out.print(
        f"API on [link]{settings.resolved_api_url}[/link]  (docs: {settings.resolved_api_url}/docs)"
        + (f", {workers} workers" if workers > 1 else "")
    )
    serve_api(settings, workers, claimed)


def refuse_a_second_writer(settings: Settings, workers: int) -> None:
    """Exit 2 where this API would be a second process writing an embedded index: workers
    (more than one), or another API already serving the data dir. Embedded Chroma keeps its
    HNSW index in each process's memory: an API beside another saw none of what the other
    ingested, and its searches failed ("Nothing found on disk") while its /health said ok.
    A Chroma server (TUTOR_CHROMA_URL) takes any number of writers."""
    from app.search.lock import Claimed
    from app.search.lock import owner

    if settings.chroma_url:
        return
    if workers > 1:
        fail(
            "--workers N needs a Chroma server (TUTOR_CHROMA_URL): with the embedded index each "
            "worker holds its own copy, and would not see what another ingested",
            code=2,
        )
    if (url := owner(settings.data_dir)) is not None:
        fail(str(Claimed(settings.data_dir, url)), code=2)


@app.command(rich_help_panel="Run and measure")
def ui(data_dir: DataDirOption = None) -> None:
    """Run the Streamlit UI on TUTOR_UI_PORT (default 8501); it needs the API (`tutor serve`).

    [dim]Examples:[/dim]
      tutor serve & tutor ui                       the API, then the UI on it
      TUTOR_API_URL=http://tutor.lan:8000 tutor ui  a UI for an API on another machine
    """
    import os

    from app.cli.launcher import child_env
    from app.cli.launcher import ui_command

    settings = settings_for(data_dir)
    out.print(
        f"UI on [link]http://{settings.api_host}:{settings.ui_port}[/link] "
        f"(API expected at {settings.resolved_api_url})"
    )
    command = ui_command(settings)
    os.execve(command[0], command, child_env(settings))  # Streamlit takes over this process


@app.command(rich_help_panel="Run and measure")
def up(data_dir: DataDirOption = None) -> None:
    """Start everything: build the index if it is missing, then the API and the UI.

    This is what `make run` does. Stop with Ctrl-C.

    [dim]Examples:[/dim]
      tutor up                                     open the UI link it prints
      TUTOR_UI_PORT=8600 tutor up --data-dir ~/tutor-data

    [dim]Settings:[/dim] TUTOR_API_HOST, TUTOR_API_PORT, TUTOR_UI_PORT, TUTOR_DATA_DIR.
    """
    from app.cli.launcher import run_all
    from app.ingest.pipeline import CORPUS_DIR
    from app.ingest.pipeline import Ingestor
    from app.ingest.runs import IngestBusy
    from app.records.base import LearnerRecordsError
    from app.search.vectors import VectorStore
    from app.search.vectors import VectorStoreError

    settings = settings_for(data_dir)
    refuse_a_second_writer(settings, 1)  # before this process opens the index under another API
    try:
        store = VectorStore(settings)
        if store.count() == 0:
            out.print("[bold]First run:[/bold] indexing the curriculum and our notes …")
            summary = Ingestor(settings, store=store).run([str(CORPUS_DIR)])
            _print_summary(summary.to_dict())
        del store  # the API process owns the index from here on
    except (VectorStoreError, LearnerRecordsError, IngestBusy) as exc:
        fail(str(exc))

    def announce(api_url: str, ui_url: str) -> None:
        out.print(
            f"\n[bold green]Study Tutor is running[/bold green]\n"
            f"  UI   [link]{ui_url}[/link]   ← open this\n"
            f"  API  [link]{api_url}[/link]  (docs: {api_url}/docs)\n"
            f"[dim]Ctrl-C stops both.[/dim]"
        )

    try:
        code = run_all(settings, announce)
    except RuntimeError as exc:  # a child failed to start
        fail(str(exc))
    raise typer.Exit(code)
