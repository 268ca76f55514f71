"""Prompt templates live in `prompts/` as text files; this loads them as LangChain templates."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # LangChain loads when a prompt is first rendered, not with this module
    from langchain_core.prompts import PromptTemplate

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@cache
def prompt(name: str) -> PromptTemplate:
    from langchain_core.prompts import PromptTemplate

    path = PROMPTS_DIR / f"{name}.txt"
    return PromptTemplate.from_template(path.read_text(encoding="utf-8").strip())


def render(name: str, **values: object) -> str:
    return prompt(name).format(**values)
