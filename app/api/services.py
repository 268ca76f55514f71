"""What the routes share, built once per app in `lifespan`."""

from __future__ import annotations

import threading
from functools import cached_property
from ipaddress import ip_address
from typing import Any

from fastapi import HTTPException

from app.answering.tutor import Tutor
from app.api.rate_limit import RateLimit
from app.checks.sandbox import sandbox_here
from app.config import Settings
from app.course.curriculum import load_curriculum
from app.course.notes import Note
from app.course.notes import read_notes
from app.ingest.jobs import IngestJobs
from app.llm.gate import ModelGate
from app.llm.providers import judge_model
from app.practice.grading import Verdict
from app.practice.quiz import QuestionWriter
from app.practice.quiz import question_writer
from app.records.base import LearnerRecordsError
from app.records.capstones import CapstoneRecords
from app.records.learners import LearnerRecords
from app.records.milestones import MilestoneRecords
from app.records.quizzes import QuizRecords
from app.records.reviews import ReviewRecords
from app.records.schedules import ScheduleRecords
from app.search.retrieval import Retriever
from app.search.vectors import VectorStore


def _loopback(host: str) -> bool:
    """Whether `host` (TUTOR_API_HOST) is this machine's loopback only."""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Services:
    """What the routes share: the curriculum, the store and the encoder (loaded on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.curriculum = load_curriculum()
        self._store: VectorStore | None = None
        self._retriever: Retriever | None = None
        self._tutor: Tutor | None = None
        self._learners: LearnerRecords | None = None
        self.learners_error = ""
        self.learners_lost = False  # failed while running: not reopened until restart
        self.gate = ModelGate(settings.model_queue_size, settings.model_wait_s)
        self.limits = {
            "questions": RateLimit(settings.asks_per_minute, 60),
            "new learners": RateLimit(settings.signups_per_hour, 3600),
            "checks": RateLimit(settings.checks_per_minute, 60),
        }
        self.checks_running = threading.BoundedSemaphore(settings.checks_at_once)
        # the check sandbox here, probed at start (a fraction of a second, once a process) so
        # that /health never waits for it
        self.sandbox = sandbox_here(settings)
        # a server (--host not loopback) runs no anonymous code checks
        self.listens_locally = _loopback(settings.api_host)
        self._tutor_lock = threading.Lock()  # one Tutor: a second would load a second model

    def open_learners(self) -> None:
        """Open (and migrate) the learner database; done at start so a broken file is reported
        at once, and again on use until it opens (the file may have been moved aside)."""
        try:
            self._learners = LearnerRecords(self.settings.resolved_database_url)
            self.learners_error = ""
        except LearnerRecordsError as exc:
            self.learners_error = str(exc)

    @property
    def learners(self) -> LearnerRecords:
        """The learner database, or a 503 saying what to do (`usable_learners`)."""
        store = self.usable_learners()
        if store is None:
            raise HTTPException(status_code=503, detail=self.learners_error)
        return store

    def usable_learners(self) -> LearnerRecords | None:
        """The learner database, checked on each use; None, with `learners_error` saying why,
        when it can't be used. One that failed while the server ran (its file removed,
        replaced or damaged) stays failed until restart; one that would not open is tried
        again (it may have been moved aside)."""
        if self._learners is None and not self.learners_lost:
            self.open_learners()
        if self._learners is not None:
            try:
                self._learners.check()
            except LearnerRecordsError as exc:
                self.learners_failed(str(exc))
        return self._learners

    def learners_failed(self, error: str) -> None:
        """The learner database failed in use: stop using it; /health says why."""
        if self._learners is not None:
            self._learners.close()
        self._learners, self.learners_error, self.learners_lost = None, error, True

    @cached_property
    def writer(self) -> QuestionWriter:
        """The chat model writing quiz questions (its own instance: quizzes don't queue
        behind answers)."""
        return question_writer(self.settings)

    @cached_property
    def judge(self) -> Any:
        """The model grading short answers, or None (offline: by meaning and key terms)."""
        return judge_model(self.settings, Verdict.model_json_schema())

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            self._store = VectorStore(self.settings)
        return self._store

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever.from_settings(self.settings, store=self.store)
        return self._retriever

    @property
    def quizzes(self) -> QuizRecords:
        return QuizRecords(self.learners)

    @property
    def reviews(self) -> ReviewRecords:
        return ReviewRecords(self.learners)

    @property
    def capstones(self) -> CapstoneRecords:
        return CapstoneRecords(self.learners)

    @property
    def milestones(self) -> MilestoneRecords:
        return MilestoneRecords(self.learners)

    @property
    def schedules(self) -> ScheduleRecords:
        return ScheduleRecords(self.learners)

    @cached_property
    def notes(self) -> list[Note]:
        return read_notes()

    @cached_property
    def concept_edges(self) -> list[tuple[tuple[int, str], tuple[int, str]]]:
        """Which concept builds on which (`app.progress.concept_map`): BM25 over the notes'
        sections, a second's work, done once."""
        from app.progress.concept_map import prerequisite_edges

        return prerequisite_edges(self.notes)

    @property
    def jobs(self) -> IngestJobs:
        """Ingest runs: started here, their state in the database (503 while it is down)."""
        return IngestJobs(self.settings, self.store, self.learners)

    @property
    def tutor(self) -> Tutor:
        with self._tutor_lock:
            if self._tutor is None:
                self._tutor = Tutor(self.settings, self.retriever, gate=self.gate)
            return self._tutor
