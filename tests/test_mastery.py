"""Mastery per concept: every quiz answer, review, self-rating and check counts once, on the
concept it tests; the chance of a right answer is the running accuracy until a fit of FSRS to
concept logs beats it on held-out answers, and then FSRS says it on a later day only."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from xml.etree import ElementTree

import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS

from app.cli.render_progress import render_mastery
from app.course.notes import read_notes
from app.practice.distractors import concept_space
from app.practice.grading import grade
from app.practice.mastery import Estimator
from app.practice.mastery import MasteryFit
from app.practice.mastery import Observation
from app.practice.mastery import fit
from app.practice.mastery import predictions
from app.practice.quiz import GENERATORS
from app.practice.quiz import Question
from app.practice.scheduler import NotEnoughReviews
from app.progress.concept_map import layout
from app.progress.concept_map import prerequisite_edges
from app.progress.concept_mastery import concept_mastery
from app.progress.concept_mastery import level
from app.progress.prerequisites import builds_on
from app.records.checks import CheckRecords
from app.records.learners import LearnerRecords
from app.records.mastery import MasteryRecords
from app.records.quizzes import QuizRecords
from app.records.weak_spots import Concept
from app.records.weak_spots import Concepts
from evals.mastery_log import learners
from tests.conftest import due_now
from tests.conftest import new_learner
from tests.conftest import tutor

NOTES = read_notes()
CONCEPTS = Concepts(NOTES)
MONDAY = dt.datetime(2026, 3, 2, 9, 0)


def seen(*observations: Observation, parameters: list[float] | None = None) -> Estimator:
    estimator = Estimator(parameters)
    for observation in observations:
        estimator.see(observation)
    return estimator


def quiz(concept: str, right: bool, at: dt.datetime, week: int = 18) -> Observation:
    return Observation(week, concept, at, "quiz", int(right))


def test_before_any_fit_the_chance_is_the_running_accuracy_pulled_to_the_learners_own() -> None:
    estimator = seen(
        quiz("self-attention", True, MONDAY),
        quiz("self-attention", True, MONDAY),
        quiz("self-attention", False, MONDAY),
        quiz("positional encoding", True, MONDAY),
    )
    prior = (3 + 1) / (4 + 2)  # the learner's 3 right of 4, from one right and one wrong
    week_later = MONDAY + dt.timedelta(days=7)
    assert estimator.chance((18, "self-attention"), week_later) == (
        (2 + prior) / 4,
        "running accuracy",
    )
    assert estimator.chance((18, "multi-head attention"), week_later) == (prior, "running accuracy")


def test_with_a_fit_in_use_fsrs_speaks_on_later_days_and_its_chance_falls_with_time() -> None:
    estimator = seen(
        quiz("self-attention", True, MONDAY),
        quiz("self-attention", False, MONDAY + dt.timedelta(minutes=2)),
        parameters=list(DEFAULT_PARAMETERS),
    )
    key = (18, "self-attention")
    same_day = estimator.chance(key, MONDAY + dt.timedelta(hours=3))
    assert same_day[1] == "running accuracy"  # FSRS counts whole days: it would say certain
    day, month = (estimator.chance(key, MONDAY + dt.timedelta(days=d)) for d in (2, 30))
    assert day[1] == month[1] == "fsrs" and 1 > day[0] > month[0] > 0


def test_a_self_rating_moves_the_memory_but_is_not_an_answer() -> None:
    rated = Observation(18, "self-attention", MONDAY, "self-rating", 9)
    estimator = seen(rated)
    state = estimator.states[(18, "self-attention")]
    assert (state.answered, state.right, state.card.stability is not None) == (0, 0, True)
    assert [rated.rating, Observation(18, "x", MONDAY, "self-rating", 3).rating] == [4, 1]


def test_predictions_are_made_before_each_answer_is_seen() -> None:
    log = [
        quiz("self-attention", r, MONDAY + dt.timedelta(days=i)) for i, r in enumerate([1, 0, 0])
    ]
    found = list(predictions([log], None))
    # 1st answer: nothing before it on the concept; 2nd: after one right (prior 2/3) ...
    assert [round(p.chance, 3) for p in found] == [
        round((1 + 2 / 3) / 2, 3),
        round((1 + 2 / 4) / 3, 3),
    ]
    assert [p.right for p in found] == [False, False] and all(p.later_day for p in found)


def test_a_fit_below_the_optimizers_minimum_says_what_it_needs() -> None:
    with pytest.raises(NotEnoughReviews, match="needs 512; until then mastery is the running"):
        fit(learners(NOTES, 1, weeks=4, seed=3))


@pytest.mark.slow
def test_a_fit_to_synthetic_learners_is_judged_on_sequences_it_never_saw() -> None:
    result = fit(learners(NOTES, 3, weeks=16, seed=5))
    assert len(result.parameters) == len(DEFAULT_PARAMETERS)
    assert result.train_reviews >= 512 and result.held_out_answers > 50
    assert math.isfinite(result.fsrs_loss) and math.isfinite(result.running_loss)


# -- what the records say ------------------------------------------------------------------


def questions_on(week: int) -> list[Question]:
    """The model-free generators' questions on week `week`'s note, each on one concept."""
    note = next(n for n in NOTES if n.meta.week == week)
    rng, space = random.Random(0), concept_space(NOTES)
    made = [q for kind in ("mcq", "cloze") for q in GENERATORS[kind](note, rng, space)]
    return [q for q in made if CONCEPTS.of(q.to_dict()) is not None]


def answer(
    store: LearnerRecords, learner_id: int, question: Question, right: bool, quiz_id: str | None
) -> None:
    response = question.answer if right else "no idea"
    QuizRecords(store).answer(
        learner_id, quiz_id, question, response, grade(question, response), dt.datetime.now(dt.UTC)
    )


def a_quiz(store: LearnerRecords, learner_id: int, questions: list[Question]) -> str:
    return QuizRecords(store).save(learner_id, 18, questions)


def test_every_answer_rating_and_check_is_one_observation_on_its_concept(database_url) -> None:
    store = LearnerRecords(database_url)
    ada, _ = store.create("Ada", dt.date(2026, 3, 2))
    first, second = questions_on(18)[:2]
    quiz_id = a_quiz(store, ada.id, [first, second])
    answer(store, ada.id, first, True, quiz_id)
    answer(store, ada.id, second, False, quiz_id)
    due_now(database_url)
    answer(store, ada.id, second, True, None)  # came back for review, right this time
    store.rate(ada.id, 18, 7)
    week_concepts = next(n for n in NOTES if n.meta.week == 18).meta.concepts
    CheckRecords(store).record(
        ada.id, {"week": 18, "passed": False, "checks": [], "not_checked": [], "stopped": None}
    )
    found = MasteryRecords(store, NOTES).observations(ada.id)
    concept_of = {q.id: CONCEPTS.of(q.to_dict()) for q in (first, second)}
    answers = [
        (o.source, Concept(o.week, o.concept), o.value)
        for o in found
        if o.answered and o.source != "check"
    ]
    assert answers == [
        ("quiz", concept_of[first.id], 1),
        ("quiz", concept_of[second.id], 0),
        (
            "review",
            concept_of[second.id],
            3,
        ),  # the quiz answer's own log entry is not counted again
    ]
    assert sorted(o.concept for o in found if o.source == "self-rating") == sorted(week_concepts)
    assert sorted(o.concept for o in found if o.source == "check") == sorted(week_concepts)
    assert {o.value for o in found if o.source == "check"} == {0}
    ben, _ = store.create("Ben", dt.date(2026, 3, 2))
    assert MasteryRecords(store, NOTES).observations(ben.id) == []


def test_a_weeks_rating_reaches_every_note_of_it_and_a_days_checks_count_once(
    database_url,
) -> None:
    """Week 49 has five notes (the tracks of months 13-18): a self-rating of it is on all
    their concepts, and colours none of them. Five failed checks and a pass in one sitting
    are one passed check."""
    store = LearnerRecords(database_url)
    ada, _ = store.create("Ada", dt.date(2026, 3, 2))
    store.rate(ada.id, 49, 9)
    checks = CheckRecords(store)
    for passed in (False,) * 5 + (True,):
        checks.record(
            ada.id, {"week": 18, "passed": passed, "checks": [], "not_checked": [], "stopped": None}
        )
    found = MasteryRecords(store, NOTES).observations(ada.id)
    rated = {o.concept for o in found if o.source == "self-rating"}
    assert rated == {c for n in NOTES if n.meta.week == 49 for c in n.meta.concepts}
    assert len(rated) > 5
    week_18 = next(n for n in NOTES if n.meta.week == 18).meta.concepts
    assert sorted((o.concept, o.value) for o in found if o.source == "check") == sorted(
        (c, 1) for c in week_18
    )
    records = MasteryRecords(store, NOTES)
    report = concept_mastery(records, NOTES, ada.id, dt.datetime.now(dt.UTC))
    only_rated = [c for c in report["concepts"] if c["week"] == 49]
    assert all(c["chance"] is None and c["observations"] == 1 for c in only_rated)


def test_on_a_postgresql_in_another_time_zone_an_answer_still_counts_once(
    database_url, monkeypatch
) -> None:
    """Rows PostgreSQL stamps were in its session's zone: at UTC+9 a quiz answer and its
    review-log entry lay nine hours apart, and the answer counted twice (or not at all)."""
    monkeypatch.setenv("PGTZ", "Asia/Tokyo")
    store = LearnerRecords(database_url)
    ada, _ = store.create("Ada", dt.date(2026, 3, 2))
    question = questions_on(18)[0]
    answer(store, ada.id, question, True, a_quiz(store, ada.id, [question]))
    [seen_once] = MasteryRecords(store, NOTES).observations(ada.id)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert seen_once.source == "quiz" and abs(seen_once.at - now) < dt.timedelta(minutes=5)


def test_a_fit_with_nothing_held_out_to_judge_it_is_refused_not_stored_as_nan() -> None:
    """Every fifth concept sequence judges the fit; when those were each met once, there is
    no later-day answer to judge it on (it was a NOT NULL error on SQLite)."""
    log: list[Observation] = []
    for index in range(50):
        days = 1 if index % 5 == 4 else 15  # the held-out fifth: met once
        log += [
            Observation(
                1, f"concept {index}", MONDAY + dt.timedelta(days=d, minutes=index), "quiz", 1
            )
            for d in range(days)
        ]
    with pytest.raises(NotEnoughReviews, match="none of the concepts kept out"):
        fit([sorted(log, key=lambda o: o.at)])


def test_the_newest_fit_is_the_one_used_and_only_if_it_won(database_url) -> None:
    records = MasteryRecords(LearnerRecords(database_url), NOTES)
    assert (records.latest(), records.parameters()) == (None, None)
    won = MasteryFit(
        [0.5] * 21, fsrs_loss=0.52, running_loss=0.58, train_reviews=600, held_out_answers=90
    )
    kept = records.keep(won, learners=3, now=dt.datetime.now(dt.UTC))
    assert kept["in_use"] and records.parameters() == [0.5] * 21
    lost = MasteryFit(
        [0.6] * 21, fsrs_loss=0.61, running_loss=0.58, train_reviews=700, held_out_answers=95
    )
    records.keep(lost, learners=3, now=dt.datetime.now(dt.UTC))
    assert records.latest()["in_use"] is False and records.parameters() is None


def test_the_api_lists_every_concept_with_its_level_and_the_weeks_it_builds_on(
    api_client, database_url
) -> None:
    base, auth = new_learner(api_client, current_week=18)
    learner_id = int(base.rsplit("/", 1)[1])
    store = LearnerRecords(database_url)
    question = questions_on(18)[0]
    answer(store, learner_id, question, True, a_quiz(store, learner_id, [question]))
    response = api_client.get(f"{base}/mastery", headers=auth)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["model"] == "running accuracy" and report["fit"] is None
    assert len(report["concepts"]) == sum(len(n.meta.concepts) for n in NOTES)
    met = [c for c in report["concepts"] if c["chance"] is not None]
    concept = CONCEPTS.of(question.to_dict())
    assert [(c["week"], c["concept"], c["answered"], c["right"]) for c in met] == [
        (concept.week, concept.name, 1, 1)
    ]
    assert met[0]["chance"] == round((1 + 2 / 3) / 2, 3) and met[0]["level"] == "learning"
    assert met[0]["builds_on"] and all(w < 18 for w in met[0]["builds_on"])
    other, other_auth = new_learner(api_client)
    assert api_client.get(f"{base}/mastery", headers=other_auth).status_code == 404  # not yours
    mine = api_client.get(f"{other}/mastery", headers=other_auth).json()
    assert all(c["chance"] is None for c in mine["concepts"])


def test_levels_and_the_command_lines_table_say_what_they_show() -> None:
    assert [level(c) for c in (None, 0.3, 0.7, 0.9)] == [
        "not seen",
        "shaky",
        "learning",
        "mastered",
    ]
    report = {
        "model": "running accuracy",
        "fit": None,
        "concepts": [
            {
                "week": 18,
                "concept": "self-attention",
                "chance": 0.9,
                "level": "mastered",
                "right": 4,
                "answered": 4,
            },
            {
                "week": 18,
                "concept": "positional encoding",
                "chance": None,
                "level": "not seen",
                "right": 0,
                "answered": 0,
            },
        ],
    }
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(render_mastery(report))
    shown = console.export_text()
    assert "self-attention" in shown and "90% mastered" in shown and "4/4" in shown
    assert "1 concept not met yet" in shown and "positional encoding" not in shown
    assert "tutor mastery --fit" in shown


def test_tutor_mastery_on_a_new_learner_says_how_to_begin(data_dir) -> None:
    shown = tutor(data_dir, "mastery")
    assert shown.returncode == 0, shown.stderr
    assert "No concept met yet" in " ".join(shown.stdout.split()) and "tutor quiz" in shown.stdout
    as_json = tutor(data_dir, "mastery", "--week", "18", "--json")
    assert {c["week"] for c in json.loads(as_json.stdout)["concepts"]} == {18}


# -- the map -------------------------------------------------------------------------------


def test_each_concept_builds_on_a_concept_of_an_earlier_week_its_note_names() -> None:
    edges = prerequisite_edges(NOTES)
    note_of = {(n.meta.week, c): n for n in NOTES for c in n.meta.concepts}
    assert edges and all(a[0] < b[0] for a, b in edges)
    assert all(a[0] in builds_on(note_of[b], b[1]) for a, b in edges)
    # "Builds on attention (week 18)": causal self-attention's line comes from week 18
    assert {a[0] for a, b in edges if b == (25, "causal self-attention")} == {18}


def test_the_layout_puts_weeks_left_to_right_in_the_notes_order_every_time() -> None:
    keys = [(n.meta.week, c) for n in NOTES if n.meta.week <= 3 for c in n.meta.concepts]
    placed = layout(keys, prerequisite_edges(NOTES))
    xs = {week: {placed[k][0] for k in keys if k[0] == week} for week in (1, 2, 3)}
    assert all(len(x) == 1 for x in xs.values()) and min(xs[1]) < min(xs[2]) < min(xs[3])
    week_one = [k for k in keys if k[0] == 1]
    assert sorted(week_one, key=lambda k: placed[k][1]) == week_one  # top to bottom, as written
    assert placed == layout(keys, prerequisite_edges(NOTES))


def test_the_map_api_places_a_span_of_weeks_and_opens_a_concept(api_client, database_url) -> None:
    base, auth = new_learner(api_client, current_week=18)
    learner_id = int(base.rsplit("/", 1)[1])
    store = LearnerRecords(database_url)
    question = questions_on(18)[0]
    answer(store, learner_id, question, True, a_quiz(store, learner_id, [question]))
    drawn = api_client.get(f"{base}/mastery/map", params={"first": 17, "last": 18}, headers=auth)
    assert drawn.status_code == 200, drawn.text
    body = drawn.json()
    assert {c["week"] for c in body["concepts"]} == {17, 18}
    assert all(-1 <= c["x"] <= 1 and -1 <= c["y"] <= 1 for c in body["concepts"])
    assert all(e["from"]["week"] == 17 and e["to"]["week"] == 18 for e in body["edges"])
    assert set(body["colours"]) == {"mastered", "learning", "shaky", "not seen", "reviews due"}
    concept = CONCEPTS.of(question.to_dict())
    opened = api_client.get(
        f"{base}/mastery/concept", params={"week": 18, "name": concept.name}, headers=auth
    ).json()
    assert (opened["concept"], opened["answered"], opened["right"]) == (concept.name, 1, 1)
    assert (
        opened["passage"]["source"].startswith("notes/")
        and "Definition" in opened["passage"]["text"]
    )
    assert [c["id"] for c in opened["cards"]] == [question.id]  # the quiz answer's card
    missing = api_client.get(
        f"{base}/mastery/concept", params={"week": 18, "name": "cooking"}, headers=auth
    )
    assert missing.status_code == 404 and "no concept 'cooking' in week 18" in missing.text
    assert concept.name in missing.json()["detail"]  # the week's concepts, to pick from
    shouted = api_client.get(
        f"{base}/mastery/concept", params={"week": 18, "name": concept.name.upper()}, headers=auth
    )
    assert shouted.json()["concept"] == concept.name  # any case finds it
    out_of_plan = api_client.get(f"{base}/mastery/map", params={"first": 99}, headers=auth)
    assert out_of_plan.status_code == 422
    swapped = api_client.get(f"{base}/mastery/map", params={"first": 5, "last": 2}, headers=auth)
    assert swapped.status_code == 422 and "swap them" in swapped.text


def test_tutor_map_draws_the_weeks_asked_for_as_an_svg(data_dir, tmp_path) -> None:
    out = tmp_path / "map.svg"
    drawn = tutor(data_dir, "map", "-o", str(out), "--weeks", "1-4")
    assert drawn.returncode == 0, drawn.stderr
    assert "concepts of weeks 1-4 (0 met) drawn to" in drawn.stdout
    svg = ElementTree.parse(out).getroot()
    shown = " ".join(t for t in svg.itertext())
    assert svg.tag.endswith("svg") and "week 4" in shown and "matrix multiplication" in shown
    assert "week 5" not in shown and "reviews due" in shown  # the legend
    for weeks, said in [
        ("one-two", "a week or a range like 13-24"),
        ("²", "a week or a range like 13-24"),  # a digit to str.isdigit, not to int()
        ("1-", "a week or a range like 13-24"),
        ("5-2", "weeks run from 1 to 72, the first before the last"),
        ("0", "weeks run from 1 to 72"),
    ]:
        bad = tutor(data_dir, "map", "--weeks", weeks)
        assert bad.returncode == 2 and said in bad.stderr, (weeks, bad.stderr)
    beyond = tutor(data_dir, "map", "--weeks", "50-52")
    assert beyond.returncode == 1
    assert "weeks 50-52 have no concepts in the notes (weeks 1-49 and 61 do)" in beyond.stderr
    unwritable = tutor(data_dir, "map", "-o", "/proc/map.svg")
    assert unwritable.returncode == 1 and "could not write /proc/map.svg" in unwritable.stderr
