"""Your cards: `tutor cards` (list, add, edit, suspend, delete, export, import) and
`tutor fsrs`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import check_week
from app.cli.base import fail
from app.cli.base import local_learner
from app.cli.base import option
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for
from app.cli.base import week_for

cards_app = typer.Typer(
    help="""Your own cards, and every card's review history out to Anki or
CSV. Your cards come back in `tutor review` with the quiz questions.

[dim]Examples:[/dim]
  tutor cards add "Why divide by sqrt(d_k)?" "Keeps dot products from growing with d_k"
  tutor cards list
  tutor cards export -o cards.apkg
  tutor cards import cards-from-anki.apkg   reviews made in Anki, back here

Cards live in the learner database: TUTOR_DATA_DIR (SQLite there) or TUTOR_DATABASE_URL.
""",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(cards_app, name="cards", rich_help_panel="Practice")
CardId = Annotated[str, typer.Argument(help="The card's id (`tutor cards list`).")]

if TYPE_CHECKING:
    from app.records.learners import Learner
    from app.records.reviews import ReviewRecords


def _deck(data_dir: Path | None) -> tuple[ReviewRecords, Learner]:
    from app.records.reviews import ReviewRecords

    store, learner = local_learner(settings_for(data_dir))
    return ReviewRecords(store), learner


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
        out.print('No cards yet: `tutor cards add "front" "back"`, or take a quiz.')
    for card in cards:
        paused = " [yellow]suspended[/yellow]" if card["suspended"] else ""
        changed = card["source_changed"]
        flag = " [red]source changed[/red]" if changed else ""
        out.print(
            f"[cyan]{card['id']}[/cyan] {card['front']}  [dim]({card['kind']}, due "
            f"{card['due'][:16].replace('T', ' ')} UTC)[/dim]{paused}{flag}",
            highlight=False,
        )
        if changed:
            out.print(
                f"    it quoted {card['source']}: {card['passage']}", highlight=False, markup=False
            )
            if changed["text"]:
                out.print(
                    f"    the source now says: {changed['text']}", highlight=False, markup=False
                )
                out.print(f"    tutor cards source {card['id']} accept | retire", style="dim")
            else:
                out.print("    the source no longer says anything like it", style="dim")
                out.print(f"    tutor cards source {card['id']} retire", style="dim")


@cards_app.command("add")
def cards_add(
    front: Annotated[str, typer.Argument(help="What to recall from: a question or a cue.")],
    back: Annotated[str, typer.Argument(help="The answer to check yourself against.")],
    week: Annotated[
        int | None,
        option("--week", "-w", help="The week it belongs to (default: yours)."),
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help="Where it came from, e.g. notes/w18-attention.md.")
    ] = "",
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Make a card of your own; it is due at once and then scheduled by FSRS.

    [dim]Examples:[/dim]
      tutor cards add "Why divide by sqrt(d_k)?" "Keeps dot products from growing with d_k"
      tutor cards add "Adam's bias correction" "Undoes the zero start of the moments" -w 6
    """
    from app.records.reviews import CardError
    from app.records.reviews import ReviewRecords

    check_week(week)
    store, learner = local_learner(settings_for(data_dir))
    deck = ReviewRecords(store)
    try:
        card = deck.add(learner.id, front, back, week_for(store, learner, week), source)
    except CardError as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json(card)
        return
    out.print(f"Card [cyan]{card['id']}[/cyan] made; it is due now (`tutor review`).")


def _change(
    data_dir: Path | None, how: Callable[[ReviewRecords, int], dict[str, Any]]
) -> dict[str, Any]:
    """The card as `how(deck, learner id)` leaves it; no such card exits 1, a change the card
    can't take exits 2, each with the reason."""
    from app.records.base import NotFound
    from app.records.reviews import CardError

    deck, learner = _deck(data_dir)
    try:
        return how(deck, learner.id)
    except NotFound as exc:
        fail(str(exc))
    except CardError as exc:
        fail(str(exc), code=2)


def _changed(data_dir: Path | None, card_id: str, as_json: bool, done: str, **change: Any) -> None:
    card = _change(data_dir, lambda deck, learner: deck.edit(learner, card_id, **change))
    if as_json:
        print_json(card)
    else:
        out.print(f"Card [cyan]{card_id}[/cyan] {done}.")


@cards_app.command("edit")
def cards_edit(
    card_id: CardId,
    front: Annotated[str | None, option("--front", help="The new front.")] = None,
    back: Annotated[str | None, option("--back", help="The new back.")] = None,
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
    undo: Annotated[
        bool, typer.Option("--undo", help="Unsuspend: it is due as scheduled.")
    ] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Keep a card (any card, quiz questions too) out of your reviews until you unsuspend it.

    [dim]Examples:[/dim]
      tutor cards suspend own-1a2b3c4d5e6f7a8b
      tutor cards suspend own-1a2b3c4d5e6f7a8b --undo
    """
    _changed(data_dir, card_id, as_json, "unsuspended" if undo else "suspended", suspended=not undo)


@cards_app.command("source")
def cards_source(
    card_id: CardId,
    decision: Annotated[
        str,
        typer.Argument(
            help="accept: quote the source's new sentence (sides and schedule kept); "
            "retire: suspend the card (history kept)."
        ),
    ],
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Settle a card whose source changed: an ingest changed or removed the passage it quotes
    (`tutor cards list` marks it "source changed" and shows the new text).

    [dim]Examples:[/dim]
      tutor cards source mcq-1a2b3c4d5e6f accept
      tutor cards source own-1a2b3c4d5e6f7a8b retire
    """
    card = _change(data_dir, lambda deck, learner: deck.settle_source(learner, card_id, decision))
    if as_json:
        print_json(card)
    elif decision == "accept":
        out.print(f"Card [cyan]{card_id}[/cyan] now quotes: {card['passage']}", highlight=False)
    else:
        out.print(f"Card [cyan]{card_id}[/cyan] retired (suspended; its history is kept).")


@cards_app.command("delete")
def cards_delete(card_id: CardId, data_dir: DataDirOption = None) -> None:
    """Delete a card and its review history.

    [dim]Example:[/dim]  tutor cards delete own-1a2b3c4d5e6f7a8b
    """
    from app.records.base import NotFound

    deck, learner = _deck(data_dir)
    try:
        deck.delete(learner.id, card_id)
    except NotFound as exc:
        fail(str(exc))
    out.print(f"Card [cyan]{card_id}[/cyan] deleted.")


@cards_app.command("export")
def cards_export(
    output: Annotated[Path, option("--output", "-o", help="The file to write.")],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="apkg (Anki package, with the review history in its review "
            "log) or csv (one row a card).",
        ),
    ] = "apkg",
    data_dir: DataDirOption = None,
) -> None:
    """Export every card with its review history, for Anki or a spreadsheet.

    [dim]Examples:[/dim]
      tutor cards export -o cards.apkg                 open it in Anki (File > Import)
      tutor cards export --format csv -o cards.csv
    """
    from app.practice.card_export import to_csv
    from app.practice.card_export import write_apkg
    from app.text import counted

    if format not in ("apkg", "csv"):
        fail(f"--format is apkg or csv, not {format!r}", code=2)
    if not output.parent.is_dir():
        fail(f"{output.parent} is not a folder: create it first or pick another --output", code=2)
    deck, learner = _deck(data_dir)
    cards, history = deck.cards(learner.id), deck.history(learner.id)
    if format == "csv":
        output.write_text(to_csv(cards, history), encoding="utf-8")
    else:
        write_apkg(cards, history, output)
    out.print(
        f"{counted(len(cards), 'card')} and {counted(len(history), 'review')} written to {output}."
    )


@cards_app.command("import")
def cards_import(
    package: Annotated[
        Path,
        typer.Argument(
            help="A package exported from Anki (.apkg or .colpkg), scheduling included.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Bring back what you did in Anki or AnkiDroid: reviews, and words you edited there.

    Export your cards here (`tutor cards export -o cards.apkg`), review them in Anki, then
    in Anki File > Export (tick "Include scheduling information") and import that file.
    Cards are found by their notes' GUIDs. Answers made in Anki join your review log once
    (importing the same file again adds nothing) and FSRS reschedules each card from its
    whole log. A card edited in Anki only takes Anki's words; one edited on both sides keeps
    yours and is listed with both texts.

    [dim]Examples:[/dim]
      tutor cards import ~/Downloads/cards.apkg
      tutor cards import collection.colpkg --json    as POST /learners/{id}/cards/import
    """
    from app.practice.anki_package import PackageError
    from app.records.anki_import import import_package

    deck, learner = _deck(data_dir)
    try:
        report = import_package(deck.sessions, learner.id, package)
    except PackageError as exc:
        fail(f"{package}: {exc}", code=2)
    if as_json:
        print_json(report)
        return
    out.print(report["text"], highlight=False, markup=False)
    for edited in report["edited"]:
        out.print(f"  {edited['id']} now: {edited['front']}", highlight=False, markup=False)
    for conflict in report["conflicts"]:
        out.print(
            f"  [yellow]conflict[/yellow] [cyan]{conflict['id']}[/cyan]: {conflict['why']}",
            highlight=False,
        )
        for side, words in (("here", conflict["here"]), ("in Anki", conflict["anki"])):
            out.print(
                f"    {side}: {words['front']} / {words['back']}", highlight=False, markup=False
            )
        out.print(
            f"    to take Anki's: tutor cards edit {conflict['id']} --front ... --back ...",
            style="dim",
        )
    for front in report["deleted_here"]:
        out.print(f"  no card here: {front}", highlight=False, markup=False)


@app.command(rich_help_panel="Practice")
def fsrs(
    fit: Annotated[bool, typer.Option("--fit", help="Fit FSRS to your review log now.")] = False,
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

    from app.practice.scheduler import NotEnoughReviews

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
    out.print(
        f"{state['counted_reviews']} of your reviews count towards a fit; the FSRS "
        f"optimizer needs {state['min_reviews']}.",
        highlight=False,
    )
    last = state["fit"]
    if last:
        out.print(
            f"Last fit {last['fitted_at'][:10]}: log loss on {last['held_out_reviews']} "
            f"held-out reviews {last['fitted_loss']:.4f} fitted vs "
            f"{last['default_loss']:.4f} default.",
            highlight=False,
        )
    out.print(
        f"Your cards are scheduled with the [bold]{state['scheduling_with']}[/bold] parameters."
    )
