"""The command line's own learner: `tutor week`, quizzes that are kept, `tutor review`, and
`tutor progress`, driven through the real CLI on a real database in a temporary data dir."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import tutor
from tests.conftest import tutor_process


def test_tutor_week_shows_sets_and_clears_your_week(tmp_path) -> None:
    first = tutor(tmp_path, "week")
    assert (
        first.returncode == 0
        and "week 1" in first.stdout
        and "following the calendar" in first.stdout
    )
    assert "week 18" in tutor(tmp_path, "week", "18").stdout
    assert json.loads(tutor(tmp_path, "week", "--json").stdout) == {
        "week": 18,
        "title": "Attention Mechanisms",
        "set": True,
    }
    assert json.loads(tutor(tmp_path, "week", "--auto", "--json").stdout)["set"] is False
    bad = tutor(tmp_path, "week", "99")
    assert bad.returncode == 2 and "valid weeks are 1-72" in bad.stderr


def test_quiz_json_records_nothing(tmp_path) -> None:
    assert tutor(tmp_path, "quiz", "--week", "18", "--json").returncode == 0
    assert not (tmp_path / "tutor.db").exists()


def _make_due(data_dir: Path) -> list[dict]:
    """Two minutes later, as far as the review cards know: the missed ones are due."""
    with sqlite3.connect(data_dir / "tutor.db") as db:
        db.execute("UPDATE review_cards SET due = datetime('now', '-1 minute')")
        return [json.loads(q) for (q,) in db.execute("SELECT question FROM review_cards")]


def test_a_quiz_answered_here_is_kept_and_missed_questions_come_back_for_review(tmp_path) -> None:
    tutor(tmp_path, "week", "18")
    quiz = tutor(tmp_path, "quiz", "--n", "3", "--kinds", "mcq,truefalse", stdin="Z\nZ\nZ\n")
    assert quiz.returncode == 0 and "0 of 3 right. Not there yet" in quiz.stdout
    assert "next review" in quiz.stdout and quiz.stdout.count("✗ Not quite") == 3
    report = json.loads(tutor(tmp_path, "progress", "--json").stdout)
    assert report["quiz_accuracy_by_week"] == [{"week": 18, "answered": 3, "accuracy": 0.0}]
    assert report["streak_days"] == 1 and len(report["weak_concepts"]) >= 2
    table = tutor(tmp_path, "progress").stdout
    assert "Missed most" in table and "0% of 3" in table

    questions = _make_due(tmp_path)
    due = json.loads(tutor(tmp_path, "review", "--json").stdout)
    assert {q["id"] for q in due} == {q["id"] for q in questions}
    assert all("answer" not in q for q in due)  # as GET .../reviews/due: no answers
    answers = {q["id"]: q["answer"] for q in questions}
    review = tutor(tmp_path, "review", stdin="".join(answers[q["id"]] + "\n" for q in due))
    assert review.returncode == 0 and "3 of 3 remembered" in review.stdout
    assert json.loads(tutor(tmp_path, "review", "--json").stdout) == []  # rescheduled later


def short_answer_quiz(data_dir: Path, typed: str):
    """`tutor quiz` on one of week 18's check-yourself questions, answered with `typed`."""
    args = ("--week", "18", "--n", "1", "--kinds", "short", "--seed", "1")
    return tutor(data_dir, "quiz", *args, stdin=typed)


def test_a_quizs_short_answer_verdict_can_be_contested_on_the_command_line(tmp_path) -> None:
    """The grader only estimates a short answer: the learner overrides a "Not yet" with their
    own rating in `tutor quiz` too, and that is what is recorded."""
    quiz = short_answer_quiz(tmp_path, "no idea\ngood\n")
    assert quiz.returncode == 0, quiz.stderr
    assert "Not yet." in quiz.stdout and "• You rated it Good" in quiz.stdout
    assert "1 of 1 right" in quiz.stdout
    report = json.loads(tutor(tmp_path, "progress", "--json").stdout)
    assert report["quiz_accuracy_by_week"] == [{"week": 18, "answered": 1, "accuracy": 1.0}]


def test_a_short_answer_under_review_is_rated_by_the_learner(tmp_path) -> None:
    short_answer_quiz(tmp_path, "no idea\n\n")  # Enter: the grader's verdict stands
    _make_due(tmp_path)
    review = tutor(tmp_path, "review", stdin="no idea\neasy\n")
    assert "Not yet." in review.stdout and "how did it go?" in review.stdout
    assert "1 of 1 remembered" in review.stdout  # the learner's "easy" outranks the grader
    assert "• You rated it Easy" in review.stdout and "your rating counts" in review.stdout


def test_quiz_about_a_topic_asks_about_it(tmp_path, corpus_dir) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(corpus_dir, data_dir)
    quiz = tutor(
        data_dir, "quiz", "--about", "What is multi-head attention?", "--week", "18", "--json"
    )
    assert quiz.returncode == 0, quiz.stderr
    questions = json.loads(quiz.stdout)
    assert 1 <= len(questions) <= 5 and questions[0]["citation"]["week"] == 18
    assert any("multi-head" in f"{q['prompt']} {q['answer']}".lower() for q in questions)
    refused = tutor(data_dir, "quiz", "--about", "attention", "--kinds", "llm")
    assert refused.returncode == 2 and "not llm" in refused.stderr


def test_tasks_ticked_off_here_count_in_progress(tmp_path) -> None:
    tutor(tmp_path, "week", "18")
    names = [t["task"] for t in json.loads(tutor(tmp_path, "tasks", "--json").stdout)]
    assert "reading" in names
    ticked = tutor(tmp_path, "tasks", "reading", names[-1])
    assert ticked.returncode == 0 and f"2 of {len(names)} done" in ticked.stdout
    tutor(tmp_path, "tasks", names[-1], "--undo")
    completion = json.loads(tutor(tmp_path, "progress", "--json").stdout)["completion"]
    assert {"week": 18, "done": 1, "total": len(names)}.items() <= next(
        row for row in completion if row["week"] == 18
    ).items()
    unknown = tutor(tmp_path, "tasks", "knitting")
    assert unknown.returncode == 2 and "its tasks are: reading" in unknown.stderr
    assert "no checklist" in tutor(tmp_path, "tasks", "--week", "60").stdout


def test_the_journal_keeps_notes_and_ratings_per_week(tmp_path) -> None:
    assert "Your journal is empty" in tutor(tmp_path, "journal").stdout
    tutor(tmp_path, "week", "18")
    saved = tutor(tmp_path, "journal", "Attention finally clicked", "--rating", "8")
    assert saved.returncode == 0 and "Saved for week 18" in saved.stdout
    tutor(tmp_path, "journal", "--rating", "6", "--week", "17")
    shown = tutor(tmp_path, "journal").stdout
    assert shown.index("Week 17") < shown.index("Week 18") and "rated 8/10" in shown
    data = json.loads(tutor(tmp_path, "journal", "--json").stdout)
    assert data["ratings"] == {"17": 6, "18": 8}
    assert [(e["week"], e["text"]) for e in data["entries"]] == [(18, "Attention finally clicked")]
    ratings = json.loads(tutor(tmp_path, "progress", "--json").stdout)["self_ratings"]
    assert ratings == [{"week": 17, "rating": 6}, {"week": 18, "rating": 8}]
    assert tutor(tmp_path, "journal", "--rating", "11").returncode == 2
    assert tutor(tmp_path, "journal", "   ").returncode == 2


def test_ask_without_a_week_asks_from_yours(tmp_path, corpus_dir) -> None:
    """From the first question on: a new learner is in the week `tutor today` shows them
    (week 1 until they say otherwise), and is told how to ask from another."""
    data_dir = tmp_path / "data"
    shutil.copytree(corpus_dir, data_dir)
    question = "What is my assignment this week?"
    first = tutor(data_dir, "ask", question)
    told = "week 1: where the calendar puts you (see `tutor week`); --week N asks from another"
    assert told in first.stdout
    shown = json.loads(tutor(data_dir, "today", "--json").stdout)["today"]["week"]
    assert json.loads(tutor(data_dir, "ask", question, "--json").stdout)["week"] == shown == 1
    tutor(data_dir, "week", "18")
    after = json.loads(tutor(data_dir, "ask", question, "--json").stdout)
    assert after["week"] == 18 and after["citations"][0]["source"] == "curriculum/week-18"
    assert "week 18: yours" in tutor(data_dir, "ask", question).stdout


def test_a_follow_up_is_asked_from_its_conversations_week(tmp_path, corpus_dir) -> None:
    """ "and the videos?" after week 9's assignment is week 9's, though the learner is in
    week 7 (it answered week 7's videos); --week still asks from another."""
    data_dir = tmp_path / "data"
    shutil.copytree(corpus_dir, data_dir)
    tutor(data_dir, "week", "7")
    first = json.loads(
        tutor(data_dir, "ask", "What is my assignment this week?", "--week", "9", "--json").stdout
    )
    assert first["week"] == 9
    videos = json.loads(tutor(data_dir, "ask", "--continue", "and the videos?", "--json").stdout)
    assert videos["week"] == 9 and "In week 9 (" in videos["answer"]
    assert [c["source"] for c in videos["citations"]] == ["curriculum/week-09"]
    other = tutor(data_dir, "ask", "--continue", "and the reading?", "--week", "7", "--json")
    assert json.loads(other.stdout)["week"] == 7


def test_a_damaged_database_costs_ask_the_week_not_the_answer(tmp_path, corpus_dir) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(corpus_dir, data_dir)
    (data_dir / "tutor.db").write_bytes(b"not a database " * 300)
    result = tutor(data_dir, "ask", "What do I build in week 18?", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["citations"]
    assert "answering without your week" in result.stderr


@pytest.mark.parametrize(
    "command", [["progress"], ["review", "--json"], ["week"], ["quiz", "--week", "18"]]
)
def test_a_damaged_database_stops_the_cli_with_what_to_do(tmp_path, command) -> None:
    path = tmp_path / "tutor.db"
    path.write_bytes(b"not a database " * 300)
    result = tutor(tmp_path, *command)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert f"the learner database {path} cannot be opened" in message and f"mv {path}" in message


def test_the_help_of_each_learner_command_teaches_with_an_example(tmp_path) -> None:
    for command, example in [
        ("week", "tutor week 18"),
        ("review", "tutor review --list"),
        ("tasks", "tutor tasks reading practice"),
        ("journal", "tutor journal --rating 6 --week 17"),
        ("progress", "tutor progress --json"),
        ("quiz", "--kinds llm"),
    ]:
        assert example in tutor(tmp_path, command, "--help").stdout


def test_a_learner_database_another_program_holds_too_long_is_told_not_a_traceback(
    tmp_path: Path,
) -> None:
    """Another process writing for longer than SQLite's busy timeout: the command says what
    happened and what to do (exit 1), as the command line does for a database that won't open."""
    assert tutor(tmp_path, "week", "3").returncode == 0  # the database and its learner made
    holder = sqlite3.connect(tmp_path / "tutor.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer that does not let go
    try:
        held = tutor_process("week", "5", "--data-dir", str(tmp_path), timeout=120)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert held.returncode == 1 and "Traceback" not in held.stderr, held.stderr
    told = " ".join(held.stderr.split())
    assert "the learner database could not be read or written (database is locked)" in told
    assert "try again in a moment" in told
