"""The golden set: questions a learner asks, with what a good answer contains and cites.

Each line of `evals/datasets/*.jsonl` is one item. Items split deterministically (by a hash of
their id) into `dev`, used to calibrate thresholds such as the grounding cut-off, and `test`,
used to report them, so a threshold is never judged on the questions it was tuned on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from pydantic import Field
from pydantic import ValidationError

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
# multipart: one message that asks two things (`parts` holds each one's key points); example:
# an ask for an example where the notes hold a worked one (its key points are the example's own
# numbers and terms).
Kind = Literal["concept", "plan", "followup", "multipart", "example", "out_of_scope", "adversarial"]
DEV_SHARE = 0.4


class DatasetError(ValueError):
    """A dataset line that can't be used; the message names the file, line and field."""


class EvalItem(BaseModel):
    id: str
    kind: Kind
    week: int = Field(ge=1, le=72)
    question: str = Field(min_length=1)
    followup: str | None = None
    relevant: list[str] = Field(default_factory=list)
    key_points: list[str] = Field(default_factory=list)
    parts: list[list[str]] = Field(default_factory=list)  # a multipart item's key points, by ask
    reference: str = ""
    expect: Literal["answer", "decline"]
    must_not_contain: list[str] = Field(default_factory=list)  # canary words of an injection
    must_not: list[str] = Field(default_factory=list)  # plausible wrong statements (a probe)

    @property
    def asked(self) -> str:
        """The question whose answer is scored: the follow-up of a pair, else the question."""
        return self.followup or self.question

    @property
    def split(self) -> Literal["dev", "test"]:
        bucket = int(hashlib.sha1(self.id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return "dev" if bucket < DEV_SHARE else "test"

    @property
    def quarter(self) -> str:
        """Q1-Q4 for the planned weeks 1-48; months 13-18 are one group."""
        return f"Q{(self.week - 1) // 12 + 1}" if self.week <= 48 else "M13-18"


def load_dataset(folder: Path = DATASETS_DIR) -> list[EvalItem]:
    """Every item of every `*.jsonl` in `folder`; ids must be unique across files."""
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise DatasetError(f"no *.jsonl datasets in {folder}")
    items: list[EvalItem] = []
    seen: dict[str, str] = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            item = _parse(line, where)
            if item.id in seen:
                raise DatasetError(f"{where}: id {item.id!r} already used at {seen[item.id]}")
            seen[item.id] = where
            items.append(item)
    return items


def _parse(line: str, where: str) -> EvalItem:
    try:
        return EvalItem.model_validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "line"
        raise DatasetError(f"{where}: {field}: {first['msg']}") from None
