"""Terminal views (rich): the plan, as `tutor plan` prints it, and a learner's progress."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group
from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from app.course.curriculum import FIELD_LABELS
from app.course.curriculum import Curriculum
from app.course.curriculum import Item
from app.course.curriculum import WeekPlan
from app.course.pace_words import capstone_words
from app.course.pace_words import week_words
from app.text import counted


def _item_text(item: Item) -> Text:
    text = Text(item.text)
    for url in [item.url, *(link.url for link in item.also)]:
        if url:
            text.append("\n")
            text.append(str(url), style=f"link {url} cyan underline")
    return text


def render_week(plan: WeekPlan) -> RenderableType:
    """One week as a panel: context line, the plan's fields with hours and links, the capstone."""
    context = Text.assemble(
        ("Phase ", "dim"),
        (f"{plan.phase.number} {plan.phase.title}", "bold"),
        ("  ·  Quarter ", "dim"),
        (f"{plan.quarter.number}", "bold"),
        ("  ·  Month ", "dim"),
        (f"{plan.month.number} {plan.month.title}", "bold"),
    )
    parts: list[RenderableType] = [context, Text()]
    if plan.week is not None:
        table = Table(box=box.SIMPLE_HEAD, show_header=True, expand=True, pad_edge=False)
        table.add_column("", style="bold magenta", no_wrap=True)
        table.add_column("What", ratio=1)
        table.add_column("Time", justify="right", style="green", no_wrap=True)
        for name, item in plan.week.fields():
            table.add_row(FIELD_LABELS[name], _item_text(item), item.hours_label or "")
        parts.append(table)
        if plan.week.hours:
            parts.append(Text(f"Timed work this week: {plan.week.hours:g} hours", style="green"))
    elif plan.extended is not None:
        parts.append(
            Text(
                f"{plan.extended.title} (months {plan.extended.months[0]}-"
                f"{plan.extended.months[1]}): four weeks per month, on these tracks:"
            )
        )
        for section in plan.extended.sections:
            note = f" ({section.note})" if section.note else ""
            parts.append(Text(f"\n{section.title}{note}", style="bold magenta"))
            for item in section.items:
                label = f"{item.title}: {item.text}" if item.title else item.text
                parts.append(Text(f"  • {label}"))
    parts.append(Text())
    parts.append(_capstone_line(plan))
    return Panel(
        Group(*parts),
        title=f"[bold]Week {plan.number}[/bold] · {plan.title}",
        title_align="left",
        border_style="blue",
        padding=(1, 2),
    )


def _capstone_line(plan: WeekPlan) -> Text:
    capstone = plan.next_capstone
    if capstone is None:
        return Text(
            "No capstone ahead: the remaining months build your portfolio and career.", style="dim"
        )
    when = "this week" if plan.weeks_to_capstone == 0 else f"in {plan.weeks_to_capstone} week(s)"
    return Text.assemble(
        ("Next capstone ", "dim"),
        (f"Q{capstone.quarter}: {capstone.title}", "bold yellow"),
        (f" — due after week {capstone.after_week}, {when}", "yellow"),
    )


def render_overview(curriculum: Curriculum) -> RenderableType:
    """All 18 months in one table: phase, month, its weeks, and where the capstones fall."""
    table = Table(title=curriculum.title, box=box.ROUNDED, expand=True, show_lines=True)
    table.add_column("Month", justify="right", style="bold")
    table.add_column("Phase", style="magenta")
    table.add_column("Theme")
    table.add_column("Weeks")
    capstones = {c.after_week: c for c in curriculum.capstones}
    for month in curriculum.months:
        phase = next(p for p in curriculum.phases if p.covers(month.number))
        first = (month.number - 1) * 4 + 1
        if month.weeks:
            weeks = Text("\n".join(f"{w.number:>2}  {w.title}" for w in month.weeks))
        else:
            weeks = Text(f"{first}-{first + 3}  (month block)", style="dim")
        last = month.weeks[-1].number if month.weeks else None
        if last in capstones:
            weeks.append(
                f"\n★  Q{capstones[last].quarter} capstone: {capstones[last].title}", style="yellow"
            )
        table.add_row(str(month.number), f"{phase.number} {phase.title}", month.title, weeks)
    return table


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """Shares 0-1 as one line of block characters, e.g. daily quiz accuracy."""
    return "".join(SPARKS[min(len(SPARKS) - 1, int(v * len(SPARKS)))] for v in values)


def pace_line(pace: dict[str, Any]) -> Text:
    """One line on where the learner stands: ahead or behind, finish, next capstone."""
    n = abs(pace["weeks_ahead"])
    status = {
        "ahead": (f"{counted(n, 'week')} ahead", "green"),
        "behind": (f"{counted(n, 'week')} behind", "yellow"),
        "on track": ("on track", "green"),
        "finished": ("finished the plan", "green"),
        "not started": (f"starting {pace['schedule_since']}", "cyan"),
    }[pace["status"]]
    line = Text.assemble(
        ("Pace ", "dim"),
        (status[0], f"bold {status[1]}"),
        (f"  ·  {week_words(pace)}", "dim"),
        (f"  ·  {pace['hours_per_week']:g} h/week", "dim"),
        ("  ·  finish ", "dim"),
        (pace["finish_on"], "bold"),
    )
    if capstone := capstone_words(pace["next_capstone"]):
        line.append(f"  ·  {capstone}", style="dim")
    return line


TONE_STYLES = {"success": "green", "info": "cyan", "warning": "yellow", "error": "red"}
TONE_MARKS = {"success": "✓", "info": "•", "warning": "~", "error": "✗"}


def render_outcome(result: dict[str, Any], quote: bool = True) -> Text:
    """An answer's verdict as `tutor quiz` and `tutor review` print it (`app.practice.quiz.outcome`):
    a mark and colour for what is recorded, the answer when it was missed, the source sentence
    once when the question did not already show it, and the source."""
    tone = result["tone"]
    text = Text(f"   {TONE_MARKS[tone]} ", style=f"bold {TONE_STYLES[tone]}")
    text.append(result["feedback"], style=TONE_STYLES[tone])
    if tone != "success" and result["answer"] not in result["feedback"]:
        text.append(f"\n   Answer: {result['answer']}")
    if quote and result["quote"]:
        text.append(f"\n   “{result['quote']}”", style="italic")
    if quote:
        citation = result["citation"]
        text.append(f"\n   {citation['source']} · week {citation['week']}", style="dim")
    return text


def render_summary(summary: dict[str, str]) -> Text:
    """A quiz's or review's score (`app.practice.quiz.score_summary`) in its tone's colour."""
    return Text(f"\n{summary['text']}", style=f"bold {TONE_STYLES[summary['tone']]}")
