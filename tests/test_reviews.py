"""Reviews a learner can steer: the due count and when the next card comes, the forecast,
cards of their own (same FSRS scheduler), the export to Anki and CSV, and FSRS fitted to them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fsrs import Card
from fsrs import Rating
from fsrs import ReviewLog
from fsrs import State
from fsrs.scheduler import DEFAULT_PARAMETERS

from app.practice import scheduler as spaced
from app.practice.card_export import inert_cell
from app.records.learners import LearnerRecords
from app.records.reviews import ReviewLogEntry
from app.records.reviews import ReviewRecords
from app.records.reviews import due_phrase
from app.records.reviews import scheduling_parameters
from evals.review_log import simulated_log
from tests.conftest import at_revision
from tests.conftest import due_now
from tests.conftest import new_learner

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


# -- FSRS: forecast, loss, fit -------------------------------------------------------------


def test_the_forecast_counts_a_new_card_again_on_the_days_it_returns() -> None:
    learned, _ = spaced.schedule(None, "good", NOW)
    days = spaced.forecast([learned], NOW, 30)
    assert days[0] == 1  # back within the day (a learning step), then on later days
    assert sum(days) >= 3 and all(n in (0, 1) for n in days[1:])
    overdue = Card(
        state=State.Review,
        stability=20.0,
        difficulty=5.0,
        step=None,
        due=NOW - dt.timedelta(days=3),
        last_review=NOW - dt.timedelta(days=23),
    )
    assert spaced.forecast([overdue.to_dict()], NOW, 7) == [1, 0, 0, 0, 0, 0, 0]  # today


def test_log_loss_is_measured_on_later_day_reviews_only() -> None:
    first = NOW
    logs = [
        ReviewLog(1, Rating.Good, first, None),
        ReviewLog(1, Rating.Good, first + dt.timedelta(minutes=10), None),  # same day
        ReviewLog(1, Rating.Again, first + dt.timedelta(days=4), None),
    ]
    assert spaced.counted_reviews(logs) == 1
    loss = spaced.log_loss(logs, DEFAULT_PARAMETERS)
    assert 0.5 < loss < 5  # a forgotten card FSRS expected recalled costs a lot


def test_a_fit_needs_the_optimizers_own_minimum_and_says_how_many_more() -> None:
    with pytest.raises(spaced.NotEnoughReviews, match=r"needs 512: about \d+ more"):
        spaced.fit(simulated_log(days=10, seed=3))


def test_fitted_parameters_predict_a_simulated_learner_better_and_then_schedule(
    tmp_path: Path,
) -> None:
    """A learner whose memory differs from FSRS's defaults: the fit, judged on cards it never
    saw, beats the defaults, so their cards are scheduled with it from then on."""
    store = LearnerRecords(f"sqlite:///{tmp_path}/learners.db")
    learner = store.local_learner(NOW.date())
    logs = simulated_log(days=50, seed=7)  # 610 counted reviews to train on
    with store.sessions.begin() as session:
        session.add_all(
            ReviewLogEntry(
                learner_id=learner.id,
                question_id=f"q{log.card_id}",
                rating=int(log.rating),
                reviewed_at=log.review_datetime.replace(tzinfo=None),
            )
            for log in logs
        )
    reviews = ReviewRecords(store)
    assert reviews.fitting(learner.id)["ready"]
    state = reviews.fit(learner.id, NOW)
    fit = state["fit"]
    assert fit["fitted_loss"] < fit["default_loss"] and fit["in_use"]
    assert state["scheduling_with"] == "fitted" and fit["train_reviews"] >= 512
    with store.sessions() as session:
        assert scheduling_parameters(session, learner.id) == fit["parameters"]


# -- the API ---------------------------------------------------------------------------------


def answered_question(client, week: int, response: str) -> tuple[str, dict, dict]:
    """A new learner on `week` who answered one multiple-choice question with `response`:
    their base path, auth header and the question."""
    base, auth = new_learner(client, current_week=week)
    quiz = client.post(f"{base}/quizzes", json={"n": 1, "kinds": ["mcq"]}, headers=auth).json()
    [question] = quiz["questions"]
    client.post(
        f"{base}/quizzes/{quiz['quiz_id']}/answers",
        headers=auth,
        json={"question_id": question["id"], "response": response},
    ).raise_for_status()
    return base, auth, question


def test_right_after_a_miss_the_learner_is_told_when_it_comes_back(api_client) -> None:
    base, auth, _ = answered_question(api_client, 18, "Z")  # no option Z: a miss
    summary = api_client.get(f"{base}/reviews/summary", headers=auth).json()
    assert summary["due_now"] == 0 and summary["cards"] == 1
    assert summary["text"] == "Nothing due now; the next card in a minute"
    forecast = api_client.get(f"{base}/reviews/forecast", params={"days": 7}, headers=auth).json()
    assert len(forecast["days"]) == 7 and forecast["days"][0]["due"] >= 1
    assert forecast["next_7_days"] == sum(d["due"] for d in forecast["days"])
    assert (
        api_client.get(f"{base}/reviews/forecast", params={"days": 0}, headers=auth).status_code
        == 422
    )


def test_own_cards_are_made_edited_suspended_rated_and_deleted(api_client) -> None:
    base, auth = new_learner(api_client, current_week=18)
    made = api_client.post(
        f"{base}/cards",
        headers=auth,
        json={
            "front": "Why divide by sqrt(d_k)?",
            "back": "Dot products grow with d_k",
            "source": "notes/w18-attention.md",
            "passage": "The dot products grow large",
        },
    )
    assert made.status_code == 201
    card = made.json()
    assert card["week"] == 18 and card["kind"] == "card"
    due = api_client.get(f"{base}/reviews/due", headers=auth).json()
    assert [q["id"] for q in due] == [card["id"]] and "answer" not in due[0]  # due at once
    assert (
        api_client.get(f"{base}/reviews/summary", headers=auth)
        .json()["text"]
        .startswith("1 card due now")
    )
    edited = api_client.patch(
        f"{base}/cards/{card['id']}",
        headers=auth,
        json={"back": "They grow with d_k, saturating the softmax"},
    )
    assert edited.json()["back"].startswith("They grow") and edited.json()["front"] == card["front"]
    paused = api_client.patch(f"{base}/cards/{card['id']}", json={"suspended": True}, headers=auth)
    assert (
        paused.json()["suspended"]
        and api_client.get(f"{base}/reviews/due", headers=auth).json() == []
    )
    refused = api_client.post(
        f"{base}/cards/{card['id']}/rating", json={"rating": "good"}, headers=auth
    )
    assert refused.status_code == 422 and "suspended" in refused.json()["detail"]
    api_client.patch(f"{base}/cards/{card['id']}", json={"suspended": False}, headers=auth)
    rated = api_client.post(
        f"{base}/cards/{card['id']}/rating", json={"rating": "easy"}, headers=auth
    ).json()
    assert dt.datetime.fromisoformat(rated["next_review"]) > dt.datetime.now(dt.UTC) + dt.timedelta(
        days=1
    )
    graded = api_client.post(f"{base}/reviews/{card['id']}", json={"response": "x"}, headers=auth)
    assert graded.status_code == 422 and "/rating" in graded.json()["detail"]
    assert api_client.delete(f"{base}/cards/{card['id']}", headers=auth).status_code == 204
    assert api_client.get(f"{base}/cards/{card['id']}", headers=auth).status_code == 404
    assert api_client.delete(f"{base}/cards/{card['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"front": " ", "back": "b"}, "front"),
        ({"front": "f", "back": ""}, "back"),
        ({"front": "f", "back": "b", "week": 99}, "week"),
        ({"front": "f" * 1001, "back": "b"}, "front"),
    ],
)
def test_a_card_that_cannot_be_made_is_refused_with_the_reason(api_client, body, field) -> None:
    base, auth = new_learner(api_client)
    refused = api_client.post(f"{base}/cards", json=body, headers=auth)
    assert refused.status_code == 422 and field in refused.text
    assert api_client.get(f"{base}/cards", headers=auth).json() == []


def test_a_quiz_question_can_be_suspended_but_not_reworded(api_client) -> None:
    base, auth, question = answered_question(api_client, 6, "A")
    reworded = api_client.patch(
        f"{base}/cards/{question['id']}", json={"front": "mine"}, headers=auth
    )
    assert reworded.status_code == 422 and "suspend it instead" in reworded.json()["detail"]
    assert api_client.patch(
        f"{base}/cards/{question['id']}", json={"suspended": True}, headers=auth
    ).json()["suspended"]


def test_the_export_carries_cards_and_their_reviews_into_anki_and_csv(
    api_client, database_url, tmp_path: Path
) -> None:
    base, auth = new_learner(api_client, current_week=18)
    card = api_client.post(
        f"{base}/cards",
        headers=auth,
        json={"front": "Softmax of <scores>", "back": "Weights summing to 1"},
    ).json()
    for rating in ("again", "good"):
        due_now(database_url)  # a minute later: "again" brings it back in one
        api_client.post(
            f"{base}/cards/{card['id']}/rating", json={"rating": rating}, headers=auth
        ).raise_for_status()
    csv_file = api_client.get(f"{base}/cards/export", params={"format": "csv"}, headers=auth)
    [row] = list(csv.DictReader(io.StringIO(csv_file.text)))
    assert row["front"] == "Softmax of <scores>" and row["reviews"].count(";") == 1
    apkg = api_client.get(f"{base}/cards/export", headers=auth)
    assert "attachment" in apkg.headers["content-disposition"]
    (tmp_path / "cards.apkg").write_bytes(apkg.content)
    imported = anki_import(tmp_path / "cards.apkg", tmp_path / "anki")
    assert imported["fronts"] == ["Softmax of &lt;scores&gt;"]
    assert imported["eases"] == [1, 3]  # again, good: the review history, in Anki's revlog
    assert (
        api_client.get(f"{base}/cards/export", params={"format": "pdf"}, headers=auth).status_code
        == 422
    )


def test_an_anki_card_keeps_its_line_breaks_code_and_formulas(api_client, tmp_path: Path) -> None:
    """As Anki shows it: breaks as <br>, code's indentation kept by the card's CSS, formulas
    in the delimiters Anki's MathJax reads; money stays money."""
    base, auth = new_learner(api_client)
    back = "Code:\n    def relu(x):\n        return max(0, x)\n$$\\sigma(z) = 1/(1+e^{-z})$$ and $a<b$, $5"
    api_client.post(
        f"{base}/cards", headers=auth, json={"front": "ReLU\nin code?", "back": back}
    ).raise_for_status()
    (tmp_path / "cards.apkg").write_bytes(
        api_client.get(f"{base}/cards/export", headers=auth).content
    )
    imported = anki_import(tmp_path / "cards.apkg", tmp_path / "anki")
    assert imported["fronts"] == ["ReLU<br>in code?"]
    assert imported["backs"] == [
        "Code:<br>    def relu(x):<br>        return max(0, x)<br>"
        "\\[\\sigma(z) = 1/(1+e^{-z})\\] and \\(a&lt;b\\), $5"
    ]
    assert "white-space: pre-wrap" in imported["css"][0]


def test_a_csv_export_opens_in_a_spreadsheet_as_text_not_formulas(api_client) -> None:
    """OWASP's CSV injection: a cell that starts with =, +, -, @, a tab or a carriage return
    runs as a formula in Excel or LibreOffice. Such a cell is exported with a leading
    apostrophe, and nothing else of it changes."""
    base, auth = new_learner(api_client, current_week=18)
    fronts = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "ok"]
    for front in fronts:
        api_client.post(
            f"{base}/cards", headers=auth, json={"front": front, "back": "=1+1"}
        ).raise_for_status()
    exported = api_client.get(f"{base}/cards/export", params={"format": "csv"}, headers=auth)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["front"] for r in rows) == sorted(("'" + f if f != "ok" else f) for f in fronts)
    assert {r["back"] for r in rows} == {"'=1+1"}
    assert all(r["week"] == "18" for r in rows)  # numbers stay numbers
    # A card's sides are stripped when made; a tab or CR can still open a quiz question's cell.
    assert [inert_cell(v) for v in ("\tx", "\rx", 7, None)] == ["'\tx", "'\rx", 7, None]


def test_an_anki_export_leaves_nothing_in_the_temp_dir(api_client, tmp_path, monkeypatch) -> None:
    """The packaging library writes the collection (the learner's cards and history) to a temp
    file it never removes; a server would keep one copy per export."""
    import tempfile

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    base, auth = new_learner(api_client, current_week=18)
    api_client.post(
        f"{base}/cards", headers=auth, json={"front": "Why scale by sqrt(d_k)?", "back": "Softmax"}
    ).raise_for_status()
    for _ in range(3):
        package = api_client.get(f"{base}/cards/export", headers=auth)
        assert package.status_code == 200 and package.content[:2] == b"PK"
    assert list(private.iterdir()) == []
    (tmp_path / "cards.apkg").write_bytes(package.content)
    assert anki_import(tmp_path / "cards.apkg", tmp_path / "anki")["fronts"] == [
        "Why scale by sqrt(d_k)?"
    ]


def anki_import(package: Path, folder: Path) -> dict[str, list]:
    """Import `package` into a new Anki collection with Anki's own library (the `anki`
    package: the desktop app's backend), as a learner's Anki would; what it holds."""
    from anki.collection import Collection
    from anki.collection import ImportAnkiPackageOptions
    from anki.collection import ImportAnkiPackageRequest

    folder.mkdir()
    collection = Collection(str(folder / "collection.anki2"))
    try:
        collection.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(package), options=ImportAnkiPackageOptions(with_scheduling=True)
            )
        )
        cards = [collection.get_card(i) for i in collection.find_cards("")]
        return {
            "fronts": [c.note()["Front"] for c in cards],
            "backs": [c.note()["Back"] for c in cards],
            "css": [c.note_type()["css"] for c in cards],
            "eases": [e for (e,) in collection.db.all("SELECT ease FROM revlog ORDER BY id")],
            "queues": [c.queue for c in cards],
        }
    finally:
        collection.close()


def test_fitting_is_refused_until_the_optimizers_minimum(api_client) -> None:
    base, auth = new_learner(api_client)
    state = api_client.get(f"{base}/fsrs", headers=auth).json()
    assert state == {
        "counted_reviews": 0,
        "min_reviews": 512,
        "ready": False,
        "fit": None,
        "scheduling_with": "default",
    }
    refused = api_client.post(f"{base}/fsrs/fit", headers=auth)
    assert refused.status_code == 422 and "needs 512" in refused.json()["detail"]


def test_another_learners_cards_are_out_of_reach(api_client) -> None:
    ada, ada_auth = new_learner(api_client)
    bob, bob_auth = new_learner(api_client, name="Bob")
    card = api_client.post(
        f"{ada}/cards", json={"front": "f", "back": "b"}, headers=ada_auth
    ).json()
    assert api_client.get(f"{ada}/cards/{card['id']}", headers=bob_auth).status_code == 404
    assert api_client.get(f"{bob}/cards/{card['id']}", headers=bob_auth).status_code == 404


# -- the command line --------------------------------------------------------------------------


def test_the_command_line_makes_reviews_and_exports_own_cards(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from app.cli import app

    def run(*args: str, stdin: str = "") -> Any:
        return CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path)], input=stdin)

    card = json.loads(
        run("cards", "add", "Why divide by sqrt(d_k)?", "Dot products grow", "--json").stdout
    )
    listed = run("review", "--list").stdout
    assert "1 card due now." in listed and "Why divide by sqrt(d_k)?" in listed
    reviewed = run("review", stdin="\n4\n").stdout
    assert "Dot products grow" in reviewed and "1 of 1 remembered" in reviewed
    after = run("review", "--list").stdout
    assert after.startswith("Nothing due now; the next card in ")  # never without when
    assert "Reviews: Nothing due now; the next card in " in run("today").stdout
    forecast = json.loads(run("review", "--forecast", "--json").stdout)
    assert len(forecast["days"]) == 30 and forecast["next_30_days"] >= 1
    assert json.loads(run("cards", "suspend", card["id"], "--json").stdout)["suspended"] is True
    exported = run("cards", "export", "--format", "csv", "-o", str(tmp_path / "c.csv")).stdout
    assert "1 card and 1 review written" in exported
    assert "Dot products grow" in (tmp_path / "c.csv").read_text()
    missing = run("cards", "delete", "own-nope")
    assert missing.exit_code == 1 and "no card own-nope" in missing.stderr
    bad = run("cards", "export", "-f", "pdf", "-o", str(tmp_path / "c.pdf"))
    assert bad.exit_code == 2 and "apkg or csv" in bad.stderr


def test_due_phrase_never_says_nothing_without_saying_when() -> None:
    later = (NOW + dt.timedelta(hours=5)).isoformat()
    assert (
        due_phrase({"due_now": 0, "next_due": later, "cards": 2}, NOW)
        == "Nothing due now; the next card in 5 hours"
    )
    assert (
        due_phrase({"due_now": 2, "next_due": later, "cards": 3}, NOW)
        == "2 cards due now; after those, the next in 5 hours"
    )
    assert due_phrase({"due_now": 0, "next_due": None, "cards": 0}, NOW) == "No cards yet"


def test_answers_given_before_the_review_log_existed_become_its_first_reviews(
    database_url: str,
) -> None:
    """0010 fills the review log from past answers (right = good, wrong = again), so a
    learner's history counts towards fitting FSRS from the day they upgrade."""
    from sqlalchemy import text

    with at_revision(database_url, "0009") as db:
        db.execute(
            text(
                "INSERT INTO learners (name, token_hash, start_date, pace, local) "
                "VALUES ('Ada', 'h', '2026-01-05', 1.0, false)"
            )
        )
        learner_id = db.execute(text("SELECT id FROM learners")).scalar()
        for n, correct in enumerate((False, True)):
            db.execute(
                text(
                    "INSERT INTO attempts (learner_id, question_id, week, kind, response, "
                    "correct, score, created_at) VALUES (:l, 'q1', 6, 'mcq', 'A', :c, "
                    ":s, :t)"
                ),
                {
                    "l": learner_id,
                    "c": correct,
                    "s": float(correct),
                    "t": dt.datetime(2026, 1, 5 + 3 * n, 9),
                },
            )
    history = ReviewRecords(LearnerRecords(database_url)).history(learner_id)
    assert [(r["card_id"], r["rating"], r["reviewed_at"][:10]) for r in history] == [
        ("q1", 1, "2026-01-05"),
        ("q1", 3, "2026-01-08"),
    ]
