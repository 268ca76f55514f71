"""The queue in front of the model: fair order, bounded size and wait, and callers that leave.

Real threads and a real event loop; the "model" is a generator holding the slot, which is all
the gate sees of it. The real model behind a real server is tested in test_service.py."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from app.llm.gate import Abandoned
from app.llm.gate import ModelBusy
from app.llm.gate import ModelGate
from app.llm.gate import call_for
from app.llm.gate import stream_for


def wait_until(condition, timeout: float = 5.0) -> float:
    """Seconds until `condition()` holds (fails the test after `timeout`)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
    return time.monotonic() - started


def generating(gate: ModelGate, step_s: float = 0.01) -> Iterator[int]:
    """Stands in for token generation: holds the model and checks between steps, as
    `Tutor._generate` does."""
    with gate.slot() as slot:
        n = 0
        while True:
            slot.check()
            time.sleep(step_s)
            yield n
            n += 1


def take_a_turn(gate: ModelGate) -> None:
    with gate.slot():
        pass


def test_callers_get_the_model_in_the_order_they_came() -> None:
    gate = ModelGate(queue_size=5)
    order: list[int] = []

    def take(n: int) -> None:
        with gate.slot():
            order.append(n)

    with gate.slot():
        threads = []
        for n in range(4):
            threads.append(threading.Thread(target=take, args=(n,)))
            threads[-1].start()
            wait_until(lambda n=n: gate.load()["waiting"] == n + 1)
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3] and gate.load() == {"running": 0, "waiting": 0}


def test_a_full_queue_is_turned_away_at_once_with_a_retry_after() -> None:
    gate = ModelGate(queue_size=1, wait_s=5)
    with gate.slot():
        waiter = threading.Thread(target=take_a_turn, args=(gate,))
        waiter.start()
        wait_until(lambda: gate.load()["waiting"] == 1)
        with pytest.raises(ModelBusy, match="TUTOR_MODEL_QUEUE_SIZE") as busy:
            gate.admit()
        assert busy.value.retry_after >= 1
        with pytest.raises(ModelBusy), gate.slot():
            pass
    waiter.join(5)


def test_a_turn_that_does_not_come_in_time_is_busy_and_leaves_the_queue() -> None:
    gate = ModelGate(queue_size=3, wait_s=0.2)
    with gate.slot():
        started = time.monotonic()
        with pytest.raises(ModelBusy, match="TUTOR_MODEL_WAIT_S") as busy, gate.slot():
            pass
        assert 0.2 <= time.monotonic() - started < 1.0 and busy.value.retry_after >= 1
        assert gate.load() == {"running": 1, "waiting": 0}


def test_admit_counts_the_questions_ahead() -> None:
    gate = ModelGate(queue_size=3)
    assert gate.admit() == 0
    with gate.slot():
        assert gate.admit() == 1


def test_a_consumer_that_stops_mid_generation_frees_the_model_at_once() -> None:
    gate = ModelGate()

    async def main() -> float:
        tokens = stream_for(gate, lambda: generating(gate))
        assert [await anext(tokens) for _ in range(3)] == [0, 1, 2]
        await tokens.aclose()
        return await asyncio.to_thread(wait_until, lambda: gate.load()["running"] == 0)

    assert asyncio.run(main()) < 0.5


def test_a_cancelled_request_frees_the_model_at_once() -> None:
    """What a client hanging up looks like to the app: its task is cancelled mid-await."""
    gate = ModelGate()

    async def consume() -> None:
        async for _ in stream_for(gate, lambda: generating(gate, step_s=0.05)):
            pass

    async def main() -> float:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        assert gate.load()["running"] == 1
        task.cancel()
        return await asyncio.to_thread(wait_until, lambda: gate.load()["running"] == 0)

    assert asyncio.run(main()) < 0.5


def test_a_waiting_caller_that_leaves_gives_up_its_place() -> None:
    gate = ModelGate(queue_size=1, wait_s=30)

    async def main() -> None:
        with gate.slot():  # someone else is answering
            waiting = stream_for(gate, lambda: generating(gate))
            task = asyncio.create_task(anext(waiting))
            await asyncio.sleep(0.1)
            assert gate.load()["waiting"] == 1
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await asyncio.to_thread(wait_until, lambda: gate.load()["waiting"] == 0, 1.0)
            assert gate.admit() == 1  # the place is free again

    asyncio.run(main())


def test_closing_the_gate_stops_generation_and_turns_newcomers_away() -> None:
    gate = ModelGate()
    tokens = generating(gate)
    next(tokens)
    gate.close()
    with pytest.raises(Abandoned, match="stopping"):
        next(tokens)
    assert gate.load()["running"] == 0
    with pytest.raises(ModelBusy, match="stopping"):
        gate.admit()


def test_call_for_returns_the_result_and_raises_the_error_of_the_work() -> None:
    gate = ModelGate()

    def answer() -> str:
        with gate.slot():
            return threading.current_thread().name

    def broken() -> str:
        raise ValueError("no such week")

    assert asyncio.run(call_for(gate, answer)) == "model-work"
    with pytest.raises(ValueError, match="no such week"):
        asyncio.run(call_for(gate, broken))
