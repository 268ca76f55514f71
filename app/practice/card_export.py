"""A learner's cards, with their review history, out of the tutor: an Anki package or CSV.

The package is written by genanki (notes, cards, the deck). genanki writes every card as new
and has no review history, so after it has laid out the collection we fill in, in the same
SQLite collection and in Anki's own schema, each reviewed card's schedule (type, queue, due,
interval, FSRS memory state in `data`) and one `revlog` row per review (ease = FSRS rating,
1-4). Anki (23.10+, FSRS on) rebuilds its memory states from that revlog; the interval of each
past review is replayed with FSRS's defaults, as the tutor keeps only ratings and times.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import itertools
import json
import re
import sqlite3
import tempfile
import time
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import genanki
from fsrs import Card
from fsrs import Rating
from fsrs import Scheduler
from fsrs import State

DECK_ID = 1_752_061_016  # fixed, so a second export updates the same Anki deck
MODEL = genanki.Model(
    1_752_061_017,
    "Study Tutor card",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Source"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": '{{FrontSide}}<hr id="answer">{{Back}}<br><small>{{Source}}</small>',
        }
    ],
    css=".card { font-family: arial; font-size: 20px; text-align: center; }\n"
    ".card { white-space: pre-wrap; }  /* code keeps its indentation */",
)
# Formulas as the notes write them; an inline one as pandoc reads it (no space inside the
# dollars), so "$5 and $10" stays money.
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)([^$\n]+?)(?<=\S)\$(?!\d)")
CSV_COLUMNS = (
    "id",
    "kind",
    "front",
    "back",
    "source",
    "week",
    "due",
    "suspended",
    "state",
    "stability",
    "difficulty",
    "reviews",
)
# Where a note's Source field keeps the hash of its front and back as exported: what an import
# compares both sides with, to tell which side edited the card (an HTML comment, never shown).
EXPORTED_AS = re.compile(r"<!-- study-tutor ([0-9a-f]{16}) -->")
_TYPE = {State.Learning: 1, State.Review: 2, State.Relearning: 3}  # Anki's card types
_REVLOG_TYPE = {State.Learning: 0, State.Review: 1, State.Relearning: 2}  # learn, review, relearn


def to_csv(cards: list[dict[str, Any]], history: list[dict[str, Any]]) -> str:
    """One row per card (`CSV_COLUMNS`); `reviews` lists its reviews as
    "ISO-time rating" pairs (rating 1 again - 4 easy), separated by "; "."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for card in cards:
        reviews = "; ".join(
            f"{r['reviewed_at']} {r['rating']}" for r in history if r["card_id"] == card["id"]
        )
        row = card | {"front": front_text(card), "reviews": reviews}
        writer.writerow({key: inert_cell(row.get(key)) for key in CSV_COLUMNS})
    return out.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a string that starts like a formula gets a
    leading apostrophe (OWASP's advice for CSV injection); numbers and the rest as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_apkg(
    cards: list[dict[str, Any]],
    history: list[dict[str, Any]],
    path: Path,
    deck_name: str = "Study Tutor",
) -> None:
    """The cards as an Anki package at `path`, each with its review history and schedule."""
    deck = genanki.Deck(DECK_ID, deck_name)
    for card in cards:
        front, back = card_fields(card)
        note = genanki.Note(
            model=MODEL,
            guid=note_guid(card["id"]),
            fields=[
                front,
                back,
                anki_field(f"{card['source']} · week {card['week']}")
                + f"<!-- study-tutor {fields_hash(front, back)} -->",
            ],
            tags=[
                "study-tutor",
                f"week-{card['week']}",
                "own" if card["kind"] == "card" else "quiz",
            ],
        )
        if card["suspended"]:
            note.cards[0].suspend = True
        deck.add_note(note)
    _write_package(_ScheduledPackage(deck, cards, history), path)


def note_guid(card_id: str) -> str:
    """The GUID of the Anki note a card is exported as: the same on every export, so Anki
    updates the note, and an import from Anki finds the card again."""
    return str(genanki.guid_for("study-tutor", card_id))


def card_fields(card: dict[str, Any]) -> tuple[str, str]:
    """A card's front (with its options) and back as the Anki fields an export writes."""
    return anki_field(front_text(card)), anki_field(card["back"])


def fields_hash(front: str, back: str) -> str:
    """SHA-256 (16 hex digits) of a note's front and back fields (Unicode NFC, as Anki keeps
    them): the export keeps it in the note, and an import tells from it which side edited."""
    joined = unicodedata.normalize("NFC", f"{front}\x1f{back}")
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def anki_field(text: str) -> str:
    """Text as a field of an Anki note, shown as written: HTML-escaped, line breaks as <br>
    (the card's CSS keeps code's indentation), `$$..$$` and `$..$` formulas in the
    delimiters Anki's MathJax reads (\\[..\\], \\(..\\)), and Anki's field separator
    (\\x1f), which no field can hold, as a space: a card's words holding one split its note
    (the rest of the front became the back, the back the source)."""
    text = html.escape(text).replace("\x1f", " ")
    text = DISPLAY_MATH.sub(r"\\[\1\\]", text)
    text = INLINE_MATH.sub(r"\\(\1\\)", text)
    return text.replace("\r\n", "\n").replace("\n", "<br>")


def _write_package(package: genanki.Package, path: Path) -> None:
    """The package as an .apkg at `path`, as genanki's `write_to_file` lays it out (the
    collection as `collection.anki2`, no media), but with the collection in a temporary folder
    that is removed afterwards: genanki's own leaves a copy of every export's collection, the
    learner's cards and history, in the system's temp dir."""
    timestamp = time.time()
    with tempfile.TemporaryDirectory(prefix="tutor-apkg-") as work:
        collection = Path(work) / "collection.anki2"
        connection = sqlite3.connect(collection)
        try:
            package.write_to_db(
                connection.cursor(), timestamp, itertools.count(int(timestamp * 1000))
            )
            connection.commit()
        finally:
            connection.close()
        with zipfile.ZipFile(path, "w") as archive:
            archive.write(collection, "collection.anki2")
            archive.writestr("media", json.dumps({}))


def front_text(card: dict[str, Any]) -> str:
    """The question with its options, if any, as the learner saw it."""
    options = "".join(f"\n{letter}. {o}" for letter, o in zip("ABCDEFGH", card["options"]))
    return card["front"] + options


class _ScheduledPackage(genanki.Package):  # type: ignore[misc]  # genanki has no types
    """genanki's package, with each card's schedule and review history filled in."""

    def __init__(
        self, deck: genanki.Deck, cards: list[dict[str, Any]], history: list[dict[str, Any]]
    ) -> None:
        super().__init__(deck)
        self.cards = cards
        self.history = history

    def write_to_db(self, cursor: Any, timestamp: float, id_gen: Any) -> None:
        super().write_to_db(cursor, timestamp, id_gen)
        ((conf,),) = cursor.execute("SELECT conf FROM col").fetchall()
        # genanki's collection names no scheduler, which Anki reads as the old v1 and
        # "upgrades" by shifting learning-step eases (good becomes easy): say it is v2. Its
        # creation date (2014) is moved to today, the day review cards' due days count from.
        today = dt.datetime.fromtimestamp(timestamp, dt.UTC).date()
        crt = int(dt.datetime.combine(today, dt.time(), dt.UTC).timestamp())
        cursor.execute(
            "UPDATE col SET crt=?, conf=?", (crt, json.dumps(json.loads(conf) | {"schedVer": 2}))
        )
        anki_ids = dict(
            cursor.execute(
                "SELECT n.guid, c.id FROM cards c JOIN notes n ON c.nid = n.id"
            ).fetchall()
        )
        taken: set[int] = set()
        for card in self.cards:
            reviews = [r for r in self.history if r["card_id"] == card["id"]]
            if not reviews:
                continue
            anki_id = anki_ids[note_guid(card["id"])]
            for row in _revlog(anki_id, reviews, taken):
                cursor.execute("INSERT INTO revlog VALUES (?,?,?,?,?,?,?,?,?)", row)
            cursor.execute(
                "UPDATE cards SET type=?, queue=?, due=?, ivl=?, reps=?, lapses=?, "
                "data=? WHERE id=?",
                (
                    *_schedule(card, crt, dt.datetime.fromisoformat(reviews[-1]["reviewed_at"])),
                    len(reviews),
                    sum(r["rating"] == 1 for r in reviews[1:]),
                    json.dumps({"s": card["stability"], "d": card["difficulty"]}),
                    anki_id,
                ),
            )


def _schedule(
    card: dict[str, Any], crt: int, last_review: dt.datetime
) -> tuple[int, int, int, int]:
    """(type, queue, due, ivl) in Anki's terms: a review card is due on a day counted from
    the collection's creation, a (re)learning one at a Unix time; suspended ones queue -1.
    A review card's interval is the days from its last review to its due day, as scheduled
    here (fuzz included): Anki counts the days since the last review from due less interval."""
    state = State(card["state"])
    due = dt.datetime.fromisoformat(card["due"])
    queue = -1 if card["suspended"] else {State.Review: 2}.get(state, 1)
    if state == State.Review:
        day = (due.date() - dt.datetime.fromtimestamp(crt, dt.UTC).date()).days
        return _TYPE[state], queue, day, max(1, (due.date() - last_review.date()).days)
    return _TYPE[state], queue, int(due.timestamp()), 0


def _revlog(
    anki_id: int, reviews: list[dict[str, Any]], taken: set[int]
) -> list[tuple[int, int, int, int, int, int, int, int, int]]:
    """Anki revlog rows (id = review time in ms, unique; cid, usn, ease, ivl, lastIvl, factor,
    time, type) for one card's reviews, replayed with FSRS for their intervals: days, or
    negative seconds within the day."""
    scheduler = Scheduler(enable_fuzzing=False)
    card, last_interval, rows = None, 0, []
    for review in reviews:
        moment = dt.datetime.fromisoformat(review["reviewed_at"])
        card = card or Card(due=moment)
        kind = _REVLOG_TYPE[card.state]
        card, _ = scheduler.review_card(card, Rating(review["rating"]), review_datetime=moment)
        seconds = (card.due - moment).total_seconds()
        interval = round(seconds / 86400) if seconds >= 86400 else -round(seconds)
        revlog_id = int(moment.timestamp() * 1000)
        while revlog_id in taken:
            revlog_id += 1
        taken.add(revlog_id)
        rows.append((revlog_id, anki_id, -1, review["rating"], interval, last_interval, 0, 0, kind))
        last_interval = interval
    return rows
