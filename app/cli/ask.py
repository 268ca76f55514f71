"""Asking: `tutor search` and `tutor ask`, through a running API or in this process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any
from typing import Protocol

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import check_week
from app.cli.base import err
from app.cli.base import fail
from app.cli.base import open_retriever
from app.cli.base import option
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for
from app.cli.base import settled_week
from app.cli.base import via_api_or_here
from app.config import Settings
from app.sse import answer_of

if TYPE_CHECKING:
    from app.cli.api_client import ApiClient
    from app.cli.as_learner import AsLearner


@dataclass(frozen=True)
class Asked:
    """A question as `tutor ask` was given it: its text and options."""

    text: str
    week: int | None
    mode: str
    no_spoilers: bool
    resume: bool
    conversation: str | None
    as_json: bool

    @property
    def follow_up(self) -> bool:
        """Whether it continues a conversation (--continue or --conversation ID)."""
        return self.resume or self.conversation is not None


class Asker(Protocol):
    """What answers a question: the API (`ApiClient`) or this process (`AskAs`)."""

    def stream(
        self,
        question: str,
        *,
        week: int | None = ...,
        mode: str = ...,
        conversation_id: str | None = ...,
        no_spoilers: bool = ...,
    ) -> Iterator[tuple[str, Any]]: ...


@app.command(rich_help_panel="Ask")
def search(
    query: Annotated[str, typer.Argument(help="What you want to find, in your own words.")],
    week: Annotated[
        int | None,
        option("--week", "-w", help="Favour material of this week."),
    ] = None,
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
    if not query.strip() or len(query) > 2000:
        fail("the query must be 1-2,000 characters", code=2)
    settings = settings_for(data_dir)
    hits = via_api_or_here(
        settings,
        lambda api: api.search(query, k, week),
        lambda: [hit.to_dict() for hit in open_retriever(settings).search(query, k=k, week=week)],
    )
    if as_json:
        print_json(hits)
        return
    for rank, hit in enumerate(hits, 1):
        where = f" · week {hit['week']}" if hit["week"] else ""
        out.print(
            f"[bold]{rank}. {hit['source']}[/bold]  "
            f"[dim]{hit['heading']}{where} · {hit['score']:.3f}[/dim]"
        )
        snippet = " ".join(hit["text"].split())
        out.print(f"   {snippet[:240]}{'…' if len(snippet) > 240 else ''}\n", highlight=False)


@app.command(rich_help_panel="Ask")
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in your own words.")],
    week: Annotated[
        int | None,
        option(
            "--week",
            "-w",
            help="Ask from this week (1-72; default: yours, see `tutor week`). Until you have "
            "said your week, the first --week becomes it.",
        ),
    ] = None,
    mode: Annotated[
        str,
        typer.Option("--mode", "-m", help="explain (default), socratic (hints first) or quick."),
    ] = "explain",
    no_spoilers: Annotated[
        bool, typer.Option("--no-spoilers", help="Leave out material of later weeks.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--continue",
            "-c",
            help="A follow-up to your last conversation: the tutor reads it "
            "with your earlier questions.",
        ),
    ] = False,
    conversation: Annotated[
        str | None,
        option(
            "--conversation",
            metavar="ID",
            help="A follow-up to this conversation (its id is printed under each answer).",
        ),
    ] = None,
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
    from app.answering.modes import MODES

    check_week(week)
    if mode not in MODES:
        fail(f"unknown mode {mode!r}: use one of {', '.join(MODES)}", code=2)
    if not question.strip() or len(question) > 2000:
        fail("the question must be 1-2,000 characters", code=2)
    if resume and conversation:
        fail("give --continue or --conversation ID, not both", code=2)
    settings = settings_for(data_dir)
    asked = Asked(question, week, mode, no_spoilers, resume, conversation, as_json)

    def through_api(api: ApiClient) -> tuple[dict[str, Any], bool]:
        from app.cli.as_learner import api_learner

        learner = api_learner(api, settings, asked.follow_up)
        return _ask_as(learner, lambda: learner or api, asked)

    answer, kept = via_api_or_here(settings, through_api, lambda: _ask_here(settings, asked))
    for warning in answer.get("warnings", []):
        err.print(f"[yellow]warning:[/yellow] {warning}")
    if as_json:
        print_json(answer)
        return
    if answer["citations"]:
        out.print()
        for c in answer["citations"]:
            where = f" · week {c['week']}" if c["week"] else ""
            out.print(
                f"[bold cyan][{c['n']}][/bold cyan] {c['source']} [dim]{c['heading']}{where}[/dim]"
            )
    if answer.get("back_to"):
        from app.cli.render_progress import back_to_prerequisites

        out.print(back_to_prerequisites(answer["back_to"]))
    if kept and (answer["grounded"] or asked.follow_up):
        out.print(
            f"\n[dim]conversation {answer['conversation_id']} · a follow-up: "
            'tutor ask --continue "..."[/dim]',
            highlight=False,
        )


def _ask_as(
    learner: AsLearner | None, asker: Callable[[], Asker], asked: Asked
) -> tuple[dict[str, Any], bool]:
    """The answer to `asked`, as `learner` (None: as nobody in particular), of the `asker` made
    once the question is known to be askable; and whether it is kept in their conversations.
    Asked from the week given; else a follow-up from its conversation's week, and a new
    question from theirs (said on screen)."""
    from app.cli.as_learner import conversation_to_continue

    # First what can refuse the question: a refused one changes nothing of the learner's.
    conversation_id = conversation_to_continue(learner, asked.resume, asked.conversation)
    week = asked.week
    # A follow-up without --week is asked from its conversation's week (`AskAs.week`).
    if learner is not None and not (asked.follow_up and asked.week is None):
        week = settled_week(learner, asked.week)
        if asked.week is None and not asked.as_json:
            whose = "yours" if learner.has_chosen_week() else "where the calendar puts you"
            out.print(
                f"[dim]week {week}: {whose} (see `tutor week`); --week N asks from another[/dim]"
            )
    asking = dict(
        week=week, mode=asked.mode, conversation_id=conversation_id, no_spoilers=asked.no_spoilers
    )
    return _answer(asker(), asked.text, asked.as_json, asking), learner is not None


def _answer(asker: Asker, question: str, as_json: bool, asking: dict[str, Any]) -> dict[str, Any]:
    """The answer as a dict (`Answer.to_dict()`); in plain mode it is streamed to the screen
    sentence by sentence, then printed once whole. Printed as written, not rendered as
    Markdown: a Markdown renderer eats a formula's `\\,`, `\\;` and `_`
    (`\\mathbb{E}_{x,\\,y}` printed as `\\mathbb{E}{x,,y}`)."""
    if as_json:
        return answer_of(asker.stream)(question, **asking)
    from rich.live import Live
    from rich.text import Text

    streamed, answer = "", {}
    # transient: an API that breaks off mid-answer leaves no half answer above the retry
    with Live(Text(""), console=out, refresh_per_second=12, transient=True) as live:
        for event, data in asker.stream(question, **asking):
            if event == "token":
                streamed += data
                live.update(Text(streamed))
            elif event == "answer":
                answer = data
    out.print(Text(answer["answer"]))
    return answer


def _ask_here(settings: Settings, asked: Asked) -> tuple[dict[str, Any], bool]:
    """`_ask_as` in this process, as the command line's learner of the learner database here
    (made on first use), with the same calls as `ApiLearner` (`app.usecases.asking`); the
    model loads on first use."""
    from app.answering.tutor import Tutor
    from app.cli.as_learner import HereLearner
    from app.cli.as_learner import learner_store
    from app.course.notes import read_notes
    from app.llm.providers import LLMError
    from app.usecases.asking import AskAs

    store = learner_store(settings, asked.follow_up)
    me = store.local_learner(dt.date.today()) if store else None
    learner = HereLearner(store, me) if store and me else None

    def here() -> AskAs:
        tutor = Tutor(settings, open_retriever(settings))
        return AskAs(tutor, read_notes(), store, me, curriculum=tutor.curriculum)

    try:
        return _ask_as(learner, here, asked)
    except LLMError as exc:
        fail(str(exc))
