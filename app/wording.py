"""Words for numbers as a learner reads them: "1 day", "2 days", never "1 days"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n` and the noun, plural unless `n` is 1 (or -1): counted(1, "day") is "1 day",
    counted(3, "week") "3 weeks". `plural` for a noun that takes more than an "s"."""
    return f"{n} {noun if abs(n) == 1 else plural or noun + 's'}"
