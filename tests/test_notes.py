"""Our course notes: one per week, valid front matter, concepts covered, written by us."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.course.notes import NOTES_DIR
from app.course.notes import read_notes

NOTES = read_notes()
WEEK_NOTES = [n for n in NOTES if n.path.name.startswith("w")]
RUN = 12


def test_every_week_1_to_48_has_exactly_one_note() -> None:
    weeks = sorted(n.meta.week for n in WEEK_NOTES)
    assert weeks == list(range(1, 49))


@pytest.mark.parametrize("note", WEEK_NOTES, ids=lambda n: n.path.name)
def test_file_name_matches_the_week(note) -> None:
    assert re.fullmatch(rf"w{note.meta.week:02d}-[a-z0-9-]+\.md", note.path.name)


def test_months_13_to_18_have_their_topic_notes() -> None:
    extended = {n.path.stem: n for n in NOTES if n.path.name.startswith("m")}
    assert {
        "m13-reinforcement-learning",
        "m13-vision-transformers",
        "m13-graph-neural-networks",
        "m13-learning-theory",
        "m13-research-skills",
        "m16-mlops-and-career",
    } <= set(extended)
    for note in extended.values():
        assert note.meta.week >= 49 and note.meta.months


@pytest.mark.parametrize("note", NOTES, ids=lambda n: n.path.name)
def test_every_concept_is_explained_in_the_body(note) -> None:
    body = note.body.lower()
    missing = [c for c in note.meta.concepts if c.lower() not in body]
    assert not missing


@pytest.mark.parametrize("note", NOTES, ids=lambda n: n.path.name)
def test_every_note_ends_with_check_yourself_questions(note) -> None:
    assert 3 <= len(note.check_yourself) <= 5
    for question, answer in note.check_yourself:
        assert question.strip() and answer.strip()


@pytest.mark.parametrize("note", NOTES, ids=lambda n: n.path.name)
def test_notes_are_500_to_1000_words(note) -> None:
    assert 500 <= len(note.body.split()) <= 1000


def test_prerequisites_must_be_earlier_weeks(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from app.course.notes import read_note

    bad = tmp_path / "w05-bad.md"
    bad.write_text("---\nweek: 5\ntitle: x\nconcepts: [a]\nprerequisites: [7]\n---\na\n")
    with pytest.raises(ValidationError, match="earlier weeks"):
        read_note(bad)


_NOT_PROSE = re.compile(r"```.*?```|\$\$.*?\$\$|\$[^$\n]*\$", re.S)


def _words(text: str) -> list[str]:
    """Prose words: code and formulas are shared notation (the LSTM update, ImageNet means)."""
    return re.findall(r"[a-z0-9]+", _NOT_PROSE.sub(" ", text).lower())


def test_no_note_shares_a_run_of_12_words_with_the_public_notes(public_notes: Path) -> None:
    seen: set[int] = set()
    for path in public_notes.rglob("*.md*"):
        words = _words(path.read_text(errors="ignore"))
        seen.update(hash(tuple(words[i : i + RUN])) for i in range(len(words) - RUN + 1))
    copied = {}
    for note in NOTES:
        words = _words(note.body)
        runs = [
            " ".join(words[i : i + RUN])
            for i in range(len(words) - RUN + 1)
            if hash(tuple(words[i : i + RUN])) in seen
        ]
        if runs:
            copied[note.path.name] = runs[0]
    assert not copied, f"notes share 12-word runs with public notes: {copied}"


def test_notes_folder_is_where_ingest_looks() -> None:
    assert NOTES_DIR.is_dir() and NOTES_DIR.name == "notes"
