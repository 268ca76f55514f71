"""The capstone coach: each quarter's capstone as a rubric from the plan, a learner's work
against it (deliverables, links, self-review) kept and shown in progress, and the tutor's
answer to "what should my Q2 capstone include?" citing the plan."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.answering.citations import markers
from app.course.curriculum import load_curriculum
from app.course.rubric import NoCapstone
from app.course.rubric import rubric_for
from app.records.capstones import CapstoneRecords
from app.records.learners import LearnerRecords
from app.text import split_sentences
from tests.conftest import as_new_learner
from tests.conftest import new_learner
from tests.conftest import tutor
from tests.test_tutor import fake
from tests.test_tutor import tutor_on

CURRICULUM = load_curriculum()


@pytest.mark.parametrize(
    "quarter, weeks", [(1, (1, 12)), (2, (13, 24)), (3, (25, 36)), (4, (37, 48))]
)
def test_each_capstone_becomes_a_rubric_of_its_scope_deliverables_and_focus(quarter, weeks) -> None:
    capstone = CURRICULUM.capstones[quarter - 1]
    plan = rubric_for(quarter, CURRICULUM)
    assert 5 <= len(plan.criteria) <= 8 and plan.weeks == weeks
    assert plan.source == f"curriculum/capstone-q{quarter}"
    assert [c.text for c in plan.by_kind("deliverable")] == capstone.deliverables
    assert [c.text for c in plan.by_kind("focus")] == capstone.focus
    scope = plan.criterion("scope").text
    assert scope.startswith(capstone.goal)
    assert all(option in scope for option in capstone.options)
    assert all(detail[1:] in scope for detail in capstone.details)
    assert len({c.id for c in plan.criteria}) == len(plan.criteria)


def test_only_the_first_four_quarters_have_a_capstone() -> None:
    assert len(CURRICULUM.quarters) == 6 and len(CURRICULUM.capstones) == 4
    for quarter in (0, 5, 6):
        with pytest.raises(NoCapstone, match="Q1 \\(after week 12\\).*months 13-18 have none"):
            rubric_for(quarter, CURRICULUM)


@pytest.mark.parametrize(
    "question",
    [
        "What should my Q2 capstone include?",
        "what goes into the second quarter capstone",
        "Quarter 2 capstone deliverables?",
    ],
)
def test_the_tutor_answers_a_quarters_capstone_from_the_plan_citing_it(
    corpus_dir, embedder, question
) -> None:
    model = fake()  # never called
    for week in (18, None, 40):  # the learner's week doesn't change which capstone is asked
        answer = tutor_on(corpus_dir, embedder, model).ask(question, week=week)
        assert answer.grounded and model.prompts == []
        assert "Advanced Deep Learning Project" in answer.answer
        assert "GitHub repo with clean code; technical blog post; model demo [1]" in answer.answer
        assert "Custom BERT fine-tuning" in answer.answer
        assert [c.source for c in answer.citations] == [
            "curriculum/capstone-q2",
            "curriculum/week-24",
        ]
        assert all(markers(sentence) for sentence in split_sentences(answer.answer)), (
            "every sentence cites the plan"
        )


def test_work_on_a_capstone_is_kept_and_summarised(database_url) -> None:
    store = LearnerRecords(database_url)
    learner, _ = store.create("Ada", dt.date(2026, 1, 5))
    records = CapstoneRecords(store)
    plan = rubric_for(2, CURRICULUM)
    assert records.summaries(learner.id, [plan]) == []
    records.tick(learner.id, plan, "deliverable-model-demo", True)
    records.link(learner.id, plan, {"repository": "https://github.com/ada/bert"})
    records.review(
        learner.id,
        plan,
        {"scope": 3, "focus-proper-evaluation": 2},
        "needs a baseline",
        dt.date(2026, 6, 30),
    )
    records.review(learner.id, plan, {"scope": 4}, None, dt.date(2026, 7, 1))  # keeps the rest
    work = records.read(learner.id, plan)
    scores = {c["id"]: c["score"] for c in work["criteria"]}
    assert scores["scope"] == 4 and scores["focus-proper-evaluation"] == 2
    assert [c["done"] for c in work["criteria"] if c["kind"] == "deliverable"] == [
        False,
        False,
        True,
    ]
    assert (work["repository"], work["report"], work["note"], work["reviewed_on"]) == (
        "https://github.com/ada/bert",
        None,
        "needs a baseline",
        "2026-07-01",
    )
    [summary] = records.summaries(learner.id, [rubric_for(q, CURRICULUM) for q in range(1, 5)])
    assert summary | {"mean_score": summary["mean_score"]} == {
        "quarter": 2,
        "title": "Advanced Deep Learning Project",
        "deliverables_done": 1,
        "deliverables": 3,
        "repository": "https://github.com/ada/bert",
        "report": None,
        "scored": 2,
        "criteria": 7,
        "mean_score": 3.0,
        "reviewed_on": "2026-07-01",
    }
    with pytest.raises(KeyError, match="its deliverables are: deliverable-github-repo"):
        records.tick(learner.id, plan, "scope", True)
    with pytest.raises(ValueError, match="no criterion clarity"):
        records.review(learner.id, plan, {"clarity": 3}, None, dt.date(2026, 7, 1))


# -- the API -----------------------------------------------------------------------------------


def test_the_api_serves_rubrics_and_keeps_a_learners_capstone_work(api_client) -> None:
    assert [r["quarter"] for r in api_client.get("/capstones").json()] == [1, 2, 3, 4]
    assert len(api_client.get("/capstones/3").json()["criteria"]) == 7
    base, auth = new_learner(api_client)
    work = f"{base}/capstones/2"
    api_client.put(f"{work}/deliverables/deliverable-model-demo", json={"done": True}, headers=auth)
    api_client.put(
        f"{work}/links",
        json={"repository": "https://github.com/ada/bert", "report": "https://ada.dev/bert"},
        headers=auth,
    )
    cleared = api_client.put(f"{work}/links", json={"report": None}, headers=auth).json()
    assert (cleared["repository"], cleared["report"]) == ("https://github.com/ada/bert", None)
    reviewed = api_client.put(
        f"{work}/review", json={"scores": {"scope": 3}, "note": "ok"}, headers=auth
    ).json()
    assert reviewed["reviewed_on"] == dt.date.today().isoformat() and reviewed["note"] == "ok"
    assert api_client.get(work, headers=auth).json()["criteria"][0]["score"] == 3
    [summary] = api_client.get(f"{base}/progress", headers=auth).json()["capstones"]
    assert summary["deliverables_done"] == 1 and summary["mean_score"] == 3


@pytest.mark.parametrize(
    "method, path, body, status, detail",
    [
        ("get", "/capstones/5", None, 404, "quarter 5 has no capstone"),
        (
            "put",
            "/capstones/2/deliverables/homework",
            {"done": True},
            404,
            "its deliverables are: deliverable-github-repo-with-clean-code",
        ),
        (
            "put",
            "/capstones/2/links",
            {"repository": "github.com/ada"},
            422,
            "must be a web address",
        ),
        (
            "put",
            "/capstones/2/links",
            {"report": "javascript:alert(1)"},
            422,
            "must be a web address",
        ),
        ("put", "/capstones/2/review", {"scores": {"scope": 5}}, 422, "a score is 1-4"),
        ("put", "/capstones/2/review", {"scores": {"clarity": 3}}, 422, "its criteria are: scope"),
        ("put", "/capstones/2/review", {"note": "x\u0000"}, 422, "NUL character"),
        ("get", "/capstones/two", None, 422, "valid integer"),
    ],
)
def test_bad_capstone_input_is_a_4xx_naming_what_is_wrong(
    api_client, method, path, body, status, detail
) -> None:
    response = as_new_learner(api_client, method, path, body)
    assert response.status_code == status and detail in response.text, response.text


def test_nobody_else_sees_a_learners_capstone_work(api_client) -> None:
    ada, _ = new_learner(api_client)
    _, bob = new_learner(api_client)
    assert api_client.get(f"{ada}/capstones/2", headers=bob).status_code == 404
    assert api_client.put(f"{ada}/capstones/2/links", json={}, headers=bob).status_code == 404


def test_tutor_capstone_ticks_links_and_reviews(data_dir) -> None:
    shown = json.loads(tutor(data_dir, "capstone", "--json").stdout)
    assert shown["quarter"] == 1  # a new learner's next capstone
    done = tutor(
        data_dir,
        "capstone",
        "2",
        "--tick",
        "model-demo",
        "--repo",
        "https://github.com/ada/bert",
        "--score",
        "scope=3",
        "--note",
        "ok",
        "--json",
    )
    work = json.loads(done.stdout)
    assert [c["done"] for c in work["criteria"] if c["kind"] == "deliverable"][-1] is True
    assert work["repository"] == "https://github.com/ada/bert" and work["note"] == "ok"
    plain = tutor(data_dir, "capstone", "2")
    assert "Advanced Deep Learning Project" in plain.stdout and "meets it" in plain.stdout
    assert "1/3 deliverables" in tutor(data_dir, "progress").stdout
    for args, message in [
        (["5"], "quarter 5 has no capstone"),
        (["2", "--score", "scope"], "write CRITERION=SCORE"),
        (["2", "--tick", "nope"], "its deliverables are"),
        (["2", "--repo", "ftp://x"], "must be a web address"),
    ]:
        failed = tutor(data_dir, "capstone", *args)
        assert failed.returncode == 2 and message in failed.stderr, (args, failed.stderr)
