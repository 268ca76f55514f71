"""The learning plan as validated data: the one source of truth for "what is week N".

`corpus/curriculum.yaml` transcribes the plan; the models here validate it and answer
questions such as which phase, month and quarter a week belongs to and which capstone is
next. Weeks 1-48 have their own entries; weeks 49-72 resolve to the content of their month
(months 13-18, four weeks each), which the plan describes as a block rather than week by week.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import HttpUrl
from pydantic import ValidationError
from pydantic import computed_field
from pydantic import model_validator

WEEKS_PER_MONTH = 4
DETAILED_WEEKS = 48
LAST_WEEK = 72
MONTHS = 18

# The plan's week fields, in the order a learner reads them.
WEEK_FIELDS: tuple[str, ...] = (
    "reading",
    "videos",
    "course",
    "practice",
    "assignment",
    "review",
    "project_planning",
    "setup",
    "research",
    "planning",
)
FIELD_LABELS: dict[str, str] = {name: name.replace("_", " ").capitalize() for name in WEEK_FIELDS}


class CurriculumError(ValueError):
    """The curriculum file is missing or malformed; the message names the place to fix."""


class WeekOutOfRange(ValueError):
    """A week number outside the plan."""

    def __init__(self, week: int) -> None:
        super().__init__(f"week {week} is outside the plan: valid weeks are 1-{LAST_WEEK}")
        self.week = week


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Link(_Model):
    title: str
    url: HttpUrl


class Item(_Model):
    """One line of the plan: a resource to read or watch, or a task to do.

    `text` is the line as the plan words it (markdown removed); `title` and `url` are set when
    the line names a resource, `also` holds further links on the same line ("BERT paper and
    Hugging Face BERT 101"); `hours` (and `hours_max` for a range such as "3-4 hours") when the
    plan gives a time.
    """

    text: str = Field(min_length=1)
    title: str | None = None
    url: HttpUrl | None = None
    also: list[Link] = Field(default_factory=list)
    hours: float | None = Field(default=None, gt=0)
    hours_max: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Item:
        if self.hours_max is not None and (self.hours is None or self.hours_max < self.hours):
            raise ValueError("hours_max needs hours and must not be below it")
        return self

    @property
    def hours_label(self) -> str | None:
        if self.hours is None:
            return None

        def fmt(hours: float) -> str:
            return f"{hours:g}"

        span = (
            fmt(self.hours)
            if self.hours_max is None
            else f"{fmt(self.hours)}-{fmt(self.hours_max)}"
        )
        return f"{span} hour" + ("" if span == "1" else "s")


class Week(_Model):
    number: int = Field(ge=1, le=DETAILED_WEEKS)
    title: str = Field(min_length=1)
    reading: Item | None = None
    videos: Item | None = None
    course: Item | None = None
    practice: Item | None = None
    assignment: Item | None = None
    review: Item | None = None
    project_planning: Item | None = None
    setup: Item | None = None
    research: Item | None = None
    planning: Item | None = None

    def fields(self) -> list[tuple[str, Item]]:
        """The week's non-empty fields, in plan order."""
        return [(name, item) for name in WEEK_FIELDS if (item := getattr(self, name)) is not None]

    @property
    def hours(self) -> float:
        """Hours the plan budgets for the week (lower end of ranges)."""
        return sum(item.hours or 0 for _, item in self.fields())


class Month(_Model):
    number: int = Field(ge=1, le=MONTHS)
    title: str = Field(min_length=1)
    weeks: list[Week] = Field(default_factory=list)


class Phase(_Model):
    number: int = Field(ge=1, le=6)
    title: str
    months: tuple[int, int]
    summary: str

    def covers(self, month: int) -> bool:
        return self.months[0] <= month <= self.months[1]


class Quarter(_Model):
    number: int = Field(ge=1, le=6)
    title: str
    months: tuple[int, int]


class Capstone(_Model):
    quarter: int = Field(ge=1, le=4)
    after_week: int = Field(ge=1, le=DETAILED_WEEKS)
    title: str
    goal: str
    details: list[str] = Field(default_factory=list)
    options: list[str] = Field(default_factory=list)
    deliverables: list[str] = Field(default_factory=list)
    focus: list[str] = Field(default_factory=list)


class Section(_Model):
    """A titled list inside an extended block or the study method (e.g. "Job Preparation")."""

    title: str
    note: str | None = None
    items: list[Item]


class ExtendedBlock(_Model):
    """Months 13-18, which the plan describes as two three-month blocks."""

    title: str
    months: tuple[int, int]
    sections: list[Section]


class Library(_Model):
    category: str
    names: list[str]


class Resources(_Model):
    textbooks: list[Item]
    video_series: list[Item]
    courses: list[Item]
    papers: list[Item]
    libraries: list[Library]


class ScheduleSlot(_Model):
    day: str
    hours: float = Field(gt=0)
    activity: str


class StudyMethod(_Model):
    hours_per_week: tuple[float, float]
    weekly_schedule: list[ScheduleSlot]
    strategies: list[Section]
    assessment: list[Section]
    success: list[Section]


class Curriculum(_Model):
    title: str
    summary: str
    philosophy: str
    phases: list[Phase]
    quarters: list[Quarter]
    months: list[Month]
    capstones: list[Capstone]
    extended: list[ExtendedBlock]
    resources: Resources
    study_method: StudyMethod

    @model_validator(mode="after")
    def _complete(self) -> Curriculum:
        months = [m.number for m in self.months]
        if months != list(range(1, MONTHS + 1)):
            raise ValueError(f"months must be 1-{MONTHS} in order, got {months}")
        weeks = [w.number for m in self.months for w in m.weeks]
        if weeks != list(range(1, DETAILED_WEEKS + 1)):
            raise ValueError(f"weeks must be 1-{DETAILED_WEEKS} in order, got {weeks}")
        for month in self.months:
            for week in month.weeks:
                if month_of_week(week.number) != month.number:
                    raise ValueError(f"week {week.number} is listed under month {month.number}")
        if sorted(p.number for p in self.phases) != list(range(1, 7)):
            raise ValueError("phases must be 1-6")
        covered = {m for b in self.extended for m in range(b.months[0], b.months[1] + 1)}
        if covered != set(range(13, MONTHS + 1)):
            raise ValueError("extended blocks must cover months 13-18")
        return self

    # -- lookups ---------------------------------------------------------------------------

    @cached_property
    def _weeks(self) -> dict[int, Week]:
        return {w.number: w for m in self.months for w in m.weeks}

    def week(self, number: int) -> WeekPlan:
        """Everything the plan says about week `number` (1-72)."""
        if not 1 <= number <= LAST_WEEK:
            raise WeekOutOfRange(number)
        month_no = month_of_week(number)
        month = self.months[month_no - 1]
        return WeekPlan(
            number=number,
            month=month,
            phase=next(p for p in self.phases if p.covers(month_no)),
            quarter=next(q for q in self.quarters if q.months[0] <= month_no <= q.months[1]),
            week=self._weeks.get(number),
            extended=next(
                (b for b in self.extended if b.months[0] <= month_no <= b.months[1]), None
            ),
            next_capstone=next((c for c in self.capstones if c.after_week >= number), None),
        )

    def weeks(self) -> list[Week]:
        return [w for m in self.months for w in m.weeks]


def month_of_week(week: int) -> int:
    return (week - 1) // WEEKS_PER_MONTH + 1


class WeekPlan(_Model):
    """A week in context: its phase, quarter and month, and the next capstone."""

    number: int
    month: Month
    phase: Phase
    quarter: Quarter
    week: Week | None
    extended: ExtendedBlock | None
    next_capstone: Capstone | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def title(self) -> str:
        return self.week.title if self.week else f"{self.month.title} (month {self.month.number})"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def weeks_to_capstone(self) -> int | None:
        return None if self.next_capstone is None else self.next_capstone.after_week - self.number


# -- loading ---------------------------------------------------------------------------------

# libyaml's safe loader where PyYAML was built with it (wheels are): 0.5 s of pure-Python
# parsing of the curriculum became a tenth of that on every cold command.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CURRICULUM_FILE = "curriculum.yaml"
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "corpus" / CURRICULUM_FILE


def load_curriculum(path: Path = DEFAULT_PATH) -> Curriculum:
    """Load and validate the curriculum; errors name the file, line and field to fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CurriculumError(f"cannot read curriculum {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        raise CurriculumError(f"{path}: invalid YAML at {where}: {exc.problem}") from exc
    if not isinstance(data, dict):
        raise CurriculumError(f"{path}: expected a mapping at the top level")
    try:
        return Curriculum.model_validate(data)
    except ValidationError as exc:
        raise CurriculumError(_describe(path, root, exc)) from exc


def _describe(path: Path, root: yaml.Node | None, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the curriculum:"]
    for err in exc.errors()[:10]:
        loc = [part for part in err["loc"] if not isinstance(part, str) or not part[0].isupper()]
        field = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(root, loc)
        at = f"line {line}: " if line else ""
        lines.append(f"  {at}{field}: {err['msg']}")
    return "\n".join(lines)


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a line number."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line
