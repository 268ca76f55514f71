"""Answer latency with the local model: our /ask/stream beside the plain LangChain RAG recipe
(retriever | prompt | the same ChatLlamaCpp model), then 8 concurrent clients, in one run.

    python bench/answer.py [--questions 8] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from common import REPO, index_of, percentile

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ours_streamed(url: str, question: str, week: int) -> tuple[float, float, int]:
    """(time to first token, total seconds, tokens) for one /ask/stream call."""
    started = time.perf_counter()
    first, tokens = None, 0
    with httpx.stream("POST", f"{url}/ask/stream", json={"question": question, "week": week},
                      timeout=300) as response:
        for line in response.iter_lines():
            if line == "event: token":
                tokens += 1
                first = first or time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, tokens


def recipe(data_dir):
    """The tutorial RAG chain over the same Chroma collection and the same GGUF model."""
    from langchain_chroma import Chroma
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_huggingface import HuggingFaceEmbeddings

    from app.config import Settings
    from app.llm import chat_model
    from app.store import EMBEDDING_PACKAGE, Store, packaged_model_dir

    settings = Settings(data_dir=data_dir)
    embeddings = HuggingFaceEmbeddings(model_name=str(packaged_model_dir(EMBEDDING_PACKAGE, "model")))
    vectors = Chroma(client=Store(settings).client, collection_name=settings.collection,
                     embedding_function=embeddings)
    prompt = ChatPromptTemplate.from_messages([
        ("system", "Use the following context to answer the question.\n\n{context}"),
        ("human", "{question}"),
    ])
    fmt = lambda docs: "\n\n".join(d.page_content for d in docs)  # noqa: E731
    return ({"context": vectors.as_retriever(search_kwargs={"k": 4}) | fmt,
             "question": RunnablePassthrough()} | prompt | chat_model(settings) | StrOutputParser())


def recipe_streamed(chain, question: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    first, tokens = None, 0
    for piece in chain.stream(question):
        if piece:
            tokens += 1
            first = first or time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, tokens


def summarise(name: str, runs: list[tuple[float, float, int]]) -> None:
    ttft = [r[0] for r in runs]
    rate = [r[2] / max(r[1] - r[0], 1e-6) for r in runs]
    print(f"{name:24}{percentile(ttft, 50):8.2f}{percentile(ttft, 95):8.2f}"
          f"{percentile(rate, 50):10.1f}{sum(r[2] for r in runs) / len(runs):9.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    data_dir = index_of("corpus", [REPO / "corpus"])
    questions = QUESTIONS[: args.questions]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], cwd=REPO,
                              env={**os.environ, "TUTOR_DATA_DIR": str(data_dir),
                                   "TUTOR_API_PORT": str(port)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        ours_streamed(url, "warm up: what is attention?", 18)  # model load is not latency
        ours = [ours_streamed(url, q, w) for q, w in questions]
        chain = recipe(data_dir)
        recipe_streamed(chain, "warm up: what is attention?")
        plain = [recipe_streamed(chain, q) for q, _ in questions]
        print(f"\n{len(questions)} questions, local SmolLM2-135M, seconds")
        print(f"{'':24}{'TTFT p50':>8}{'p95':>8}{'tok/s p50':>10}{'tokens':>9}")
        summarise("ours /ask/stream", ours)
        summarise("langchain RAG recipe", plain)

        def timed(i: int) -> tuple[float, int]:
            q, w = questions[i % len(questions)]
            started = time.perf_counter()
            response = httpx.post(f"{url}/ask", json={"question": q, "week": w}, timeout=600)
            return time.perf_counter() - started, response.status_code

        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(timed, range(args.clients)))
        latencies = [t for t, _ in results]
        errors = sum(code != 200 for _, code in results)
        print(f"\n{args.clients} concurrent /ask clients: p50 {percentile(latencies, 50):.1f} s, "
              f"p95 {percentile(latencies, 95):.1f} s, errors {errors} "
              "(one local model: requests queue for it)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
