"""`tutor`: the command line, a thin layer over the modules (one function per command)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from app.config import Settings
from app.pacing import MAX_PACE, MIN_PACE
from ingest.curriculum import CurriculumError, WeekOutOfRange, load_curriculum

app = typer.Typer(
    name="tutor",
    help="Study Tutor: your AI/ML learning plan, a searchable course library and a tutor that "
    "cites its sources. Works offline.\n\nStart with [bold]tutor plan[/bold] to see the 18 months, "
    "or [bold]tutor plan --week 18[/bold] for one week; [bold]tutor up[/bold] starts the app in "
    "your browser. Each command's --help has examples.\n\nSettings are TUTOR_* environment "
    "variables (or a .env file here), e.g. TUTOR_DATA_DIR for where the index and database "
    "live; all of them are in app/config.py.",
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
T = TypeVar("T")


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

    Each skipped file and each warning (a guessed encoding, a PDF page without text) is
    named on its own line with what to do. Exit status: 0 all went in, 1 some files were
    skipped, 2 usage error.

    [dim]Settings:[/dim] TUTOR_INGEST_MAX_FILE_MB (larger files are skipped), TUTOR_CHROMA_URL
    (a Chroma server instead of the data dir), TUTOR_EMBEDDING_MODEL.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from app.api_client import running_api_for
    from app.ingest_jobs import Forbidden, ingest_via_api
    from app.learners import LearnerStoreError
    from app.store import StoreError
    from ingest.pipeline import CORPUS_DIR, Ingestor
    from ingest.runs import IngestBusy
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
    except Forbidden as exc:
        fail(str(exc), code=2)
    except (IngestBusy, StoreError, LearnerStoreError) as exc:
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
    out.print(f"{summary['chunks']} chunks embedded in {summary['seconds']:.1f} s "
              f"({summary['chunks_per_s']:.1f} chunks/s); the index holds "
              f"{summary['index_chunks']} chunks")
    for item in skipped:  # file names and reasons are shown as they are, never as markup
        err.print(f"  [red]skipped[/red] {escape(item['source'])}: {escape(item['reason'])}",
                  highlight=False)
    for item in warnings:
        err.print(f"  [yellow]warning[/yellow] {escape(item['source'])}: "
                  f"{escape(item['message'])}", highlight=False)


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

    Hits come best first: where each is from (file and heading), its week, its score and the
    start of the passage. While `tutor serve` runs on this data dir, the search goes through
    it and answers at once; otherwise the encoder loads here first (a few seconds).

    [dim]Examples:[/dim]
      tutor search "why divide by the square root of d_k" --week 18
      tutor search "LSTM forget gate" --k 3
      tutor search "Adam bias correction" --json   the hits as JSON, for scripts

    [dim]Settings:[/dim] TUTOR_DATA_DIR, TUTOR_CHROMA_URL, TUTOR_API_URL (a running API).
    """
    check_week(week)
    settings = settings_for(data_dir)
    hits = via_api_or_here(
        settings, lambda api: api.search(query, k, week),
        lambda: [hit.to_dict() for hit in open_retriever(settings).search(query, k=k, week=week)])
    if as_json:
        print_json(hits)
        return
    for rank, hit in enumerate(hits, 1):
        where = f" · week {hit['week']}" if hit["week"] else ""
        out.print(f"[bold]{rank}. {hit['source']}[/bold]  "
                  f"[dim]{hit['heading']}{where} · {hit['score']:.3f}[/dim]")
        snippet = " ".join(hit["text"].split())
        out.print(f"   {snippet[:240]}{'…' if len(snippet) > 240 else ''}\n", highlight=False)


def via_api_or_here(settings: Settings, through_api: Callable[[Any], T],
                    here: Callable[[], T]) -> T:
    """Through the API when one serves this data dir (its models are loaded already), else in
    this process. An API that errs or goes away mid-call costs a dim note, not the answer."""
    from app.api_client import ApiClient, ApiFailed, running_api_for

    if url := running_api_for(settings):
        try:
            return through_api(ApiClient(url))
        except ApiFailed as exc:
            err.print(f"[dim]the API at {url} failed ({exc}); answering here instead[/dim]",
                      highlight=False)
    return here()


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
    week: Annotated[int | None, typer.Option(
        "--week", "-w", help="Your current week (1-72; default: yours, see `tutor week`).",
        show_default=False)] = None,
    mode: Annotated[str, typer.Option("--mode", "-m",
                                      help="explain (default), socratic (hints first) or quick.")] = "explain",
    no_spoilers: Annotated[bool, typer.Option("--no-spoilers",
                                              help="Leave out material of later weeks.")] = False,
    resume: Annotated[bool, typer.Option(
        "--continue", "-c", help="A follow-up to your last conversation: the tutor reads it "
        "with your earlier questions.")] = False,
    conversation: Annotated[str | None, typer.Option(
        "--conversation", metavar="ID", help="A follow-up to this conversation (its id is "
        "printed under each answer).", show_default=False)] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Ask the tutor. Answers come from the course material, with \\[n] citations.

    Each answer ends with its conversation's id; a follow-up with --continue (or
    --conversation ID) is read together with the questions before it, so "why?" works.
    While `tutor serve` runs on this data dir, the question goes through it and its model is
    already loaded; otherwise the model loads here first.

    [dim]Examples:[/dim]
      tutor ask "What is my assignment this week?" --week 18
      tutor ask "Why does attention divide by sqrt(d_k)?" --week 18 --mode socratic
      tutor ask --continue "And what happens without it?"     a follow-up to your last question
      tutor ask --conversation 3f9c... "Show me an example"    a follow-up to an older conversation
      tutor ask "Explain Adam's bias correction" --json         as JSON, with its conversation_id

    [dim]Settings:[/dim] TUTOR_LLM_PROVIDER (local, openai or hf) with TUTOR_OPENAI_BASE_URL
    and TUTOR_OPENAI_MODEL for an API model; TUTOR_ANSWER_WRITER; TUTOR_CONTEXT_PASSAGES.
    """
    from app.tutor import MODES

    check_week(week)
    if mode not in MODES:
        fail(f"unknown mode {mode!r}: use one of {', '.join(MODES)}", code=2)
    if not question.strip() or len(question) > 2000:
        fail("the question must be 1-2,000 characters", code=2)
    if resume and conversation:
        fail("give --continue or --conversation ID, not both", code=2)
    settings = settings_for(data_dir)
    store = learner_store(settings, needed=resume or conversation is not None)
    if week is None and store and (learner := store.existing_local_learner()):
        week = your_week(learner)
        if not as_json:
            out.print(f"[dim]week {week}: yours (see `tutor week`); --week N asks from another[/dim]")
    conversation_id = conversation_to_continue(store, resume, conversation)
    log = conversation_log(store)
    asking = dict(week=week, mode=mode, no_spoilers=no_spoilers, conversation_id=conversation_id)
    answer = via_api_or_here(
        settings, lambda api: kept_from_api(log, _answer(api, question, as_json, asking)),
        lambda: _answer(_Here(settings, log, store), question, as_json, asking))
    for warning in answer.get("warnings", []):
        err.print(f"[yellow]warning:[/yellow] {warning}")
    if as_json:
        print_json(answer)
        return
    if answer["citations"]:
        out.print()
        for c in answer["citations"]:
            where = f" · week {c['week']}" if c["week"] else ""
            out.print(f"[bold cyan][{c['n']}][/bold cyan] {c['source']} "
                      f"[dim]{c['heading']}{where}[/dim]")
    if answer.get("back_to"):
        from app.render import back_to_prerequisites

        out.print(back_to_prerequisites(answer["back_to"]))
    if log and (answer["grounded"] or conversation_id):
        out.print(f"\n[dim]conversation {answer['conversation_id']} · a follow-up: "
                  "tutor ask --continue \"...\"[/dim]", highlight=False)


def _answer(asker: Any, question: str, as_json: bool, asking: dict[str, Any]) -> dict[str, Any]:
    """The answer as a dict (`Answer.to_dict()`); in plain mode it is streamed to the screen
    sentence by sentence, then printed once whole."""
    if as_json:
        return asker.ask(question, **asking)
    from rich.live import Live
    from rich.markdown import Markdown

    streamed, answer = "", {}
    # transient: an API that breaks off mid-answer leaves no half answer above the retry
    with Live(Markdown(""), console=out, refresh_per_second=12, transient=True) as live:
        for event, data in asker.stream(question, **asking):
            if event == "token":
                streamed += data
                live.update(Markdown(streamed))
            elif event == "answer":
                answer = data
    out.print(Markdown(answer["answer"]))
    return answer


class _Here:
    """Answers in this process, with the same calls as `ApiClient` (model loaded on first use)."""

    def __init__(self, settings: Settings, log: Any, store: Any) -> None:
        from app.tutor import Tutor

        self.tutor = Tutor(settings, open_retriever(settings))
        self.log, self.store = log, store

    def back_to(self, question: str) -> list[dict[str, Any]]:
        """As the API gives it: where to go back to, for a concept you keep missing."""
        from app.prerequisites import for_question
        from ingest.notes import read_notes

        if self.log is None:
            return []
        return for_question(self.store, self.log.learner_id, read_notes(),
                            lambda: self.tutor.retriever, question)

    def _asking(self, week: int | None, mode: str, no_spoilers: bool,
                conversation_id: str | None) -> dict[str, Any]:
        from app.retrieval import Filters

        return dict(week=week, mode=mode, conversation_id=conversation_id, memory=self.log,
                    filters=Filters(no_spoilers_after=week if no_spoilers else None))

    def ask(self, question: str, **asking: Any) -> dict[str, Any]:
        from app.llm import LLMError

        try:
            answer = self.tutor.ask(question, **self._asking(**asking)).to_dict()
        except LLMError as exc:
            fail(str(exc))
        return {**answer, "back_to": self.back_to(question)}

    def stream(self, question: str, **asking: Any) -> Iterator[tuple[str, Any]]:
        from app.llm import LLMError

        try:
            for event, data in self.tutor.stream(question, **self._asking(**asking)):
                if event == "token":
                    yield event, data
                elif event == "answer":
                    yield event, {**data.to_dict(), "back_to": self.back_to(question)}
        except LLMError as exc:
            fail(str(exc))


def learner_store(settings: Settings, needed: bool) -> Any:
    """The learner database for `tutor ask`: without it a question is still answered (with no
    week of yours, and not kept), unless the question continues a conversation kept there."""
    from app.learners import LearnerStore, LearnerStoreError

    try:
        return LearnerStore(settings.resolved_database_url)
    except LearnerStoreError as exc:
        if needed:
            fail(str(exc))
        err.print(f"[yellow]warning:[/yellow] answering without your week, and not keeping this "
                  f"conversation: {exc}")
        return None


def conversation_to_continue(store: Any, resume: bool, conversation: str | None) -> str | None:
    """The id a follow-up continues (None: a new conversation); a usage error when there is none."""
    from app.learners import ConversationLog, NotFound

    if not resume and conversation is None:
        return None
    learner = store.existing_local_learner()
    log = ConversationLog(store, learner.id) if learner else None
    if resume:
        last = log.summaries()[:1] if log else []
        if not last:
            fail('there is no conversation to continue yet: ask a question first '
                 '(`tutor ask "..."`), then follow it up with --continue', code=2)
        return last[0]["id"]
    if log is not None:
        with contextlib.suppress(NotFound):
            return log.require(conversation).id
    fail(f"there is no conversation {conversation} here: --continue follows up your last one; "
         "leave --conversation out to start a new one", code=2)


def conversation_log(store: Any) -> Any:
    """The command line learner's conversations (the learner made on first use), or None
    without a database."""
    import datetime as dt

    from app.learners import ConversationLog

    return ConversationLog(store, store.local_learner(dt.date.today()).id) if store else None


def kept_from_api(log: Any, answer: dict[str, Any]) -> dict[str, Any]:
    """An answer from the API, kept in the command line learner's conversations as the tutor
    keeps its own (grounded answers only), so --continue finds it."""
    if log and answer["grounded"]:
        log.add(answer["conversation_id"], answer["question"], answer["answer"],
                answer["citations"], answer["week"])
    return answer


@app.command()
def quiz(
    week: Annotated[int | None, typer.Option(
        "--week", "-w", help="The week to be quizzed on (1-72; default: yours, see `tutor week`).",
        show_default=False)] = None,
    n: Annotated[int, typer.Option("--n", min=1, max=30, help="How many questions.")] = 5,
    kinds: Annotated[str, typer.Option(
        "--kinds", help="Comma-separated: mcq,truefalse,short,cloze, and llm for questions the "
        "chat model writes (slower; each one checked, our own fill in what it can't write).")]
    = "mcq,truefalse,short,cloze",
    seed: Annotated[int | None, typer.Option("--seed", help="Same seed, same quiz.")] = None,
    about: Annotated[str | None, typer.Option(
        "--about", help="Quiz me on this: a topic (a question you asked the tutor); the "
        "questions are the notes' closest to it and to the passages the search finds for it "
        "(up to --n; fewer when the notes have fewer). Needs the index (`tutor ingest`).",
        show_default=False)] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Quiz yourself on a week, or on a topic: questions from our notes, each citing its source.

    Without --json it asks the questions one by one, grades each answer with feedback and
    keeps the result: missed questions come back in `tutor review`, and `tutor progress`
    counts them. With --json it only prints the quiz (nothing is recorded).

    [dim]Examples:[/dim]
      tutor quiz                              your week (`tutor week`), 5 questions
      tutor quiz --week 6 --n 3 --kinds mcq,cloze
      tutor quiz --week 18 --kinds llm,mcq    some questions written by the model
      tutor quiz --week 18 --n 5 --json
      tutor quiz --about "What is multi-head attention?"

    [dim]Settings:[/dim] TUTOR_LLM_PROVIDER for the model writing `llm` questions, and
    TUTOR_DATABASE_URL for where results are kept (default: SQLite in the data dir).
    """
    import random

    from app.llm import LLMError
    from app.quiz import LLM, QuizError, make_quiz, question_writer, topic_quiz
    from ingest.notes import read_notes

    check_week(week)
    settings = settings_for(data_dir)
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    if about is not None and (not about.strip() or LLM in chosen):
        fail("--about takes a topic (a question you asked) and the notes' own kinds, not llm",
             code=2)
    recording = not as_json
    store, learner = local_learner(settings) if recording or week is None else (None, None)
    week = week or your_week(learner)
    seed = seed if seed is not None else random.random()
    who = learner.id if learner else ""
    try:
        if about:
            retriever = open_retriever(settings)
            found = retriever.search(about, k=5, week=week)
            questions = topic_quiz(read_notes(), about, [h.text for h in found],
                                   {week, *(h.week for h in found if h.week)}, n=n,
                                   kinds=chosen, seed=seed, learner=who,
                                   embedder=retriever.embedder)
        else:
            questions = make_quiz(read_notes(), week, n=n, seed=seed, kinds=chosen,
                                  writer=question_writer(settings) if LLM in chosen else None,
                                  learner=who)
    except QuizError as exc:
        fail(str(exc), code=2)
    except LLMError as exc:
        fail(str(exc))
    if as_json:
        print_json([q.to_dict() for q in questions])
        return
    from app.learners import QuizRecords
    from app.quiz import score_summary
    from app.render import render_summary

    records = QuizRecords(store)
    quiz_id = records.save(learner.id, week, questions)
    right = ask_in_turn(questions, settings, records, learner.id, quiz_id, self_rate=False)
    out.print(render_summary(score_summary(right, len(questions))), highlight=False)
    out.print("[dim]Missed ones come back in `tutor review`.[/dim]")


def local_learner(settings: Settings) -> tuple[Any, Any]:
    """The learner database and the command line's own learner in it (made on first use)."""
    import datetime as dt

    from app.learners import LearnerStore, LearnerStoreError

    try:
        store = LearnerStore(settings.resolved_database_url)
    except LearnerStoreError as exc:
        fail(str(exc))
    return store, store.local_learner(dt.date.today())


def your_week(learner: Any) -> int:
    import datetime as dt

    from app.learners import week_on

    return week_on(learner, dt.date.today())


def ask_in_turn(questions: list[Any], settings: Settings, records: Any, learner_id: int,
                quiz_id: str | None, self_rate: bool) -> int:
    """Ask each question, grade it, record it (FSRS schedules its review) and say when it comes
    back; with `self_rate` the learner rates their short answers. Returns how many were right."""
    import datetime as dt

    from app.llm import judge_model
    from app.quiz import Verdict, glossary, grade, outcome, ratings_for, self_rated
    from app.render import render_outcome
    from ingest.notes import read_notes

    judge = judge_model(settings, Verdict.model_json_schema())
    similarity = _lazy_similarity()
    terms = glossary(read_notes())
    right = 0
    for number, question in enumerate(questions, 1):
        out.print(f"\n[bold]{number}. {question.prompt}[/bold]  [dim]({question.kind})[/dim]")
        for letter, option in zip("ABCD", question.options):
            out.print(f"   [cyan]{letter}[/cyan]  {option}")
        response = typer.prompt("your answer", default="", show_default=False)
        result = grade(question, response, similarity, judge, terms)
        out.print(render_outcome(outcome(question, result)), highlight=False)
        if self_rate and (choices := ratings_for(question)):
            rating = ""
            while rating not in choices:
                rating = typer.prompt(f"   how did it go? ({'/'.join(choices)})",
                                      default=result.fsrs_rating).strip().lower()
            result = self_rated(question, result, rating)
            out.print(render_outcome(outcome(question, result), quote=False), highlight=False)
        due = records.answer(learner_id, quiz_id, question, response, result,
                             dt.datetime.now(dt.UTC))
        out.print(f"   [dim]next review: {_when(due)}[/dim]")
        right += result.correct
    return right


def _lazy_similarity() -> Any:
    """Embedding similarity, the encoder loaded only when a short answer needs it."""
    loaded: list[Any] = []

    def similarity(a: str, b: str) -> float:
        if not loaded:
            from app.store import Embedder

            loaded.append(Embedder())
        return loaded[0].similarity(a, b)

    return similarity


def _when(due: Any) -> str:
    import datetime as dt

    from app.reviews import in_words

    return in_words(due, dt.datetime.now(dt.UTC))


@app.command("week")
def current_week(
    number: Annotated[int | None, typer.Argument(
        help="The week you are in now (1-72); leave it out to see your week.",
        show_default=False)] = None,
    auto: Annotated[bool, typer.Option(
        "--auto", help="Follow the calendar from your first use again, from week 1.")]
    = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Show or set your current week: the week `tutor ask`, `tutor quiz` and `tutor progress`
    use.

    The command line keeps your quizzes, reviews and progress in the data dir's database as a
    local learner: no sign-up or token. Your week moves on with the calendar at your pace (one
    plan week a week unless you re-plan slower or faster), from the week you last set.

    [dim]Examples:[/dim]
      tutor week            which week you are in
      tutor week 18         you are in week 18 today; next week you are in week 19
      tutor week --auto     follow the calendar from your first use again
      tutor week --json     {"week": 18, "title": "...", "set": true}
    """
    import datetime as dt

    if number is not None and auto:
        fail("give a week or --auto, not both", code=2)
    check_week(number)
    store, learner = local_learner(settings_for(data_dir))
    if number is not None or auto:
        learner = store.set_week(learner.id, number, dt.date.today())
    week = your_week(learner)
    title = load_curriculum().week(week).title
    if as_json:
        print_json({"week": week, "title": title, "set": learner.current_week is not None})
        return
    how = (f"from week {learner.current_week} on {learner.week_set_on.isoformat()}"
           if learner.current_week is not None
           else f"following the calendar since {learner.start_date.isoformat()}")
    out.print(f"You are in [bold]week {week}[/bold]: {title}  [dim]({how})[/dim]")


@app.command()
def today(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Today's task: the plan's day (Monday theory, Tuesday videos, Wednesday coding, Thursday
    project, Friday review) applied to your week, and where you stand against the plan.

    [dim]Examples:[/dim]
      tutor today           what to do today, and whether you are ahead or behind
      tutor today --json    {"today": {"day": "Monday", "tasks": [...], ...}, "pace": {...}}
    """
    import datetime as dt

    from app.render import pace_line
    from app.reviews import Reviews, due_phrase
    from app.schedules import Schedules

    store, learner = local_learner(settings_for(data_dir))
    on, curriculum, schedules = dt.date.today(), load_curriculum(), Schedules(store)
    now = dt.datetime.now(dt.UTC)
    task = schedules.today(learner, curriculum, on)
    pace = schedules.report(learner, curriculum, on).to_dict()
    if as_json:
        print_json({"today": task.to_dict(), "pace": pace})
        return
    hours = f" · {task.hours:g} h" if task.hours else ""
    out.print(f"[bold]{task.day}, week {task.week}[/bold]: {task.title}[dim]{hours}[/dim]",
              highlight=False)
    out.print(task.advice, highlight=False)
    for item in task.tasks:
        mark = "[green]✓[/green]" if item["done"] else "[dim]○[/dim]"
        out.print(f" {mark} [bold]{item['task']}[/bold]  {item['text']}", highlight=False)
    out.print(pace_line(pace))
    out.print(f"Reviews: {due_phrase(Reviews(store).summary(learner.id, now), now)} "
              "(`tutor review`).", highlight=False)
    if task.milestone_month:
        out.print(f"Month {task.milestone_month} ends this week: its milestone is due "
                  "(`tutor milestone --quiz`).")
    if pace["status"] == "behind":
        out.print("[dim]`tutor replan` resumes the plan from where you are.[/dim]")


@app.command()
def replan(
    pace: Annotated[float | None, typer.Option(
        "--pace", min=MIN_PACE, max=MAX_PACE, help="Plan weeks per calendar week from now on "
        "(1 = the plan's rhythm).", show_default=False)] = None,
    hours: Annotated[float | None, typer.Option(
        "--hours", help="Hours a week you can study (the plan's rhythm is 6).",
        show_default=False)] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Re-plan: resume the plan today from where your ticks have you, and move the rest of
    the schedule (capstones too) to fit. Each re-plan is kept; `tutor progress` lists them.

    [dim]Examples:[/dim]
      tutor replan              back after a break: pick up where you left off
      tutor replan --hours 3    half the plan's pace from now on
      tutor replan --json       {"replan": {"from_week": 8, "to_week": 5, ...}, "pace": {...}}
    """
    import datetime as dt

    from app.pacing import pace_from_hours
    from app.render import pace_line
    from app.schedules import Schedules

    if pace is not None and hours is not None:
        fail("give --pace or --hours, not both", code=2)
    curriculum = load_curriculum()
    if hours is not None:
        try:
            pace = pace_from_hours(hours, curriculum)
        except ValueError as exc:
            fail(str(exc).replace("hours_per_week", "--hours"), code=2)
    store, learner = local_learner(settings_for(data_dir))
    schedules, on = Schedules(store), dt.date.today()
    moved, record = schedules.replan(learner.id, curriculum, on, pace)
    report = schedules.report(moved, curriculum, on).to_dict()
    if as_json:
        print_json({"replan": record.to_dict(), "pace": report})
        return
    out.print(f"Re-planned: the plan had you in week {record.from_week}; you resume at "
              f"[bold]week {record.to_week}[/bold] today.")
    out.print(pace_line(report))


@app.command()
def tasks(
    names: Annotated[list[str] | None, typer.Argument(
        help="Tasks to tick off, by name (reading, videos, course, practice, assignment, ...).",
        show_default=False)] = None,
    week: Annotated[int | None, typer.Option(
        "--week", "-w", help="Another week than yours (1-48; months 13-18 have no checklist).",
        show_default=False)] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Untick the named tasks instead.")] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Your week's checklist, from the plan: tick off what you have done. `tutor progress`
    counts the ticks, and the UI's Plan tab shows the same ones.

    [dim]Examples:[/dim]
      tutor tasks                      this week's checklist
      tutor tasks reading practice     tick two tasks off
      tutor tasks practice --undo      not done after all
      tutor tasks --week 6 --json      [{"task": "reading", "text": "...", "done": true}, ...]
    """
    from app.learners import NotFound

    check_week(week)
    if undo and not names:
        fail("name the tasks to untick, e.g. `tutor tasks practice --undo`", code=2)
    store, learner = local_learner(settings_for(data_dir))
    week = week or your_week(learner)
    curriculum = load_curriculum()
    checklist = store.checklist(learner.id, week, curriculum)
    try:
        for name in names or []:
            checklist = store.tick(learner.id, week, name, not undo, curriculum)
    except NotFound as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json([vars(task) for task in checklist])
        return
    if not checklist:
        out.print(f"Week {week} has no checklist: months 13-18 are planned by month "
                  f"(`tutor plan --week {week}`).")
        return
    done = sum(task.done for task in checklist)
    out.print(f"[bold]Week {week}[/bold]: {done} of {len(checklist)} done")
    for task in checklist:
        mark = "[green]✓[/green]" if task.done else "[dim]○[/dim]"
        out.print(f" {mark} [bold]{task.task}[/bold]  {task.text}", highlight=False)


@app.command()
def journal(
    text: Annotated[str | None, typer.Argument(
        help="A note on your week: what clicked, what didn't, what to ask next.",
        show_default=False)] = None,
    rating: Annotated[int | None, typer.Option(
        "--rating", "-r", min=1, max=10, help="How well you understand the week, 1-10.",
        show_default=False)] = None,
    week: Annotated[int | None, typer.Option(
        "--week", "-w", help="Another week than yours (1-72).", show_default=False)] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Your study journal: notes and a 1-10 self-rating per week, as in the UI's Journal tab.
    `tutor progress` charts the ratings.

    [dim]Examples:[/dim]
      tutor journal                                      your notes and ratings so far
      tutor journal "Attention finally clicked" -r 8     a note and a rating for your week
      tutor journal --rating 6 --week 17                 rate another week
      tutor journal --json                               {"ratings": {...}, "entries": [...]}
    """
    from app.learners import JOURNAL_CHARS

    check_week(week)
    if text is not None and not 1 <= len(text.strip()) <= JOURNAL_CHARS:
        fail(f"a journal note is 1-{JOURNAL_CHARS:,} characters", code=2)
    store, learner = local_learner(settings_for(data_dir))
    week = week or your_week(learner)
    if text is not None:
        store.write_journal(learner.id, week, text.strip())
    if rating is not None:
        store.rate(learner.id, week, rating)
    entries, ratings = store.journal(learner.id), store.ratings(learner.id)
    if as_json:
        print_json({"ratings": ratings, "entries": [entry.to_dict() for entry in entries]})
        return
    if text is not None or rating is not None:
        out.print(f"Saved for week {week}.")
    if not entries and not ratings:
        out.print('Your journal is empty. Write what you learned this week: '
                  '`tutor journal "..." --rating 7`.')
        return
    for number in sorted({e.week for e in entries} | set(ratings)):
        rated = f"  [dim]rated {ratings[number]}/10[/dim]" if number in ratings else ""
        out.print(f"\n[bold]Week {number}[/bold]{rated}")
        for entry in (e for e in entries if e.week == number):
            out.print(f"  [dim]{entry.created_at:%Y-%m-%d}[/dim]  {entry.text}", highlight=False)


@app.command()
def review(
    list_only: Annotated[bool, typer.Option("--list", help="Show what is due without asking.")]
    = False,
    forecast: Annotated[bool, typer.Option(
        "--forecast", help="Reviews due each day of the next 7 and 30 days (FSRS).")] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Review what is due: questions you answered in `tutor quiz` and your own cards
    (`tutor cards`), brought back by spaced repetition (FSRS).

    Each due question is asked again and graded, and the result decides when it returns: a
    miss within minutes, a sure answer after days, then weeks. After a short answer you rate
    yourself (again, hard, good or easy), since meaning is hard to grade exactly; your own
    cards show their back when you press Enter, and you rate them the same way (1-4).

    [dim]Examples:[/dim]
      tutor review                   ask the due questions one by one
      tutor review --list            how many are due, when the next one is, and which
      tutor review --json            the due questions as JSON (as GET /learners/{id}/reviews/due)
      tutor review --forecast        reviews due each day of the next week, and the month's total
      tutor review --forecast --json as GET /learners/{id}/reviews/forecast?days=30
    """
    import datetime as dt

    from app.learners import QuizRecords
    from app.reviews import OWN, Reviews, due_phrase
    from app.quiz import score_summary
    from app.render import render_summary

    settings = settings_for(data_dir)
    store, learner = local_learner(settings)
    records, deck, now = QuizRecords(store), Reviews(store), dt.datetime.now(dt.UTC)
    if forecast:
        print_forecast(deck.forecast(learner.id, now, 30), as_json)
        return
    due = records.due(learner.id, now)
    if as_json:
        print_json([q.public() for q in due])
        return
    out.print(due_phrase(deck.summary(learner.id, now), now) + ".", highlight=False)
    if not due:
        out.print("[dim]Take a quiz (`tutor quiz`) or make a card (`tutor cards add`): they "
                  "come back here.[/dim]")
        return
    if list_only:
        for question in due:
            out.print(f"• {question.prompt}  [dim]({question.kind}, week "
                      f"{question.citation['week']})[/dim]", highlight=False)
        return
    own = [q for q in due if q.kind == OWN]
    asked = [q for q in due if q.kind != OWN]
    right = ask_in_turn(asked, settings, records, learner.id, None, self_rate=True)
    right += flip_in_turn(own, deck, learner.id)
    out.print(render_summary(score_summary(right, len(due), "remembered")), highlight=False)


def flip_in_turn(cards: list[Any], deck: Any, learner_id: int) -> int:
    """Your own cards: the front, the back on Enter, then your rating (1-4 or its name)
    reschedules it. Returns how many were remembered (rated above again)."""
    import datetime as dt

    from app.quiz import RATINGS

    remembered = 0
    for card in cards:
        out.print(f"\n[bold]{card.prompt}[/bold]  [dim](your card)[/dim]", highlight=False)
        typer.prompt("   press Enter to see the back", default="", show_default=False)
        out.print(f"   {card.answer}", highlight=False)
        rating = ""
        while rating not in RATINGS:
            given = typer.prompt("   how did it go? 1 again, 2 hard, 3 good, 4 easy",
                                 default="3").strip().lower()
            rating = RATINGS[int(given) - 1] if given in ("1", "2", "3", "4") else given
        rated = deck.rate(learner_id, card.id, rating, dt.datetime.now(dt.UTC))
        out.print(f"   [dim]next review: {_when(dt.datetime.fromisoformat(rated['next_review']))}"
                  "[/dim]")
        remembered += rating != "again"
    return remembered


def print_forecast(days: list[dict[str, Any]], as_json: bool) -> None:
    """The next 7 days as bars, and the 7- and 30-day totals."""
    from app.reviews import counted

    week, month = sum(d["due"] for d in days[:7]), sum(d["due"] for d in days[:30])
    if as_json:
        print_json({"days": days, "next_7_days": week, "next_30_days": month})
        return
    out.print(f"[bold]{counted(week, 'review')} in the next 7 days, {month} in the next 30"
              "[/bold] "
              "[dim](FSRS forecast, counting each card again when it returns if you recall "
              "it)[/dim]")
    widest = max((d["due"] for d in days[:7]), default=0) or 1
    for day in days[:7]:
        bar = "█" * round(20 * day["due"] / widest)
        out.print(f"  {day['date']}  {bar:<20} {day['due']}", highlight=False)


cards_app = typer.Typer(help="""Your own cards, and every card's review history out to Anki or
CSV. Your cards come back in `tutor review` with the quiz questions.

[dim]Examples:[/dim]
  tutor cards add "Why divide by sqrt(d_k)?" "Keeps dot products from growing with d_k"
  tutor cards list
  tutor cards export -o cards.apkg

Cards live in the learner database: TUTOR_DATA_DIR (SQLite there) or TUTOR_DATABASE_URL.
""", no_args_is_help=True, rich_markup_mode="rich")
app.add_typer(cards_app, name="cards")
CardId = Annotated[str, typer.Argument(help="The card's id (`tutor cards list`).")]


def _deck(data_dir: Path | None) -> tuple[Any, Any]:
    from app.reviews import Reviews

    store, learner = local_learner(settings_for(data_dir))
    return Reviews(store), learner


@cards_app.command("list")
def cards_list(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Every card, quiz questions and your own, soonest due first.

    [dim]Examples:[/dim]
      tutor cards list
      tutor cards list --json    as GET /learners/{id}/cards
    """
    deck, learner = _deck(data_dir)
    cards = deck.cards(learner.id)
    if as_json:
        print_json(cards)
        return
    if not cards:
        out.print("No cards yet: `tutor cards add \"front\" \"back\"`, or take a quiz.")
    for card in cards:
        paused = " [yellow]suspended[/yellow]" if card["suspended"] else ""
        out.print(f"[cyan]{card['id']}[/cyan] {card['front']}  [dim]({card['kind']}, due "
                  f"{card['due'][:16].replace('T', ' ')} UTC)[/dim]{paused}", highlight=False)


@cards_app.command("add")
def cards_add(
    front: Annotated[str, typer.Argument(help="What to recall from: a question or a cue.")],
    back: Annotated[str, typer.Argument(help="The answer to check yourself against.")],
    week: Annotated[int | None, typer.Option("--week", "-w", help="The week it belongs to "
                                             "(default: yours).", show_default=False)] = None,
    source: Annotated[str, typer.Option("--source", help="Where it came from, e.g. "
                                        "notes/w18-attention.md.")] = "",
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Make a card of your own; it is due at once and then scheduled by FSRS.

    [dim]Examples:[/dim]
      tutor cards add "Why divide by sqrt(d_k)?" "Keeps dot products from growing with d_k"
      tutor cards add "Adam's bias correction" "Undoes the zero start of the moments" -w 6
    """
    from app.reviews import CardError

    check_week(week)
    deck, learner = _deck(data_dir)
    try:
        card = deck.add(learner.id, front, back, week or your_week(learner), source)
    except CardError as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json(card)
        return
    out.print(f"Card [cyan]{card['id']}[/cyan] made; it is due now (`tutor review`).")


def _changed(data_dir: Path | None, card_id: str, as_json: bool, done: str,
             **change: Any) -> None:
    from app.learners import NotFound
    from app.reviews import CardError

    deck, learner = _deck(data_dir)
    try:
        card = deck.edit(learner.id, card_id, **change)
    except NotFound as exc:
        fail(str(exc))
    except CardError as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json(card)
    else:
        out.print(f"Card [cyan]{card_id}[/cyan] {done}.")


@cards_app.command("edit")
def cards_edit(
    card_id: CardId,
    front: Annotated[str | None, typer.Option("--front", help="The new front.",
                                              show_default=False)] = None,
    back: Annotated[str | None, typer.Option("--back", help="The new back.",
                                             show_default=False)] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Reword one of your own cards; its schedule and history stay.

    [dim]Example:[/dim]  tutor cards edit own-1a2b3c4d5e6f7a8b --back "a better answer"
    """
    if front is None and back is None:
        fail("give --front, --back or both", code=2)
    _changed(data_dir, card_id, as_json, "changed", front=front, back=back)


@cards_app.command("suspend")
def cards_suspend(
    card_id: CardId,
    undo: Annotated[bool, typer.Option("--undo", help="Unsuspend: it is due as scheduled.")]
    = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Keep a card (any card, quiz questions too) out of your reviews until you unsuspend it.

    [dim]Examples:[/dim]
      tutor cards suspend own-1a2b3c4d5e6f7a8b
      tutor cards suspend own-1a2b3c4d5e6f7a8b --undo
    """
    _changed(data_dir, card_id, as_json, "unsuspended" if undo else "suspended",
             suspended=not undo)


@cards_app.command("delete")
def cards_delete(card_id: CardId, data_dir: DataDirOption = None) -> None:
    """Delete a card and its review history.

    [dim]Example:[/dim]  tutor cards delete own-1a2b3c4d5e6f7a8b
    """
    from app.learners import NotFound

    deck, learner = _deck(data_dir)
    try:
        deck.delete(learner.id, card_id)
    except NotFound as exc:
        fail(str(exc))
    out.print(f"Card [cyan]{card_id}[/cyan] deleted.")


@cards_app.command("export")
def cards_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.",
                                         show_default=False)],
    format: Annotated[str, typer.Option(
        "--format", "-f", help="apkg (Anki package, with the review history in its review "
        "log) or csv (one row a card).")] = "apkg",
    data_dir: DataDirOption = None,
) -> None:
    """Export every card with its review history, for Anki or a spreadsheet.

    [dim]Examples:[/dim]
      tutor cards export -o cards.apkg                 open it in Anki (File > Import)
      tutor cards export --format csv -o cards.csv
    """
    from app.card_export import to_csv, write_apkg
    from app.reviews import counted

    if format not in ("apkg", "csv"):
        fail(f"--format is apkg or csv, not {format!r}", code=2)
    if not output.parent.is_dir():
        fail(f"{output.parent} is not a folder: create it first or pick another --output",
             code=2)
    deck, learner = _deck(data_dir)
    cards, history = deck.cards(learner.id), deck.history(learner.id)
    if format == "csv":
        output.write_text(to_csv(cards, history), encoding="utf-8")
    else:
        write_apkg(cards, history, output)
    out.print(f"{counted(len(cards), 'card')} and {counted(len(history), 'review')} written "
              f"to {output}.")


@app.command()
def fsrs(
    fit: Annotated[bool, typer.Option("--fit", help="Fit FSRS to your review log now.")]
    = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """FSRS fitted to you: once you have enough reviews (the optimizer's own minimum), fit
    its parameters to your review log; they schedule your cards only if they predict your
    held-out reviews (a fifth of your cards, kept out of the fit) better than the defaults.

    [dim]Examples:[/dim]
      tutor fsrs              how many reviews count, and the last fit
      tutor fsrs --fit        fit now (seconds per thousand reviews)
      tutor fsrs --json       as GET /learners/{id}/fsrs
    """
    import datetime as dt

    from app.spaced import NotEnoughReviews

    deck, learner = _deck(data_dir)
    if fit:
        try:
            deck.fit(learner.id, dt.datetime.now(dt.UTC))
        except NotEnoughReviews as exc:
            fail(str(exc))
    state = deck.fitting(learner.id)
    if as_json:
        print_json(state)
        return
    out.print(f"{state['counted_reviews']} of your reviews count towards a fit; the FSRS "
              f"optimizer needs {state['min_reviews']}.", highlight=False)
    last = state["fit"]
    if last:
        out.print(f"Last fit {last['fitted_at'][:10]}: log loss on {last['held_out_reviews']} "
                  f"held-out reviews {last['fitted_loss']:.4f} fitted vs "
                  f"{last['default_loss']:.4f} default.", highlight=False)
    out.print(f"Your cards are scheduled with the [bold]{state['scheduling_with']}[/bold] "
              "parameters.")


@app.command()
def capstone(
    quarter: Annotated[int | None, typer.Argument(
        help="The quarter (1-4); leave it out for your next capstone.", show_default=False)]
    = None,
    tick: Annotated[list[str] | None, typer.Option(
        "--tick", "-t", help="A deliverable done, by its id (the `deliverable-` prefix may be "
        "left out); repeat for more.", show_default=False)] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Untick the --tick deliverables.")] = False,
    repo: Annotated[str | None, typer.Option(
        "--repo", help="Link your repository (https://...).", show_default=False)] = None,
    report: Annotated[str | None, typer.Option(
        "--report", help="Link your report, blog post or documentation.", show_default=False)]
    = None,
    score: Annotated[list[str] | None, typer.Option(
        "--score", "-s", help="Self-review: CRITERION=1-4 (1 not yet, 2 partly, 3 meets it, "
        "4 beyond it); repeat for more.", show_default=False)] = None,
    note: Annotated[str | None, typer.Option(
        "--note", help="A note with your self-review.", show_default=False)] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Your capstone coach: the quarter's capstone from the plan as a rubric (scope,
    deliverables, focus), your deliverables ticked, links to your work, and your self-review
    against the rubric. `tutor progress` shows where each capstone stands.

    [dim]Examples:[/dim]
      tutor capstone                               your next capstone's rubric
      tutor capstone 2 --tick model-demo           a Q2 deliverable done
      tutor capstone 2 --repo https://github.com/you/bert-finetune
      tutor capstone 2 --score scope=3 --score focus-proper-evaluation=2 --note "needs a baseline"
      tutor capstone 2 --json                      the rubric and your work, as the API gives it
    """
    import datetime as dt

    from app.capstone_work import CapstoneRecords
    from app.render import render_capstone
    from app.rubric import NoCapstone, rubric_for
    from app.schedules import Schedules

    curriculum = load_curriculum()
    store, learner = local_learner(settings_for(data_dir))
    if quarter is None:
        upcoming = Schedules(store).report(learner, curriculum, dt.date.today()).next_capstone
        quarter = upcoming.quarter if upcoming else curriculum.capstones[-1].quarter
    try:
        plan = rubric_for(quarter, curriculum)
        scores = dict(_scored(item) for item in score or [])
        records = CapstoneRecords(store)
        for name in tick or []:
            records.tick(learner.id, plan, _deliverable_id(name, plan), not undo)
        links = {name: url for name, url in (("repository", repo), ("report", report)) if url}
        if links:
            records.link(learner.id, plan, links)
        if scores or note is not None:
            records.review(learner.id, plan, scores, note, dt.date.today())
    except NoCapstone as exc:
        fail(str(exc), code=2)
    except KeyError as exc:
        fail(exc.args[0], code=2)
    except ValueError as exc:
        fail(str(exc), code=2)
    work = records.read(learner.id, plan)
    if as_json:
        print_json(work)
        return
    out.print(render_capstone(work))


def _scored(item: str) -> tuple[str, int]:
    """"scope=3" -> ("scope", 3); a ValueError says the form."""
    name, _, value = item.partition("=")
    if not name or not value.strip().isdigit():
        raise ValueError(f"--score {item!r}: write CRITERION=SCORE, e.g. scope=3")
    return name.strip(), int(value)


def _deliverable_id(name: str, plan: Any) -> str:
    """A deliverable's id, its `deliverable-` prefix optional."""
    ids = {c.id for c in plan.by_kind("deliverable")}
    return name if name in ids or f"deliverable-{name}" not in ids else f"deliverable-{name}"


@app.command()
def milestone(
    month: Annotated[int | None, typer.Argument(
        help="The month (1-18); leave it out for yours.", show_default=False)] = None,
    take_quiz: Annotated[bool, typer.Option(
        "--quiz", help="Take the month's milestone quiz now (with --json: print it, recording "
        "nothing).")] = False,
    n: Annotated[int, typer.Option("--n", min=4, max=30, help="Questions in the quiz: one a "
                                   "week at least.")] = 8,
    tick: Annotated[list[str] | None, typer.Option(
        "--tick", "-t", help="A checklist item done (coding-challenge-completion, "
        "project-milestone-review, peer-feedback-session); repeat for more.",
        show_default=False)] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Untick the --tick items.")] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Your monthly milestone, as the plan sets it: a concept quiz over all the month's
    topics, a coding challenge, a project review and peer feedback.

    The quiz has a question on every week of the month at least; the rest go to the weeks
    and concepts you have missed most. Its answers count in `tutor progress`, and missed
    ones come back in `tutor review`.

    [dim]Examples:[/dim]
      tutor milestone                          this month's checklist and quiz results
      tutor milestone --quiz                   take this month's milestone quiz (8 questions)
      tutor milestone 3 --tick coding-challenge-completion
      tutor milestone 3 --json                 {"month": 3, "quiz": {...}, "checklist": [...]}
    """
    import random

    from app.learners import NotFound, QuizRecords
    from app.milestone_records import MilestoneRecords, QuizItemIsAnswered
    from app.milestones import NoMonth, milestone_quiz
    from app.quiz import KINDS, QuizError
    from app.render import render_milestone
    from app.weak_spots import weak_spots
    from ingest.curriculum import month_of_week
    from ingest.notes import read_notes

    settings = settings_for(data_dir)
    store, learner = local_learner(settings)
    curriculum = load_curriculum()
    month = month or month_of_week(your_week(learner))
    records = MilestoneRecords(store)
    try:
        if take_quiz and as_json:
            missed = weak_spots(store, learner.id, read_notes())
            print_json([q.to_dict() for q in milestone_quiz(read_notes(), month, missed, n=n,
                                                            seed=random.random())])
            return
        for item in tick or []:
            records.tick(learner.id, month, item, not undo, curriculum)
        if take_quiz:
            quiz_id, questions = records.new_quiz(learner.id, month, read_notes(),
                                                  n=n, kinds=KINDS, seed=random.random())
            right = ask_in_turn(questions, settings, QuizRecords(store), learner.id, quiz_id,
                                self_rate=False)
            out.print(f"\n[bold]{right} of {len(questions)} right.[/bold]")
        status = records.status(learner.id, month, curriculum)
    except (NoMonth, NotFound, QuizItemIsAnswered, QuizError) as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json(status)
    else:
        out.print(render_milestone(status))


@app.command("progress")
def progress_(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Your progress: where you stand against the plan (ahead or behind, finish date, next
    capstone), tasks done per week from the week you started in, quiz accuracy, self-ratings,
    your streak of active days, the concepts you miss most and, for a concept you keep missing
    (2 of your last 3 answers on it wrong), the earlier week it builds on with the passage of
    the notes to reread.

    [dim]Examples:[/dim]
      tutor progress          tables, daily accuracy as a sparkline, what to reread
      tutor progress --json   the same data as GET /learners/{id}/progress
    """
    import datetime as dt

    from app.prerequisites import PrerequisitePassages
    from app.progress import progress
    from app.render import render_progress
    from app.retrieval import Retriever
    from ingest.notes import read_notes

    settings = settings_for(data_dir)
    store, learner = local_learner(settings)
    report = progress(store, learner, load_curriculum(), dt.date.today(), read_notes(),
                      PrerequisitePassages(lambda: Retriever.from_settings(settings)))
    if as_json:
        print_json(report)
    else:
        out.print(render_progress(report))


@app.command("check")
def check_(
    file: Annotated[Path, typer.Argument(help="Your Python file with the assignment's "
                                         "functions.", show_default=False)],
    week: Annotated[int, typer.Option("--week", "-w", help="The assignment's week.",
                                      show_default=False)],
    only: Annotated[str | None, typer.Option("--check", help="One of the week's checks (weeks "
                                             "2 and 6 have two).")] = None,
    record: Annotated[bool, typer.Option(help="Keep the attempt in your progress.")] = True,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Check your from-scratch implementation of a week's assignment: hidden tests on random
    inputs (Hypothesis), each failure shrunk to a small input, with a hint citing the week's
    notes. Your code runs in a sandbox (no network, its own temp dir, limited CPU, memory,
    processes and files). Exit code 0: all checks pass; 1: not yet; 2: cannot check.

    Checked weeks and what your file must define:

    [dim]1 pca(X, k); 2 svd(A), eigh(A); 3 naive_bayes(X_train, y_train, X_test); 5 class Value;
    6 sgd_momentum(w, g, state, lr, momentum), adam(w, g, state, lr, beta1, beta2, eps);
    7 batchnorm(x, gamma, beta, eps); 8 conv2d(x, kernel, stride, padding);
    10 kmeans(X, centroids, iters); 13 softmax(logits), cross_entropy(logits, targets);
    18 attention(Q, K, V, mask); 26 apply_temperature(logits, t), top_k(probs, k),
    top_p(probs, p).[/dim] A file without them gets the full interface in the verdict.

    [dim]Examples:[/dim]
      tutor check --week 1 my_pca.py
      tutor check --week 6 --check adam optimizers.py
      tutor check --week 18 attention.py --json
    """
    from app.checks.engine import CheckError, run_checks
    from app.checks.report import render_verdict

    settings = settings_for(data_dir)
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}", code=2)
    try:
        verdict = run_checks(week, source, settings, only=only)
    except CheckError as exc:
        fail(str(exc), code=2)
    if not as_json:  # the verdict first: keeping it loads the learner database's modules
        out.print(render_verdict(verdict), soft_wrap=True)
    if record:
        from app.check_records import CheckRecords

        store, learner = local_learner(settings)
        verdict["attempt_id"] = CheckRecords(store).record(learner.id, verdict)
    if as_json:
        print_json(verdict)
    raise typer.Exit(0 if verdict["passed"] else 1)


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
                                       "no model (2-3 minutes); full: every answer too.")]
    = "quick",
    compare: Annotated[str | None, typer.Option("--compare", metavar="RUN",
                                                help="An earlier run's name: show the deltas.")] = None,
    public_notes: Annotated[Path | None, typer.Option(
        "--public-notes", help="Also index this folder of public course notes (slow the first time).",
        exists=True, file_okay=False)] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, help="A smoke run: only the first N questions of each kind, and "
        "quizzes on the first N weeks.")] = None,
    datasets: Annotated[Path | None, typer.Option(
        "--datasets", help="A folder of *.jsonl golden sets (default: evals/datasets).",
        exists=True, file_okay=False)] = None,
    ablations: Annotated[bool, typer.Option(
        "--ablations", help="Full suite: also let the local model write its own (checked) "
        "answers, a second pass beside the sources' sentences.")] = False,
    llm_quiz: Annotated[bool, typer.Option(
        "--llm-quiz", help="Also measure the model-written quiz kind (slow: a model call or two "
        "per question).")] = False,
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
    from ingest.runs import IngestBusy

    if suite not in ("quick", "full"):
        fail(f"--suite must be quick or full, not {suite!r}", code=2)
    settings = settings_for(data_dir)
    try:
        baseline = reports.load_report(settings.eval_reports_dir, compare) if compare else None
        with Progress(console=err, transient=True, disable=as_json) as bar:
            result = run(settings, Options(
                suite=suite, public_notes=public_notes, limit=limit,  # type: ignore[arg-type]
                datasets=datasets, ablations=ablations, llm_quiz=llm_quiz,
                progress=_EvalProgress(bar)))
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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(
        "--host", help="Address to listen on (default TUTOR_API_HOST, 127.0.0.1). For a study "
        "group: 0.0.0.0, with the server's name in TUTOR_ALLOWED_HOSTS.")] = None,
    port: Annotated[int | None, typer.Option(
        "--port", min=1, max=65535, help="Port (default TUTOR_API_PORT, 8000).")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Processes answering requests, each with its own model. More "
        "than one wants PostgreSQL (TUTOR_DATABASE_URL) and a Chroma server (TUTOR_CHROMA_URL).")
    ] = 1,
    data_dir: DataDirOption = None,
) -> None:
    """Run the HTTP API (FastAPI) on TUTOR_API_HOST:TUTOR_API_PORT (default 127.0.0.1:8000).

    Interactive docs are at /docs once it is up. SIGTERM or Ctrl-C stops it.

    [dim]Examples:[/dim]
      tutor serve                                  this machine only
      TUTOR_ALLOWED_HOSTS='["tutor.lan"]' tutor serve --host 0.0.0.0   for a study group

    [dim]Settings:[/dim] TUTOR_ALLOWED_HOSTS, TUTOR_ASKS_PER_MINUTE, TUTOR_SIGNUPS_PER_HOUR,
    TUTOR_MODEL_QUEUE_SIZE, TUTOR_MODEL_WAIT_S, TUTOR_MAX_BODY_KB, TUTOR_INGEST_ROOTS,
    TUTOR_DATABASE_URL.
    """
    from app.launcher import serve_api

    chosen = {"api_host": host, "api_port": port}
    settings = settings_for(data_dir).model_copy(
        update={name: value for name, value in chosen.items() if value is not None})
    out.print(f"API on [link]{settings.resolved_api_url}[/link]  (docs: {settings.resolved_api_url}/docs)"
              + (f", {workers} workers" if workers > 1 else ""))
    serve_api(settings, workers)


@app.command()
def ui(data_dir: DataDirOption = None) -> None:
    """Run the Streamlit UI on TUTOR_UI_PORT (default 8501); it needs the API (`tutor serve`).

    [dim]Examples:[/dim]
      tutor serve & tutor ui                       the API, then the UI on it
      TUTOR_API_URL=http://tutor.lan:8000 tutor ui  a UI for an API on another machine
    """
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

    [dim]Examples:[/dim]
      tutor up                                     open the UI link it prints
      TUTOR_UI_PORT=8600 tutor up --data-dir ~/tutor-data

    [dim]Settings:[/dim] TUTOR_API_HOST, TUTOR_API_PORT, TUTOR_UI_PORT, TUTOR_DATA_DIR.
    """
    from app.launcher import run_all
    from app.learners import LearnerStoreError
    from app.store import Store, StoreError
    from ingest.pipeline import CORPUS_DIR, Ingestor
    from ingest.runs import IngestBusy

    settings = settings_for(data_dir)
    try:
        store = Store(settings)
        if store.count() == 0:
            out.print("[bold]First run:[/bold] indexing the curriculum and our notes …")
            summary = Ingestor(settings, store=store).run([str(CORPUS_DIR)])
            _print_summary(summary.to_dict())
        del store  # the API process owns the index from here on
    except (StoreError, LearnerStoreError, IngestBusy) as exc:
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
