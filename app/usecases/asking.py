"""Ask as this learner: the one use case behind `POST /ask`, `POST /ask/stream` and `tutor ask`.

Who asks decides how the tutor reads the question: a learner's own week (unless the question
names one), their conversations (a follow-up is read with the turns before it, and the answer
is kept), and `back_to`: for a concept the question names that the learner keeps missing, the
earlier week it builds on and the passage to reread. Nobody in particular (an anonymous API
call, or a command line without a learner database) gets no week of theirs and no `back_to`,
and their turns live in `anonymous`, a memory the front end chooses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from app.progress.prerequisites import for_question
from app.records.conversations import ConversationRecords
from app.records.learners import Learner
from app.records.learners import LearnerRecords
from app.records.schedules import ScheduleRecords
from app.search.retrieval import Filters
from app.sse import answer_of

if TYPE_CHECKING:
    from app.answering.memory import Memory
    from app.answering.tutor import Tutor
    from app.course.curriculum import Curriculum
    from app.course.notes import Note


class AskAs:
    """Questions asked as `learner` of `store` (None: as nobody in particular).

    `notes` are the course notes that `back_to` reads; `anonymous` keeps the turns of a caller
    who is no learner (None: each question stands alone). With `curriculum`, a question asked
    without a week is asked from the learner's current week (None: the caller has decided the
    week, as the command line does with `app.cli.base.settled_week`)."""

    def __init__(
        self,
        tutor: Tutor,
        notes: list[Note],
        store: LearnerRecords | None,
        learner: Learner | None,
        anonymous: Memory | None = None,
        curriculum: Curriculum | None = None,
    ) -> None:
        self.tutor, self.notes, self.store, self.learner = tutor, notes, store, learner
        self.curriculum = curriculum
        self.memory: Memory | None = (
            ConversationRecords(store, learner.id)
            if store is not None and learner is not None
            else anonymous
        )

    def week(
        self, asked: int | None, conversation_id: str | None = None, today: dt.date | None = None
    ) -> int | None:
        """The week a question is asked from: the one asked for, else, for a follow-up, the
        week its conversation was asked from ("and the videos?" after week 9's assignment is
        week 9's, whatever week the learner is in now), else the learner's current week
        (`app.records.schedules.standing_in`)."""
        if asked is not None or self.learner is None or self.store is None:
            return asked
        kept = (
            self.memory.last_week(conversation_id)
            if conversation_id and isinstance(self.memory, ConversationRecords)
            else None
        )
        if kept is not None:
            return kept
        if self.curriculum is None:
            return None
        on = today or dt.date.today()
        return ScheduleRecords(self.store).current_week(self.learner, self.curriculum, on)

    def require_conversation(self, conversation_id: str | None) -> None:
        """Raises NotFound when a learner continues another learner's conversation. An id no
        one has kept yet starts a conversation under it, as for anonymous callers: the id of a
        declined first question (not kept) must work for the follow-up."""
        if conversation_id and isinstance(self.memory, ConversationRecords):
            self.memory.require_not_anothers(conversation_id)

    def back_to(self, question: str) -> list[dict[str, Any]]:
        """Where to go back to, for a concept the question names that the learner keeps
        missing (`app.progress.prerequisites`); empty for nobody in particular."""
        if self.store is None or self.learner is None:
            return []
        return for_question(
            self.store, self.learner.id, self.notes, lambda: self.tutor.retriever, question
        )

    def stream(
        self,
        question: str,
        *,
        week: int | None = None,
        mode: str = "explain",
        conversation_id: str | None = None,
        no_spoilers: bool = False,
    ) -> Iterator[tuple[str, Any]]:
        """("token", text) as the answer is written, then ("answer", the whole answer as a dict,
        `Answer.to_dict()` with its `back_to`). What streams is what the answer says. Raises
        LLMError when the model fails. A front end calls `require_conversation` first, to refuse
        before waiting."""
        week = self.week(week, conversation_id)
        filters = Filters(no_spoilers_after=week if no_spoilers else None)
        events = self.tutor.stream(question, week, mode, conversation_id, filters, self.memory)
        for event, data in events:
            if event == "answer":
                yield event, {**data.to_dict(), "back_to": self.back_to(question)}
            else:
                yield event, data

    ask = answer_of(stream)  # the same parameters; the whole answer alone
