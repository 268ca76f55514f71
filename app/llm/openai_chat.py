"""An OpenAI-compatible chat model whose answer budget every such server honours.

langchain-openai sends the budget as `max_completion_tokens`, OpenAI's newer name for it.
llama-cpp-python's server (and other OpenAI-compatible servers) read only `max_tokens` and
ignore the other, so answers ran on to the context limit. Every server, OpenAI's included for
its chat models, reads `max_tokens`: we send that.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_openai import ChatOpenAI


class CompatibleChatOpenAI(ChatOpenAI):
    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        if "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload
