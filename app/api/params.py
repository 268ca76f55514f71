"""What a client may put in a path or a query string, bounded here once for every route.

Python's integers are unbounded and SQLite's and PostgreSQL's are 64-bit: an integer that
reaches the database unchecked is a server error (`OverflowError`), not the 4xx a client can
act on (`../shared/cases/22-unbounded-integer-query`). Every route takes its numbers and ids
through these types, so a week is 1-72 wherever it comes from.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from fastapi import Query
from pydantic import AfterValidator

from app.api.schemas import storable_text
from app.course.curriculum import LAST_WEEK
from app.course.curriculum import MONTHS

WeekQuery = Annotated[
    int | None, Query(ge=1, le=LAST_WEEK, description=f"A week of the plan, 1-{LAST_WEEK}.")
]
WeekPath = Annotated[int, Path(ge=1, le=LAST_WEEK, description=f"The plan's week, 1-{LAST_WEEK}.")]
MonthPath = Annotated[int, Path(ge=1, le=MONTHS, description=f"The plan's month, 1-{MONTHS}.")]
# A quiz's, question's, card's or conversation's id in a path: a key in the learner database.
Id = Annotated[
    str, Path(max_length=32), AfterValidator(lambda value: storable_text(value, "the id"))
]
