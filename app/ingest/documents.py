"""Documents: the unit ingest tracks, with the metadata every chunk of it inherits.

Most files are one document. The curriculum file is many: one per week (`curriculum/week-NN`),
per capstone (`curriculum/capstone-qN`), per month of months 13-18, plus the resource lists
and the study method, so a plan question retrieves exactly the week it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from app.course.curriculum import FIELD_LABELS
from app.course.curriculum import Curriculum
from app.course.curriculum import Item
from app.course.curriculum import WeekPlan


@dataclass
class Document:
    source: str  # what citations show: a path relative to the ingested folder, or curriculum/...
    title: str
    text: str  # markdown
    kind: str  # "curriculum" | "note" | "public"
    url: str = ""
    weeks: list[int] = field(default_factory=list)  # weeks the material belongs to, best first
    extra: dict[str, Any] = field(default_factory=dict)  # month, quarter, phase, ...

    def metadata(self) -> dict[str, Any]:
        """Chroma metadata: scalars and lists only, no None values."""
        meta: dict[str, Any] = {
            "source": self.source,
            "title": self.title,
            "kind": self.kind,
            "url": self.url,
        }
        if self.weeks:
            meta["week"] = self.weeks[0]
            meta["weeks"] = list(self.weeks)
        meta.update({k: v for k, v in self.extra.items() if v is not None})
        return meta


def _line(label: str, item: Item) -> str:
    hours = f" ({item.hours_label})" if item.hours_label else ""
    links = [str(u) for u in [item.url, *(link.url for link in item.also)] if u]
    tail = f" <{'>, <'.join(links)}>" if links else ""
    return f"- **{label}**{hours}: {item.text}{tail}"


def _context(plan: WeekPlan) -> dict[str, Any]:
    return {"month": plan.month.number, "quarter": plan.quarter.number, "phase": plan.phase.number}


def week_document(plan: WeekPlan) -> Document:
    assert plan.week is not None
    week = plan.week
    lines = [
        f"# Week {week.number}: {week.title}",
        "",
        f"Week {week.number} of the plan is in phase {plan.phase.number} ({plan.phase.title}), "
        f"month {plan.month.number} ({plan.month.title}), quarter {plan.quarter.number}.",
        "This week's tasks:",
        "",
        *(_line(FIELD_LABELS[name], item) for name, item in week.fields()),
    ]
    if week.hours:
        lines += ["", f"Timed practice this week: {week.hours:g} hours."]
    if plan.next_capstone:
        c = plan.next_capstone
        lines += [
            "",
            f'Next capstone: Quarter {c.quarter} capstone "{c.title}", after week '
            f"{c.after_week} ({plan.weeks_to_capstone} weeks from this week).",
        ]
    url = next((str(item.url) for _, item in week.fields() if item.url), "")
    return Document(
        source=f"curriculum/week-{week.number:02d}",
        title=f"Week {week.number}: {week.title}",
        text="\n".join(lines),
        kind="curriculum",
        url=url,
        weeks=[week.number],
        extra=_context(plan),
    )


def curriculum_documents(curriculum: Curriculum) -> list[Document]:
    docs = [week_document(curriculum.week(w.number)) for w in curriculum.weeks()]
    for c in curriculum.capstones:
        plan = curriculum.week(c.after_week)
        text = "\n".join(
            [
                f"# Quarter {c.quarter} capstone: {c.title}",
                "",
                f"Due after week {c.after_week}. {c.goal}.",
                *(f"- {d}" for d in c.details),
                *([f"- Options: {'; '.join(c.options)}"] if c.options else []),
                *([f"- Deliverables: {'; '.join(c.deliverables)}"] if c.deliverables else []),
                *([f"- Focus: {'; '.join(c.focus)}"] if c.focus else []),
            ]
        )
        docs.append(
            Document(
                source=f"curriculum/capstone-q{c.quarter}",
                title=f"Q{c.quarter} capstone: {c.title}",
                text=text,
                kind="curriculum",
                weeks=[c.after_week],
                extra=_context(plan),
            )
        )
    for month in curriculum.months[12:]:
        first = (month.number - 1) * 4 + 1
        plan = curriculum.week(first)
        block = plan.extended
        assert block is not None
        lines = [
            f"# Month {month.number}: {month.title} (weeks {first}-{first + 3})",
            "",
            f"Months {block.months[0]}-{block.months[1]} of the plan: {block.title}.",
        ]
        for section in block.sections:
            lines += ["", f"## {section.title}" + (f" ({section.note})" if section.note else "")]
            lines += [f"- {i.title}: {i.text}" if i.title else f"- {i.text}" for i in section.items]
        docs.append(
            Document(
                source=f"curriculum/month-{month.number:02d}",
                title=f"Month {month.number}: {month.title}",
                text="\n".join(lines),
                kind="curriculum",
                weeks=list(range(first, first + 4)),
                extra=_context(plan),
            )
        )
    r = curriculum.resources
    lines = ["# Essential resources of the plan"]
    for heading, items in [
        ("Core textbooks", r.textbooks),
        ("Essential video series", r.video_series),
        ("Key online courses", r.courses),
        ("Essential papers", r.papers),
    ]:
        lines += ["", f"## {heading}", *(_line(i.title or "Resource", i) for i in items)]
    lines += [
        "",
        "## Python libraries and tools",
        *(f"- {lib.category}: {', '.join(lib.names)}" for lib in r.libraries),
    ]
    docs.append(
        Document(
            source="curriculum/resources",
            title="Essential resources",
            text="\n".join(lines),
            kind="curriculum",
        )
    )
    m = curriculum.study_method
    lines = [
        "# Study methodology",
        "",
        f"## Weekly schedule ({m.hours_per_week[0]:g}-{m.hours_per_week[1]:g} hours/week)",
        *(f"- {s.day} ({s.hours:g} h): {s.activity}" for s in m.weekly_schedule),
    ]
    for group, sections in [
        ("Learning strategies", m.strategies),
        ("Assessment and progress tracking", m.assessment),
        ("Success optimization", m.success),
    ]:
        lines += ["", f"## {group}"]
        for section in sections:
            lines += ["", f"### {section.title}", *(f"- {i.text}" for i in section.items)]
    docs.append(
        Document(
            source="curriculum/study-method",
            title="Study methodology",
            text="\n".join(lines),
            kind="curriculum",
        )
    )
    overview = [
        "# The 18-month plan at a glance",
        "",
        curriculum.summary,
        "",
        curriculum.philosophy,
        "",
        *(
            f"- Phase {p.number}, months {p.months[0]}-{p.months[1]}: {p.title} ({p.summary})"
            for p in curriculum.phases
        ),
    ]
    docs.append(
        Document(
            source="curriculum/overview",
            title=curriculum.title,
            text="\n".join(overview),
            kind="curriculum",
        )
    )
    return docs
