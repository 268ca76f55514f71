"""Who `tutor ask` asks as: the command line's own learner, in this process or through a
running API.

The learner is the same either way, and so is what a question gets from being theirs: their
week (`settled_week`), their conversations (a follow-up continues the last one or the one
named, and a grounded answer is kept) and `back_to`. In this process their records are read
here (`HereLearner`). Through a running API the API reads them, the command line sending the
learner's token from `app.cli.local_key` (`ApiLearner`), so a question asked there opens no
database here. Without a learner database (one that cannot be opened) a question is still
answered, as nobody in particular: no week of theirs, and not kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol
from urllib.parse import quote

from app.cli.api_client import ApiClient
from app.cli.api_client import ApiFailed
from app.cli.base import LearnerWeek
from app.cli.base import RecordsWeek
from app.cli.base import err
from app.cli.base import fail
from app.cli.local_key import LocalKey
from app.cli.local_key import forget_key
from app.cli.local_key import keep_key
from app.cli.local_key import making_key
from app.cli.local_key import new_key
from app.cli.local_key import read_key
from app.config import Settings

if TYPE_CHECKING:
    from app.records.learners import LearnerRecords


class AsLearner(LearnerWeek, Protocol):
    """The command line's learner as `tutor ask` needs them: their week and conversations."""

    def last_conversation(self) -> str | None:
        """The id of their latest conversation (None: they have none yet)."""
        ...

    def has_conversation(self, conversation_id: str) -> bool: ...


@dataclass(frozen=True)
class HereLearner(RecordsWeek):
    """`AsLearner` from the learner's records in this process."""

    def last_conversation(self) -> str | None:
        from app.records.conversations import ConversationRecords

        latest = ConversationRecords(self.store, self.learner.id).summaries()[:1]
        return latest[0]["id"] if latest else None

    def has_conversation(self, conversation_id: str) -> bool:
        from app.records.base import NotFound
        from app.records.conversations import ConversationRecords

        with contextlib.suppress(NotFound):
            ConversationRecords(self.store, self.learner.id).require(conversation_id)
            return True
        return False


class ApiLearner:
    """`AsLearner`, and what answers them, through the API at `api`: the learner of `key`.

    A key the API does not know (401, or 404 for the learner itself: the learner database
    was replaced, or the API keeps another one) is forgotten, so the next command makes a new
    one, and the call fails as any failed API call does: the command answers here instead."""

    def __init__(self, api: ApiClient, key: LocalKey, settings: Settings) -> None:
        self.api = replace(api, token=key.token)
        self.path = f"/learners/{key.learner_id}"
        self.settings, self.key = settings, key

    @cached_property
    def _shown(self) -> dict[str, Any]:
        """The learner as GET /learners/{id} shows them (`LearnerPublic`), read once."""
        shown: dict[str, Any] = self._call("GET", self.path)
        return shown

    def current_week(self) -> int:
        return int(self._shown["current_week"])

    def has_chosen_week(self) -> bool:
        return self._shown["week_set_on"] is not None

    def choose_week(self, week: int) -> None:
        self._call("PUT", f"{self.path}/week", json={"week": week})

    def last_conversation(self) -> str | None:
        latest = self._call("GET", f"{self.path}/conversations")[:1]
        return str(latest[0]["id"]) if latest else None

    def has_conversation(self, conversation_id: str) -> bool:
        if not conversation_id:
            return False
        # Quoted whole: an id of "..", "x?y" or "#x" asked another route, which answered 200.
        try:
            path = f"{self.path}/conversations/{quote(conversation_id, safe='')}"
            shown = self._call("GET", path, unknown=(401,))  # 404: no such conversation
        except ApiFailed as exc:
            if exc.status in (404, 422):  # 422: not even the shape of an id
                return False
            raise
        return isinstance(shown, dict) and shown.get("id") == conversation_id

    def stream(self, question: str, **asking: Any) -> Iterator[tuple[str, Any]]:
        """`ApiClient.stream`, as this learner."""
        with self._known((401,)):  # a 404 here is of a conversation, never of the learner
            yield from self.api.stream(question, **asking)

    def _call(
        self, method: str, path: str, unknown: tuple[int, ...] = (401, 404), **kwargs: Any
    ) -> Any:
        with self._known(unknown):
            return self.api.call(method, path, **kwargs)

    @contextlib.contextmanager
    def _known(self, unknown: tuple[int, ...]) -> Iterator[None]:
        """Forgets the key on a status in `unknown` (404: "no learner N" on their routes)."""
        try:
            yield
        except ApiFailed as exc:
            if exc.status in unknown:
                forget_key(self.settings, self.key)
                raise ApiFailed(
                    f"it does not know your learner's key (HTTP {exc.status}); if it keeps "
                    "another learner database than TUTOR_DATABASE_URL says here, give both the "
                    "same",
                    exc.status,
                ) from exc
            raise


def learner_store(settings: Settings, needed: bool) -> LearnerRecords | None:
    """The learner database for `tutor ask`: without it a question is still answered (with no
    week of yours, and not kept), unless the question continues a conversation kept there."""
    from app.records.base import LearnerRecordsError
    from app.records.learners import LearnerRecords

    try:
        return LearnerRecords(settings.resolved_database_url)
    except LearnerRecordsError as exc:
        if needed:
            fail(str(exc))
        err.print(
            f"[yellow]warning:[/yellow] answering without your week, and not keeping this "
            f"conversation: {exc}"
        )
        return None


def api_learner(api: ApiClient, settings: Settings, needed: bool) -> ApiLearner | None:
    """The command line's learner through `api`, by the key kept for it; the first time, a new
    key made with the learner database here (and the learner, on first use). None: there is
    no learner database to make one with (`learner_store` said so)."""
    key = read_key(settings)
    if key is not None:
        return ApiLearner(api, key, settings)
    store = learner_store(settings, needed)
    if store is None:
        return None
    from app.records.base import LearnerRecordsError

    try:
        with making_key(settings):  # one command at a time; another may have just made it
            key = read_key(settings)
            if key is None:
                key = new_key(store)
                keep_key(settings, key)
    except LearnerRecordsError as exc:
        if needed:
            fail(str(exc))
        err.print(f"[yellow]warning:[/yellow] asking as nobody in particular: {exc}")
        return None
    except OSError as exc:  # not kept: this question is still asked as the learner
        err.print(f"[yellow]warning:[/yellow] the key to your learner was not kept: {exc}")
    return ApiLearner(api, key, settings) if key else None


def conversation_to_continue(
    learner: AsLearner | None, resume: bool, conversation: str | None
) -> str | None:
    """The id a follow-up continues (None: a new conversation); a usage error when there is none."""
    if not resume and conversation is None:
        return None
    assert learner is not None  # a follow-up needs the database: learner_store said so
    if resume:
        last = learner.last_conversation()
        if last is None:
            fail(
                "there is no conversation to continue yet: ask a question first "
                '(`tutor ask "..."`), then follow it up with --continue',
                code=2,
            )
        return last
    assert conversation is not None  # neither --continue nor nothing: the tests above
    if learner.has_conversation(conversation):
        return conversation
    fail(
        f"there is no conversation {conversation} here: --continue follows up your last one; "
        "leave --conversation out to start a new one",
        code=2,
    )
