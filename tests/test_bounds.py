"""Numbers from a client are bounded at the edge: past the plan's range a 422 that names it,
and never a 500, whatever the size (`app/api/params.py`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import new_learner

CASE = Path(__file__).resolve().parents[2] / "shared" / "cases" / "22-unbounded-integer-query"
EXTREMES = (2**63, 2**63 - 1, -(2**63) - 1, -1, 0, 10**40)


def test_case_22_a_week_past_64_bits_is_a_422_that_names_the_range(api_client) -> None:
    if not (CASE / "run.sh").exists():
        pytest.skip(f"case 22 not found at {CASE}")
    base, auth = new_learner(api_client)
    learner_id = base.rsplit("/", 1)[1]
    requests = re.findall(r'^get "([^"]+)"', (CASE / "run.sh").read_text(), re.M)
    assert len(requests) >= 6, "the case's requests were not found in run.sh"
    for request in requests:
        path = request.replace("$ID", learner_id)
        response = api_client.get(path, headers=auth)
        assert response.status_code != 500, (path, response.text)
        week = re.search(r"week=(-?\d+)", path)
        if "/checks" in path and week and not 1 <= int(week.group(1)) <= 72:
            assert response.status_code == 422, (path, response.text)
            assert "72" in response.text or "greater than or equal to 1" in response.text


def integer_query_parameters(api_client) -> list[tuple[str, str]]:
    """(path template, parameter) of every GET route's integer query parameter."""
    found = []
    for path, operations in api_client.app.openapi()["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            types = {parameter["schema"].get("type")} | {
                option.get("type") for option in parameter["schema"].get("anyOf", [])
            }
            if parameter["in"] == "query" and "integer" in types:
                found.append((path, parameter["name"]))
    return found


def test_every_integer_in_a_query_string_is_bounded_at_the_extremes(api_client) -> None:
    base, auth = new_learner(api_client)
    learner_id = base.rsplit("/", 1)[1]
    routes = integer_query_parameters(api_client)
    assert {("/search", "week"), ("/learners/{learner_id}/checks", "week")} <= set(routes)
    for path, name in routes:
        concrete = path.replace("{learner_id}", learner_id)
        if "{" in concrete:  # other path parameters: not this test's subject
            continue
        for value in EXTREMES:
            params = {name: value, "q": "softmax"} if path == "/search" else {name: value}
            response = api_client.get(concrete, params=params, headers=auth)
            assert response.status_code != 500, (concrete, name, value, response.text)
            assert response.status_code in (200, 409, 422), (concrete, name, value, response.text)
