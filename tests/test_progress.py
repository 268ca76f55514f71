"""Progress that fits any learner: counted from the week they started in, in words that read
right ("1 day"), weak spots that are concepts, and, for a concept kept missing, the earlier week
it builds on with the passage to reread. On SQLite and PostgreSQL, over the real index."""

from __future__ import annotations

import datetime as dt
import random
import shutil

import pytest

from app.cli.render_progress import render_progress
from app.config import Settings
from app.course.curriculum import load_curriculum
from app.course.notes import read_notes
from app.practice.distractors import concept_space
from app.practice.grading import grade
from app.practice.quiz import GENERATORS
from app.practice.quiz import Question
from app.progress.overview import progress
from app.progress.prerequisites import PrerequisitePassages
from app.progress.prerequisites import builds_on
from app.progress.prerequisites import named_weeks
from app.records.learners import LearnerRecords
from app.records.quizzes import Attempt
from app.records.quizzes import QuizRecords
from app.records.schedules import ScheduleRecords
from app.records.weak_spots import Concept
from app.records.weak_spots import Concepts
from app.records.weak_spots import kept_missing
from app.search.lexical import LexicalIndex
from app.search.retrieval import Retriever
from app.search.vectors import VectorStore
from app.search.vectors import VectorStoreError
from app.text import counted
from tests.conftest import tutor

CURRICULUM = load_curriculum()
NOTES = read_notes()
CONCEPTS = Concepts(NOTES)
JOINED = dt.date(2026, 3, 2)


def _unreachable() -> Retriever:
    raise VectorStoreError("no index in this test")


WITHOUT_INDEX = PrerequisitePassages(_unreachable)


def note_of(week: int):
    return next(note for note in NOTES if note.meta.week == week)


def generated(week: int, kinds: tuple[str, ...] = ("mcq", "cloze", "truefalse")) -> list[Question]:
    """The questions the model-free generators make on week `week`'s note."""
    rng = random.Random(0)
    space = concept_space(NOTES)
    return [q for kind in kinds for q in GENERATORS[kind](note_of(week), rng, space)]


def on(concept: str, week: int = 25) -> list[Question]:
    return [q for q in generated(week) if CONCEPTS.of(q.to_dict()) == Concept(week, concept)]


def answer_wrong(store: LearnerRecords, learner_id: int, questions: list[Question]) -> None:
    records = QuizRecords(store)
    for question in questions:
        records.answer(
            learner_id,
            None,
            question,
            "no idea",
            grade(question, "no idea"),
            dt.datetime.now(dt.UTC),
        )


# -- what a question tests --------------------------------------------------------------------


def test_a_generated_question_counts_for_the_concept_whose_definition_it_quotes() -> None:
    definitions = note_of(25).definitions
    for question in generated(25):
        concept = CONCEPTS.of(question.to_dict())
        assert concept is not None and concept.week == 25
        assert definitions[concept.name] == question.citation["snippet"], question.prompt


def test_weak_concepts_are_concepts_never_a_weeks_title() -> None:
    """A check-yourself question counts for the concept whose section it is closest to; the
    week's title ("Attention Mechanisms") is never one."""
    short = GENERATORS["short"](note_of(18), random.Random(0), NOTES)
    assert [CONCEPTS.of(q.to_dict()).name for q in short] == [
        "scaled dot-product attention",
        "scaled dot-product attention",
        "multi-head attention",
        "sequence-to-sequence with attention",
    ]  # sqrt(d_k), softmax axis, d_k per head, seq2seq
    assert CONCEPTS.of({"kind": "short", "prompt": "?", "answer": "x", "citation": {}}) is None


@pytest.mark.parametrize(
    "answers, kept",
    [
        ([False], False),
        ([False, False], True),
        ([False, True, False], True),
        ([False, False, True, True], False),
        ([True, True, False, False], True),
    ],
)
def test_a_concept_is_kept_missing_at_two_wrong_of_the_last_three_answers(answers, kept) -> None:
    [question] = on("causal self-attention")[:1]
    attempts = [Attempt(question_id=question.id, correct=ok) for ok in answers]
    found = kept_missing(attempts, {question.id: question.to_dict()}, CONCEPTS)
    assert bool(found) == kept
    if kept:
        assert found[0][0] == Concept(25, "causal self-attention")
        assert found[0][1:] == (answers[-3:].count(False), len(answers[-3:]))


# -- which week a concept builds on -----------------------------------------------------------


def test_weeks_named_in_prose_are_read_as_numbers() -> None:
    assert named_weeks("Builds on attention (week 18) and weeks 13-15, week 2 and 4") == {
        2,
        4,
        13,
        14,
        15,
        18,
    }
    assert named_weeks("no weeks here") == set()


def test_a_concept_builds_on_the_prerequisite_its_section_names_else_on_all() -> None:
    w25 = note_of(25)
    assert builds_on(w25, "causal self-attention") == [18]  # "Builds on attention (week 18)"
    assert set(builds_on(w25, "no such concept")) == set(w25.meta.prerequisites)
    assert builds_on(note_of(1), note_of(1).meta.concepts[0]) == []  # week 1 builds on nothing


def test_counts_read_right_in_the_singular_and_the_plural() -> None:
    assert [counted(n, "day") for n in (0, 1, 2)] == ["0 days", "1 day", "2 days"]
    assert counted(1, "plan week") == "1 plan week"


# -- the report -------------------------------------------------------------------------------


@pytest.fixture
def store(database_url: str) -> LearnerRecords:
    return LearnerRecords(database_url)


@pytest.fixture(scope="module")
def passages(corpus_index, tmp_path_factory, embedder) -> PrerequisitePassages:
    data_dir = corpus_index.copy(tmp_path_factory.mktemp("passages"))
    store = VectorStore(Settings(data_dir=data_dir))
    retriever = Retriever(store, embedder, LexicalIndex(store, data_dir))
    return PrerequisitePassages(lambda: retriever)


def test_a_learner_joining_in_week_18_is_counted_from_week_18(store) -> None:
    learner, _ = store.create("Ada", JOINED, current_week=18)
    store.tick(learner.id, 18, "assignment", True, CURRICULUM)
    report = progress(
        store, learner, CURRICULUM, JOINED + dt.timedelta(days=8), NOTES, WITHOUT_INDEX
    )
    # a week on, the calendar has them in week 19 with week 18 not done yet: a week behind
    assert report["start_week"] == 18 and report["current_week"] == 19
    assert report["pace"]["resume_week"] == 18 and report["pace"]["status"] == "behind"
    assert [(w["week"], w["done"], w["total"]) for w in report["completion"]] == [
        (18, 1, 4),
        (19, 0, 3),
    ]
    text = _printed(report)
    assert "counted from week 18" in text and "streak 0 days" in text


def test_nothing_moves_the_week_a_learner_joined_in(store) -> None:
    """A milestone quiz on the month's earlier weeks, a tick of an earlier week, a re-plan or
    a week set later: the progress still counts from the week they joined in."""
    learner, _ = store.create("Ada", JOINED, current_week=18)
    store.tick(learner.id, 17, "assignment", True, CURRICULUM)
    answer_wrong(store, learner.id, on("causal self-attention")[:1])
    ScheduleRecords(store).replan(learner.id, CURRICULUM, JOINED + dt.timedelta(days=21))
    learner = store.set_week(learner.id, 20, JOINED + dt.timedelta(days=21))
    report = progress(
        store, learner, CURRICULUM, JOINED + dt.timedelta(days=21), NOTES, WITHOUT_INDEX
    )
    assert report["start_week"] == 18 == report["pace"]["start_week"]
    assert [w["week"] for w in report["completion"]] == [18, 19, 20]


def test_a_learner_who_goes_back_before_the_week_they_joined_is_counted_from_there(store) -> None:
    learner, _ = store.create("Ada", JOINED, current_week=18)
    learner = store.set_week(learner.id, 16, JOINED)
    report = progress(store, learner, CURRICULUM, JOINED, NOTES, WITHOUT_INDEX)
    assert (report["start_week"], report["current_week"]) == (18, 16)
    assert [w["week"] for w in report["completion"]] == [16]


def test_a_concept_kept_missing_points_back_to_the_passage_of_its_prerequisite(
    store, passages
) -> None:
    learner, _ = store.create("Ada", JOINED, current_week=25)
    answer_wrong(store, learner.id, on("causal self-attention")[:2])
    report = progress(store, learner, CURRICULUM, JOINED, NOTES, passages)
    assert report["weak_concepts"] == [
        {"concept": "causal self-attention", "week": 25, "missed": 2}
    ]
    [back] = report["back_to_prerequisites"]
    assert (back["concept"], back["concept_week"], back["missed"], back["answered"]) == (
        "causal self-attention",
        25,
        2,
        2,
    )
    assert (back["week"], back["title"]) == (18, "Attention mechanisms")
    passage = back["passage"]
    assert passage["source"] == "notes/w18-attention.md" and passage["week"] == 18
    assert passage["heading"].startswith("Attention mechanisms") and "attention" in passage["text"]
    text = _printed(report)
    assert "Back to the prerequisite" in text and "notes/w18-attention.md" in text
    assert "It builds on week 18" in text and "2 of your last 2 answers wrong" in text


def test_without_the_index_the_prerequisite_week_is_still_named(store) -> None:
    learner, _ = store.create("Ada", JOINED, current_week=25)
    answer_wrong(store, learner.id, on("causal self-attention")[:2])
    [back] = progress(store, learner, CURRICULUM, JOINED, NOTES, WITHOUT_INDEX)[
        "back_to_prerequisites"
    ]
    assert back["week"] == 18 and back["passage"] is None


def _printed(report: dict) -> str:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(render_progress(report))
    return console.export_text()


# -- API and command line ---------------------------------------------------------------------


def test_the_api_and_the_command_line_point_back_to_the_prerequisite(corpus_dir, tmp_path) -> None:
    """`tutor progress` on the command line's learner; GET /learners/{id}/progress for an API
    learner, and the tutor's answer when they ask about the concept (whole or streamed), over
    a copy of the real index."""
    from app.api import create_app
    from tests.conftest import local_client
    from tests.test_api import sse_events

    data_dir = tmp_path / "data"
    shutil.copytree(corpus_dir, data_dir)
    store = LearnerRecords(f"sqlite:///{data_dir / 'tutor.db'}")
    learner = store.local_learner(dt.date.today())  # as `tutor week 25` makes and sets it
    store.set_week(learner.id, 25, dt.date.today())
    answer_wrong(store, learner.id, on("causal self-attention")[:2])
    printed = tutor(data_dir, "progress")
    assert printed.returncode == 0, printed.stderr
    said = " ".join(printed.stdout.split())
    assert "counted from week 25" in said and "streak 1 day with" in said
    assert "Back to the prerequisite" in said and "It builds on week 18" in said
    assert "[notes/w18-attention.md]" in said

    with local_client(create_app(Settings(data_dir=data_dir))) as client:
        body = client.post("/learners", json={"name": "Bo", "current_week": 25}).json()
        answer_wrong(store, body["id"], on("causal self-attention")[:2])
        auth = {"Authorization": f"Bearer {body['token']}"}
        api = client.get(f"/learners/{body['id']}/progress", headers=auth).json()
        asked = client.post(
            "/ask", headers=auth, json={"question": "What is Causal self-attention?"}
        ).json()
        elsewhere = client.post("/ask", headers=auth, json={"question": "What is dropout?"}).json()
        anonymous = client.post("/ask", json={"question": "What is causal self-attention?"}).json()
        streamed = sse_events(
            client.post(
                "/ask/stream", headers=auth, json={"question": "Why mask causal self-attention?"}
            ).text
        )
    assert api["start_week"] == 25
    assert api["back_to_prerequisites"][0]["passage"]["source"] == "notes/w18-attention.md"
    assert [(b["concept"], b["week"]) for b in asked["back_to"]] == [("causal self-attention", 18)]
    assert asked["back_to"][0]["passage"]["source"] == "notes/w18-attention.md"
    assert elsewhere["back_to"] == [] and anonymous["back_to"] == []
    assert streamed[-1][0] == "done" and streamed[-1][1]["back_to"] == asked["back_to"]
