"""One model, many learners: a fair, bounded queue in front of the model.

llama.cpp generates for one prompt at a time. Every request that needs the model waits here for
its turn, first come first served; when too many are already waiting, or the wait would be too
long, it is told to come back later (`ModelBusy`, a 503 with Retry-After) instead of piling up.

A request can also leave: its client hangs up, or the server is stopping. Model work runs on a
thread of its own bound to a `Caller` (`stream_for`, `call_for`); when the async side stops
listening, the caller leaves, so a waiting request drops out of the queue and a generating one
stops at its next token (`Slot.check`) and frees the model. Nothing holds the model while
suspended on behalf of a client that is gone.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar

T = TypeVar("T")
FIRST_GUESS_S = 5.0  # how long an answer holds the model, until one has been measured


class ModelBusy(RuntimeError):
    """The model can't take this request soon enough: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Abandoned(RuntimeError):
    """The caller left (its client hung up) or the server is stopping: the work stops here."""


@dataclass
class Caller:
    """One request's claim on the model. `left` is set when nobody waits for the result."""

    left: threading.Event = field(default_factory=threading.Event)


_CALLER: ContextVar[Caller | None] = ContextVar("model_caller", default=None)


@dataclass
class Slot:
    """The model, held by one caller. Generation calls `check` between tokens."""

    gate: ModelGate
    caller: Caller

    def stopped(self) -> bool:
        return self.caller.left.is_set() or self.gate.closing

    def check(self) -> None:
        if self.stopped():
            raise Abandoned(
                "the server is stopping"
                if self.gate.closing
                else "the client left; generation stopped"
            )


_SLOT: ContextVar[Slot | None] = ContextVar("model_slot", default=None)


def current_slot() -> Slot | None:
    """The slot held on this thread, if any. The model runtime asks it whether to stop in
    the middle of a computation (llama.cpp reads a long prompt for seconds, with no token
    between to check at)."""
    return _SLOT.get()


class ModelGate:
    """A FIFO of callers in front of `concurrency` model slots (llama.cpp: one)."""

    def __init__(self, queue_size: int = 8, wait_s: float = 60.0, concurrency: int = 1) -> None:
        self.queue_size = queue_size
        self.wait_s = wait_s
        self.concurrency = concurrency
        self.closing = False
        self._cond = threading.Condition()
        self._waiting: deque[Caller] = deque()
        self._running = 0
        self._typical_s = FIRST_GUESS_S  # moving average of how long a caller holds the model

    def load(self) -> dict[str, int]:
        """How busy the model is: answering now, and waiting (for /health)."""
        with self._cond:
            return {"running": self._running, "waiting": len(self._waiting)}

    def admit(self) -> int:
        """Whether a new request may queue: raises `ModelBusy` when the queue is full (so an
        HTTP route can say 503 before it starts a response). Returns how many are ahead."""
        with self._cond:
            self._check_room()
            return self._running + len(self._waiting)

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Wait for the model in turn, hold it inside the block, release it after.

        Raises `ModelBusy` when the queue is full or the turn does not come within `wait_s`,
        and `Abandoned` when the caller leaves (or the server stops) while waiting."""
        caller = _CALLER.get() or Caller()
        deadline = time.monotonic() + self.wait_s
        with self._cond:
            self._check_room()
            self._waiting.append(caller)
            try:
                while self._waiting[0] is not caller or self._running >= self.concurrency:
                    remaining = deadline - time.monotonic()
                    if caller.left.is_set() or self.closing:
                        raise Abandoned("the client left, or the server is stopping")
                    if remaining <= 0:
                        raise ModelBusy(
                            f"the model is busy: no turn within {self.wait_s:g} s "
                            "(TUTOR_MODEL_WAIT_S); ask again shortly",
                            self._retry_after(),
                        )
                    self._cond.wait(remaining)
            finally:
                self._waiting.remove(caller)
                self._cond.notify_all()  # the next in line may be at the head now
            self._running += 1
        started = time.monotonic()
        slot = Slot(self, caller)
        _SLOT.set(slot)
        try:
            yield slot
        finally:
            _SLOT.set(None)
            with self._cond:
                self._running -= 1
                self._typical_s = 0.8 * self._typical_s + 0.2 * (time.monotonic() - started)
                self._cond.notify_all()

    def leave(self, caller: Caller) -> None:
        """The caller's client is gone: out of the queue now, or stop at the next token."""
        with self._cond:
            caller.left.set()
            self._cond.notify_all()

    def close(self) -> None:
        """The server is stopping: waiting callers are turned away, generation stops."""
        with self._cond:
            self.closing = True
            self._cond.notify_all()

    def _check_room(self) -> None:
        if self.closing:
            raise ModelBusy("the server is stopping; ask again in a moment", 5)
        if self._running + len(self._waiting) >= self.concurrency + self.queue_size:
            raise ModelBusy(
                f"the model is busy: {len(self._waiting)} questions are already "
                "waiting (TUTOR_MODEL_QUEUE_SIZE); ask again shortly",
                self._retry_after(),
            )

    def _retry_after(self) -> int:
        """Seconds until the queue ahead has probably been served (at least 1)."""
        ahead = self._running + len(self._waiting)
        return max(1, math.ceil(self._typical_s * ahead / self.concurrency))


# -- running model work for an async request --------------------------------------------------

_DONE = object()


async def stream_for(gate: ModelGate, work: Callable[[], Iterator[T]]) -> AsyncGenerator[T, None]:
    """Iterate `work()` on a thread of its own on behalf of one caller, yielding its items here.

    When this generator is closed or cancelled before the end (the client hung up, the server
    is stopping) the caller leaves the gate: the thread stops at its next step and closes the
    iterator, which releases the model. Exceptions from `work` are raised here."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()
    caller = Caller()

    def deliver(item: Any, error: BaseException | None = None) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, (item, error))
        except RuntimeError:  # the event loop is gone (server stopped): nobody to tell
            caller.left.set()

    def produce() -> None:
        _CALLER.set(caller)  # this thread's own context: the gate sees who is asking
        iterator = None
        try:
            iterator = work()
            for item in iterator:
                if caller.left.is_set():
                    break
                deliver(item)
        except BaseException as exc:  # handed to the async side, which raises it
            deliver(None, exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # a generator suspended in the model's `with gate.slot()` lets go here
            deliver(_DONE)

    threading.Thread(target=produce, name="model-work", daemon=True).start()
    try:
        while True:
            item, error = await items.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        gate.leave(caller)


async def call_for(gate: ModelGate, work: Callable[[], T]) -> T:
    """`work()` on a thread of its own on behalf of one caller (see `stream_for`)."""
    results = stream_for(gate, lambda: iter((work(),)))
    try:
        return await anext(results)
    finally:
        await results.aclose()
