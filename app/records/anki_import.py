"""Reviews made in the learner's Anki, brought back: the other half of "Anki both ways".

A learner exports their cards here (`cards/export`), reviews them in Anki or AnkiDroid, and
exports from Anki (.apkg or .colpkg). `import_from_anki` then, in one transaction:

- finds each of the learner's cards by its note's GUID (`card_export.note_guid`);
- adds the Anki answers this log does not hold yet, marked `origin="anki"`. An answer is
  already here when one of the same card's reviews has its rating within a second of it (an
  export writes each review's revlog id from its time in milliseconds), so importing the same
  package twice changes nothing;
- replays each card that gained answers, from new, through its whole merged log with FSRS and
  the learner's parameters (`scheduler.replay`), each Anki answer with its days counted as
  Anki counts them (`anki_package.anki_days`): the card's state and due time are what both
  sides' answers make them;
- reconciles the words. The note keeps the hash of its front and back as exported (in its
  Source field); a side whose words hash differently from that was edited there. Edited in
  Anki only, a learner's own card takes Anki's words; edited here only, it keeps them (the next
  export carries them to Anki). Edited on both sides, a quiz question edited in Anki (its words
  are the notes'), or a note whose hash is gone: a conflict, named with both texts, and the
  card keeps its words here. Nothing is dropped without being named.

Notes the tutor did not write are counted, and notes of its cards deleted here are named.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app.practice.anki_package import AnkiNote
from app.practice.anki_package import anki_days
from app.practice.anki_package import field_text
from app.practice.anki_package import read_package
from app.practice.card_export import EXPORTED_AS
from app.practice.card_export import MODEL
from app.practice.card_export import card_fields
from app.practice.card_export import fields_hash
from app.practice.card_export import front_text
from app.practice.card_export import note_guid
from app.practice.scheduler import replay
from app.records.base import learner_rows
from app.records.base import naive_utc
from app.records.learners import Learner
from app.records.reviews import ANKI
from app.records.reviews import BACK_CHARS
from app.records.reviews import FRONT_CHARS
from app.records.reviews import OWN
from app.records.reviews import ReviewCard
from app.records.reviews import ReviewLogEntry
from app.records.reviews import aware
from app.records.reviews import scheduling_parameters
from app.text import counted

SAME_REVIEW = dt.timedelta(seconds=1)  # an Anki answer this close to one here, same rating, is it
_SHOWN = 120  # characters of a front a report quotes
_QUOTED = 2_000  # characters of each side a conflict quotes


def import_package(sessions: sessionmaker[Session], learner_id: int, path: Path) -> dict[str, Any]:
    """The learner's Anki package at `path` (.apkg or .colpkg) merged into their deck: what
    the API, `tutor cards import` and the Reviews tab run. PackageError for a file Anki can't
    read; the report of `import_from_anki` otherwise."""
    return import_from_anki(sessions, learner_id, read_package(path))


def import_from_anki(
    sessions: sessionmaker[Session], learner_id: int, notes: list[AnkiNote]
) -> dict[str, Any]:
    """Merge a package's `notes` (`anki_package.read_package`) into the learner's deck.

    Returns {"notes", "matched", "reviews_added", "reviews_known", "reviews_undated" (left
    out: their time is in the future or before Anki), "other_card_answers" (left out: answers
    on a card of another template added in Anki), "reset_in_anki" (cards "forgotten" there:
    their earlier answers still count here), "rescheduled" (card ids),
    "edited" ([{"id", "front"}] taken from Anki), "conflicts" ([{"id", "why", "here":
    {"front", "back"}, "anki": {"front", "back"}}]), "deleted_here" (fronts of notes from the
    tutor whose cards are gone here), "not_from_tutor" (notes of other note types),
    "text"}. Everything or nothing is stored."""
    report: dict[str, Any] = {
        "notes": len(notes),
        "matched": 0,
        "reviews_added": 0,
        "reviews_known": 0,
        "reviews_undated": 0,
        "other_card_answers": 0,
        "reset_in_anki": 0,
        "rescheduled": [],
        "edited": [],
        "conflicts": [],
        "deleted_here": [],
        "not_from_tutor": 0,
    }
    with sessions.begin() as session:
        # One import of a learner's at a time: their row is written first, which holds a
        # second import (another request, another worker) until this one commits (a row lock
        # on PostgreSQL, the write lock on SQLite); it then sees these reviews and adds none.
        session.execute(update(Learner).where(Learner.id == learner_id).values(id=Learner.id))
        cards = {
            note_guid(card.question_id): card
            for card in learner_rows(session, ReviewCard, learner_id)
        }
        logs: dict[str, list[ReviewLogEntry]] = defaultdict(list)
        for entry in learner_rows(
            session, ReviewLogEntry, learner_id, ReviewLogEntry.reviewed_at, ReviewLogEntry.id
        ):
            logs[entry.question_id].append(entry)
        parameters = scheduling_parameters(session, learner_id)
        seen: set[str] = set()
        for note in notes:
            card = cards.get(note.guid)
            if card is None:
                if note.notetype == MODEL.name:
                    report["deleted_here"].append(
                        field_text(next(iter(note.fields.values()), ""))[:_SHOWN]
                    )
                else:
                    report["not_from_tutor"] += 1
                continue
            if note.guid in seen:  # only a package written by hand holds two
                why = "two notes in the package have this card's GUID: the first was taken"
                report["conflicts"].append(_conflict(card, why, note))
                continue
            seen.add(note.guid)
            report["matched"] += 1
            report["other_card_answers"] += note.other_card_answers
            report["reset_in_anki"] += bool(note.resets)
            _reconcile_words(card, note, report)
            log = logs[card.question_id]
            timed = [(review.at, review.rating) for review in note.reviews if review.at]
            report["reviews_undated"] += len(note.reviews) - len(timed)
            added = [
                ReviewLogEntry(
                    learner_id=learner_id,
                    question_id=card.question_id,
                    rating=rating,
                    reviewed_at=naive_utc(at),
                    origin=ANKI,
                )
                for at, rating in timed
                if not any(
                    entry.rating == rating and abs(aware(entry.reviewed_at) - at) < SAME_REVIEW
                    for entry in log
                )
            ]
            report["reviews_known"] += len(timed) - len(added)
            if not added:
                continue
            session.add_all(added)
            report["reviews_added"] += len(added)
            report["rescheduled"].append(card.question_id)
            card.card, due = _replayed(
                sorted([*log, *added], key=lambda e: e.reviewed_at), parameters
            )
            card.due = naive_utc(due)
    return report | {"text": import_summary(report)}


def _replayed(
    log: list[ReviewLogEntry], parameters: list[float] | None
) -> tuple[dict[str, Any], dt.datetime]:
    """FSRS's state and due time after a card's merged log: each answer made in Anki with
    the days Anki counted since the answer before it."""
    reviews: list[tuple[dt.datetime, int, int | None]] = []
    for i, entry in enumerate(log):
        at = aware(entry.reviewed_at)
        days = anki_days(aware(log[i - 1].reviewed_at), at) if i and entry.origin == ANKI else None
        reviews.append((at, entry.rating, days))
    return replay(reviews, parameters)


def _reconcile_words(card: ReviewCard, note: AnkiNote, report: dict[str, Any]) -> None:
    """Take Anki's words when only Anki edited a learner's own card; name a conflict when
    both sides edited it, when Anki edited a quiz question, or when the note lost the hash
    of what was exported (its Source field edited) and the words differ. The words compare
    as text (`field_text`): formatting added in Anki alone is no change here."""
    question = card.question
    shown = _shown(question)
    here = {"front": front_text(shown), "back": question["answer"]}
    if "Front" not in note.fields or "Back" not in note.fields:
        report["conflicts"].append(
            _conflict(card, "the note type lost its Front or Back field in Anki", note)
        )
        return
    anki_front, anki_back = note.fields["Front"], note.fields["Back"]
    anki = {"front": field_text(anki_front), "back": field_text(anki_back)}
    if anki == here:
        return
    exported = EXPORTED_AS.search(note.fields.get("Source", ""))
    base = exported.group(1) if exported else None
    if base == fields_hash(anki_front, anki_back):  # edited here only: the next export takes it
        return
    if base is None:
        why = "the words differ, and the note's Source field no longer says what was exported"
    elif base != fields_hash(*card_fields(shown)):
        why = "edited on both sides since the export"
    elif question["kind"] != OWN:
        why = "a quiz question's words come from your notes: edit the notes, or make a card"
    elif (
        not anki["front"]
        or not anki["back"]
        or (len(anki["front"]) > FRONT_CHARS or len(anki["back"]) > BACK_CHARS)
    ):
        why = (
            f"Anki's front or back is empty or too long (at most {FRONT_CHARS} and "
            f"{BACK_CHARS} characters)"
        )
    else:
        card.question = question | {"prompt": anki["front"], "answer": anki["back"]}
        report["edited"].append({"id": card.question_id, "front": anki["front"][:_SHOWN]})
        return
    report["conflicts"].append(_conflict(card, why, note))


def _conflict(card: ReviewCard, why: str, note: AnkiNote) -> dict[str, Any]:
    """A conflict as a report names it: the card, why, and both sides' words (each cut to
    `_QUOTED` characters: a report is no place for a whole field)."""
    question = card.question
    here = {"front": front_text(_shown(question)), "back": question["answer"]}
    anki = {side: field_text(note.fields.get(side.title(), "")) for side in ("front", "back")}
    return {
        "id": card.question_id,
        "why": why,
        "here": {side: text[:_QUOTED] for side, text in here.items()},
        "anki": {side: text[:_QUOTED] for side, text in anki.items()},
    }


def _shown(question: dict[str, Any]) -> dict[str, Any]:
    """A stored question as the card an export writes: front, options, back."""
    return {"front": question["prompt"], "options": question["options"], "back": question["answer"]}


def import_summary(report: dict[str, Any]) -> str:
    """One paragraph of what an import did, for the CLI and the UI."""
    if not report["notes"]:
        return "The package holds no notes: export your deck from Anki (File > Export)."
    parts = [
        f"{counted(report['matched'], 'card')} found of {counted(report['notes'], 'note')}; "
        f"{counted(report['reviews_added'], 'review')} added from Anki "
        f"({report['reviews_known']} already here), "
        f"{counted(len(report['rescheduled']), 'card')} rescheduled."
    ]
    if report["matched"] and not report["reviews_added"] + report["reviews_known"]:
        parts.append(
            "The package holds no answers: nothing was reviewed in Anki since the export, or "
            "Anki's export left out 'Include scheduling information'."
        )
    if report["reviews_undated"]:
        parts.append(
            f"{counted(report['reviews_undated'], 'answer')} left out: logged at a time no clock "
            "gave (in the future, or before Anki existed)."
        )
    if report["other_card_answers"]:
        parts.append(
            f"{counted(report['other_card_answers'], 'answer')} on cards of a template added "
            "in Anki left out (the tutor's card is the note's first)."
        )
    if report["reset_in_anki"]:
        parts.append(
            f'Reset ("forget") in Anki: {counted(report["reset_in_anki"], "card")}; the '
            "answers from before a reset still count here."
        )
    if report["edited"]:
        parts.append(f"{counted(len(report['edited']), 'card')} took the words edited in Anki.")
    if report["conflicts"]:
        parts.append(
            f"{counted(len(report['conflicts']), 'card')} in conflict kept the words here "
            "(listed with both texts)."
        )
    if report["deleted_here"]:
        parts.append(
            "Left out, matching no card of yours (deleted here, or another learner's): "
            f"{counted(len(report['deleted_here']), 'note')} from the tutor."
        )
    if report["not_from_tutor"]:
        parts.append(f"{counted(report['not_from_tutor'], 'note')} not made by the tutor left out.")
    return " ".join(parts)
