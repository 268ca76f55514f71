"""A capstone's rubric, from the plan: what the project must do (its goal, options and
requirements), what it delivers, and what it is judged on.

Each quarter's capstone in `corpus/curriculum.yaml` becomes seven or so criteria: one for its
scope, one per deliverable and one per focus. The learner ticks the deliverables, links their
work and scores themselves on every criterion (`app.records.capstones`); the tutor answers "what
should my Q2 capstone include?" from the same rubric (`app.answering.route`).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any
from typing import Literal

from app.course.curriculum import WEEKS_PER_MONTH
from app.course.curriculum import Capstone
from app.course.curriculum import Curriculum

Kind = Literal["scope", "deliverable", "focus"]
# A self-review scores each criterion 1-4: what each score means, shown beside the choice.
SCORES: dict[int, str] = {1: "not yet", 2: "partly", 3: "meets it", 4: "beyond it"}


class NoCapstone(LookupError):
    """A quarter without a capstone; the message names those that have one."""

    def __init__(self, quarter: int, curriculum: Curriculum) -> None:
        have = ", ".join(f"Q{c.quarter} (after week {c.after_week})" for c in curriculum.capstones)
        super().__init__(
            f"quarter {quarter} has no capstone: the plan's capstones are {have}; "
            "months 13-18 have none"
        )
        self.quarter = quarter


@dataclass(frozen=True)
class Criterion:
    """One line of the rubric: `id` a stable slug ("deliverable-github-repo"), `text` the plan's
    own words, `check` how to judge it yourself."""

    id: str
    kind: Kind
    text: str
    check: str


@dataclass(frozen=True)
class Rubric:
    """A quarter's capstone as criteria. `weeks`: the quarter's weeks it draws on (first, last);
    `source`: the curriculum chunk that states it, for citations."""

    quarter: int
    title: str
    goal: str
    after_week: int
    weeks: tuple[int, int]
    source: str
    criteria: list[Criterion]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def by_kind(self, kind: Kind) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == kind]

    def criterion(self, criterion_id: str, kind: Kind | None = None) -> Criterion:
        """The criterion `criterion_id` (of `kind` when given); a KeyError names the ids there are."""
        found = [c for c in self.criteria if kind is None or c.kind == kind]
        match = next((c for c in found if c.id == criterion_id), None)
        if match is None:
            what = f"{kind}s" if kind else "criteria"
            raise KeyError(
                f"the Q{self.quarter} capstone has no {kind or 'criterion'} "
                f"{criterion_id!r}; its {what} are: {', '.join(c.id for c in found)}"
            )
        return match


def slug(text: str) -> str:
    """ "GitHub repo with clean code" -> "github-repo-with-clean-code"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].rstrip("-")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def rubric(capstone: Capstone, curriculum: Curriculum) -> Rubric:
    """The capstone's rubric: its scope, each deliverable, each focus."""
    quarter = next(q for q in curriculum.quarters if q.number == capstone.quarter)
    first_week = (quarter.months[0] - 1) * WEEKS_PER_MONTH + 1
    scope = capstone.goal + "".join(f"; {d[0].lower()}{d[1:]}" for d in capstone.details)
    if capstone.options:
        scope += f"; one of: {_listed(capstone.options)}"
    criteria = [
        Criterion(
            "scope",
            "scope",
            scope,
            "Does the project do all of this, end to end, on one of the options?",
        )
    ]
    criteria += [
        Criterion(
            f"deliverable-{slug(d)}",
            "deliverable",
            d,
            f"Is the {d[0].lower()}{d[1:]} finished and linked, so a reviewer could open it today?",
        )
        for d in capstone.deliverables
    ]
    criteria += [
        Criterion(
            f"focus-{slug(f)}",
            "focus",
            f,
            f"Would a reviewer single out {f[0].lower()}{f[1:]} as a strength?",
        )
        for f in capstone.focus
    ]
    return Rubric(
        quarter=capstone.quarter,
        title=capstone.title,
        goal=capstone.goal,
        after_week=capstone.after_week,
        weeks=(first_week, capstone.after_week),
        source=f"curriculum/capstone-q{capstone.quarter}",
        criteria=criteria,
    )


def rubric_for(quarter: int, curriculum: Curriculum) -> Rubric:
    """The rubric of quarter `quarter`'s capstone; `NoCapstone` when it has none."""
    capstone = next((c for c in curriculum.capstones if c.quarter == quarter), None)
    if capstone is None:
        raise NoCapstone(quarter, curriculum)
    return rubric(capstone, curriculum)
