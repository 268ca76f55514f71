"""What every command group shares: the `tutor` app, its consoles, the common options, and
the ways a command reaches its data (a running API or this process)."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any
from typing import NoReturn
from typing import Protocol
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.models import ArgumentInfo
from typer.models import OptionInfo

from app.config import Settings
from app.config import settings_problem
from app.course.curriculum import WeekOutOfRange

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


def reflowed(doc: str) -> str:
    """A command's docstring as its --help shows it: the lines of each prose paragraph joined,
    so the terminal wraps them at its own width (Typer keeps a docstring's line breaks, and at
    80 columns "its model is / already loaded" broke mid-sentence); indented lines (examples)
    stay as written, and so does a paragraph whose first line is Click's "\\b" alone (a list)."""
    paragraphs = []
    for paragraph in inspect.cleandoc(doc).split("\n\n"):
        if paragraph.startswith("\b\n"):
            paragraphs.append(paragraph.removeprefix("\b\n"))
            continue
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if lines and not line[:1].isspace() and not lines[-1][:1].isspace():
                lines[-1] += f" {line}"
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def option(*names: str, help: str, **more: Any) -> OptionInfo:
    """A typer option whose help says what leaving it out means, so no "[default: None]" is
    printed beside it. `names` are its flags ("--week", "-w"); `more` is passed to typer."""
    info: OptionInfo = typer.Option(*names, help=help, show_default=False, **more)
    return info


def argument(help: str) -> ArgumentInfo:
    """An optional argument whose help says what leaving it out means (no "[default: None]")."""
    info: ArgumentInfo = typer.Argument(help=help, show_default=False)
    return info


DataDirOption = Annotated[
    Path | None,
    option(
        "--data-dir", help="Where the index and database live (default: $TUTOR_DATA_DIR or ./data)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
T = TypeVar("T")

if TYPE_CHECKING:
    from app.records.learners import Learner
    from app.records.learners import LearnerRecords
    from app.search.retrieval import Retriever


@app.callback()
def _root() -> None:
    """Keeps `tutor` a group of commands even while few exist."""


def settings_for(data_dir: Path | None) -> Settings:
    """Settings from the environment, with --data-dir (when given) winning. A `TUTOR_*` value
    that cannot be read ends the command with one line naming it (exit 2), not a traceback."""
    try:
        settings = Settings()
    except ValidationError as exc:
        fail(f"a setting is not valid: {settings_problem(exc)}", code=2)
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/bold red] {message}")
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def via_api_or_here(
    settings: Settings, through_api: Callable[[Any], T], here: Callable[[], T]
) -> T:
    """Through the API when one serves this data dir (its models are loaded already), else in
    this process. An API that errs or goes away mid-call costs a dim note, not the answer."""
    from app.cli.api_client import ApiClient
    from app.cli.api_client import ApiFailed
    from app.cli.api_client import running_api_for

    if url := running_api_for(settings):
        try:
            return through_api(ApiClient(url))
        except ApiFailed as exc:
            err.print(
                f"[dim]the API at {url} failed ({exc}); answering here instead[/dim]",
                highlight=False,
            )
    return here()


def check_week(week: int | None) -> None:
    from app.course.curriculum import LAST_WEEK

    if week is not None and not 1 <= week <= LAST_WEEK:
        fail(str(WeekOutOfRange(week)), code=2)


def open_retriever(settings: Settings) -> Retriever:
    """The retriever over a non-empty index, or a clear exit."""
    from app.search.retrieval import Retriever
    from app.search.vectors import VectorStoreError

    try:
        retriever = Retriever.from_settings(settings)
    except VectorStoreError as exc:
        fail(str(exc))
    if retriever.store.count() == 0:
        fail("the index is empty: run `tutor ingest` first")
    return retriever


def local_learner(settings: Settings) -> tuple[LearnerRecords, Learner]:
    """The learner database and the command line's own learner in it (made on first use)."""
    from app.records.base import LearnerRecordsError
    from app.records.learners import LearnerRecords

    try:
        store = LearnerRecords(settings.resolved_database_url)
    except LearnerRecordsError as exc:
        fail(str(exc))
    return store, store.local_learner(dt.date.today())


class LearnerWeek(Protocol):
    """A learner's week where it is kept: their records in this process (`RecordsWeek`), or
    a running API acting as them (`app.cli.as_learner.ApiLearner`)."""

    def current_week(self) -> int:
        """The week they are on (`app.records.schedules.standing_in`)."""
        ...

    def has_chosen_week(self) -> bool:
        """Whether they have said which week they are in (`tutor week N`, a first --week)."""
        ...

    def choose_week(self, week: int) -> None: ...


def settled_week(learner: LearnerWeek, given: int | None) -> int:
    """The week a command works on: `given` (its --week), else the week the learner is on
    (`app.records.schedules.standing_in`, what `tutor today` and `tutor progress` show).

    A learner without a week of their own (never set with `tutor week N`) adopts the first
    --week they give, and is told so once, on stderr: a learner who asks about week 7 is most
    likely in week 7, and a command line that stayed in week 1 while they did would disagree
    with every view of their plan."""
    if given is None:
        return learner.current_week()
    if not learner.has_chosen_week():
        learner.choose_week(given)
        err.print(
            f"Week {given} is now your week: `tutor today`, `tutor progress`, `tutor ask` and "
            f"`tutor quiz` use it from here on (change it with `tutor week N`)."
        )
    return given


@dataclass(frozen=True)
class RecordsWeek:
    """`LearnerWeek` from the learner's records in this process."""

    store: LearnerRecords
    learner: Learner

    def current_week(self) -> int:
        from app.course.curriculum import load_curriculum
        from app.records.schedules import ScheduleRecords

        today = dt.date.today()
        return ScheduleRecords(self.store).current_week(self.learner, load_curriculum(), today)

    def has_chosen_week(self) -> bool:
        return self.learner.current_week is not None

    def choose_week(self, week: int) -> None:
        self.store.set_week(self.learner.id, week, dt.date.today())
        self.learner.current_week = week
        self.learner.start_week = self.learner.start_week or week


def week_for(store: LearnerRecords, learner: Learner, given: int | None) -> int:
    """`settled_week` for a learner of `store`."""
    return settled_week(RecordsWeek(store, learner), given)
