"""A GGUF chat model run in process by llama-cpp-python, as a LangChain chat model.

Ours rather than langchain-community's `ChatLlamaCpp`: that package is archived, and its class
loads every model with `rope_freq_base=10000`, overriding the one the model was trained with
(SmolLM2's GGUF says 100000), which garbles positions in every prompt. Here llama.cpp reads
RoPE settings, like everything else about the model, from the file.

It always streams from llama.cpp (an `invoke` collects the stream), so an answer is the same
whether it was streamed or not. Run under a `ModelGate` slot, it stops mid-computation (prompt
reading included) as soon as the slot's caller leaves, through llama.cpp's abort callback. Arguments bound or passed per call (`max_tokens`,
`response_format`, ...) go to `Llama.create_chat_completion` as they are.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.outputs import ChatResult
from pydantic import ConfigDict
from pydantic import Field
from pydantic import PrivateAttr
from pydantic import model_validator

from app.llm.gate import Abandoned
from app.llm.gate import current_slot

ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def _never() -> bool:
    return False


class _StopTest:
    """llama.cpp's abort callback: asks the current call's test whether to stop."""

    def __init__(self) -> None:
        self.test: Callable[[], bool] = _never

    def __call__(self, _data: Any) -> bool:
        return self.test()


def llama_threads(cpus: int) -> tuple[int, int]:
    """(threads writing tokens, threads reading the prompt) on a machine of `cpus` CPUs:
    half of them, and all of them, as llama-cpp-python itself defaults.

    Writing a token is a few small matrix products; its threads meet at a barrier after each
    layer, so a thread that loses its core to anything else (the API's retrieval, an ingest,
    another learner) stalls the rest. On two cores, two writing threads with one core busy
    elsewhere wrote 200 tokens in 9-10.6 s, one thread in 3.3-3.9 s; with both cores idle two
    threads are faster (2.4-2.7 s against 3.5-3.9 s). Reading the prompt is one large product,
    worth every core. (AMD EPYC, 2 vCPUs, SmolLM2-135M Q4_1, a 900-token prompt; docs/benchmarks.md.)"""
    return max(1, cpus // 2), max(1, cpus)


class LlamaCppChat(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 2048
    n_threads: int = 1
    n_threads_batch: int = 2
    n_batch: int = 256
    seed: int = 0
    sampling: dict[str, Any] = Field(
        default_factory=dict,
        description="create_chat_completion arguments: max_tokens, temperature, top_p, stop...",
    )
    _llama: Any = PrivateAttr(default=None)
    _stop: _StopTest = PrivateAttr(default_factory=lambda: _StopTest())
    _abort_callback: Any = PrivateAttr(default=None)  # kept referenced: llama.cpp calls it

    @model_validator(mode="after")
    def _load(self) -> LlamaCppChat:
        if self.n_threads == 1:
            # With one writing thread, OpenMP's barriers are only in reading the prompt; there a
            # thread that spins while the other waits for its core (busy with the rest of the
            # app) only delays it: a 900-token prompt read in 6.8-8.2 s, not 8.6-9.6 s, beside a
            # busy core, the same when idle. Read once, when llama.cpp's OpenMP loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import llama_cpp

        self._llama = llama_cpp.Llama(
            self.model_path,
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads_batch,
            n_batch=self.n_batch,
            seed=self.seed,
            verbose=False,
        )
        self._abort_callback = llama_cpp.ggml_abort_callback(self._stop)
        llama_cpp.llama_set_abort_callback(
            self._llama._ctx.ctx, self._abort_callback, ctypes.c_void_p()
        )
        return self

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` in this model's own vocabulary (for fitting prompts to `n_ctx`)."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, **self.sampling}

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        params = {**self.sampling, **({"stop": stop} if stop else {}), **kwargs}
        chat = [{"role": ROLES[m.type], "content": m.text} for m in messages]
        slot = current_slot()
        self._stop.test = slot.stopped if slot else _never
        try:
            yield from self._chunks(chat, params, run_manager)
        except RuntimeError as exc:  # llama_decode returned 2: aborted by the callback
            if slot and slot.stopped():
                raise Abandoned("generation stopped: its client left") from exc
            raise

    def _chunks(
        self,
        chat: list[dict[str, str]],
        params: dict[str, Any],
        run_manager: CallbackManagerForLLMRun | None,
    ) -> Iterator[ChatGenerationChunk]:
        for part in self._llama.create_chat_completion(messages=chat, stream=True, **params):
            if not part["choices"]:
                continue
            choice = part["choices"][0]
            text = (choice.get("delta") or {}).get("content") or ""
            finish = choice.get("finish_reason")
            if not text and not finish:
                continue  # the opening {"role": "assistant"} delta
            chunk = ChatGenerationChunk(
                message=AIMessageChunk(content=text),
                generation_info={"finish_reason": finish} if finish else None,
            )
            if run_manager and text:
                run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
