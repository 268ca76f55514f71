"""Terminal views of a learner's work: progress, capstones, milestones, and where to go back to."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from app.cli.render import pace_line
from app.cli.render import sparkline
from app.text import counted


def accuracy_line(days: list[dict[str, Any]]) -> Text:
    """Daily quiz accuracy as a sparkline, with what it shows said in words."""
    last = days[-1]
    return Text.assemble(
        (
            "Quiz accuracy per day you took a quiz, oldest first (▁ none right, █ all right): ",
            "dim",
        ),
        (sparkline([d["accuracy"] for d in days]), "bold"),
        (
            (
                f"  ·  {last['day']}: {last['accuracy']:.0%} of "
                f"{counted(last['answered'], 'answer')} right"
            ),
            "dim",
        ),
    )


def explained(line: str) -> Text:
    """A table's heading: what it shows, in one line (as wide as the terminal, not the table)."""
    head, _, rest = line.partition(":")
    return Text.assemble((head, "bold"), (f":{rest}" if rest else "", "dim"))


def back_to_prerequisites(rows: list[dict[str, Any]]) -> RenderableType:
    """For each concept kept missing: the earlier week it builds on and the passage to
    reread, cited by source and heading."""
    parts: list[RenderableType] = [
        Text(
            "Back to the prerequisite: concepts you keep missing, and the earlier week they build on",
            style="bold",
        )
    ]
    for row in rows:
        line = Text.assemble(
            ("• ", "dim"),
            (row["concept"], "bold"),
            f" (week {row['concept_week']}): {row['missed']} of your last "
            f"{counted(row['answered'], 'answer')} wrong. It builds on week {row['week']}, ",
            (row["title"], "italic"),
            ".",
        )
        passage = row["passage"]
        if passage:
            line.append(f" Reread “{passage['heading']}” [{passage['source']}]:")
            parts += [line, Text(shorten(passage["text"]), style="dim")]
        else:
            parts.append(line)
    return Group(*parts)


def shorten(text: str, limit: int = 320) -> str:
    """A passage's first `limit` characters or so, cut at a word, for a glance in the terminal."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def render_progress(report: dict[str, Any]) -> RenderableType:
    """What `tutor progress` prints: the report of `app.progress.overview.progress` as tables, each
    with a line on what it shows."""
    days = report["quiz_accuracy_by_day"]
    head = Text.assemble(
        ("Week ", "dim"),
        (str(report["current_week"]), "bold"),
        (f" (counted from week {report['start_week']}, where you started)", "dim"),
        ("  ·  streak ", "dim"),
        (counted(report["streak_days"], "day"), "bold"),
        (" with a quiz or journal entry in a row", "dim"),
    )
    weeks = Table(box=box.SIMPLE_HEAD)
    for column in ("week", "tasks done", "quiz accuracy", "self-rating"):
        weeks.add_column(column, justify="right")
    tasks = {row["week"]: f"{row['done']}/{row['total']}" for row in report["completion"]}
    accuracy = {
        row["week"]: f"{row['accuracy']:.0%} of {row['answered']}"
        for row in report["quiz_accuracy_by_week"]
    }
    ratings = {row["week"]: str(row["rating"]) for row in report["self_ratings"]}
    for week in sorted(tasks.keys() | accuracy.keys() | ratings.keys()):
        weeks.add_row(str(week), tasks.get(week, ""), accuracy.get(week, ""), ratings.get(week, ""))
    parts: list[RenderableType] = [head, pace_line(report["pace"])]
    if days:
        parts.append(accuracy_line(days))
    parts += [
        explained(
            f"By week, from week {report['start_week']}: tasks of the week's "
            "checklist ticked, quiz answers right, your 1-10 self-rating"
        ),
        weeks,
    ]
    if report["replans"]:
        parts.append(
            Text(
                "Re-planned: "
                + "; ".join(
                    f"{r['made_on']} week {r['from_week']} → {r['to_week']}"
                    for r in report["replans"]
                ),
                style="dim",
            )
        )
    for row in report["milestones"]:
        score = f", quiz {row['quiz_score']:.0%} of {row['answered']}" if row["answered"] else ""
        parts.append(
            Text(f"Month {row['month']} milestone: {row['items_done']}/{row['items']} done{score}")
        )
    for row in report["capstones"]:
        score = f", self-review {row['mean_score']:g}/4" if row["mean_score"] else ""
        parts.append(
            Text(
                f"Q{row['quarter']} capstone {row['title']}: "
                f"{row['deliverables_done']}/{row['deliverables']} deliverables{score}"
            )
        )
    if report["weak_concepts"]:
        weak = Table(box=box.SIMPLE_HEAD)
        for column in ("concept", "week", "missed"):
            weak.add_column(column)
        for row in report["weak_concepts"]:
            weak.add_row(row["concept"], str(row["week"]), str(row["missed"]))
        parts += [
            explained(
                "Missed most (ask the tutor about these): the concept, the week "
                "that teaches it, wrong answers on it"
            ),
            weak,
        ]
    if report["back_to_prerequisites"]:
        parts.append(back_to_prerequisites(report["back_to_prerequisites"]))
    return Group(*parts)


def render_capstone(work: dict[str, Any]) -> RenderableType:
    """What `tutor capstone` prints: the rubric with the learner's ticks, scores and links."""
    from app.course.rubric import SCORES

    head = Text.assemble(
        (f"Q{work['quarter']} capstone: ", "dim"),
        (work["title"], "bold"),
        (
            f"  ·  after week {work['after_week']}, drawing on weeks "
            f"{work['weeks'][0]}-{work['weeks'][1]}",
            "dim",
        ),
    )
    table = Table(box=box.SIMPLE_HEAD, title="Rubric", title_justify="left")
    for column in ("", "criterion", "id", "your score"):
        table.add_column(column, overflow="fold")
    for c in work["criteria"]:
        mark = {True: "[green]✓[/green]", False: "[dim]○[/dim]", None: ""}[c["done"]]
        score = f"{c['score']} ({SCORES[c['score']]})" if c["score"] else "[dim]–[/dim]"
        table.add_row(
            mark, f"[bold]{c['kind']}[/bold]: {c['text']}", f"[dim]{c['id']}[/dim]", score
        )
    links = [f"{name}: {work[name]}" for name in ("repository", "report") if work[name]]
    parts: list[RenderableType] = [head, table]
    parts.append(
        Text("  ".join(links))
        if links
        else Text("No links yet: `--repo URL` and `--report URL` link your work.", style="dim")
    )
    if work["note"]:
        parts.append(Text(f"Note ({work['reviewed_on']}): {work['note']}"))
    elif not any(c["score"] for c in work["criteria"]):
        parts.append(
            Text("Not reviewed yet: score yourself with `--score scope=3` (1-4).", style="dim")
        )
    return Group(*parts)


def render_milestone(status: dict[str, Any]) -> RenderableType:
    """What `tutor milestone` prints: the month's checklist and its quiz by week."""
    weeks = status["weeks"]
    parts: list[RenderableType] = [
        Text.assemble(
            (f"Month {status['month']} milestone: ", "dim"),
            (status["title"], "bold"),
            (f"  ·  weeks {weeks[0]}-{weeks[-1]}", "dim"),
        )
    ]
    for item in status["checklist"]:
        mark = "[green]✓[/green]" if item["done"] else "[dim]○[/dim]"
        parts.append(Text.from_markup(f" {mark} [bold]{item['id']}[/bold]  {item['text']}"))
        parts += [
            Text(f"     week {m['week']}: {m['text']}", style="dim") for m in item["material"]
        ]
    quiz = status["quiz"]
    if quiz is None:
        parts.append(Text("No milestone quiz yet: `tutor milestone --quiz` takes it.", style="dim"))
        return Group(*parts)
    table = Table(title="Milestone quiz", box=box.SIMPLE_HEAD, title_justify="left")
    for column in ("week", "questions", "answered", "right"):
        table.add_column(column, justify="right")
    for row in quiz["by_week"]:
        table.add_row(
            str(row["week"]), str(row["questions"]), str(row["answered"]), str(row["correct"])
        )
    parts.append(table)
    return Group(*parts)


LEVEL_STYLES = {"mastered": "green", "learning": "yellow", "shaky": "red", "not seen": "dim"}


def render_mastery(report: dict[str, Any]) -> RenderableType:
    """What `tutor mastery` prints: the concepts met, by week and weakest first within one,
    each with its chance of a right answer now as a bar; how many are still to meet; and
    which model said it."""
    met = [c for c in report["concepts"] if c["chance"] is not None]
    unseen = len(report["concepts"]) - len(met)
    fit = report["fit"]
    how = (
        "FSRS per concept (fitted "
        f"{fit['fitted_at'][:10]}: log loss {fit['fsrs_loss']:.3f} vs running accuracy "
        f"{fit['running_loss']:.3f} on {fit['held_out_answers']} held-out answers); within "
        "24 hours of a concept's last answer, your running accuracy on it"
        if report["model"] == "fsrs"
        else "your running accuracy on each concept"
        + (
            f" (the last FSRS fit, {fit['fitted_at'][:10]}, did not beat it: "
            f"{fit['fsrs_loss']:.3f} vs {fit['running_loss']:.3f})"
            if fit
            else " (`tutor mastery --fit` tries FSRS once the study group has enough answers)"
        )
    )
    if not met:
        return Text(
            f"No concept met yet ({counted(unseen, 'concept')} in these notes). Take a quiz "
            "(`tutor quiz`), review your cards (`tutor review`), rate a week (`tutor journal`) "
            "or check your code (`tutor check`): each concept you answer on shows up here.",
        )
    table = Table(box=box.SIMPLE_HEAD)
    for column, justify in (("week", "right"), ("concept", "left"), ("chance now", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_column("answers", justify="right")
    for row in sorted(met, key=lambda c: (c["week"], c["chance"])):
        bar = "█" * round(row["chance"] * 10) + "·" * (10 - round(row["chance"] * 10))
        table.add_row(
            str(row["week"]),
            row["concept"],
            Text.assemble(
                (bar, LEVEL_STYLES[row["level"]]), f" {row['chance']:.0%} {row['level']}"
            ),
            f"{row['right']}/{row['answered']}",
        )
    return Group(
        explained(f"The chance your next answer on a concept is right, now: {how}"),
        table,
        Text(f"{counted(unseen, 'concept')} not met yet.", style="dim"),
    )
