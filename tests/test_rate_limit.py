"""The per-client limit: a window that slides, clients counted apart, and the API's 429."""

from __future__ import annotations

from app.api import create_app
from app.api.rate_limit import RateLimit
from tests.conftest import local_client


def test_a_client_over_the_limit_waits_until_its_oldest_request_leaves_the_window() -> None:
    limit = RateLimit(2, per_s=60)
    assert [limit.hit("a", now=t) for t in (0, 10)] == [0, 0]
    assert limit.hit("a", now=20) == 40  # the request at 0 leaves the window at 60
    assert limit.hit("b", now=20) == 0  # another client is counted apart
    assert limit.hit("a", now=60) == 0


def test_no_limit_when_set_to_zero() -> None:
    limit = RateLimit(0, per_s=60)
    assert all(limit.hit("a", now=0) == 0 for _ in range(1000))


def test_the_api_answers_429_with_retry_after_past_the_limit(settings) -> None:
    limited = settings.model_copy(update={"signups_per_hour": 2, "asks_per_minute": 1})
    with local_client(create_app(limited)) as client:
        signups = [client.post("/learners", json={"name": f"L{n}"}) for n in range(3)]
        asks = [
            client.post(path, json={"question": "What is attention?"})
            for path in ("/ask", "/ask/stream")
        ]
    assert [r.status_code for r in signups] == [201, 201, 429]
    assert "new learners" in signups[2].json()["detail"]
    assert int(signups[2].headers["Retry-After"]) > 3000
    assert asks[0].status_code == 409 and asks[1].status_code == 429  # one question a minute
    assert 1 <= int(asks[1].headers["Retry-After"]) <= 60
