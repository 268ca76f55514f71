"""Judges: who decides whether an answer is faithful and relevant.

Offline by default: deterministic scorers from `evals.metrics` (word support and embedding
similarity; their blind spots are listed there). When `TUTOR_JUDGE_BASE_URL` and
`TUTOR_JUDGE_MODEL` name an OpenAI-compatible server, an LLM judge scores faithfulness and
relevancy as well, with prompts from `prompts/`. A verdict that can't be parsed is a failed
sample: counted and reported, never silently dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage

from app.config import Settings
from app.llm.prompts import render
from app.llm.providers import chat_model
from app.llm.providers import describe_failure
from app.llm.providers import model_label

_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)


@dataclass(frozen=True)
class Verdict:
    score: float | None  # 0..1, None when the judge failed
    reason: str = ""
    error: str = ""  # why the sample failed (unparseable verdict, judge unreachable)


def parse_verdict(reply: str) -> Verdict:
    """The first JSON object in the reply with a numeric `score` in [0, 1]."""
    match = _JSON_OBJECT.search(reply)
    if not match:
        return Verdict(None, error=f"no JSON object in the judge's reply: {reply[:80]!r}")
    try:
        data = json.loads(match.group(0))
        score = float(data["score"])
    except (ValueError, KeyError, TypeError):
        return Verdict(None, error=f"unparseable verdict: {match.group(0)[:80]!r}")
    if not 0.0 <= score <= 1.0:
        return Verdict(None, error=f"score {score} is outside 0..1")
    return Verdict(score, reason=str(data.get("reason", ""))[:300])


class LLMJudge:
    """An LLM that grades answers; any OpenAI-compatible server."""

    def __init__(self, model: BaseChatModel, label: str, settings: Settings) -> None:
        self.model = model
        self.label = label
        self._settings = settings

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMJudge | None:
        """The configured judge, or None when no judge is configured (offline scoring only)."""
        if not (settings.judge_base_url and settings.judge_model):
            return None
        judge_settings = settings.model_copy(
            update={
                "llm_provider": "openai",
                "openai_base_url": settings.judge_base_url,
                "openai_model": settings.judge_model,
                "openai_api_key": settings.judge_api_key,
                "llm_temperature": 0.0,
            }
        )
        return cls(
            chat_model(judge_settings, max_tokens=120), model_label(judge_settings), judge_settings
        )

    def faithfulness(self, answer: str, context: list[str]) -> Verdict:
        sources = "\n\n".join(f"[{n}] {text}" for n, text in enumerate(context, 1))
        return self._ask(render("judge_faithfulness", context=sources, answer=answer))

    def relevancy(self, question: str, answer: str) -> Verdict:
        return self._ask(render("judge_relevancy", question=question, answer=answer))

    def _ask(self, prompt: str) -> Verdict:
        try:
            reply = self.model.invoke([HumanMessage(prompt)]).content
        except Exception as exc:  # a dead judge fails this sample, and says why
            return Verdict(None, error=str(describe_failure(exc, self._settings)))
        return parse_verdict(str(reply))
