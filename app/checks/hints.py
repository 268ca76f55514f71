"""Hints that cite the course notes: the sentence of a week's note that explains an idea.

A hint names a note (by week), a section heading and a phrase of the sentence; `cite` finds
that sentence in the note itself, so a hint quotes what the learner can read, and a note that
changes under a hint fails loudly in the tests instead of citing nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from app.course.notes import NOTES_DIR
from app.course.notes import Note
from app.course.notes import read_note
from app.text import split_sentences


@dataclass(frozen=True)
class Hint:
    """What to fix (`advice`), and where the notes explain it: `phrase` of the sentence in
    section `section` of week `week`'s note."""

    advice: str
    week: int
    section: str
    phrase: str


@functools.cache
def _note(week: int) -> Note:
    matches = sorted(NOTES_DIR.glob(f"w{week:02d}-*.md"))
    if not matches:
        raise LookupError(f"no note for week {week} in {NOTES_DIR}")
    return read_note(matches[0])


def cite(hint: Hint) -> dict[str, str]:
    """The hint with its citation: {"advice", "source" (notes/wNN-....md § section),
    "quote"}. LookupError when the section or the phrase is not in the note."""
    note = _note(hint.week)
    marker = f"## {hint.section}\n"
    if marker not in note.body:
        raise LookupError(f"week {hint.week}'s note has no section {hint.section!r}")
    section = note.body.split(marker, 1)[1].split("\n## ", 1)[0]
    for sentence in split_sentences(section):
        if hint.phrase.lower() in sentence.lower():
            return {
                "advice": hint.advice,
                "quote": sentence.strip().removeprefix("- "),
                "source": f"notes/{note.path.name} § {hint.section}",
            }
    raise LookupError(f"week {hint.week}'s section {hint.section!r} has no {hint.phrase!r}")
