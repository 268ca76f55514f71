"""The Streamlit UI, driven with Streamlit's AppTest against a real API on loopback.

The API runs as `tutor serve` on a copy of the ingested bundled corpus, with the real local
model: what a learner sees here is what the product does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Selectbox

from app.cli.launcher import api_command
from app.cli.launcher import child_env
from app.config import Settings
from app.course.curriculum import load_curriculum
from app.ui import library
from app.ui.library import CORPUS_DIR
from tests.conftest import REPO
from tests.conftest import free_port
from tests.conftest import wait_for

SCRIPT = str(REPO / "app" / "ui" / "main.py")
TIMEOUT = 180  # an answer from the local model on a busy two-core machine
BUILD_TIMEOUT = 600  # a slice of the bundled library built through the UI on a busy machine


def loopback(data_dir: Path) -> Settings:
    """Settings for a private API and UI on free loopback ports over `data_dir`."""
    port = free_port()
    return Settings(
        data_dir=data_dir, api_port=port, ui_port=free_port(), api_url=f"http://127.0.0.1:{port}"
    )


@contextmanager
def running(
    command: list[str], settings: Settings, health_url: str, cwd: Path = REPO
) -> Iterator[None]:
    """A child started the way `make run` starts it; ready once `health_url` answers."""
    child = subprocess.Popen(
        command,
        cwd=cwd,
        env=child_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(health_url)
        yield
    finally:
        child.terminate()
        child.wait(timeout=30)


@contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """The API alone over `data_dir`; yields its URL."""
    settings = loopback(data_dir)
    with running(api_command(settings), settings, f"{settings.resolved_api_url}/health"):
        yield settings.resolved_api_url


@pytest.fixture(scope="module")
def api_url(corpus_index, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One API for the module, on its own copy of the index (learners are written there)."""
    with serve(corpus_index.copy(tmp_path_factory.mktemp("ui-api"))) as url:
        yield url


@pytest.fixture
def reports_dir(tmp_path: Path) -> Path:
    return tmp_path / "reports"


def open_ui(monkeypatch: pytest.MonkeyPatch, api_url: str, reports_dir: Path) -> AppTest:
    monkeypatch.setenv("TUTOR_API_URL", api_url)
    monkeypatch.setenv("TUTOR_EVAL_REPORTS_DIR", str(reports_dir))
    return AppTest.from_file(SCRIPT, default_timeout=TIMEOUT).run()


@pytest.fixture
def ui(monkeypatch: pytest.MonkeyPatch, api_url: str, reports_dir: Path) -> AppTest:
    return open_ui(monkeypatch, api_url, reports_dir)


def join(ui: AppTest, name: str = "Ada", week: int = 18) -> AppTest:
    ui.sidebar.text_input(key="join_name").input(name)
    ui.sidebar.number_input(key="join_week").set_value(week)
    return ui.sidebar.button(key="FormSubmitter:join-Start learning").click().run()


def sign_in(ui: AppTest, key: str) -> AppTest:
    ui.sidebar.text_input(key="sign_in_key").input(key)
    return ui.sidebar.button(key="FormSubmitter:sign_in-Sign in").click().run()


def sign_in_again(
    ui: AppTest, monkeypatch: pytest.MonkeyPatch, api_url: str, reports_dir: Path
) -> AppTest:
    """The same learner in a new session (another browser, or a reload)."""
    who = ui.session_state["learner"]
    return sign_in(open_ui(monkeypatch, api_url, reports_dir), f"{who['id']}.{who['token']}")


def week_picker(ui: AppTest) -> Selectbox[Any]:
    """The sidebar's week picker (found by its label: its key changes whenever the app moves
    it, see `app.ui.session.show_week`)."""
    return next(box for box in ui.sidebar.selectbox if box.label == "Week")


def open_tab(ui: AppTest, label: str) -> AppTest:
    ui.session_state["tab"] = next(t.label for t in ui.tabs if t.label.endswith(label))
    return ui.run()


def texts(ui: AppTest) -> str:
    """Everything the page says, for asserting on what a learner reads."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "error", "warning", "info", "success")
        for e in ui.get(kind)
    ]
    return "\n".join(str(p) for p in parts)


def charts(ui: AppTest) -> list[dict[str, Any]]:
    """The page's Altair charts as Vega-Lite specs."""
    return [json.loads(chart.proto.spec) for chart in ui.get("vega_lite_chart")]


def stored(api_url: str, ui: AppTest, suffix: str = "") -> Any:
    """What the API holds for the UI's signed-in learner (GET /learners/{id}{suffix})."""
    who = ui.session_state["learner"]
    return httpx.get(
        f"{api_url}/learners/{who['id']}{suffix}",
        headers={"Authorization": f"Bearer {who['token']}"},
    ).json()


def test_without_the_api_a_banner_says_how_to_start_it(monkeypatch, reports_dir) -> None:
    ui = open_ui(monkeypatch, f"http://127.0.0.1:{free_port()}", reports_dir)
    assert not ui.exception
    banner = ui.error[0].value
    assert "not running" in banner and "make run" in banner and "tutor serve" in banner
    assert ui.button[0].label == "Try again" and not ui.tabs


@pytest.mark.slow
def test_a_new_learner_is_signed_in_on_their_week_with_a_key_to_keep(ui, api_url) -> None:
    join(ui, "Ada", 18)
    assert not ui.exception
    assert week_picker(ui).value == 18
    assert "**Ada**" in ui.sidebar.markdown[1].value
    key = ui.sidebar.code[0].value
    assert key.startswith(f"{ui.session_state['learner']['id']}.")
    assert "Week 18 · Attention Mechanisms" in texts(ui)
    assert "On week 18" in texts(ui.sidebar)


@pytest.mark.slow
def test_signing_in_with_a_key_finds_the_learner_again(monkeypatch, api_url, reports_dir) -> None:
    created = httpx.post(f"{api_url}/learners", json={"name": "Grace", "current_week": 30}).json()
    ui = sign_in(open_ui(monkeypatch, api_url, reports_dir), f"{created['id']}.{created['token']}")
    assert ui.session_state["learner"]["name"] == "Grace"
    assert week_picker(ui).value == 30


@pytest.mark.slow
def test_a_wrong_sign_in_key_is_a_message_not_a_stack_trace(ui) -> None:
    sign_in(ui, "999.not-a-token")
    assert not ui.exception
    assert "not known here" in ui.sidebar.error[0].value
    assert "learner" not in ui.session_state


@pytest.mark.slow
def test_picking_a_week_shows_its_plan_and_can_make_it_the_current_week(ui, api_url) -> None:
    join(ui, week=18)
    week_picker(ui).set_value(24).run()
    page = texts(ui)
    assert "Week 24" in page and "Q2 capstone this week" in page
    ui.sidebar.button(key="set_week").click().run()
    assert stored(api_url, ui)["current_week"] == 24
    assert "set_week" not in [b.key for b in ui.sidebar.button]


@pytest.mark.slow
def test_months_13_to_18_show_their_tracks_without_a_checklist(ui) -> None:
    join(ui, week=60)  # month 15's last week: its milestone has a checklist, the week none
    assert "planned as tracks" in texts(ui)
    assert not [box for box in ui.checkbox if box.key.startswith("task-")]
    assert "Month 15 milestone" in ui.expander[0].label


@pytest.mark.slow
def test_a_ticked_task_is_stored_and_is_still_ticked_in_a_new_session(
    ui, api_url, monkeypatch, reports_dir
) -> None:
    join(ui, week=18)
    ui.checkbox(key="task-18-assignment").check().run()
    assert ui.progress[0].value == 25  # 1 of 4
    tasks = {t["task"]: t["done"] for t in stored(api_url, ui, "/weeks/18/tasks")}
    assert tasks == {"reading": False, "videos": False, "practice": False, "assignment": True}
    again = sign_in_again(ui, monkeypatch, api_url, reports_dir)
    assert again.checkbox(key="task-18-assignment").value is True


def test_finishing_the_weeks_tasks_moves_every_view_on_to_the_next_week(ui, api_url) -> None:
    """The sidebar, the pace panel and the week on show say one thing: week 18's last task
    ticked in week 18 puts Ada on week 19, on track, with the same finish."""
    join(ui, week=18)
    finish = stored(api_url, ui, "/pace")["finish_on"]
    for name, _ in load_curriculum().week(18).week.fields():
        ui.checkbox(key=f"task-18-{name}").check().run()
    said = "On week 19 of 72 (the calendar has you in week 18)"
    assert said in texts(ui.sidebar) and said in texts(ui.main)
    assert week_picker(ui).value == 19 and "Week 19" in texts(ui.main)
    pace = stored(api_url, ui, "/pace")
    assert (pace["status"], pace["finish_on"]) == ("on track", finish)
    assert stored(api_url, ui)["current_week"] == 19


@pytest.mark.slow
def test_signed_out_the_plan_is_readable_but_not_tickable(ui) -> None:
    assert not ui.checkbox
    assert "Sign in (left) to tick off" in texts(ui)


@pytest.mark.slow
def test_a_plan_question_is_answered_with_a_citation_card(ui) -> None:
    week_picker(ui).set_value(18).run()
    ui.chat_input(key="question").set_value("What is my assignment this week?").run()
    assert not ui.exception
    _, answer = ui.chat_message
    assert answer.markdown[0].value.startswith("In week 18 (Attention Mechanisms) your assignment")
    card = answer.expander[0]
    assert card.label.startswith("[1] Week 18: Attention Mechanisms")
    assert "curriculum/week-18" in card.caption[0].value


@pytest.mark.slow
def test_a_concept_question_streams_a_model_answer_citing_the_notes(ui) -> None:
    join(ui, week=18)
    ui.chat_input(key="question").set_value("Why divide by the square root of d_k?").run()
    assert not ui.exception
    answer = ui.chat_message[1]
    assert answer.markdown[0].value.strip()
    sources = [card.caption[0].value for card in answer.expander]
    assert sources and any("w18-attention.md" in s for s in sources)
    assert ui.session_state["conversation_id"]


@pytest.mark.slow
def test_a_new_session_brings_back_the_learner_s_latest_conversation(
    ui, api_url, monkeypatch, reports_dir
) -> None:
    join(ui, week=18)
    ui.chat_input(key="question").set_value("What is my assignment this week?").run()
    again = sign_in_again(ui, monkeypatch, api_url, reports_dir)
    question, answer = again.chat_message
    assert question.markdown[0].value == "What is my assignment this week?"
    assert answer.expander[0].label.startswith("[1] Week 18")
    assert again.session_state["conversation_id"] == ui.session_state["conversation_id"]


@pytest.mark.slow
def test_a_new_conversation_starts_empty_and_earlier_ones_can_be_reopened(ui) -> None:
    join(ui, week=18)
    ui.chat_input(key="question").set_value("What is my assignment this week?").run()
    first = ui.session_state["conversation_id"]
    ui.button(key="new_conversation").click().run()
    assert not ui.chat_message and "conversation_id" not in ui.session_state
    ui.button(key=f"open-{first}").click().run()
    assert len(ui.chat_message) == 2 and ui.session_state["conversation_id"] == first


@pytest.mark.slow
def test_a_suggested_question_is_asked_with_one_click(ui) -> None:
    ui.button(key="suggest-2").click().run()
    assert "capstone" in ui.chat_message[1].markdown[0].value.lower()


@pytest.mark.slow
def test_the_mode_switch_sends_socratic_questions(ui) -> None:
    ui.segmented_control(key="mode").set_value("socratic").run()
    ui.chat_input(key="question").set_value("What is my assignment this week?").run()
    assert not ui.exception and len(ui.chat_message) == 2


@pytest.mark.slow
def test_quiz_me_on_this_opens_a_quiz_on_what_the_conversation_asked(ui) -> None:
    join(ui, week=5)
    week_picker(ui).set_value(18).run()
    ui.chat_input(key="question").set_value("What is multi-head attention?").run()
    ui.button(key="quiz_me").click().run()
    assert ui.session_state["tab"].endswith("Quiz")
    quiz = ui.session_state["quiz"]
    assert quiz["topic"] == "What is multi-head attention?"
    assert "Quiz · “What is multi-head attention?”" in texts(ui)
    asked = [c for c in ui.caption if c.value.startswith("Question ")]
    assert 1 <= len(asked) <= 5
    on_topic = [
        q
        for q in quiz["questions"]
        if re.search(r"attention|heads?\b|quer|keys?\b|dot products?", q["prompt"], re.I)
    ]
    assert len(on_topic) == len(quiz["questions"])


@pytest.mark.slow
def test_quiz_me_needs_a_learner(ui) -> None:
    ui.chat_input(key="question").set_value("What is my assignment this week?").run()
    assert ui.button(key="quiz_me").disabled


@pytest.mark.slow
def test_a_quiz_answer_gets_immediate_feedback_quoting_its_source(ui) -> None:
    join(ui, week=18)
    open_tab(ui, "Quiz")
    assert "No cards yet" in texts(ui)  # the sidebar's due count; reviews have their tab
    ui.button(key="start_quiz").click().run()
    questions = ui.session_state["quiz"]["questions"]
    assert len(questions) == 5 and all("answer" not in q for q in questions)
    first = questions[0]
    if first["options"]:
        ui.radio(key=f"response-{first['id']}").set_value(first["options"][0])
    else:
        ui.text_input(key=f"response-{first['id']}").input("attention")
    ui.button(key=f"FormSubmitter:answer-{first['id']}-Check").click().run()
    result = ui.session_state["quiz_results"][first["id"]]
    shown = (ui.success or ui.error)[0].value
    assert shown == result["feedback"] and "notes/" in texts(ui)
    snippet_words = set(re.findall(r"[a-z]{4,}", (result["quote"] or "").lower()))
    assert result["quote"] is None or not snippet_words <= set(
        re.findall(r"[a-z]{4,}", first["prompt"].lower())
    )  # the source sentence shows once


@pytest.mark.slow
def test_a_quiz_with_no_right_answer_ends_in_a_warning_not_a_trophy(ui) -> None:
    join(ui, week=18)
    ui.session_state["quiz_request"] = {"week": 18, "n": 3, "kinds": ["cloze", "short"]}
    open_tab(ui, "Quiz")
    for question in ui.session_state["quiz"]["questions"]:
        ui.text_input(key=f"response-{question['id']}").input("no idea")
        ui.button(key=f"FormSubmitter:answer-{question['id']}-Check").click().run()
    assert not ui.success and ui.warning[-1].value.startswith("0 of 3 right. Not there yet")
    assert ui.warning[-1].icon == ":material/school:"
    assert len(ui.error) == 3 and all(e.icon == ":material/cancel:" for e in ui.error)


@pytest.mark.slow
def test_a_checked_answer_without_a_choice_asks_for_one(ui) -> None:
    join(ui, week=18)
    open_tab(ui, "Quiz")
    ui.button(key="start_quiz").click().run()
    first = ui.session_state["quiz"]["questions"][0]
    ui.button(key=f"FormSubmitter:answer-{first['id']}-Check").click().run()
    assert "Choose or type an answer first" in ui.warning[0].value
    assert not ui.session_state["quiz_results"]


def missed_short_answer_due_now(ui: AppTest, api_url: str) -> str:
    """A short answer the signed-in learner missed, made due now as if minutes had passed."""
    import sqlite3

    who = ui.session_state["learner"]
    base, auth = f"{api_url}/learners/{who['id']}", {"Authorization": f"Bearer {who['token']}"}
    quiz = httpx.post(
        f"{base}/quizzes", json={"n": 1, "kinds": ["short"]}, headers=auth, timeout=60
    ).json()
    [question] = quiz["questions"]
    httpx.post(
        f"{base}/quizzes/{quiz['quiz_id']}/answers",
        headers=auth,
        timeout=60,
        json={"question_id": question["id"], "response": "no idea"},
    ).raise_for_status()
    data_dir = Path(httpx.get(f"{api_url}/health").json()["data_dir"])
    with sqlite3.connect(data_dir / "tutor.db") as db:
        db.execute(
            "UPDATE review_cards SET due = datetime('now', '-1 minute') WHERE learner_id = ?",
            (who["id"],),
        )
    return question["id"]


@pytest.mark.slow
def test_a_short_answer_under_review_shows_the_answer_then_takes_the_learners_rating(
    ui, api_url
) -> None:
    join(ui, week=18)
    question_id = missed_short_answer_due_now(ui, api_url)
    open_tab(ui, "Reviews")
    ui.text_input(key=f"response-{question_id}").input("no idea")
    ui.button(key=f"FormSubmitter:answer-{question_id}-Check").click().run()
    checked = ui.session_state["review_results"][question_id]
    assert "next_review" not in checked and "How did it go?" in texts(ui)  # not recorded yet
    assert f"**Answer:** {checked['answer']}" in texts(ui)
    ui.button(key=f"rate-{question_id}-easy").click().run()
    rated = ui.session_state["review_results"][question_id]
    assert rated["feedback"].startswith("You rated it Easy") and "comes back" in texts(ui)
    # no green check on the missed answer itself (the session's tally may still be green: a
    # self-rating of Easy is recorded as remembered)
    assert ui.info[0].value == rated["feedback"]
    assert all(rated["feedback"] not in box.value for box in ui.success)
    assert "How did it go?" not in texts(ui)


@pytest.mark.slow
def test_a_hand_made_card_is_due_at_once_flips_and_is_rated(ui, api_url) -> None:
    """The Reviews tab: the sidebar's due count, a card made by hand, its back shown, a
    rating (keys 1-4 in a browser), the forecast chart explained in a line, and the export."""
    join(ui, week=18)
    open_tab(ui, "Reviews")
    assert "No cards yet" in texts(ui)
    ui.text_area(key="new_card_front").input("Why divide by sqrt(d_k)?")
    ui.text_area(key="new_card_back").input("Dot products grow with d_k")
    ui.button(key="FormSubmitter:new_card-Make card").click().run()
    assert "1 card due now" in "\n".join(c.value for c in ui.sidebar.caption)
    [card] = ui.session_state["reviews"]
    assert "Why divide by sqrt(d_k)?" in texts(ui) and "Dot products grow" not in texts(ui)
    ui.button(key=f"show-{card['id']}").click().run()
    assert "Dot products grow with d_k" in texts(ui) and "How did it go?" in texts(ui)
    ui.button(key=f"rate-{card['id']}-good").click().run()
    assert "comes back" in texts(ui) and "All 1 reviewed" in texts(ui)
    assert "Nothing due now; the next card in" in "\n".join(c.value for c in ui.sidebar.caption)
    assert "Reviews due each day, from FSRS" in texts(ui) and charts(ui)
    assert {b.label for b in ui.get("download_button")} == {"Anki package", "CSV"}
    assert "of the 512 reviews" in texts(ui)


@pytest.mark.slow
def test_a_card_whose_source_changed_offers_the_new_text_and_takes_the_choice(
    monkeypatch, reports_dir, tmp_path
) -> None:
    """An ingest edited the passage a card quotes: the Reviews tab shows both texts; accepting
    takes the new one and the notice goes."""
    from app.records.card_sources import flag_changed_sources
    from app.records.learners import LearnerRecords

    data_dir = tmp_path / "data"
    with serve(data_dir) as url:
        made = httpx.post(f"{url}/learners", json={"name": "Ada", "week": 18}).json()
        auth = {"Authorization": f"Bearer {made['token']}"}
        old = "Attention divides the scores by the square root of d_k."
        new = "Attention divides the scores by the square root of the key dimension."
        card = httpx.post(
            f"{url}/learners/{made['id']}/cards",
            json={
                "front": "Why divide?",
                "back": "Soft softmax",
                "week": 18,
                "source": "notes/w18-attention.md",
                "passage": old,
            },
            headers=auth,
        ).json()
        # what an ingest of the edited note does (tests/test_card_sources.py runs a real one)
        sessions = LearnerRecords(f"sqlite:///{data_dir / 'tutor.db'}").sessions
        source = "notes/w18-attention.md"
        assert flag_changed_sources(sessions, {source}, lambda _: {source: [new]}) == 1
        ui = sign_in(open_ui(monkeypatch, url, reports_dir), f"{made['id']}.{made['token']}")
        open_tab(ui, "Reviews")
        assert "Sources changed" in texts(ui) and old in texts(ui) and new in texts(ui)
        ui.button(key=f"accept-{card['id']}").click().run()
        assert not ui.exception and "Sources changed" not in texts(ui)
        [kept] = httpx.get(f"{url}/learners/{made['id']}/cards", headers=auth).json()
        assert kept["passage"] == new and kept["source_changed"] is None


@pytest.mark.slow
def test_the_journal_keeps_a_weekly_rating_and_notes(ui, api_url) -> None:
    join(ui, week=18)
    open_tab(ui, "Journal")
    ui.slider(key="rating-18").set_value(8)
    ui.text_area(key="notes-18").input("Attention clicked: scaled dot products, then softmax.")
    ui.button(key="FormSubmitter:journal-18-Save").click().run()
    assert not ui.exception
    assert "**Week 18** · 8/10" in texts(ui)
    assert "Attention clicked" in texts(ui)
    assert stored(api_url, ui, "/ratings") == {"18": 8}


@pytest.mark.slow
def test_progress_shows_headline_numbers_and_charts(ui) -> None:
    join(ui, week=3)
    ui.checkbox(key="task-3-assignment").check().run()
    open_tab(ui, "Progress")
    metrics = {m.label: m.value for m in ui.metric}
    assert metrics["Current week"] == "3" and metrics["Tasks done"] == "1 of 4"  # week 3 only
    assert metrics["Streak"] == "0 days"
    concept_map, completion = charts(ui)  # no quiz or rating yet: their charts are hints
    assert completion["encoding"]["x"]["field"] == "week"
    [pick] = concept_map["params"]
    assert (pick["name"], pick["select"]["on"]) == ("concept", "click")  # a click opens one
    assert ui.slider(key="map_weeks").value == (1, 4)  # the learner's week and those before
    assert "Click one to open it" in texts(ui)
    assert "Each bar: the share of that week's checklist you have ticked, from week 3" in texts(ui)
    assert "Take a quiz to start this chart" in texts(ui)
    assert "Rate your week in the Journal tab" in texts(ui)


@pytest.mark.slow
def test_progress_points_a_concept_kept_missing_back_to_its_prerequisite(ui, api_url) -> None:
    """Week 25's eight questions, all answered wrong: two on each of its four concepts, so
    causal self-attention points back to week 18's note, passage and all; the weak spots are
    concepts, the streak one day. Asked about it, the tutor points back to week 18 too."""
    join(ui, week=25)
    who = ui.session_state["learner"]
    auth = {"Authorization": f"Bearer {who['token']}"}
    base = f"{api_url}/learners/{who['id']}"
    quiz = httpx.post(
        f"{base}/quizzes", json={"week": 25, "n": 8}, headers=auth, timeout=TIMEOUT
    ).json()
    for question in quiz["questions"]:
        httpx.post(
            f"{base}/quizzes/{quiz['quiz_id']}/answers",
            headers=auth,
            timeout=TIMEOUT,
            json={"question_id": question["id"], "response": "wrong on purpose"},
        )
    open_tab(ui, "Progress")
    assert not ui.exception
    page = texts(ui)
    assert "Back to the prerequisite" in page
    assert (
        "**causal self-attention** (week 25): 2 of your last 2 answers wrong. It builds on "
        "**week 18**, Attention mechanisms." in page
    )
    assert "`[notes/w18-attention.md]`" in page
    assert any(e.label.startswith("Week 18: Attention mechanisms") for e in ui.expander)
    assert "- **causal self-attention** · week 25 · 2 wrong answers" in page
    assert {m.label: m.value for m in ui.metric}["Streak"] == "1 day"
    assert "Each point: the share of your quiz answers that were right" in page

    open_tab(ui, "Chat")
    ui.chat_input(key="question").set_value("What is causal self-attention?").run()
    assert not ui.exception
    pointer = ui.chat_message[1].info[0].value  # the tutor says it too, under its answer
    assert pointer.startswith(
        "You keep missing **causal self-attention**. It builds on "
        "**week 18**, Attention mechanisms. Reread"
    )


@pytest.mark.slow
def test_signed_out_tabs_invite_signing_in(ui) -> None:
    for label in ("Quiz", "Reviews", "Progress", "Journal"):
        open_tab(ui, label)
        assert "Sign in (left)" in ui.info[0].value


@pytest.mark.slow
def test_the_library_tab_searches_the_course_notes(ui) -> None:
    open_tab(ui, "Library")
    ui.text_input(key="query").input("scaled dot-product attention").run()
    assert any("Attention" in e.label for e in ui.expander)


def write_report(reports_dir: Path, run: str, **fields) -> None:
    report = {
        "run": run,
        "created": "2026-11-25T14:30:00",
        "suite": "quick",
        "passed": True,
        "failures": [],
        "headline": {"hit@5": 0.9, "mrr": 0.8},
        "configs": [
            {"name": "hybrid", "metrics": {"hit@5": 0.9, "mrr": 0.8}},
            {"name": "dense", "metrics": {"hit@5": 0.85, "mrr": 0.7}},
        ],
        "per_quarter": {"Q1": {"hit@5": 0.95}, "Q2": {"hit@5": 0.85}},
        "latency_ms": [900.0, 1200.0, 2100.0],
        "worst": [{"id": "q7", "question": "What is dropout?", "answer": "A layer.", "score": 0.2}],
        **fields,
    }
    (reports_dir / run).mkdir(parents=True)
    (reports_dir / run / "report.json").write_text(json.dumps(report))


@pytest.mark.slow
def test_evals_shows_the_latest_report_s_metrics_and_charts(ui, reports_dir) -> None:
    write_report(reports_dir, "20261124-090000-quick", headline={"hit@5": 0.5})
    write_report(reports_dir, "20261125-143000-quick", passed=False, failures=["mrr 0.80 < 0.85"])
    open_tab(ui, "Evals")
    assert {m.label: m.value for m in ui.metric} == {"hit@5": "0.900", "mrr": "0.800"}
    assert "20261125-143000-quick" in ui.error[0].value and "mrr 0.80 < 0.85" in ui.error[0].value
    by = [chart["encoding"].get("xOffset", {}).get("field") for chart in charts(ui)]
    assert by == ["config", "quarter", None]  # grouped bars, then the latency histogram
    assert ui.dataframe[0].value["question"][0] == "What is dropout?"


@pytest.mark.slow
def test_evals_without_a_report_says_how_to_make_one(ui) -> None:
    open_tab(ui, "Evals")
    assert "No eval report yet: run `make eval`" in ui.info[0].value


@pytest.mark.slow
def test_an_empty_library_offers_to_build_it_and_then_answers(
    monkeypatch, reports_dir, tmp_path
) -> None:
    # The button ingests the bundled corpus folder; here a slice of it (the plan and two weeks'
    # notes), as the whole one is a minute or more of embedding that other tests already pay.
    corpus = tmp_path / "corpus"
    (corpus / "notes").mkdir(parents=True)
    shutil.copy(CORPUS_DIR / "curriculum.yaml", corpus)
    for note in sorted((CORPUS_DIR / "notes").glob("w0[12]-*.md")):
        shutil.copy(note, corpus / "notes")
    monkeypatch.setattr(library, "CORPUS_DIR", corpus)
    monkeypatch.setenv("TUTOR_INGEST_ROOTS", json.dumps([str(corpus)]))
    with serve(tmp_path / "empty") as url:
        ui = open_ui(monkeypatch, url, reports_dir)
        assert "The library is empty" in texts(ui) and "tutor ingest" in texts(ui)
        assert not ui.chat_input
        ui.button(key="build_library").click().run(timeout=BUILD_TIMEOUT)
        assert not ui.exception and not ui.error
        assert httpx.get(f"{url}/health").json()["ready"] is True
        assert ui.chat_input


# -- the plan keeps pace: where the learner stands, a re-plan, milestone and capstone ------------


def back_after_a_gap(api_url: str) -> str:
    """A learner who started seven weeks ago and did weeks 1-4: their sign-in key."""
    start = dt.date.today() - dt.timedelta(days=49)
    made = httpx.post(f"{api_url}/learners", json={"name": "Ada", "start_date": str(start)}).json()
    auth = {"Authorization": f"Bearer {made['token']}"}
    curriculum = load_curriculum()
    for week in range(1, 5):
        for name, _ in curriculum.week(week).week.fields():
            httpx.put(
                f"{api_url}/learners/{made['id']}/weeks/{week}/tasks/{name}",
                json={"done": True},
                headers=auth,
            ).raise_for_status()
    return f"{made['id']}.{made['token']}"


@pytest.mark.slow
def test_a_learner_behind_replans_and_the_plan_moves_to_their_week(ui, api_url) -> None:
    sign_in(ui, back_after_a_gap(api_url))
    assert week_picker(ui).value == 8
    page = texts(ui)
    assert "On week 8 of 72 (weeks 5-7 not done yet)" in page  # the pace panel
    assert "On week 8 of 72 (weeks 5-7 not done yet)" in texts(ui.sidebar)
    assert f"Today · {dt.date.today():%A}" in page
    ui.number_input(key="replan_hours").set_value(3.0)
    ui.button(key="replan").click().run()
    assert not ui.exception
    assert "you resume at week 5 today" in texts(ui)
    assert week_picker(ui).value == 5
    assert stored(api_url, ui)["current_week"] == 5
    assert stored(api_url, ui, "/pace")["hours_per_week"] == 3
    assert "replan" not in [b.key for b in ui.button]  # on track now
    assert "Re-planned on" in texts(open_tab(ui, "Progress"))


@pytest.mark.slow
def test_the_capstone_rubric_ticks_deliverables_and_keeps_a_self_review(ui, api_url) -> None:
    sign_in(ui, back_after_a_gap(api_url))
    week_picker(ui).set_value(12).run()
    assert "Q1 capstone rubric" in ui.expander[-1].label
    ui.checkbox(key="cap-1-deliverable-github-repo").check().run()
    ui.text_input[0].input("https://github.com/ada/titanic")
    ui.button(key="FormSubmitter:links-1-Save links").click().run()
    ui.select_slider(key="score-1-scope").set_value(3)
    ui.button(key="FormSubmitter:review-1-Save self-review").click().run()
    assert not ui.exception
    work = stored(api_url, ui, "/capstones/1")
    assert work["criteria"][1]["done"] is True and work["criteria"][0]["score"] == 3
    assert work["repository"] == "https://github.com/ada/titanic"


@pytest.mark.slow
def test_a_months_last_week_offers_its_milestone_quiz_and_checklist(ui, api_url) -> None:
    sign_in(ui, back_after_a_gap(api_url))
    week_picker(ui).set_value(4).run()
    ui.checkbox(key="ms-1-peer-feedback-session").check().run()
    ui.button(key="milestone-quiz-1").click().run()
    assert "ready in the **Quiz** tab" in texts(ui)
    quiz = ui.session_state["quiz"]
    assert {q["citation"]["week"] for q in quiz["questions"]} == {1, 2, 3, 4}
    assert "Quiz · month 1 milestone" in texts(open_tab(ui, "Quiz"))
    milestone = stored(api_url, ui, "/milestones/1")
    assert milestone["quiz"]["quiz_id"] == quiz["quiz_id"]
    assert milestone["checklist"][3]["done"] is True
    week_picker(open_tab(ui, "Chat")).set_value(8).run()  # month 2's last week
    assert ui.checkbox(key="ms-2-peer-feedback-session").value is False  # month 1's tick stays
    assert not any(i["done"] for i in stored(api_url, ui, "/milestones/2")["checklist"])


def test_check_my_code_shows_the_failing_property_and_keeps_the_attempt(ui, api_url) -> None:
    join(ui, week=26)
    open_tab(ui, "Code")
    assert ui.selectbox(key="check-week").value == 26
    bug = Path(__file__).resolve().parent.parent / "evals/checks/w26_sampling_bug_top_p_extra.py"
    ui.text_area(key="check-code").input(bug.read_text())
    ui.button(key="check-run").click().run()
    page = texts(ui)
    assert "Not yet: Temperature, top-k and nucleus (top-p) sampling" in page
    assert "top-p keeps the smallest set reaching p" in page
    assert "notes/w26-gpt-sampling.md § Top-k and nucleus sampling" in page
    assert stored(api_url, ui, "/checks")[0]["week"] == 26
