"""Front matter: a leading YAML block, read only when it really is one, and values checked.

A slide deck (Marp, reveal.js, Deckset) opens with `---` as a slide separator, so "starts
with `---`" is not enough: the block must close and parse as a YAML mapping, otherwise it is
content and stays in the text. The fields ingest uses are validated with coercion (a learner
writes `months: 2` where our notes use a list); a value that cannot be read is dropped with
a warning that names the field, never an exception that costs the whole file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import field_validator

from app.course.curriculum import SAFE_LOADER

_BLOCK = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(metadata, body); a leading block that is not a closed YAML mapping is body text."""
    match = _BLOCK.match(text)
    if not match:
        return {}, text
    block = match.group(1)
    try:
        meta = yaml.load(block, Loader=SAFE_LOADER) if block.strip() else {}
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict) or (block.strip() and not meta):
        return {}, text
    return {str(k): v for k, v in meta.items()}, text[match.end() :]


class FrontMatter(BaseModel):
    """The fields ingest reads; any others pass through unchecked."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    title: str = ""
    url: str = ""
    week: int | None = Field(default=None, ge=1)
    months: list[int] = Field(default_factory=list)

    @field_validator("months", mode="before")
    @classmethod
    def _one_value_is_a_list_of_one(cls, value: Any) -> Any:
        if value is None:
            return []
        return value if isinstance(value, list | tuple) else [value]

    @field_validator("title", "url", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value


def validate_front_matter(meta: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Coerce known fields; drop each one that cannot be read, with a warning naming it."""
    try:
        return FrontMatter.model_validate(meta).model_dump(), []
    except ValidationError as exc:
        bad = {str(e["loc"][0]): e["msg"] for e in exc.errors() if e["loc"]}
    warnings = [
        f"front matter `{field}: {meta[field]!r}` ignored: {msg[0].lower()}{msg[1:]}"
        for field, msg in bad.items()
        if field in meta
    ]
    # Fields are checked one by one, so what is left validates.
    kept = {k: v for k, v in meta.items() if k not in bad}
    return FrontMatter.model_validate(kept).model_dump(), warnings
