"""Retrieval on questions nobody tuned to: the frozen held-out split over the public notes.

`evals/retrieval/held_out.jsonl` was written blind (see its README): questions a learner would
ask whose answers live in the public notes, each with every file that answers it. It is never
used to tune anything; it reports the product's ranking beside a plain dense ranking of the
same index (`dense`: the embedding model's nearest chunks, no BM25, no week boost), the recipe
most RAG tutorials build. Each line: {"id", "week", "question", "relevant": [...], "why"}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic import Field

from app.search.retrieval import Retriever
from evals import metrics as m

HELD_OUT = Path(__file__).resolve().parent / "retrieval" / "held_out.jsonl"
# name -> Retriever.search options: the product's ranking, and the dense recipe beside it
CONFIGS: dict[str, dict[str, Any]] = {
    "product": {"mode": "hybrid", "boost_week": True},
    "dense": {"mode": "dense", "boost_week": False},
}
METRICS = ("hit_rate@1", "hit_rate@5", "mrr@10")
DEPTH = 10


class HeldOutQuestion(BaseModel):
    id: str
    week: int = Field(ge=1, le=72)
    question: str = Field(min_length=1)
    relevant: list[str] = Field(min_length=1)


def load_held_out(path: Path = HELD_OUT) -> list[HeldOutQuestion]:
    """The split's questions, in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [HeldOutQuestion.model_validate_json(line) for line in lines if line.strip()]


def held_out_retrieval(retriever: Retriever, path: Path = HELD_OUT) -> dict[str, Any]:
    """Per configuration, mean hit@1, hit@5 and MRR@10 over the questions whose relevant files
    `retriever`'s index holds (none when it lacks the public notes: then `questions` is 0 and
    the rows are empty), and each question's first relevant rank for the report."""
    indexed = {meta["source"] for meta in retriever.store.all(include=["metadatas"])["metadatas"]}
    questions = [q for q in load_held_out(path) if any(s in indexed for s in q.relevant)]
    qrels = {q.id: [s for s in q.relevant if s in indexed] for q in questions}
    rows: dict[str, dict[str, float]] = {}
    ranks: dict[str, dict[str, int | None]] = {}
    for name, options in CONFIGS.items():
        rankings = {
            q.id: m.ranked_sources(
                h.source for h in retriever.search(q.question, k=DEPTH, week=q.week, **options)
            )
            for q in questions
        }
        rows[name] = m.mean_scores(m.retrieval_scores(qrels, rankings, METRICS).values())
        ranks[name] = {
            q.id: next((r for r, s in enumerate(rankings[q.id], 1) if s in qrels[q.id]), None)
            for q in questions
        }
    return {"questions": len(questions), "configs": rows, "first_relevant_rank": ranks}


def headline(report: dict[str, Any]) -> dict[str, float | None]:
    """The split's headline numbers (None where nothing was measured)."""
    product, dense = (report["configs"].get(n, {}) for n in ("product", "dense"))
    return {
        "retrieval_held_out_mrr@10": product.get("mrr@10"),
        "retrieval_held_out_hit@1": product.get("hit_rate@1"),
        "retrieval_held_out_dense_mrr@10": dense.get("mrr@10"),
        "retrieval_held_out_dense_hit@1": dense.get("hit_rate@1"),
    }


if __name__ == "__main__":  # a quick look without the whole suite
    import sys

    from app.config import Settings
    from evals.runner import index_settings

    retriever = Retriever.from_settings(index_settings(Settings(), Path(sys.argv[1])))
    result = held_out_retrieval(retriever)
    print(json.dumps({"questions": result["questions"], **result["configs"]}, indent=1))
