"""Ranking recipes on the golden set, side by side: whole set and public slice, dev and test.

    python bench/ranking.py [--public-notes ../shared/public-notes]

Each question's candidates are gathered once (`Retriever.candidates`); every recipe then
re-ranks them with the pure `Retriever.rank`, so a grid of fusion weights costs seconds. The
grid is searched on the dev split only and the winner is reported on the test split, beside
the shipped settings: a setting is never judged on the questions it was chosen on.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import replace
from pathlib import Path

from common import PUBLIC_NOTES
from common import percentile

METRICS = ("hit_rate@1", "hit_rate@5", "mrr@10", "ndcg@10")
GRID = {
    "dense": (0.5, 0.75, 1.0, 1.25, 1.5, 2.0),
    "k": (10, 20, 40, 60, 100),
    "week": (1.0, 1.1, 1.25, 1.5, 2.0),
    "prerequisite": (1.0, 1.1, 1.25),
}
SENTENCE_WEIGHTS = (0.5, 1.0, 1.5, 2.0)
SENTENCE_DEPTHS = (5, 10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--public-notes", type=Path, default=PUBLIC_NOTES)
    args = parser.parse_args()

    from app.config import Settings
    from app.search.retrieval import Candidates
    from app.search.retrieval import Fusion
    from app.search.retrieval import Retriever
    from evals import metrics as m
    from evals.datasets import load_dataset
    from evals.runner import RANK_DEPTH
    from evals.runner import ensure_index
    from evals.runner import index_settings
    from evals.runner import retrieval_query

    index = index_settings(Settings(), args.public_notes)
    print(f"index: {index.data_dir}", flush=True)
    ensure_index(index, args.public_notes)
    retriever = Retriever.from_settings(index)
    metas = retriever.store.all(include=["metadatas"])["metadatas"]
    indexed = {meta["source"] for meta in metas}
    public = {meta["source"] for meta in metas if meta.get("kind") == "public"}
    items = [i for i in load_dataset() if set(i.relevant) & indexed]
    qrels = {i.id: [s for s in i.relevant if s in indexed] for i in items}
    groups = {
        (slice_, split): [
            i.id
            for i in items
            if split == i.split and (slice_ == "whole" or set(i.relevant) & public)
        ]
        for slice_ in ("whole", "public")
        for split in ("dev", "test")
    }
    print(" ".join(f"{s}/{p}: {len(ids)}" for (s, p), ids in groups.items()), flush=True)

    found, gather_ms = {}, []
    for item in items:
        started = time.perf_counter()
        found[item.id] = retriever.candidates(retrieval_query(item))
        gather_ms.append((time.perf_counter() - started) * 1000)
    print(f"candidates gathered: p50 {percentile(gather_ms, 50):.1f} ms per question", flush=True)

    Recipe = Callable[[str, int], list[str]]  # (item id, week) -> sources, best first

    sentences: dict[str, dict[str, float]] = {i.id: {} for i in items}  # scored once, reused

    def with_sentences(item_id: str, week: int | None, fusion: Fusion) -> Candidates:
        """The candidates with the sentence vote on the head `fusion` ranks first, as a
        search makes it (each chunk's sentences are embedded once across all recipes)."""
        base = found[item_id]
        head = retriever.rank(base, fusion.depth, week, fusion)
        retriever.score_sentences(replace(base, sentence=sentences[item_id]), head)
        return replace(
            base,
            sentence={h.id: sentences[item_id][h.id] for h in head if h.id in sentences[item_id]},
        )

    def fused(fusion: Fusion, boost: bool = True) -> Recipe:
        def recipe(item_id: str, week: int) -> list[str]:
            week_or_none = week if boost else None
            candidates = (
                with_sentences(item_id, week_or_none, fusion) if fusion.sentence else found[item_id]
            )
            return m.ranked_sources(
                h.source for h in retriever.rank(candidates, RANK_DEPTH, week_or_none, fusion)
            )

        return recipe

    def evaluate(recipe: Recipe) -> dict[tuple[str, str], dict[str, float]]:
        rankings = {i.id: recipe(i.id, i.week) for i in items}
        scores = m.retrieval_scores(qrels, rankings, METRICS)
        return {
            group: {k: sum(scores[q][k] for q in ids) / len(ids) for k in METRICS}
            for group, ids in groups.items()
        }

    shipped = Fusion()
    only_dense = Fusion(lexical=0.0)
    recipes: dict[str, Recipe] = {
        "dense": fused(only_dense, boost=False),
        "dense + week": fused(only_dense),
        "hybrid": fused(shipped, boost=False),
        "hybrid + week (shipped)": fused(shipped),
    }

    def objective(result: dict[tuple[str, str], dict[str, float]]) -> float:
        """Dev only: the whole set's MRR@10 and the public slice's, weighted alike."""
        return (result["whole", "dev"]["mrr@10"] + result["public", "dev"]["mrr@10"]) / 2

    best, best_score = shipped, objective(evaluate(recipes["hybrid + week (shipped)"]))
    for values in itertools.product(*GRID.values()):
        candidate = replace(shipped, **dict(zip(GRID, values)))
        score = objective(evaluate(fused(candidate)))
        if score > best_score + 1e-9:
            best, best_score = candidate, score
    print(f"fitted on dev: {asdict(best)} (dev objective {best_score:.4f})", flush=True)
    recipes["hybrid + week, fitted on dev"] = fused(best)
    fitted = {"hybrid + week, fitted on dev": best}
    for base_name, base in (("shipped", shipped), ("fitted", best)):
        chosen, chosen_score = base, -1.0
        for weight, depth in itertools.product(SENTENCE_WEIGHTS, SENTENCE_DEPTHS):
            candidate = replace(base, sentence=weight, depth=depth)
            score = objective(evaluate(fused(candidate)))
            if score > chosen_score + 1e-9:
                chosen, chosen_score = candidate, score
        print(
            f"sentence vote on {base_name}, fitted on dev: weight {chosen.sentence}, depth "
            f"{chosen.depth} (dev objective {chosen_score:.4f})",
            flush=True,
        )
        recipes[f"{base_name} + sentence vote"] = fused(chosen)
        fitted[f"{base_name} + sentence vote"] = chosen

    timed = {"hybrid + week (shipped)": shipped, **fitted}
    latency = {}
    for name, fusion in timed.items():
        times = []
        for item in items:
            started = time.perf_counter()
            retriever.search(retrieval_query(item), k=5, week=item.week, fusion=fusion)
            times.append((time.perf_counter() - started) * 1000)
        latency[name] = percentile(times, 50)
    print(
        "search p50 ms (k=5, query embedding included): "
        + ", ".join(f"{n} {ms:.1f}" for n, ms in latency.items()),
        flush=True,
    )

    header = f"{'recipe':<32}" + "".join(f"{f'{s}/{p}':>34}" for s, p in groups)
    print(
        "\n"
        + header
        + "\n"
        + f"{'':<32}"
        + "".join(f"{'hit@1 hit@5 MRR@10 nDCG@10':>34}" for _ in groups)
    )
    for name, recipe in recipes.items():
        result = evaluate(recipe)
        print(
            f"{name:<32}"
            + "".join(
                f"{'':>7}" + " ".join(f"{result[g][k]:.3f}".rjust(6) for k in METRICS)
                for g in groups
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
