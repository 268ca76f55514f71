"""Request and response bodies, and the ids in paths: validation lives here, so routes get
clean values."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationInfo
from pydantic import field_validator
from pydantic import model_validator

from app.answering.modes import Mode
from app.course.curriculum import LAST_WEEK
from app.course.pacing import MAX_PACE
from app.course.pacing import MIN_PACE
from app.course.pacing import Standing
from app.practice.quiz import KINDS
from app.records.capstones import LINK_CHARS
from app.records.capstones import check_link
from app.records.learners import JOURNAL_CHARS
from app.records.learners import Learner
from app.records.reviews import BACK_CHARS
from app.records.reviews import FRONT_CHARS

VERSION = "0.1.0"


# Plan weeks per calendar week, wherever a pace is set.
Pace = Annotated[
    float,
    Field(
        ge=MIN_PACE,
        le=MAX_PACE,
        description="Plan weeks per calendar week (1 = the plan's rhythm).",
    ),
]


class Health(BaseModel):
    status: str
    ready: bool
    index_chunks: int
    model_provider: str
    model: str
    data_dir: str
    chroma_url: str
    version: str = VERSION
    detail: str = ""
    model_queue: dict[str, int] = Field(
        default_factory=dict, description="Questions the model is answering, and waiting."
    )
    check_sandbox: str = Field(default="", description="What runs code checks here: bwrap, ...")
    check_isolation: str | None = Field(
        default=None, description="What that sandbox leaves open; null when nothing is known."
    )


class Body(BaseModel):
    """What every JSON body is held to besides its fields: finite numbers (JSON has no NaN,
    though Python's parser takes it) and text a database can store: valid Unicode (a lone
    surrogate such as "\\ud800" would fail later, when stored or sent back) without NUL
    characters (PostgreSQL refuses them in any text, even in a lookup)."""

    model_config = ConfigDict(allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _valid_text(cls, data: Any) -> Any:
        def check(value: Any, where: str) -> None:
            if isinstance(value, str):
                storable_text(value, where or "the body")
            elif isinstance(value, dict):
                for key, item in value.items():
                    check(key, where)
                    check(item, f"{where}.{key}" if where else str(key))
            elif isinstance(value, list):
                for n, item in enumerate(value):
                    check(item, f"{where}[{n}]")

        check(data, "")
        return data


def storable_text(value: str, what: str) -> str:
    """`value`, unless it is text no database would store: a ValueError naming `what`."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{what} is not valid Unicode (a lone surrogate at character "
            f"{exc.start}): send UTF-8 text"
        ) from exc
    nul = value.find("\x00")
    if nul >= 0:
        raise ValueError(f"{what} holds a NUL character (\\x00) at character {nul}: leave it out")
    return value


def _not_blank(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} is blank")
    return value.strip()


class AskRequest(Body):
    question: str = Field(min_length=1, max_length=2000, description="1-2,000 characters.")
    week: int | None = Field(default=None, ge=1, le=LAST_WEEK, description="The learner's week.")
    mode: Mode = "explain"
    conversation_id: str | None = Field(default=None, max_length=100)
    no_spoilers: bool = Field(default=False, description="Leave out material of later weeks.")

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        return _not_blank(value, "question")


class IngestRequest(Body):
    paths: list[str] = Field(min_length=1, description="Absolute paths on the server, or git URLs.")
    rebuild: bool = False

    @field_validator("paths")
    @classmethod
    def _paths(cls, values: list[str]) -> list[str]:
        """No blank path: it would name the server's working folder."""
        for n, value in enumerate(values):
            _not_blank(value, f"paths[{n}]")
        return values


class LearnerCreate(Body):
    name: str = Field(min_length=1, max_length=100)
    start_date: dt.date = Field(default_factory=dt.date.today)
    pace: Pace = 1.0
    current_week: int | None = Field(
        default=None,
        ge=1,
        le=LAST_WEEK,
        description="The plan week you are in on start_date "
        "(default 1); the calendar moves you on from there at your pace.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _not_blank(value, "name")

    @field_validator("start_date")
    @classmethod
    def _start_date(cls, value: dt.date) -> dt.date:
        """The plan's calendar runs from it: a start before 2000 or over a year ahead is a
        typo, not a plan."""
        latest = dt.date.today() + dt.timedelta(days=366)
        if not EARLIEST_START <= value <= latest:
            raise ValueError(
                f"start_date {value.isoformat()} is outside "
                f"{EARLIEST_START.isoformat()} to {latest.isoformat()} (a year ahead)"
            )
        return value


EARLIEST_START = dt.date(2000, 1, 1)


class LearnerPublic(BaseModel):
    id: int
    name: str
    start_date: dt.date
    pace: float
    current_week: int = Field(description="The week you are on: the first one not yet done.")
    start_week: int = Field(description="The week you joined in.")
    week_set_on: dt.date | None = Field(
        description="The day you last said which week you are in (at creation, PUT .../week "
        "or a re-plan); null: the calendar places you, from your start date."
    )

    @classmethod
    def of(cls, learner: Learner, standing: Standing) -> LearnerPublic:
        """The learner as the API shows them, their weeks from `standing` (the one truth)."""
        return cls(
            id=learner.id,
            name=learner.name,
            start_date=learner.start_date,
            pace=learner.pace,
            current_week=standing.current_week,
            start_week=standing.start_week,
            week_set_on=learner.week_set_on,
        )


class LearnerCreated(LearnerPublic):
    token: str = Field(description="Shown once: send it as `Authorization: Bearer <token>`.")


class WeekChoice(Body):
    week: int | None = Field(
        ge=1,
        le=LAST_WEEK,
        description="The week you are in today; the "
        "calendar moves you on from it. null: follow start date and pace",
    )


class ReplanIn(Body):
    """A re-plan resumes the plan today from where your ticks have you; give a new pace, as
    plan weeks per calendar week or as hours a week, or neither to keep yours."""

    pace: Pace | None = None
    hours_per_week: float | None = Field(
        default=None,
        gt=0,
        le=24 * 7,
        description="Hours you can study a week (the plan's rhythm is 6: Monday to Friday).",
    )

    @model_validator(mode="after")
    def _one_pace(self) -> ReplanIn:
        if self.pace is not None and self.hours_per_week is not None:
            raise ValueError("give pace or hours_per_week, not both")
        return self


class TaskUpdate(Body):
    done: bool


class Rating(Body):
    rating: int = Field(ge=1, le=10)


class JournalIn(Body):
    text: str = Field(min_length=1, max_length=JOURNAL_CHARS)


class QuizPassage(Body):
    """A passage that answered the conversation a topic quiz is on (a citation's snippet)."""

    text: str = Field(min_length=1, max_length=4000)
    week: int | None = Field(default=None, ge=1, le=LAST_WEEK)


class QuizRequest(Body):
    week: int | None = Field(default=None, ge=1, le=LAST_WEEK, description="Default: your week.")
    topic: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description=(
            '"Quiz me on this": what the conversation asked; the questions are the notes\' '
            "closest to it and to `passages`, from the notes of `week` and the passages' weeks."
        ),
    )
    passages: list[QuizPassage] = Field(
        default_factory=list,
        max_length=12,
        description=(
            "The passages that answered the conversation (its citations); with `topic` only."
        ),
    )
    n: int = Field(default=5, ge=1, le=30)
    kinds: list[Literal["mcq", "truefalse", "short", "cloze", "llm"]] = Field(
        default=list(KINDS),
        description="`llm`: some questions written by the chat model "
        "(slower; each checked, and our own generators fill in what it can't write).",
    )

    @model_validator(mode="after")
    def _topic_fits(self) -> QuizRequest:
        if self.passages and not self.topic:
            raise ValueError("passages come with a topic: give the topic they answered")
        if self.topic and "llm" in self.kinds:
            raise ValueError(
                "a topic quiz is made from the notes' own questions: leave llm out of kinds"
            )
        return self


class MilestoneQuizIn(Body):
    n: int = Field(
        default=8,
        ge=4,
        le=30,
        description="How many questions: one a week at "
        "least, the rest toward what you have missed.",
    )
    kinds: list[Literal["mcq", "truefalse", "short", "cloze"]] = Field(default=list(KINDS))


class ResponseIn(Body):
    response: str = Field(max_length=2000, description="An option's text or letter, or free text.")


class AnswerIn(ResponseIn):
    question_id: str = Field(min_length=1, max_length=32)


class ReviewAnswerIn(ResponseIn):
    rating: Literal["again", "hard", "good", "easy"] | None = Field(
        default=None,
        description="Short answers only: your own verdict, which schedules the "
        "next review (again = missed it, hard, good, easy).",
    )


class CardIn(Body):
    """A card of your own: a front to recall from and a back to check against; where it came
    from (a tutor's answer, a passage) when it came from somewhere."""

    front: str = Field(min_length=1, max_length=FRONT_CHARS)
    back: str = Field(min_length=1, max_length=BACK_CHARS)
    week: int | None = Field(default=None, ge=1, le=LAST_WEEK, description="Default: your week.")
    source: str = Field(default="", max_length=300, description="e.g. notes/week-18.md")
    passage: str = Field(
        default="",
        max_length=BACK_CHARS,
        description="The words it was made from, kept with the card.",
    )


class CardEdit(Body):
    """A field left out is kept; front and back only on your own cards."""

    front: str | None = Field(default=None, min_length=1, max_length=FRONT_CHARS)
    back: str | None = Field(default=None, min_length=1, max_length=BACK_CHARS)
    suspended: bool | None = Field(default=None, description="A suspended card is never due.")


class CardRating(Body):
    rating: Literal["again", "hard", "good", "easy"] = Field(
        description="After seeing the back: again = forgot, hard, good, easy."
    )


class SourceDecision(Body):
    decision: Literal["accept", "retire"] = Field(
        description="A card whose quoted passage changed: accept = quote the source's new "
        "sentence (sides and schedule kept), retire = suspend the card (history kept)."
    )


class DeliverableTick(Body):
    done: bool


class CapstoneLinks(Body):
    """Links to your capstone work; a field left out keeps its link, null clears it."""

    repository: str | None = Field(
        default=None,
        max_length=LINK_CHARS,
        description="Your code, e.g. https://github.com/you/project",
    )
    report: str | None = Field(
        default=None,
        max_length=LINK_CHARS,
        description="Your write-up: report, blog post or documentation.",
    )

    @field_validator("repository", "report")
    @classmethod
    def _web_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else check_link(value, info.field_name or "link")

    def given(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class CapstoneReview(Body):
    """Your self-review: criteria (ids from the rubric) scored 1-4, and a note."""

    scores: dict[str, int] = Field(
        default_factory=dict,
        description="criterion id -> 1 (not yet), 2 (partly), 3 (meets it) or 4 (beyond it).",
    )
    note: str | None = Field(default=None, max_length=JOURNAL_CHARS)


class WeekSummary(BaseModel):
    number: int
    title: str
    month: int
    phase: int
    detailed: bool


class SearchHitOut(BaseModel):
    source: str
    title: str
    heading: str
    week: int | None
    score: float
    text: str
    url: str
