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

    def follow(self, job: dict[str, Any]) -> None:
        """Mirror an ingest running in the API."""
        self.progress.update(self.task, total=job["files_total"] or None,
                             completed=job["files_done"], chunks=job["chunks"])


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
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from app.ingest_jobs import Busy, ingest_via_api, running_api_for
    from app.store import StoreError
    from ingest.pipeline import CORPUS_DIR, IngestBusy, Ingestor
    from ingest.sources import SourceError, check_local_paths, is_git_url

    settings = settings_for(data_dir)
    values = paths or [str(CORPUS_DIR)]
    columns = (TextColumn("[bold blue]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("files · {task.fields[chunks]} chunks"), TimeElapsedColumn())
    try:
        check_local_paths(values)
        api = running_api_for(settings)
        with Progress(*columns, console=err, transient=True) as progress:
            reporter = _RichReporter(progress)
            if api:
                err.print(f"[dim]the API at {api} owns this index: ingesting through it[/dim]")
                absolute = [v if is_git_url(v) else str(Path(v).expanduser().resolve()) for v in values]
                reporter.start(0)
                job = ingest_via_api(api, absolute, rebuild, on_progress=reporter.follow)
                if job["state"] == "failed":
                    fail(job["error"], code=2 if job["usage_error"] else 1)
                summary = job["summary"]
            else:
                summary = Ingestor(settings).run(values, rebuild=rebuild, reporter=reporter).to_dict()
    except SourceError as exc:
        fail(str(exc), code=2)
    except (IngestBusy, Busy, StoreError) as exc:
        fail(str(exc))
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    raise typer.Exit(1 if summary["skipped"] else 0)


def _print_summary(summary: dict[str, Any]) -> None:
    skipped = summary["skipped"]
    out.print(
        f"[bold green]ingested[/bold green] {summary['added']} added, {summary['changed']} changed, "
        f"{summary['unchanged']} unchanged, {summary['removed']} removed, "
        f"[{'red' if skipped else 'dim'}]{len(skipped)} skipped[/]"
    )
    out.print(f"{summary['chunks']} chunks embedded in {summary['seconds']:.1f} s "
              f"({summary['chunks_per_s']:.1f} chunks/s); the index holds "
              f"{summary['index_chunks']} chunks")
    for item in skipped:
        err.print(f"  [yellow]skipped[/yellow] {item['source']}: {item['reason']}")


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
    check_week(week)
    hits = open_retriever(settings_for(data_dir)).search(query, k=k, week=week)
    if as_json:
        print_json([hit.to_dict() for hit in hits])
        return
    for rank, hit in enumerate(hits, 1):
        where = f" · week {hit.week}" if hit.week else ""
        out.print(f"[bold]{rank}. {hit.source}[/bold]  [dim]{hit.heading}{where} · {hit.score:.3f}[/dim]")
        snippet = " ".join(hit.text.split())
        out.print(f"   {snippet[:240]}{'…' if len(snippet) > 240 else ''}\n", highlight=False)


def check_week(week: int | None) -> None:
    from ingest.curriculum import LAST_WEEK

    if week is not None and not 1 <= week <= LAST_WEEK:
        fail(str(WeekOutOfRange(week)), code=2)


def open_retriever(settings: Settings) -> Any:
    """The retriever over a non-empty index, or a clear exit."""
    from app.retrieval import Retriever
    from app.store import StoreError

    try:
        retriever = Retriever.from_settings(settings)
    except StoreError as exc:
        fail(str(exc))
    if retriever.store.count() == 0:
        fail("the index is empty: run `tutor ingest` first")
    return retriever


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in your own words.")],
    week: Annotated[int | None, typer.Option("--week", "-w", help="Your current week (1-72).",
                                             show_default=False)] = None,
    mode: Annotated[str, typer.Option("--mode", "-m",
                                      help="explain (default), socratic (hints first) or quick.")] = "explain",
    no_spoilers: Annotated[bool, typer.Option("--no-spoilers",
                                              help="Leave out material of later weeks.")] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Ask the tutor. Answers come from the course material, with [n] citations.

    [dim]Examples:[/dim]
      tutor ask "What is my assignment this week?" --week 18
      tutor ask "Why does attention divide by sqrt(d_k)?" --week 18 --mode socratic
      tutor ask "Explain Adam's bias correction" --json
    """
    from rich.live import Live
    from rich.markdown import Markdown

    from app.llm import LLMError
    from app.retrieval import Filters
    from app.tutor import MODES, Tutor

    check_week(week)
    if mode not in MODES:
        fail(f"unknown mode {mode!r}: use one of {', '.join(MODES)}", code=2)
    if not question.strip() or len(question) > 2000:
        fail("the question must be 1-2,000 characters", code=2)
    settings = settings_for(data_dir)
    tutor = Tutor(settings, open_retriever(settings))
    filters = Filters(no_spoilers_after=week if no_spoilers else None)
    try:
        if as_json:
            print_json(tutor.ask(question, week=week, mode=mode, filters=filters).to_dict())
            return
        streamed = ""
        with Live(Markdown(""), console=out, refresh_per_second=12) as live:
            for event, data in tutor.stream(question, week=week, mode=mode, filters=filters):
                if event == "token":
                    streamed += data
                    live.update(Markdown(streamed))
                elif event == "answer":
                    answer = data
                    live.update(Markdown(answer.answer))
    except LLMError as exc:
        fail(str(exc))
    if answer.citations:
        out.print()
        for c in answer.citations:
            where = f" · week {c.week}" if c.week else ""
            out.print(f"[bold cyan][{c.n}][/bold cyan] {c.source} [dim]{c.heading}{where}[/dim]")


@app.command()
def quiz(
    week: Annotated[int, typer.Option("--week", "-w", help="The week to be quizzed on (1-72).")],
    n: Annotated[int, typer.Option("--n", min=1, max=30, help="How many questions.")] = 5,
    kinds: Annotated[str, typer.Option("--kinds", help="Comma-separated: mcq,truefalse,short,cloze.")]
    = "mcq,truefalse,short,cloze",
    seed: Annotated[int | None, typer.Option("--seed", help="Same seed, same quiz.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Quiz yourself on a week: questions from our notes, each citing its source.

    Without --json it asks the questions one by one and grades each answer with feedback.

    [dim]Examples:[/dim]
      tutor quiz --week 18
      tutor quiz --week 6 --n 3 --kinds mcq,cloze
      tutor quiz --week 18 --n 5 --json
    """
    import random

    from app.quiz import QuizError, grade, make_quiz
    from ingest.notes import read_notes

    check_week(week)
    settings_for(data_dir)
    try:
        questions = make_quiz(read_notes(), week, n=n, seed=seed if seed is not None else random.random(),
                              kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()))
    except QuizError as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json([q.to_dict() for q in questions])
        return
    from app.store import Embedder

    similarity = Embedder().similarity
    right = 0
    for number, question in enumerate(questions, 1):
        out.print(f"\n[bold]{number}. {question.prompt}[/bold]  [dim]({question.kind})[/dim]")
        for letter, option in zip("ABCD", question.options):
            out.print(f"   [cyan]{letter}[/cyan]  {option}")
        result = grade(question, typer.prompt("your answer", default="", show_default=False),
                       similarity)
        right += result.correct
        style = "green" if result.correct else "yellow"
        out.print(f"   [{style}]{result.feedback}[/{style}]", highlight=False)
    out.print(f"\n[bold]{right} of {len(questions)} right.[/bold]")


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


@app.command("eval")
def eval_(
    suite: Annotated[str, typer.Option("--suite", help="quick: retrieval, refusals and quizzes, "
                                       "no model (about a minute); full: every answer too.")]
    = "quick",
    compare: Annotated[str | None, typer.Option("--compare", metavar="RUN",
                                                help="An earlier run's name: show the deltas.")] = None,
    public_notes: Annotated[Path | None, typer.Option(
        "--public-notes", help="Also index this folder of public course notes (slow the first time).",
        exists=True, file_okay=False)] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1,
                                              help="Only the first N questions of each kind.")] = None,
    datasets: Annotated[Path | None, typer.Option(
        "--datasets", help="A folder of *.jsonl golden sets (default: evals/datasets).",
        exists=True, file_okay=False)] = None,
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
      tutor eval --json | jq .headline
    """
    from rich.progress import Progress

    from evals import report as reports
    from evals.datasets import DatasetError
    from evals.runner import Options, run

    if suite not in ("quick", "full"):
        fail(f"--suite must be quick or full, not {suite!r}", code=2)
    settings = settings_for(data_dir)
    try:
        baseline = reports.load_report(settings.eval_reports_dir, compare) if compare else None
        with Progress(console=err, transient=True, disable=as_json) as bar:
            result = run(settings, Options(
                suite=suite, public_notes=public_notes, limit=limit,  # type: ignore[arg-type]
                datasets=datasets, progress=_EvalProgress(bar)))
        result = reports.finalize(result, settings.eval_reports_dir, baseline)
    except (DatasetError, reports.ReportError) as exc:
        fail(str(exc), code=2)
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


@app.command()
def serve(data_dir: DataDirOption = None) -> None:
    """Run the HTTP API (FastAPI) on TUTOR_API_HOST:TUTOR_API_PORT (default 127.0.0.1:8000).

    Interactive docs are at /docs once it is up.
    """
    import uvicorn

    from app.api import create_app

    settings = settings_for(data_dir)
    out.print(f"API on [link]{settings.resolved_api_url}[/link]  (docs: {settings.resolved_api_url}/docs)")
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_level="warning")


@app.command()
def ui(data_dir: DataDirOption = None) -> None:
    """Run the Streamlit UI on TUTOR_UI_PORT (default 8501); it needs the API (`tutor serve`)."""
    import os

    from app.launcher import child_env, ui_command

    settings = settings_for(data_dir)
    out.print(f"UI on [link]http://{settings.api_host}:{settings.ui_port}[/link] "
              f"(API expected at {settings.resolved_api_url})")
    command = ui_command(settings)
    os.execve(command[0], command, child_env(settings))  # Streamlit takes over this process


@app.command()
def up(data_dir: DataDirOption = None) -> None:
    """Start everything: build the index if it is missing, then the API and the UI.

    This is what `make run` does. Stop with Ctrl-C.
    """
    from app.launcher import run_all
    from app.store import Store, StoreError
    from ingest.pipeline import CORPUS_DIR, Ingestor

    settings = settings_for(data_dir)
    try:
        store = Store(settings)
        if store.count() == 0:
            out.print("[bold]First run:[/bold] indexing the curriculum and our notes …")
            summary = Ingestor(settings, store=store).run([str(CORPUS_DIR)])
            _print_summary(summary.to_dict())
        del store  # the API process owns the index from here on
    except StoreError as exc:
        fail(str(exc))

    def announce(api_url: str, ui_url: str) -> None:
        out.print(f"\n[bold green]Study Tutor is running[/bold green]\n"
                  f"  UI   [link]{ui_url}[/link]   ← open this\n"
                  f"  API  [link]{api_url}[/link]  (docs: {api_url}/docs)\n"
                  f"[dim]Ctrl-C stops both.[/dim]")

    try:
        code = run_all(settings, announce)
    except RuntimeError as exc:  # a child failed to start
        fail(str(exc))
    raise typer.Exit(code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
