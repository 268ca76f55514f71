"""Learners driven through the product in random order, the way real ones use it: a stateful
property test (Hypothesis' rule-based state machine) over the API in this process, on a copy of
the bundled corpus's index and a real learner database (SQLite, and PostgreSQL when a test
server is given).

Each step is one learner's real request with their bearer token: join, ask the tutor, take a
quiz and answer it, review what is due (now, or a while later), make and rate a card of their
own, export the cards, re-plan, take a month's milestone quiz, tick a capstone deliverable or a
week's task, write in the journal, poke at another learner's data, or restart the API (a new
app over the same data dir and database). Whatever the order, these hold:

- no request gets a server error (5xx);
- everything the API acknowledged (2xx) is there after a restart: cards with their words,
  ticks, deliverables, answers counted in progress, re-plans, journal entries, conversations,
  the month's milestone quiz; an answered question stays answered (a second answer is a 409);
- one learner's data never reaches another: every response is searched for the other
  learners' marks (a tag in everything they write), quiz ids, card ids, conversation ids and
  tokens, and another learner's token on your routes, or their path with your ids, is a 4xx;
- every view of a learner's week agrees (the learner, /pace, /progress and its pace, /today,
  as tests/test_one_truth.py compares them), the start week is the one they joined in, and a
  quiz, card or journal entry made without a week is made in that current week.

Answers come from the sources writer (no model call) and no rate limit stands in front of the
routes, so the run stays fast; a one-line count of what the run reached is printed at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import sqlite3
import sys
import tempfile
import zipfile
from collections import Counter
from collections import defaultdict
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Protocol

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import multiple
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test

from app.api import create_app
from app.config import Settings
from app.course.curriculum import LAST_WEEK
from app.course.curriculum import MONTHS
from app.course.curriculum import load_curriculum
from app.course.pacing import MAX_PACE
from app.course.pacing import MIN_PACE
from app.course.pacing import plan_hours
from app.course.rubric import NoCapstone
from app.course.rubric import rubric_for
from app.practice.card_export import anki_field
from app.records.learners import JOURNAL_CHARS
from app.records.reviews import BACK_CHARS
from app.records.reviews import FRONT_CHARS
from tests.conftest import DATABASES
from tests.conftest import CorpusIndex
from tests.conftest import due_now
from tests.conftest import fresh_database
from tests.conftest import local_client
from tests.conftest import new_learner

pytestmark = pytest.mark.slow

# Small enough that each database's run takes about a minute on two cores (the ingest of the
# bundled corpus, shared with other tests, comes on top once a session).
EXAMPLES = 10
STEPS = 15

CURRICULUM = load_curriculum()
KINDS = ["mcq", "truefalse", "short", "cloze"]
PLAN_HOURS = plan_hours(CURRICULUM)
MARKS = itertools.count()  # learners' marks are unique over the whole session


def tasks_of(week: int) -> list[str]:
    """The week's checklist (weeks 49-72, and weeks outside the plan, have none)."""
    plan = CURRICULUM.week(week).week if 1 <= week <= LAST_WEEK else None
    return [] if plan is None else [name for name, _ in plan.fields()]


def deliverables_of(quarter: int) -> list[str]:
    try:
        return [c.id for c in rubric_for(quarter, CURRICULUM).by_kind("deliverable")]
    except NoCapstone:
        return []


# -- what learners type --------------------------------------------------------------------

# Pieces that have broken text handling somewhere: line and paragraph separators (split lines
# in httpx's reader), zero-width and direction marks, combining and astral characters,
# spreadsheet formulas (a CSV export runs them), HTML and SQL, format strings, and an Anki
# field separator (\x1f).
AWKWARD = [
    "\u2028",
    "\u2029",
    "\u0085",
    "\u200b",
    "\u202e",
    "\ufeff",
    "e\u0301",
    "🙂",
    "👩\u200d🔬",
    "𝔸",
    "ﷺ",
    "=1+1",
    "+SUM(A1:A9)",
    "-2",
    "@cmd",
    "<b>bold</b>",
    "&amp;",
    "'; DROP TABLE learners; --",
    "\\",
    '"',
    "%s {0}",
    "\t",
    "\r\n",
    "\x1f",
    " ",
]


def typed(max_size: int) -> st.SearchStrategy[str]:
    """What a learner may type into a field of `max_size` characters: any Unicode a JSON body
    can carry (NUL included: the API refuses it with a 422), the awkward pieces above, and
    long text up to the bound (a piece repeated, so Hypothesis needn't draw every character)."""
    long = st.tuples(st.text(min_size=1, max_size=4), st.integers(max_size // 2, max_size)).map(
        lambda piece_and_size: (piece_and_size[0] * piece_and_size[1])[: piece_and_size[1]]
    )
    return st.one_of(
        st.text(max_size=40),
        st.lists(st.one_of(st.sampled_from(AWKWARD), st.text(max_size=6)), max_size=10).map(
            "".join
        ),
        long,
    ).map(lambda text: text[:max_size])


def storable(text: str) -> bool:
    """Whether the API takes this text (`app.api.schemas.Body`: no NUL; Hypothesis draws no
    lone surrogates)."""
    return "\x00" not in text


NAMES = typed(80).map(lambda name: name.replace("\x00", ""))
# Weeks 1-48 have notes (quizzes, tasks); 49-72 only the plan's outline: drawn less often.
WEEKS = st.one_of(st.integers(1, 48), st.integers(1, LAST_WEEK))
TOPICS = st.tuples(
    st.sampled_from(["attention", "backpropagation", "LoRA", "k-means", "dropout", "RLHF"]),
    typed(100),
).map(" ".join)
PACES = st.one_of(
    st.sampled_from([1.0, 0.5, 2.0, MIN_PACE, MAX_PACE]), st.floats(MIN_PACE, MAX_PACE)
)


def response_to(question: dict[str, Any]) -> st.SearchStrategy[str]:
    """An answer to `question`: an option's letter or text, or anything typed."""
    options = question.get("options") or []
    letters = [chr(ord("A") + n) for n in range(len(options))]
    return st.one_of(st.sampled_from([*letters, *options] or ["true"]), typed(2000))


# -- what the test knows the API acknowledged ----------------------------------------------


@dataclass(eq=False)
class Learner:
    """A learner, and what the API said it kept for them (2xx), to hold it to later."""

    id: int
    token: str
    name: str
    mark: str  # in everything this learner writes, so it is found wherever it lands
    start_week: int
    cards: dict[str, tuple[str, str]] = field(default_factory=dict)  # own card: front, back
    ticks: dict[tuple[int, str], bool] = field(default_factory=dict)  # (week, task): done
    deliverables: dict[tuple[int, str], bool] = field(default_factory=dict)  # (quarter, id)
    quizzes: dict[str, list[str]] = field(default_factory=dict)  # quiz id: question ids
    answered: set[tuple[str, str]] = field(default_factory=set)  # (quiz id, question id)
    attempts: int = 0  # answers recorded, quizzes' and reviews': progress counts them
    replans: int = 0
    journal: list[str] = field(default_factory=list)
    conversations: dict[str, int] = field(default_factory=dict)  # id: messages kept
    milestones: dict[int, str] = field(default_factory=dict)  # month: its latest quiz's id

    @property
    def base(self) -> str:
        return f"/learners/{self.id}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def secrets(self) -> Iterator[str]:
        """What only this learner's responses may hold."""
        yield self.mark
        yield self.token
        yield from self.quizzes
        yield from self.cards
        yield from self.conversations


class Response(Protocol):
    """What the test reads of a response (Starlette's test client gives httpx's, or httpx2's
    where that is installed)."""

    @property
    def status_code(self) -> int: ...
    @property
    def is_success(self) -> bool: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def text(self) -> str: ...
    @property
    def content(self) -> bytes: ...
    def json(self) -> Any: ...


@dataclass(eq=False)
class Quiz:
    learner: Learner
    id: str
    questions: list[dict[str, Any]]


@dataclass(eq=False)
class OwnCard:
    learner: Learner
    id: str


@dataclass
class FlowRun:
    """One database's run: the settings every app is built from, and what the run reached."""

    settings: Settings
    database_url: str
    reached: Counter[str] = field(default_factory=Counter)

    def open(self, stack: ExitStack) -> TestClient:
        return stack.enter_context(local_client(create_app(self.settings)))


# -- the machine ---------------------------------------------------------------------------


class LearnerFlows(RuleBasedStateMachine):
    """Learners using the API in any order; the invariants are in the module's docstring. A
    test runs it as a subclass naming its `run` (its data dir and database)."""

    run: FlowRun
    learners = Bundle("learners")
    quizzes = Bundle("quizzes")
    cards = Bundle("cards")

    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        self.client = self.run.open(self.stack)
        self.known: list[Learner] = []
        self.touched: set[Learner] = set()
        self.written = False  # something was acknowledged since the last restart
        self.scheduled = False  # a card was made or reviewed since time last passed

    # -- helpers ---------------------------------------------------------------------------

    def call(
        self,
        who: Learner | None,
        method: str,
        path: str,
        expect: set[int] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        """One request with `who`'s token (none for None): never a 5xx, a status in
        `expect` when given, and nothing of another learner's in the response."""
        response = self.client.request(
            method, path, headers={**(who.auth if who else {}), **(headers or {})}, **kwargs
        )
        what = f"{method} {path} as {who.id if who else 'nobody'}"
        assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:800]}"
        if expect is not None:
            assert response.status_code in expect, (
                f"{what}: {response.status_code}, expected {sorted(expect)}: {response.text[:800]}"
            )
        if method != "GET" and response.is_success:
            self.written = True
        if response.headers.get("content-type", "").startswith(("application/json", "text/")):
            asked = path + json.dumps(kwargs.get("json"), ensure_ascii=False)
            self.nothing_of_others(who, response.text, what, asked)
        return response

    def nothing_of_others(self, who: Learner | None, text: str, what: str, asked: str = "") -> None:
        """None of the other learners' secrets in `text`, but for those the caller `asked`
        about itself (a 404 names the id it was asked for)."""
        for other in self.known:
            if other is not who:
                for secret in other.secrets():
                    if secret not in asked:
                        assert secret not in text, f"{what}: learner {other.id}'s {secret!r} leaked"

    def weeks(self, learner: Learner) -> int:
        """The learner's current week, after checking that every view shows the same one (and
        the start week they joined in)."""
        base = learner.base
        shown = self.call(learner, "GET", base, {200}).json()
        pace = self.call(learner, "GET", f"{base}/pace", {200}).json()
        progress = self.call(learner, "GET", f"{base}/progress", {200}).json()
        today = self.call(learner, "GET", f"{base}/today", {200}).json()
        seen = {
            "learner": (shown["current_week"], shown["start_week"]),
            "pace": (pace["current_week"], pace["start_week"]),
            "progress": (progress["current_week"], progress["start_week"]),
            "progress pace": (progress["pace"]["current_week"], progress["pace"]["start_week"]),
            "today": (today["week"], pace["start_week"]),
        }
        assert len(set(seen.values())) == 1, f"learner {learner.id}'s views disagree: {seen}"
        current, start = seen["learner"]
        assert start == learner.start_week, f"start week moved: {learner.start_week} -> {start}"
        return int(current)

    def reached(self, what: str) -> None:
        """Count a flow reached (and tell Hypothesis' statistics)."""
        self.run.reached[what] += 1
        event(what)

    def sign_up(self, name: str, week: int | None, pace: float, days_ago: int) -> Learner:
        mark = f"mk{next(MARKS):05d}q"
        body: dict[str, Any] = {
            "name": f"{name} {mark}",
            "pace": pace,
            "start_date": (dt.date.today() - dt.timedelta(days=days_ago)).isoformat(),
        }
        if week is not None:
            body["current_week"] = week
        created = self.call(None, "POST", "/learners", {201}, json=body).json()
        assert created["name"] == body["name"].strip() and created["start_week"] == (week or 1)
        learner = Learner(created["id"], created["token"], created["name"], mark, week or 1)
        self.known.append(learner)
        self.touched.add(learner)
        self.reached("join")
        return learner

    # -- rules -----------------------------------------------------------------------------

    @initialize(
        target=learners,
        names=st.tuples(NAMES, NAMES),
        weeks=st.tuples(WEEKS, st.none() | WEEKS),
    )
    def two_learners_join(self, names: tuple[str, str], weeks: tuple[int, int | None]) -> Any:
        """Two learners from the start, so every run can look for one's data in the other's."""
        return multiple(*(self.sign_up(n, w, 1.0, 0) for n, w in zip(names, weeks)))

    @rule(
        target=learners,
        name=NAMES,
        week=st.none() | WEEKS,
        pace=PACES,
        days_ago=st.integers(-366, 400),
    )
    def join(self, name: str, week: int | None, pace: float, days_ago: int) -> Learner:
        """A learner joins in some week, having started on some day (up to a year ahead)."""
        return self.sign_up(name, week, pace, days_ago)

    @rule(
        learner=learners,
        mode=st.sampled_from(["explain", "socratic", "quick"]),
        extra=typed(300),
        data=st.data(),
    )
    def ask(self, learner: Learner, mode: str, extra: str, data: st.DataObject) -> None:
        """A question about the learner's week, new or a follow-up, with the learner's mark (so
        their conversations are looked for in others' responses); a kept conversation is
        readable at once, with the turn in it."""
        week = self.weeks(learner)
        body: dict[str, Any] = {
            "question": f"What is {CURRICULUM.week(week).title} about? {extra} ({learner.mark})",
            "mode": mode,
        }
        follow_up = data.draw(st.booleans(), label="follow-up")
        if learner.conversations and follow_up:
            body["conversation_id"] = data.draw(st.sampled_from(sorted(learner.conversations)))
        ok = storable(body["question"])
        answer = self.call(learner, "POST", "/ask", {200} if ok else {422}, json=body)
        self.touched.add(learner)
        self.reached("ask")
        if not ok:
            return
        cid, grounded = answer.json()["conversation_id"], answer.json()["grounded"]
        kept = self.call(learner, "GET", f"{learner.base}/conversations/{cid}", {200, 404})
        before = learner.conversations.get(cid, 0)
        if kept.status_code == 200:
            messages = len(kept.json()["messages"])
            if grounded:
                assert messages > before, "the turn was not kept"
            else:  # a declined follow-up leaves its conversation as it was (docs/api.md)
                assert messages == before, "a declined turn was kept"
            learner.conversations[cid] = messages
        else:  # a declined question's conversation is not kept (docs/api.md)
            assert not grounded, f"the answered turn of {cid} was not kept"
            assert cid not in learner.conversations, f"kept conversation {cid} is gone"
        if not grounded:
            self.reached("ask declined")

    @rule(
        target=quizzes,
        learner=learners,
        week=st.none() | WEEKS,
        n=st.integers(1, 5),
        kinds=st.lists(st.sampled_from(KINDS), min_size=1, unique=True),
        topic=st.none() | TOPICS,
    )
    def make_quiz(
        self,
        learner: Learner,
        week: int | None,
        n: int,
        kinds: list[str],
        topic: str | None,
    ) -> Any:
        """A quiz on a week (the learner's own when none is given), or on a topic."""
        current = self.weeks(learner)
        body: dict[str, Any] = {"n": n, "kinds": kinds}
        if week is not None:
            body["week"] = week
        if topic:
            body["topic"] = topic
        expect = {201, 422} if topic is None or storable(topic) else {422}
        made = self.call(learner, "POST", f"{learner.base}/quizzes", expect, json=body)
        self.touched.add(learner)
        if made.status_code != 201:
            self.reached("quiz refused")
            return multiple()
        quiz = made.json()
        assert quiz["week"] == (week or current), "a quiz without a week is on the current one"
        assert 1 <= len(quiz["questions"]) <= n
        learner.quizzes[quiz["quiz_id"]] = [q["id"] for q in quiz["questions"]]
        self.reached("quiz")
        return Quiz(learner, quiz["quiz_id"], quiz["questions"])

    @rule(quiz=quizzes, data=st.data())
    def answer(self, quiz: Quiz, data: st.DataObject) -> None:
        """One answer to one question; a question answered before is a 409."""
        learner = quiz.learner
        question = data.draw(st.sampled_from(quiz.questions), label="question")
        response = data.draw(response_to(question), label="response")
        key = (quiz.id, question["id"])
        expect = {409} if key in learner.answered else {200}
        given = self.call(
            learner,
            "POST",
            f"{learner.base}/quizzes/{quiz.id}/answers",
            expect if storable(response) else {422},
            json={"question_id": question["id"], "response": response},
        )
        self.touched.add(learner)
        if given.status_code == 200:
            learner.answered.add(key)
            learner.attempts += 1
            self.scheduled = True
            self.reached("answer")
        else:
            self.reached(f"answer {given.status_code}")

    @rule(learner=learners, later=st.booleans(), data=st.data())
    def review(self, learner: Learner, later: bool, data: st.DataObject) -> None:
        """A card that is due, answered (a quiz question) or rated (one's own), now or a while
        later (every card due, as `due_now` plays it): it was listed due, so the review
        counts."""
        if later and self.scheduled:
            due_now(self.run.database_url)
            self.scheduled = False
            self.reached("time passes")
        due = self.call(learner, "GET", f"{learner.base}/reviews/due", {200}).json()
        self.touched.add(learner)
        if not due:
            self.reached("review: none due")
            return
        card = data.draw(st.sampled_from(due), label="card")
        rating = data.draw(st.sampled_from(["again", "hard", "good", "easy"]), label="rating")
        if card["kind"] == "card":
            path = f"{learner.base}/cards/{card['id']}/rating"
            self.call(learner, "POST", path, {200}, json={"rating": rating})
            self.scheduled = True
            self.reached("review own card")
            return
        response = data.draw(response_to(card), label="response")
        body: dict[str, Any] = {"response": response}
        if card["kind"] == "short":
            body["rating"] = rating
        path = f"{learner.base}/reviews/{card['id']}"
        reviewed = self.call(
            learner, "POST", path, {200} if storable(response) else {422}, json=body
        )
        if reviewed.status_code == 200:
            learner.attempts += 1
            self.scheduled = True
            self.reached("review")

    @rule(
        target=cards,
        learner=learners,
        front=typed(FRONT_CHARS),
        back=typed(BACK_CHARS),
        week=st.none() | WEEKS,
    )
    def add_card(self, learner: Learner, front: str, back: str, week: int | None) -> Any:
        """A card of the learner's own, kept with its words as they were sent (trimmed), in
        their current week unless they named one."""
        current = self.weeks(learner)
        front = f"{learner.mark} {front}"[:FRONT_CHARS]
        body: dict[str, Any] = {"front": front, "back": back}
        if week is not None:
            body["week"] = week
        ok = storable(front) and storable(back) and bool(back.strip())
        made = self.call(
            learner, "POST", f"{learner.base}/cards", {201} if ok else {422}, json=body
        )
        self.touched.add(learner)
        if not ok:
            self.reached("card refused")
            return multiple()
        card = made.json()
        assert (card["front"], card["back"]) == (front.strip(), back.strip())
        assert card["week"] == (week or current), "a card without a week is in the current one"
        learner.cards[card["id"]] = (card["front"], card["back"])
        self.scheduled = True
        self.reached("card")
        return OwnCard(learner, card["id"])

    @rule(card=cards, rating=st.sampled_from(["again", "hard", "good", "easy"]))
    def rate_own_card(self, card: OwnCard, rating: str) -> None:
        """A rating of one's own card whenever: a card that is not due is a 409, never a 500."""
        learner = card.learner
        path = f"{learner.base}/cards/{card.id}/rating"
        rated = self.call(learner, "POST", path, {200, 409}, json={"rating": rating})
        self.touched.add(learner)
        self.reached(f"rate own card {rated.status_code}")

    @rule(learner=learners, form=st.sampled_from(["csv", "apkg"]))
    def export(self, learner: Learner, form: str) -> None:
        """The deck out of the tutor: every card, one's own with their words."""
        cards = self.call(learner, "GET", f"{learner.base}/cards", {200}).json()
        out = self.call(learner, "GET", f"{learner.base}/cards/export?format={form}", {200})
        if form == "csv":
            rows = list(csv.DictReader(io.StringIO(out.text, newline="")))
            assert sorted(r["id"] for r in rows) == sorted(c["id"] for c in cards)
            fronts = {r["id"]: r["front"] for r in rows}
            for card_id, (front, _) in learner.cards.items():
                assert fronts[card_id] == front, f"card {card_id}'s front in the CSV"
        else:
            notes = apkg_notes(out.content)
            self.nothing_of_others(learner, "\n".join(map("\x1f".join, notes)), "apkg")
            assert len(notes) == len(cards), "a note a card in the Anki package"
            assert all(len(fields) == 3 for fields in notes), "front, back and source each"
            shown = {(fields[0], fields[1]) for fields in notes}
            for card_id, (front, back) in learner.cards.items():
                assert (anki_field(front), anki_field(back)) in shown, card_id
        self.reached(f"export {form}")

    @rule(
        learner=learners,
        how=st.one_of(
            st.just({}),
            PACES.map(lambda pace: {"pace": pace}),
            st.floats(0.01, 24 * 7).map(lambda hours: {"hours_per_week": hours}),
        ),
    )
    def replan(self, learner: Learner, how: dict[str, float]) -> None:
        """A re-plan, at one's pace, a new one, or the hours one has (within what the plan
        allows: a 422 otherwise); it is kept."""
        hours = how.get("hours_per_week")
        ok = hours is None or MIN_PACE * PLAN_HOURS <= hours <= MAX_PACE * PLAN_HOURS
        moved = self.call(
            learner, "POST", f"{learner.base}/replan", {200} if ok else {422}, json=how
        )
        self.touched.add(learner)
        if moved.status_code == 200:
            learner.replans += 1
            assert moved.json()["pace"]["start_week"] == learner.start_week
            self.reached("replan")

    @rule(
        target=quizzes,
        learner=learners,
        month=st.integers(0, MONTHS + 1),
        n=st.integers(4, 10),
        kinds=st.lists(st.sampled_from(KINDS), min_size=1, unique=True),
    )
    def milestone_quiz(self, learner: Learner, month: int, n: int, kinds: list[str]) -> Any:
        """A month's milestone quiz (months 1-18), answered like any other; it becomes the
        month's quiz. One with no questions can't be taken: a 422 (the month's notes may have
        none of the kinds asked), and the month keeps its quiz."""
        expect = {201, 422} if 1 <= month <= MONTHS else {422}
        path = f"{learner.base}/milestones/{month}/quiz"
        made = self.call(learner, "POST", path, expect, json={"n": n, "kinds": kinds})
        self.touched.add(learner)
        if made.status_code != 201:
            self.reached("milestone refused")
            return multiple()
        quiz = made.json()
        assert quiz["questions"], f"month {month}'s milestone quiz was made with no questions"
        learner.quizzes[quiz["quiz_id"]] = [q["id"] for q in quiz["questions"]]
        learner.milestones[month] = quiz["quiz_id"]
        self.reached("milestone")
        return Quiz(learner, quiz["quiz_id"], quiz["questions"])

    @rule(learner=learners, quarter=st.integers(0, 6), done=st.booleans(), data=st.data())
    def tick_deliverable(
        self, learner: Learner, quarter: int, done: bool, data: st.DataObject
    ) -> None:
        """A capstone deliverable ticked or unticked (quarters 1-4 have a capstone; an id that
        is no deliverable of it is a 404)."""
        ids = deliverables_of(quarter)
        deliverable = data.draw(st.sampled_from([*ids, "scope", "not-a-deliverable"]))
        path = f"{learner.base}/capstones/{quarter}/deliverables/{deliverable}"
        expect = {200} if deliverable in ids else {404}
        ticked = self.call(learner, "PUT", path, expect, json={"done": done})
        self.touched.add(learner)
        if ticked.status_code == 200:
            shown = {c["id"]: c["done"] for c in ticked.json()["criteria"]}
            assert shown[deliverable] is done
            learner.deliverables[quarter, deliverable] = done
            self.reached("capstone")

    @rule(learner=learners, done=st.booleans(), data=st.data())
    def tick_task(self, learner: Learner, done: bool, data: st.DataObject) -> None:
        """A task of the learner's current week (what moves them on) or of any week, ticked
        or unticked; a week without that task is a 404."""
        current = self.weeks(learner)
        week = data.draw(st.one_of(st.just(current), st.integers(-2, LAST_WEEK + 2)), label="week")
        tasks = tasks_of(week)
        task = data.draw(st.sampled_from([*tasks, "not-a-task"]), label="task")
        path = f"{learner.base}/weeks/{week}/tasks/{task}"
        ticked = self.call(
            learner, "PUT", path, {200} if task in tasks else {404}, json={"done": done}
        )
        self.touched.add(learner)
        if ticked.status_code == 200:
            assert {t["task"]: t["done"] for t in ticked.json()}[task] is done
            learner.ticks[week, task] = done
            self.reached("task")

    @rule(learner=learners, text=typed(JOURNAL_CHARS), week=st.none() | WEEKS)
    def write_journal(self, learner: Learner, text: str, week: int | None) -> None:
        """A journal entry, kept as written, in the current week unless one is named."""
        current = self.weeks(learner)
        text = f"{learner.mark} {text}"[:JOURNAL_CHARS]
        path = f"{learner.base}/journal" + ("" if week is None else f"?week={week}")
        ok = storable(text)
        written = self.call(learner, "POST", path, {201} if ok else {422}, json={"text": text})
        self.touched.add(learner)
        if ok:
            entry = written.json()
            assert entry["text"] == text and entry["week"] == (week or current)
            learner.journal.append(text)
            self.reached("journal")

    @rule(owner=learners, data=st.data())
    def strangers_get_nothing(self, owner: Learner, data: st.DataObject) -> None:
        """Another learner's token on the owner's routes, their own path with the owner's
        ids, no token or a made-up one: a 4xx every time, and none of the owner's data."""
        other = data.draw(st.sampled_from([x for x in self.known if x is not owner]))
        routes: list[tuple[str, str, Any]] = [
            ("GET", "", None),
            ("GET", "/cards", None),
            ("GET", "/journal", None),
            ("GET", "/progress", None),
            ("GET", "/conversations", None),
            ("GET", "/replans", None),
            ("GET", "/capstones/1", None),
            ("GET", "/cards/export?format=csv", None),
            ("POST", "/quizzes", {"n": 1}),
            ("POST", "/journal", {"text": "not mine"}),
            ("POST", "/replan", {}),
            ("PUT", "/weeks/1/tasks/reading", {"done": True}),
        ]
        method, path, body = data.draw(st.sampled_from(routes), label="route")
        self.call(other, method, f"{owner.base}{path}", {404}, json=body)
        self.call(None, method, f"{owner.base}{path}", {401}, json=body)
        made_up = {"Authorization": "Bearer not-a-token"}
        self.call(None, method, f"{owner.base}{path}", {401}, json=body, headers=made_up)
        mine = other.base
        for card_id in sorted(owner.cards)[:1]:
            self.call(other, "GET", f"{mine}/cards/{card_id}", {404})
            self.call(
                other, "POST", f"{mine}/cards/{card_id}/rating", {404}, json={"rating": "easy"}
            )
            self.call(other, "PATCH", f"{mine}/cards/{card_id}", {404}, json={"suspended": True})
            self.call(other, "DELETE", f"{mine}/cards/{card_id}", {404})
        for quiz_id, questions in sorted(owner.quizzes.items())[:1]:
            body = {"question_id": questions[0], "response": "A"}
            self.call(other, "POST", f"{mine}/quizzes/{quiz_id}/answers", {404}, json=body)
        for cid in sorted(owner.conversations)[:1]:
            self.call(other, "GET", f"{mine}/conversations/{cid}", {404})
            asked = {"question": "And what does it compute?", "conversation_id": cid}
            self.call(other, "POST", "/ask", {404}, json=asked)
            # without a token nothing is known of learners' conversations: the id is new
            self.call(None, "POST", "/ask", {200}, json=asked)
        self.reached("stranger")

    @precondition(lambda self: self.written)
    @rule()
    def restart(self) -> None:
        """The API stops and starts again over the same data dir and database: everything
        it acknowledged is still there."""
        self.stack.close()
        self.stack = ExitStack()
        self.client = self.run.open(self.stack)
        self.everything_kept()
        self.written = False
        self.reached("restart")

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def every_view_shows_the_same_week(self) -> None:
        """After each step, for the learners it touched (all of them after a restart)."""
        for learner in self.touched:
            self.weeks(learner)
        self.touched.clear()

    def everything_kept(self) -> None:
        for learner in self.known:
            self.kept(learner)
            self.touched.add(learner)

    def kept(self, learner: Learner) -> None:
        """What the API acknowledged for `learner` is what it shows now."""
        base = learner.base
        assert self.call(learner, "GET", base, {200}).json()["name"] == learner.name
        cards = self.call(learner, "GET", f"{base}/cards", {200}).json()
        own = {c["id"]: (c["front"], c["back"]) for c in cards if c["kind"] == "card"}
        assert own == learner.cards, "own cards lost or changed"
        weeks: defaultdict[int, dict[str, bool]] = defaultdict(dict)
        for (week, task), done in learner.ticks.items():
            weeks[week][task] = done
        for week, ticks in weeks.items():
            shown = self.call(learner, "GET", f"{base}/weeks/{week}/tasks", {200}).json()
            assert {t["task"]: t["done"] for t in shown if t["task"] in ticks} == ticks
        quarters: defaultdict[int, dict[str, bool]] = defaultdict(dict)
        for (quarter, deliverable), done in learner.deliverables.items():
            quarters[quarter][deliverable] = done
        for quarter, ticked in quarters.items():
            shown = self.call(learner, "GET", f"{base}/capstones/{quarter}", {200}).json()
            assert {c["id"]: c["done"] for c in shown["criteria"] if c["id"] in ticked} == ticked
        progress = self.call(learner, "GET", f"{base}/progress", {200}).json()
        answered = sum(w["answered"] for w in progress["quiz_accuracy_by_week"])
        assert answered == learner.attempts, "answers recorded and answers counted differ"
        replans = self.call(learner, "GET", f"{base}/replans", {200}).json()
        assert len(replans) == len(progress["replans"]) == learner.replans
        journal = self.call(learner, "GET", f"{base}/journal", {200}).json()
        assert sorted(e["text"] for e in journal) == sorted(learner.journal)
        for cid, messages in learner.conversations.items():
            shown = self.call(learner, "GET", f"{base}/conversations/{cid}", {200}).json()
            assert len(shown["messages"]) == messages, f"conversation {cid}"
        for month, quiz_id in learner.milestones.items():
            shown = self.call(learner, "GET", f"{base}/milestones/{month}", {200}).json()
            assert shown["quiz"]["quiz_id"] == quiz_id, f"month {month}'s milestone quiz"
        for quiz_id, question_id in sorted(learner.answered)[:1]:
            body = {"question_id": question_id, "response": "A"}
            self.call(learner, "POST", f"{base}/quizzes/{quiz_id}/answers", {409}, json=body)

    def teardown(self) -> None:
        """Every run that got to its end ends with a restart, so each one checks that its
        writes were kept (after a failure the API only stops: that failure is the report)."""
        try:
            if sys.exc_info()[1] is None:
                self.restart()
        finally:
            self.stack.close()


def apkg_notes(package: bytes) -> list[list[str]]:
    """The fields of each note in an Anki package (front, back, source)."""
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(io.BytesIO(package)) as apkg:
        collection = Path(apkg.extract("collection.anki2", folder))
        connection = sqlite3.connect(collection)
        try:
            return [row[0].split("\x1f") for row in connection.execute("SELECT flds FROM notes")]
        finally:
            connection.close()


@pytest.mark.parametrize("database", DATABASES)
def test_learners_in_any_order_keep_their_data_to_themselves_and_one_week(
    database: str, corpus_index: CorpusIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The machine on a copy of the corpus's index and a fresh database of `database`'s kind,
    shared by its runs (each run's learners are its own, and their marks unique): the schema
    fuzz (test_fuzz) sends one request at a time, this follows learners through the flows."""
    data_dir = corpus_index.copy(tmp_path)
    with fresh_database(database, tmp_path) as database_url:
        flow_run = FlowRun(
            Settings(
                data_dir=data_dir,
                database_url=database_url,
                answer_writer="sources",
                asks_per_minute=0,
                signups_per_hour=0,
                checks_per_minute=0,
            ),
            database_url,
        )

        class OnThisDatabase(LearnerFlows):
            run = flow_run

        run_state_machine_as_test(
            OnThisDatabase,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=[
                    HealthCheck.too_slow,
                    HealthCheck.data_too_large,
                    HealthCheck.filter_too_much,
                ],
            ),
        )
    with capsys.disabled():  # shown under -q too: what the random runs reached
        print(
            f"\nlearner flows on {database}: "
            + ", ".join(f"{what} {n}" for what, n in sorted(flow_run.reached.items()))
        )
    assert flow_run.reached["restart"] >= EXAMPLES and flow_run.reached["join"] >= 2 * EXAMPLES


# -- what the machine found, kept as examples -------------------------------------------------


def test_a_card_holding_ankis_field_separator_exports_as_one_note(api_client) -> None:
    """Found by the machine: a \\x1f in a card's words split its Anki note (the rest of the
    front became the back, the back the source); it is shown as a space."""
    base, auth = new_learner(api_client)
    card = {"front": "What does\x1fsoftmax return?", "back": "A\x1fdistribution"}
    assert api_client.post(f"{base}/cards", json=card, headers=auth).status_code == 201
    package = api_client.get(f"{base}/cards/export?format=apkg", headers=auth).content
    [note] = apkg_notes(package)
    assert note[:2] == ["What does softmax return?", "A distribution"] and len(note) == 3


def test_a_milestone_quiz_of_no_questions_is_refused_and_the_month_keeps_its_quiz(
    api_client,
) -> None:
    """Found by the machine: a month whose notes have none of the kinds asked (months 16-18
    share notes with no multiple-choice questions) made a quiz of no questions (201), and it
    became the month's quiz in place of the one taken."""
    base, auth = new_learner(api_client)
    taken = api_client.post(f"{base}/milestones/16/quiz", json={"n": 4}, headers=auth)
    assert taken.status_code == 201 and taken.json()["questions"]
    for month in (16, 17, 18):
        body = {"n": 4, "kinds": ["mcq"]}
        refused = api_client.post(f"{base}/milestones/{month}/quiz", json=body, headers=auth)
        assert refused.status_code == 422, (month, refused.text)
        assert f"month {month}'s milestone quiz has no questions" in refused.json()["detail"]
    kept = api_client.get(f"{base}/milestones/16", headers=auth).json()["quiz"]
    assert kept["quiz_id"] == taken.json()["quiz_id"] and kept["questions"]
