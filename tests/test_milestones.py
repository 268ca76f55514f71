"""Monthly milestones: a quiz drawn across the month's four weeks (every week represented,
more on what the learner missed), the month's checklist, and results kept in progress and
reviews; through the API and the command line."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from app.course.curriculum import load_curriculum
from app.course.notes import read_notes
from app.practice.grading import grade
from app.practice.milestones import allocate
from app.practice.milestones import checklist
from app.practice.milestones import milestone_quiz
from app.practice.milestones import month_weeks
from app.practice.quiz import QuizError
from app.records.learners import LearnerRecords
from app.records.milestones import MilestoneRecords
from app.records.quizzes import QuizRecords
from tests.conftest import as_new_learner
from tests.conftest import new_learner
from tests.conftest import tutor
from tests.test_progress import WITHOUT_INDEX

CURRICULUM = load_curriculum()
NOTES = read_notes()


def test_questions_are_shared_one_a_week_then_by_weight() -> None:
    assert allocate(8, dict.fromkeys([1, 2, 3, 4], 1)) == {1: 2, 2: 2, 3: 2, 4: 2}
    assert allocate(4, {1: 1, 2: 9, 3: 1, 4: 1}) == {1: 1, 2: 1, 3: 1, 4: 1}
    assert allocate(8, {1: 1, 2: 4, 3: 1, 4: 1}) == {1: 2, 2: 3, 3: 2, 4: 1}
    assert sum(allocate(30, {1: 1, 2: 7, 3: 3, 4: 1}).values()) == 30
    with pytest.raises(QuizError, match="at least 4 questions, one a week"):
        allocate(3, dict.fromkeys([1, 2, 3, 4], 1))


@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("n", [4, 8])
def test_a_milestone_quiz_covers_all_four_weeks_of_the_month(month, n) -> None:
    quiz = milestone_quiz(NOTES, month, Counter(), n=n, seed=month)
    assert len(quiz) == n and len({q.id for q in quiz}) == n
    assert {q.citation["week"] for q in quiz} == set(month_weeks(month))


def test_a_milestone_quiz_leans_toward_missed_weeks_and_concepts() -> None:
    missed = Counter({(6, "momentum"): 3, (6, "Adam"): 2})
    quiz = milestone_quiz(NOTES, 2, missed, n=10, seed=1)
    by_week = Counter(q.citation["week"] for q in quiz)
    assert by_week[6] == max(by_week.values()) > by_week[5]
    assert set(by_week) == {5, 6, 7, 8}
    on_six = [q for q in quiz if q.citation["week"] == 6]
    assert (
        sum(
            "momentum" in q.citation["snippet"].lower() or "adam" in q.citation["snippet"].lower()
            for q in on_six
        )
        >= 2
    )


def test_months_13_to_18_are_quizzed_on_the_months_notes_as_one() -> None:
    quiz = milestone_quiz(NOTES, 16, Counter(), n=4)
    assert len(quiz) == 4 and all(q.citation["source"].startswith("notes/m16") for q in quiz)


def test_the_checklist_is_the_plans_monthly_milestones_with_the_months_work() -> None:
    items = {item.id: item for item in checklist(CURRICULUM, 1)}
    assert list(items) == [
        "technical-concept-quiz",
        "coding-challenge-completion",
        "project-milestone-review",
        "peer-feedback-session",
    ]
    assert [m["week"] for m in items["coding-challenge-completion"].material] == [1, 2, 3, 4]
    assert items["project-milestone-review"].material[0]["text"] == (
        "Build PCA from scratch using only NumPy"
    )
    assert checklist(CURRICULUM, 14)[1].material == []  # months 13-18 have no weekly practice


def answer_all(store: LearnerRecords, learner_id: int, quiz_id: str, questions, right: int) -> None:
    records = QuizRecords(store)
    now = dt.datetime.now(dt.UTC)
    for number, question in enumerate(questions):
        response = question.answer if number < right else "no idea"
        records.answer(
            learner_id,
            quiz_id,
            question,
            response,
            grade(question, response, lambda a, b: float(a == b)),
            now,
        )


def test_milestone_results_are_kept_by_week_in_progress_and_reviews(database_url) -> None:
    from app.progress.overview import progress

    store = LearnerRecords(database_url)
    learner, _ = store.create("Ada", dt.date(2026, 1, 5))
    records = MilestoneRecords(store)
    assert records.status(learner.id, 2, CURRICULUM)["quiz"] is None
    quiz_id, questions = records.new_quiz(learner.id, 2, NOTES, n=4, kinds=("mcq", "cloze"), seed=1)
    answer_all(store, learner.id, quiz_id, questions, right=3)
    records.tick(learner.id, 2, "coding-challenge-completion", True, CURRICULUM)
    status = records.status(learner.id, 2, CURRICULUM)
    assert (status["quiz"]["answered"], status["quiz"]["correct"]) == (4, 3)
    assert [row["week"] for row in status["quiz"]["by_week"]] == [5, 6, 7, 8]
    assert {i["id"]: i["done"] for i in status["checklist"]} == {
        "technical-concept-quiz": True,
        "coding-challenge-completion": True,
        "project-milestone-review": False,
        "peer-feedback-session": False,
    }
    report = progress(store, learner, CURRICULUM, dt.date(2026, 3, 2), NOTES, WITHOUT_INDEX)
    assert report["milestones"] == [
        {
            "month": 2,
            "title": "Neural Networks from Scratch",
            "quiz_score": 0.75,
            "answered": 4,
            "questions": 4,
            "items_done": 2,
            "items": 4,
            "done": False,
        }
    ]
    assert {row["week"] for row in report["quiz_accuracy_by_week"]} == {5, 6, 7, 8}
    missed = questions[3]  # answered "no idea"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    assert missed.id in {q.id for q in QuizRecords(store).due(learner.id, later)}


def test_a_retaken_milestone_quiz_does_not_repeat_what_was_just_answered_right(
    database_url,
) -> None:
    store = LearnerRecords(database_url)
    learner, _ = store.create("Ada", dt.date(2026, 1, 5))
    records = MilestoneRecords(store)
    quiz_id, first = records.new_quiz(learner.id, 2, NOTES, n=4, kinds=("mcq", "cloze"), seed=1)
    answer_all(store, learner.id, quiz_id, first, right=2)  # two right, two missed
    _, again = records.new_quiz(learner.id, 2, NOTES, n=4, kinds=("mcq", "cloze"), seed=1)
    right = {q.id for q in first[:2]}
    assert len(again) == 4 and not right & {q.id for q in again}


# -- the API -----------------------------------------------------------------------------------


def test_the_api_draws_a_milestone_quiz_answers_it_and_shows_the_results(api_client) -> None:
    base, auth = new_learner(api_client)
    made = api_client.post(
        f"{base}/milestones/3/quiz", json={"n": 4, "kinds": ["mcq"]}, headers=auth
    )
    assert made.status_code == 201, made.text
    quiz = made.json()
    assert {q["citation"]["week"] for q in quiz["questions"]} == {9, 10, 11, 12}
    first = quiz["questions"][0]
    api_client.post(
        f"{base}/quizzes/{quiz['quiz_id']}/answers",
        json={"question_id": first["id"], "response": "A"},
        headers=auth,
    )
    ticked = api_client.put(
        f"{base}/milestones/3/items/peer-feedback-session", json={"done": True}, headers=auth
    ).json()
    assert ticked["quiz"]["answered"] == 1 and ticked["checklist"][3]["done"] is True
    assert api_client.get(f"{base}/progress", headers=auth).json()["milestones"][0]["month"] == 3


@pytest.mark.parametrize(
    "method, path, body, status, detail",
    [
        ("get", "/milestones/19", None, 422, "less than or equal to 18"),
        ("post", "/milestones/0/quiz", {}, 422, "greater than or equal to 1"),
        ("post", "/milestones/2/quiz", {"n": 3}, 422, "greater than or equal to 4"),
        (
            "put",
            "/milestones/2/items/homework",
            {"done": True},
            404,
            "its items are: technical-concept-quiz, coding-challenge-completion",
        ),
        (
            "put",
            "/milestones/2/items/technical-concept-quiz",
            {"done": True},
            422,
            "done by answering the month's milestone quiz",
        ),
    ],
)
def test_bad_milestone_input_is_a_4xx_naming_what_is_wrong(
    api_client, method, path, body, status, detail
) -> None:
    response = as_new_learner(api_client, method, path, body)
    assert response.status_code == status and detail in response.text, response.text


def test_tutor_milestone_takes_the_quiz_and_ticks_the_checklist(data_dir) -> None:
    assert tutor(data_dir, "week", "8").returncode == 0  # month 2's last week
    taken = tutor(data_dir, "milestone", "--quiz", "--n", "4", stdin="\n" * 8)
    assert taken.returncode == 0, taken.stderr
    assert "of 4 right" in taken.stdout and "Milestone quiz" in taken.stdout
    status = json.loads(
        tutor(data_dir, "milestone", "--tick", "peer-feedback-session", "--json").stdout
    )
    assert status["month"] == 2 and status["quiz"]["answered"] == 4
    assert [i["done"] for i in status["checklist"]] == [True, False, False, True]
    assert "Month 2 milestone: 2/4 done" in tutor(data_dir, "progress").stdout
    assert "milestone is due" in tutor(data_dir, "today").stdout
    failed = tutor(data_dir, "milestone", "2", "--tick", "technical-concept-quiz")
    assert failed.returncode == 2 and "done by answering" in failed.stderr


@pytest.mark.parametrize("month", ["0", "19"])
def test_a_month_outside_the_plan_is_a_usage_error_not_this_month(tmp_path, month) -> None:
    """Month 0 was read as "no month given" and showed the current month with exit 0."""
    shown = tutor(tmp_path, "milestone", month, "--json")
    assert shown.returncode == 2 and "months are 1-18" in shown.stderr, shown
