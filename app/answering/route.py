"""The question's route: about the plan ("what's my assignment this week?"), answered from the
plan itself, or about a concept, answered from the notes (`route` says which, once).

The curriculum is structured data, so these answers need no model: they are exact, instant,
and cite the week's curriculum entry. A small model asked the same thing tends to garble it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.course.curriculum import FIELD_LABELS
from app.course.curriculum import Capstone
from app.course.curriculum import Curriculum
from app.course.curriculum import Item
from app.course.curriculum import WeekPlan
from app.course.rubric import Rubric
from app.course.rubric import rubric

# Asking about the plan itself. "capstone", "assignment" and "project" alone are not enough: a
# study question often names them as its setting ("For my Q3 capstone, should I fine-tune…?",
# "What should I monitor on my capstone service?"), so they count only as what is asked about.
PLAN_QUESTION = re.compile(
    r"\b(this week|my (assignment|reading|task|tasks|homework|practice|plan)\b|"
    r"what (should|do|must) i (read|watch|build|study|practice)|which (video|videos|reading|"
    r"paper|course|book)|(next|upcoming) capstone|"
    r"(what('s| is| are)|when('s| is)|tell me about|describe)\s+(the|my|our|this week's|next)\s+"
    r"(q\d\s+)?(assignment|capstone|project)s?\b|"
    r"what goes in(to)?\s+(the|my|our)\s+([\w-]+\s+){0,2}(assignment|capstone|project)|"
    r"(assignment|capstone|project)s?\s+(due|include|includes|deliverables|rubric|"
    r"for (week|month|q)))",
    re.I,
)
# A question's setting ("I'm reviewing weeks 13-19 before the capstone.") is not its ask.
_ASKING_SENTENCE = re.compile(r"[^.!?]*\?")
ASKED_FIELD = [
    ("capstone", re.compile(r"\bcapstone", re.I)),
    ("assignment", re.compile(r"\b(assignment|homework|build|project)\b", re.I)),
    ("videos", re.compile(r"\b(videos?|watch|lectures?)\b", re.I)),
    ("reading", re.compile(r"\b(read|reading|paper|book|chapter)\b", re.I)),
    ("course", re.compile(r"\b(course|lessons?)\b", re.I)),
    ("practice", re.compile(r"\b(practice|exercise|hours|implement|code)\b", re.I)),
]


# "Q2", "quarter 2", "the second quarter"
QUARTER = re.compile(
    r"\b(?:q\s?([1-6])|quarter\s+([1-6])|(first|second|third|fourth|fifth|sixth)"
    r"\s+quarter)\b",
    re.I,
)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")

PHRASES = {
    "assignment": "your assignment is",
    "videos": "the videos to watch are",
    "reading": "the reading is",
    "course": "the course is",
    "practice": "your practice is",
}


def is_plan_question(question: str) -> bool:
    """Does the question ask about the plan (its week, assignment, reading, capstone)? Judged
    on its asking sentences, or the whole text when none ends in a question mark."""
    asking = _ASKING_SENTENCE.findall(question) or [question]
    return any(PLAN_QUESTION.search(sentence) for sentence in asking)


def asked_field(question: str) -> str | None:
    """Which part of the week the question is about; None for the whole week."""
    return next((name for name, pattern in ASKED_FIELD if pattern.search(question)), None)


def _describe(item: Item) -> str:
    hours = f" ({item.hours_label})" if item.hours_label else ""
    return f"{item.text}{hours}"


def plan_answer(field: str | None, plan: WeekPlan) -> tuple[str, bool]:
    """The answer to a question about `field` of the week (None: the whole week), and whether
    it cites the capstone ([2]) as well as the week ([1])."""
    where = f"In week {plan.number} ({plan.title})"
    if field == "capstone":
        capstone = plan.next_capstone
        if capstone is None:
            return (
                f"{where} no capstone is ahead: months 13-18 are for specialization, your "
                "portfolio and the job search [1].",
                False,
            )
        when = "this week" if plan.weeks_to_capstone == 0 else f"in {plan.weeks_to_capstone} weeks"
        return (
            f"{where} the next capstone is the quarter {capstone.quarter} project, "
            f'"{capstone.title}", due after week {capstone.after_week}, {when} [2]. '
            f"{capstone.goal} [2].",
            True,
        )
    if plan.week is None:
        block = plan.extended
        tracks = "; ".join(s.title for s in block.sections) if block else "the plan's tracks"
        return (f"{where} the plan works by month rather than by week: {tracks} [1].", False)
    fields = plan.week.fields()
    if field is not None:
        item = getattr(plan.week, field)
        if item is not None:
            return f"{where} {PHRASES[field]}: {_describe(item)} [1].", False
        others = ", ".join(FIELD_LABELS[name].lower() for name, _ in fields)
        return (
            f"{where} the plan gives no {FIELD_LABELS[field].lower()}; it has {others} [1].",
            False,
        )
    listed = " ".join(f"{FIELD_LABELS[name]}: {_describe(item)}." for name, item in fields)
    return f"{where} the plan asks for: {listed} [1]", False


def asked_capstone(question: str, curriculum: Curriculum, field: str | None) -> Capstone | None:
    """The capstone a question asks about by its quarter ("what should my Q2 capstone
    include?"); None when it names no quarter, or one without a capstone. `field`: the
    question's `asked_field`."""
    if field != "capstone" or not (found := QUARTER.search(question)):
        return None
    number, spelled_number, ordinal = found.groups()
    quarter = int(number or spelled_number or ORDINALS.index(ordinal.lower()) + 1)
    return next((c for c in curriculum.capstones if c.quarter == quarter), None)


def capstone_answer(rubric: Rubric, last_week: WeekPlan) -> str:
    """What a quarter's capstone includes, from its rubric: [1] is the capstone's entry in the
    plan, [2] the quarter's last week (one of weeks 12, 24, 36, 48), which leads into it. Every
    sentence cites one of them (the rubric's own place, `tutor capstone N` and the plan column,
    is for the app to show, not a claim of the plan's)."""
    assert last_week.week is not None, "capstones follow weeks planned week by week"

    def listed(kind: str) -> str:
        return "; ".join(c.text for c in rubric.by_kind(kind))  # type: ignore[arg-type]

    scope = rubric.by_kind("scope")[0].text
    lead = next(
        (
            item
            for name, item in last_week.week.fields()
            if name in ("assignment", "project_planning", "planning")
        ),
        None,
    )
    leads = f": {lead.text}" if lead else ""
    return (
        f'The Q{rubric.quarter} capstone, "{rubric.title}", comes after week '
        f"{rubric.after_week} [1]. It asks you to {scope[0].lower()}{scope[1:]} [1]. "
        f"Deliverables: {listed('deliverable')} [1]. Focus: {listed('focus')} [1]. "
        f"It draws on weeks {rubric.weeks[0]}-{rubric.weeks[1]}; week {last_week.number}, "
        f"{last_week.title}, leads into it{leads} [2]."
    )


@dataclass(frozen=True)
class PlanAnswer:
    """A plan question's answer, and the curriculum chunks its markers [1], [2] cite, in order."""

    text: str
    sources: list[str]


def route(
    question: str, week: int | None, curriculum: Curriculum, follows: str | None = None
) -> PlanAnswer | None:
    """The plan's own answer when the question asks about the plan: a named quarter's capstone
    (from its rubric), else `week`'s plan (none without a week). None: a concept question,
    for the notes to answer.

    `follows`: the question this one follows up, if it does. A follow-up to a plan question
    that names a part of the week ("and the reading?" after "What is my assignment this
    week?") asks the plan about that part: read with the notes, it was answered with other
    weeks' phase lines (a new learner's walk, 2026-12-07)."""
    field = asked_field(question)
    if not is_plan_question(question) and not (
        follows is not None and field is not None and is_plan_question(follows)
    ):
        return None
    if capstone := asked_capstone(question, curriculum, field):
        plan = rubric(capstone, curriculum)
        return PlanAnswer(
            capstone_answer(plan, curriculum.week(capstone.after_week)),
            [plan.source, f"curriculum/week-{capstone.after_week:02d}"],
        )
    if week is None:
        return None
    week_plan = curriculum.week(week)
    source = (
        f"curriculum/week-{week:02d}"
        if week_plan.week
        else f"curriculum/month-{week_plan.month.number:02d}"
    )
    text, cites_capstone = plan_answer(field, week_plan)
    if cites_capstone and week_plan.next_capstone:
        return PlanAnswer(text, [source, f"curriculum/capstone-q{week_plan.next_capstone.quarter}"])
    return PlanAnswer(text, [source])
