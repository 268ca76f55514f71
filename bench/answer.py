"""Answer latency: our /ask/stream beside the plain LangChain RAG recipe (retriever | prompt |
the packaged ChatLlamaCpp model), then 8 concurrent clients, in one run.

Ours runs as shipped (the packaged model: answers quoted from the sources) and with the model
writing (TUTOR_ANSWER_WRITER=model, each sentence checked). Our token events are whole, final
sentences; the recipe streams model tokens. So the columns are what a learner feels: seconds
to the first text, seconds to the whole answer, and its words.

    python bench/answer.py [--questions 8] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from common import REPO
from common import free_port
from common import index_of
from common import percentile
from common import start_api

QUESTIONS = [
    ("Why is the dot product divided by the square root of d_k?", 18),
    ("What does Adam's bias correction fix?", 6),
    ("How does nucleus sampling choose the next token?", 26),
    ("What does the forget gate of an LSTM do?", 17),
    ("How does dropout behave at test time?", 7),
    ("What is the output size of a convolution?", 8),
    ("What does the KL penalty do in RLHF?", 38),
    ("What does LoRA train instead of the full weights?", 28),
]


Run = tuple[float, float, int]  # (seconds to the first text, seconds to the whole answer, words)


def ours_streamed(url: str, question: str, week: int) -> Run:
    """One /ask/stream call: its token events' data are the answer's sentences."""
    started = time.perf_counter()
    first, text, event = None, [], ""
    with httpx.stream(
        "POST", f"{url}/ask/stream", json={"question": question, "week": week}, timeout=300
    ) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "token":
                text.append(json.loads(line.removeprefix("data: ")))
                first = first or time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, len(" ".join(map(str, text)).split())


def recipe(data_dir):
    """The tutorial RAG chain over the same Chroma collection and the same GGUF model."""
    from langchain_chroma import Chroma
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_huggingface import HuggingFaceEmbeddings

    from app.config import Settings
    from app.llm.providers import chat_model
    from app.search.vectors import EMBEDDING_PACKAGE
    from app.search.vectors import VectorStore
    from app.search.vectors import packaged_model_dir

    settings = Settings(data_dir=data_dir)
    embeddings = HuggingFaceEmbeddings(
        model_name=str(packaged_model_dir(EMBEDDING_PACKAGE, "model"))
    )
    vectors = Chroma(
        client=VectorStore(settings).client,
        collection_name=settings.collection,
        embedding_function=embeddings,
    )
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Use the following context to answer the question.\n\n{context}"),
            ("human", "{question}"),
        ]
    )

    def fmt(docs: list[Any]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    return (
        {
            "context": vectors.as_retriever(search_kwargs={"k": 4}) | fmt,
            "question": RunnablePassthrough(),
        }
        | prompt
        | chat_model(settings)
        | StrOutputParser()
    )


def recipe_streamed(chain, question: str) -> Run:
    started = time.perf_counter()
    first, text = None, []
    for piece in chain.stream(question):
        if piece:
            text.append(piece)
            first = first or time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, len("".join(text).split())


def summarise(name: str, runs: list[Run]) -> None:
    first, whole = [r[0] for r in runs], [r[1] for r in runs]
    print(
        f"{name:30}{percentile(first, 50):8.2f}{percentile(first, 95):8.2f}"
        f"{percentile(whole, 50):8.2f}{percentile(whole, 95):8.2f}"
        f"{sum(r[2] for r in runs) / len(runs):8.0f}",
        flush=True,
    )


def serve(data_dir, port: int, **settings: str) -> subprocess.Popen:
    env = {**os.environ, **{f"TUTOR_{k.upper()}": v for k, v in settings.items()}}
    server = start_api(data_dir, port, env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    ours_streamed(url, "warm up: what is attention?", 18)  # model load is not latency
    return server


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    data_dir = index_of("corpus", [REPO / "corpus"])
    questions = QUESTIONS[: args.questions]
    rows: dict[str, list[Run]] = {}
    for name, writer in [("ours, sources quoted", "sources"), ("ours, model writes", "model")]:
        port = free_port()
        server = serve(data_dir, port, answer_writer=writer)
        try:
            rows[name] = [ours_streamed(f"http://127.0.0.1:{port}", q, w) for q, w in questions]
        finally:
            stop(server)
    chain = recipe(data_dir)
    recipe_streamed(chain, "warm up: what is attention?")
    rows["langchain RAG recipe"] = [recipe_streamed(chain, q) for q, _ in questions]
    print(f"\n{len(questions)} questions, local SmolLM2-135M, seconds")
    print(f"{'':30}{'first':>8}{'p95':>8}{'whole':>8}{'p95':>8}{'words':>8}")
    for name, runs in rows.items():
        summarise(name, runs)

    port = free_port()
    server = serve(data_dir, port)
    try:

        def timed(i: int) -> tuple[float, int]:
            q, w = questions[i % len(questions)]
            started = time.perf_counter()
            response = httpx.post(
                f"http://127.0.0.1:{port}/ask", json={"question": q, "week": w}, timeout=600
            )
            return time.perf_counter() - started, response.status_code

        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(timed, range(args.clients)))
        latencies = [t for t, _ in results]
        errors = sum(code != 200 for _, code in results)
        print(
            f"\n{args.clients} concurrent /ask clients (as shipped): p50 "
            f"{percentile(latencies, 50):.1f} s, p95 {percentile(latencies, 95):.1f} s, "
            f"errors {errors}"
        )
    finally:
        stop(server)


if __name__ == "__main__":
    main()
