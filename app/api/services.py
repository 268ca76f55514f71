"""What the routes share, built once per app in `lifespan`."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from fastapi import HTTPException

from app.capstone_work import CapstoneRecords
from app.config import Settings
from app.ingest_jobs import IngestJobs
from app.learners import LearnerStore, LearnerStoreError, QuizRecords
from app.llm import judge_model
from app.milestone_records import MilestoneRecords
from app.model_gate import ModelGate
from app.quiz import QuestionWriter, Verdict, question_writer
from app.rate_limit import RateLimit
from app.retrieval import Retriever
from app.reviews import Reviews
from app.schedules import Schedules
from app.store import Store
from app.tutor import Tutor
from ingest.curriculum import load_curriculum
from ingest.notes import Note, read_notes


class Services:
    """What the routes share: the curriculum, the store and the encoder (loaded on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.curriculum = load_curriculum()
        self._store: Store | None = None
        self._retriever: Retriever | None = None
        self._tutor: Tutor | None = None
        self._learners: LearnerStore | None = None
        self.learners_error = ""
        self.learners_lost = False  # failed while running: not reopened until restart
        self.gate = ModelGate(settings.model_queue_size, settings.model_wait_s)
        self.limits = {"questions": RateLimit(settings.asks_per_minute, 60),
                       "new learners": RateLimit(settings.signups_per_hour, 3600)}
        self._tutor_lock = threading.Lock()  # one Tutor: a second would load a second model

    def open_learners(self) -> None:
        """Open (and migrate) the learner database; done at start so a broken file is reported
        at once, and again on use until it opens (the file may have been moved aside)."""
        try:
            self._learners = LearnerStore(self.settings.resolved_database_url)
            self.learners_error = ""
        except LearnerStoreError as exc:
            self.learners_error = str(exc)

    @property
    def learners(self) -> LearnerStore:
        """The learner database, or a 503 saying what to do (`usable_learners`)."""
        store = self.usable_learners()
        if store is None:
            raise HTTPException(status_code=503, detail=self.learners_error)
        return store

    def usable_learners(self) -> LearnerStore | None:
        """The learner database, checked on each use; None, with `learners_error` saying why,
        when it can't be used. One that failed while the server ran (its file removed,
        replaced or damaged) stays failed until restart; one that would not open is tried
        again (it may have been moved aside)."""
        if self._learners is None and not self.learners_lost:
            self.open_learners()
        if self._learners is not None:
            try:
                self._learners.check()
            except LearnerStoreError as exc:
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
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
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
    def reviews(self) -> Reviews:
        return Reviews(self.learners)

    @property
    def capstones(self) -> CapstoneRecords:
        return CapstoneRecords(self.learners)

    @property
    def milestones(self) -> MilestoneRecords:
        return MilestoneRecords(self.learners)

    @property
    def schedules(self) -> Schedules:
        return Schedules(self.learners)

    @cached_property
    def notes(self) -> list[Note]:
        return read_notes()

    @property
    def jobs(self) -> IngestJobs:
        """Ingest runs: started here, their state in the database (503 while it is down)."""
        return IngestJobs(self.settings, self.store, self.retriever.embedder, self.learners)

    @property
    def tutor(self) -> Tutor:
        with self._tutor_lock:
            if self._tutor is None:
                self._tutor = Tutor(self.settings, self.retriever, gate=self.gate)
            return self._tutor
