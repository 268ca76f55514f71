"""Quizzes from our notes: every kind valid and cited; grading with feedback that quotes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from app.quiz import KINDS, GENERATORS, Question, QuizError, grade, make_quiz, problems
from ingest.notes import read_notes
from tests.conftest import REPO

NOTES = read_notes()
W18 = next(n for n in NOTES if n.meta.week == 18 and n.path.name.startswith("w"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_generator_makes_valid_questions_for_every_week(kind) -> None:
    import random

    made = invalid = 0
    for note in NOTES:
        for question in GENERATORS[kind](note, random.Random(0), NOTES):
            made += 1
            invalid += bool(problems(question, note.body))
    assert made >= 100 and invalid == 0


def test_a_quiz_mixes_kinds_cites_its_sources_and_repeats_no_definition() -> None:
    quiz = make_quiz(NOTES, 18, n=8, seed=3)
    assert {q.kind for q in quiz} == set(KINDS)
    assert all(q.citation["source"] == "notes/w18-attention.md" for q in quiz)
    assert len({q.citation["snippet"] for q in quiz}) == len(quiz)
    assert all(not problems(q, W18.body) for q in quiz)


def test_the_same_seed_gives_the_same_quiz_and_recent_questions_are_left_out() -> None:
    first = make_quiz(NOTES, 6, n=4, seed=7)
    assert [q.id for q in first] == [q.id for q in make_quiz(NOTES, 6, n=4, seed=7)]
    again = make_quiz(NOTES, 6, n=4, seed=7, exclude={q.id for q in first})
    assert not {q.id for q in first} & {q.id for q in again}


def test_weeks_49_to_72_quiz_on_their_months_topic_notes() -> None:
    assert {q.citation["source"] for q in make_quiz(NOTES, 62, n=3, seed=1)} == {
        "notes/m16-mlops-and-career.md"}


def test_impossible_requests_say_why() -> None:
    with pytest.raises(QuizError, match="unknown question kinds"):
        make_quiz(NOTES, 18, kinds=("essay",))
    with pytest.raises(QuizError, match="only .* new questions"):
        make_quiz(NOTES, 18, n=30, kinds=("short",))


def _mcq() -> Question:
    return next(q for q in make_quiz(NOTES, 18, n=8, seed=3) if q.kind == "mcq")


@pytest.mark.parametrize("change, problem", [
    (lambda q: replace(q, options=q.options[:3]), "4 distinct options"),
    (lambda q: replace(q, options=[q.options[0]] * 4), "4 distinct options"),
    (lambda q: replace(q, answer="something else"), "not among the options"),
    (lambda q: replace(q, prompt=q.prompt + " " + q.answer), "gives the answer away"),
    (lambda q: replace(q, citation={**q.citation, "snippet": "made-up text"}), "not in the source"),
    (lambda q: replace(q, kind="essay"), "unknown kind"),
])
def test_validation_catches_broken_questions(change, problem) -> None:
    assert any(problem in p for p in problems(change(_mcq()), W18.body))


def test_mcq_and_truefalse_are_graded_exactly_by_text_or_letter() -> None:
    q = _mcq()
    letter = "ABCD"[q.options.index(q.answer)]
    assert grade(q, letter).correct and grade(q, q.answer.upper()).correct
    wrong = grade(q, next(o for o in q.options if o != q.answer))
    assert not wrong.correct and q.answer in wrong.feedback
    assert 'From notes/w18-attention.md: "' in wrong.feedback


def test_short_answers_are_graded_by_meaning_and_key_terms(embedder) -> None:
    similarity = embedder.similarity
    q = next(q for q in GENERATORS["short"](W18, None, NOTES) if "axis" in q.prompt)
    good = grade(q, "The softmax is over the keys, so the weights of each query sum to one", similarity)
    assert good.correct and good.score > 0.55
    bad = grade(q, "I do not know", similarity)
    assert not bad.correct and "misses" in bad.feedback and "Over the keys" in bad.feedback
    number = next(q for q in GENERATORS["short"](W18, None, NOTES) if "8 heads" in q.prompt)
    assert grade(number, "64", similarity).correct


def test_cli_quiz_json_gives_five_valid_cited_questions() -> None:
    proc = subprocess.run([sys.executable, "-m", "app.cli", "quiz", "--week", "18", "--n", "5",
                           "--json"], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    quiz = json.loads(proc.stdout)
    assert len(quiz) == 5
    for q in quiz:
        assert {"id", "kind", "prompt", "options", "answer", "explanation", "difficulty",
                "citation"} <= q.keys()
        assert q["citation"]["source"] and q["citation"]["snippet"]
        if q["kind"] == "mcq":
            assert len(set(q["options"])) == 4 and q["answer"] in q["options"]


def test_cli_quiz_rejects_bad_weeks_and_kinds() -> None:
    for args, message in [(["--week", "0"], "valid weeks are 1-72"),
                          (["--week", "3", "--kinds", "essay"], "unknown question kinds")]:
        proc = subprocess.run([sys.executable, "-m", "app.cli", "quiz", *args], capture_output=True,
                              text=True, cwd=REPO, timeout=120)
        assert proc.returncode == 2 and message in proc.stderr
