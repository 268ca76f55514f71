"""What a learner's Anki holds, read from a package they exported there (.apkg or .colpkg).

The package is opened by Anki's own library (the `anki` package, the desktop app's backend),
the reader that knows every format Anki has written: the legacy `collection.anki2`, the
zstd-compressed `collection.anki21b` with its `meta`, a whole collection or one deck. It is
imported, scheduling included, into a new collection in a temporary folder, and read from
there; the folder is removed afterwards.

Anki's reviews count days its own way: a day starts at the "next day starts at" hour (4:00 by
default), and a review's elapsed days are the day starts passed since the one before.
FSRS in py-fsrs counts whole 24-hour periods. `anki_days` gives Anki's count, so a review
made in Anki is replayed as Anki scheduled it.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
import zipfile
from collections import Counter
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

# Anki's revlog kinds (anki.consts REVLOG_*) a review of the card's memory is logged as:
# learning, review, relearning, and a filtered deck's review that rescheduled the card (its
# factor is set; a preview or a cram without rescheduling logs factor 0). "Manual" (4:
# "set due date", "forget") and "rescheduled" (5) entries are not answers.
_ANSWER_KINDS = (0, 1, 2)
_FILTERED = 3
_MANUAL = 4  # with ease 0 and interval 0: "forget", the card reset to new
MAX_UNPACKED = 1 << 30  # what a package's zip may unpack to, in bytes: no zip bomb fills the disk
_FIRST_ID = 1_136_073_600_000  # 2006-01-01 in ms: no Anki logged an answer before
DAY_STARTS = dt.timedelta(hours=4)  # Anki's default "next day starts at", here in UTC
_INLINE = re.compile(r"\\\((.+?)\\\)", re.S)
_DISPLAY = re.compile(r"\\\[(.+?)\\\]", re.S)
_LINE_BREAKS = re.compile(r"<br\s*/?>|<div\b[^>]*>|<p\b[^>]*>", re.I)


class PackageError(ValueError):
    """The file is not an Anki package Anki can read; the message says why and what to do."""


@dataclass(frozen=True)
class AnkiReview:
    """One answer logged in Anki: when (aware UTC, to the millisecond of its revlog id; None
    when the id is no time a clock gave, before 2006 or after the package was read) and the
    button, 1 (again) to 4 (easy), FSRS's rating."""

    at: dt.datetime | None
    rating: int


@dataclass(frozen=True)
class AnkiNote:
    """A note as the learner's Anki holds it: its GUID (what an export from here set), its
    note type's name, its fields by name as Anki stores them (HTML), and the answers logged
    on its first card (the template an export from here writes), oldest first. Answers on
    other cards of the note (a template added in Anki) and "forget" resets are counted."""

    guid: str
    notetype: str
    fields: dict[str, str]
    reviews: tuple[AnkiReview, ...]
    other_card_answers: int = 0
    resets: int = 0


def read_package(path: Path) -> list[AnkiNote]:
    """Every note of the package at `path` with its review log. Raises PackageError when the
    file is not a package Anki reads (with Anki's own reason where it gives one)."""
    from anki.collection import Collection
    from anki.collection import ImportAnkiPackageOptions
    from anki.collection import ImportAnkiPackageRequest
    from anki.errors import AnkiException

    if not zipfile.is_zipfile(path):
        raise PackageError(
            "this is not an Anki package (.apkg or .colpkg, a zip archive): in Anki, "
            "File > Export, with 'Include scheduling information' ticked"
        )
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_UNPACKED:
        raise PackageError(
            f"this package unpacks to {unpacked // 2**20} MB, over the {MAX_UNPACKED // 2**20} "
            "MB read here: export the deck without media, or one deck at a time"
        )
    read_at = time.time()
    with tempfile.TemporaryDirectory(prefix="tutor-anki-") as folder:
        collection = Collection(str(Path(folder) / "collection.anki2"))
        try:
            collection.import_anki_package(
                ImportAnkiPackageRequest(
                    package_path=str(path),
                    options=ImportAnkiPackageOptions(with_scheduling=True),
                )
            )
            db = collection.db
            assert db is not None, "an open collection has its database"
            notes = db.all("SELECT n.id, n.guid, n.mid, n.flds FROM notes n ORDER BY n.id")
            reviews: dict[int, list[AnkiReview]] = defaultdict(list)
            others: Counter[int] = Counter()
            resets: Counter[int] = Counter()
            for revlog_id, note_id, template, ease, kind, factor, interval in db.all(
                "SELECT r.id, c.nid, c.ord, r.ease, r.type, r.factor, r.ivl FROM revlog r "
                "JOIN cards c ON c.id = r.cid ORDER BY r.id"
            ):
                if 1 <= ease <= 4 and (kind in _ANSWER_KINDS or (kind == _FILTERED and factor)):
                    if template:
                        others[note_id] += 1
                    else:
                        reviews[note_id].append(AnkiReview(_moment(revlog_id, read_at), ease))
                elif kind == _MANUAL and not ease and not interval and not template:
                    resets[note_id] += 1
            types = {
                m["id"]: (m["name"], [f["name"] for f in m["flds"]])
                for m in collection.models.all()
            }
        except AnkiException as exc:
            raise PackageError(
                f"Anki could not read this package ({exc}): export it again from Anki "
                "(File > Export, .apkg or .colpkg)"
            ) from exc
        finally:
            collection.close()
    return [
        AnkiNote(
            guid,
            types.get(mid, ("", []))[0],
            dict(zip(types.get(mid, ("", []))[1], fields.split("\x1f"), strict=False)),
            tuple(reviews.get(nid, [])),
            others[nid],
            resets[nid],
        )
        for nid, guid, mid, fields in notes
    ]


def _moment(revlog_id: int, read_at: float) -> dt.datetime | None:
    """When a revlog entry was made (its id is the time in milliseconds), or None for an id
    no clock gave: before Anki existed (2006), or after `read_at` (Unix seconds), when the
    package was already written. Anki's importer gives an entry logged in the future (a
    phone's clock set ahead) the time of the import, so such an entry reads as after it."""
    if not _FIRST_ID <= revlog_id < 1000 * read_at:
        return None
    return dt.datetime.fromtimestamp(revlog_id / 1000, dt.UTC)


def anki_days(earlier: dt.datetime, later: dt.datetime) -> int:
    """The days Anki counts from a review at `earlier` to one at `later` (aware datetimes):
    how many day starts (`DAY_STARTS` past midnight UTC) lie between them."""
    return ((later - DAY_STARTS).date() - (earlier - DAY_STARTS).date()).days


def field_text(field: str) -> str:
    """An Anki field's HTML as the text a card here holds: line breaks (<br>, the editor's
    <div>s and <p>s) as newlines, tags dropped, entities decoded, and MathJax's \\(..\\) and \\[..\\]
    back to the notes' $..$ and $$..$$; the reverse of `card_export.anki_field`."""
    text = BeautifulSoup(_LINE_BREAKS.sub("\n", field), "html.parser").get_text()
    text = text.replace("\xa0", " ")
    text = _DISPLAY.sub(r"$$\1$$", text)
    return _INLINE.sub(r"$\1$", text).strip()
