"""Run the evals: the golden set through the real retriever, tutor and quiz generators.

Suites:
- `quick` (CI, 2-3 minutes): retrieval ablations (BM25, dense, hybrid, hybrid + week boost),
  the grounding decision (refusal accuracy, with the similarity cut-off re-calibrated on the
  dev split and reported on the test split), what the prompt's context would leak from later
  weeks, and quiz validity over every week.
- `full` (`make eval`): the quick suite plus every question answered by the local model (and by
  the API model when one is configured), scored for key points, faithfulness, citations,
  refusals, week leakage, canary leaks, latency and tokens; the model's raw words are scored
  too, which shows what the tutor's post-check buys. LLM judges join when configured.

The index is the bundled corpus (plus public notes when given), built in its own folder of the
data dir, so a learner's own ingests never move the numbers.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import time
from collections import Counter
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Literal
from typing import Protocol

import numpy as np

from app.answering.memory import Memory
from app.answering.passages import WINDOW
from app.answering.passages import readable_text
from app.answering.tutor import MIN_SIMILARITY
from app.answering.tutor import Answer
from app.answering.tutor import Citation
from app.answering.tutor import Tutor
from app.config import Settings
from app.ingest.pipeline import CORPUS_DIR
from app.ingest.pipeline import Ingestor
from app.llm.prompts import prompt
from app.llm.providers import model_label
from app.practice.quiz import question_writer
from app.records.conversations import throwaway_memory
from app.search.retrieval import Retriever
from app.search.vectors import Embedder
from evals import metrics as m
from evals.datasets import EvalItem
from evals.datasets import load_dataset
from evals.held_out_retrieval import headline as held_out_headline
from evals.held_out_retrieval import held_out_retrieval
from evals.judges import LLMJudge
from evals.offtopic import near_miss_scores
from evals.quizzes import WEEKS
from evals.quizzes import quiz_quality
from evals.turns import turn_accuracy

Suite = Literal["quick", "full"]
RETRIEVAL_CONFIGS: dict[str, dict[str, Any]] = {  # name -> Retriever.search options
    "bm25": {"mode": "bm25", "boost_week": False},
    "dense": {"mode": "dense", "boost_week": False},
    "hybrid": {"mode": "hybrid", "boost_week": False},
    "hybrid+week": {"mode": "hybrid", "boost_week": True},
}
PRODUCT_RETRIEVAL = "hybrid+week"  # what the tutor uses: its row gives the headline numbers
RANK_DEPTH = 10


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self) -> None: ...


class Silent:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


@dataclass
class Options:
    suite: Suite = "quick"
    public_notes: Path | None = None
    held_out_notes: Path | None = None  # the held-out retrieval split's notes (own index)
    limit: int | None = None  # first N items of each kind (smoke runs)
    ablations: bool = False  # also answer with each of ANSWER_ABLATIONS (full suite)
    llm_quiz: bool = False  # also measure the model-written quiz kind (minutes of generation)
    datasets: Path | None = None
    progress: Progress = field(default_factory=Silent)


def index_settings(settings: Settings, public_notes: Path | None) -> Settings:
    """The eval index lives in its own folder, apart from the learner's index."""
    name = "evals-index-public" if public_notes else "evals-index"
    return settings.model_copy(update={"data_dir": settings.data_dir / name})


def ensure_index(
    settings: Settings, public_notes: Path | None, embedder: Embedder | None = None
) -> None:
    """Build the eval index, or bring it up to date (a no-op when nothing changed). Unless
    `embedder` is given (a benchmark's variant), with the encoder ingest runs in the product
    (torch, in TUTOR_ENCODER_PRECISION): the figures are those of a learner's index."""
    paths = [str(CORPUS_DIR)] + ([str(public_notes)] if public_notes else [])
    Ingestor(settings, embedder=embedder).run(paths)


def quiz_weeks(limit: int | None) -> range:
    """The weeks quizzes are measured on: all 48 planned week by week, or in a smoke run
    (`--limit N`) the first N, so that a smoke run stays one (the "Quiz me on this" measure
    asks about every concept of every week it covers)."""
    return WEEKS if limit is None else WEEKS[:limit]


def select(items: list[EvalItem], limit: int | None) -> list[EvalItem]:
    if limit is None:
        return items
    taken: dict[str, int] = defaultdict(int)
    chosen = []
    for item in items:
        if taken[item.kind] < limit:
            taken[item.kind] += 1
            chosen.append(item)
    return chosen


def retrieval_query(item: EvalItem) -> str:
    """A follow-up alone is ambiguous; without a model, join it to its question (the tutor's
    own fallback when condensing fails)."""
    return f"{item.question} {item.followup}" if item.followup else item.question


# -- retrieval ---------------------------------------------------------------------------------


def run_retrieval(
    items: list[EvalItem],
    retriever: Retriever,
    indexed: set[str],
    public: set[str],
    progress: Progress,
) -> dict[str, Any]:
    """Each configuration's IR metrics, overall, per quarter and per slice and split, on items
    with known sources. `public` names the indexed sources that came from the public notes."""
    judged = [i for i in items if any(s in indexed for s in i.relevant)]
    qrels = {i.id: [s for s in i.relevant if s in indexed] for i in judged}
    progress.start("retrieval", len(judged) * len(RETRIEVAL_CONFIGS))
    rows: dict[str, Any] = {}
    per_query: dict[str, dict[str, dict[str, float]]] = {}
    for name, options in RETRIEVAL_CONFIGS.items():
        rankings = {}
        for item in judged:
            hits = retriever.search(retrieval_query(item), k=RANK_DEPTH, week=item.week, **options)
            rankings[item.id] = m.ranked_sources(h.source for h in hits)
            progress.advance()
        scores = m.retrieval_scores(qrels, rankings)
        per_query[name] = scores
        rows[name] = m.mean_scores(scores.values())
    by_quarter = _by_quarter(judged, per_query[PRODUCT_RETRIEVAL])
    missing = sum(len(i.relevant) - len(qrels.get(i.id, [])) for i in items if i.relevant)
    return {
        "configs": rows,
        "per_quarter": by_quarter,
        "judged": len(judged),
        "relevant_not_indexed": missing,
        "slices": slice_rows(judged, per_query, public),
    }


def run_held_out(
    settings: Settings,
    options: Options,
    retriever: Retriever,
) -> dict[str, Any] | None:
    """The held-out retrieval split (`evals.held_out_retrieval`) where its notes are indexed:
    on the suite's own index when it holds the public notes, else on an index of the bundled
    corpus and `options.held_out_notes` (None: neither, nothing measured)."""
    notes = options.public_notes or options.held_out_notes
    if notes is None:
        return None
    if options.public_notes is None:
        index = index_settings(settings, notes)
        options.progress.start("held-out retrieval index", 1)
        ensure_index(index, notes)
        options.progress.advance()
        retriever = Retriever.from_settings(index)
    options.progress.start("held-out retrieval", 1)
    report = held_out_retrieval(retriever)
    options.progress.advance()
    return report


def slice_rows(
    items: list[EvalItem], per_query: dict[str, dict[str, dict[str, float]]], public: set[str]
) -> list[dict[str, Any]]:
    """Each configuration on the whole set and on the public slice (items a public-notes file
    answers), over all items, the dev split and the test split.

    A small slice can hide behind the whole set's mean, so it is measured on its own; ranking
    settings are fitted on dev (bench/ranking.py), so only the test rows judge them."""
    slices = {"whole": items, "public": [i for i in items if public & set(i.relevant)]}
    rows = []
    for config, scores in per_query.items():
        for slice_name, members in slices.items():
            for split in ("all", "dev", "test"):
                chosen = [scores[i.id] for i in members if split in ("all", i.split)]
                if chosen:
                    rows.append(
                        {
                            "config": config,
                            "slice": slice_name,
                            "split": split,
                            "items": len(chosen),
                            **m.mean_scores(chosen),
                        }
                    )
    return rows


def slice_metric(
    rows: list[dict[str, Any]], config: str, slice_name: str, split: str, metric: str
) -> float | None:
    """One number from `slice_rows` (None: that slice had no items, e.g. no public notes)."""
    return next(
        (
            r[metric]
            for r in rows
            if (r["config"], r["slice"], r["split"]) == (config, slice_name, split)
        ),
        None,
    )


def _by_quarter(
    items: list[EvalItem], scores: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for item in items:
        if item.id in scores:
            groups[item.quarter].append(scores[item.id])
    return {q: m.mean_scores(rows) for q, rows in sorted(groups.items())}


# -- grounding (no model needed) ------------------------------------------------------------------


def run_grounding(items: list[EvalItem], tutor: Tutor, progress: Progress) -> dict[str, Any]:
    """Would the tutor answer or decline? Plus the cut-off re-calibrated on the dev split."""
    progress.start("grounding", len(items))
    decisions, rows = [], []
    for item in items:
        prepared = tutor.prepare(retrieval_query(item), item.week)
        decisions.append(not prepared.grounded)
        passages = prepared.passages
        decided_by_similarity = not prepared.direct and not (prepared.refusal and not passages)
        best = max((p.similarity or 0.0 for p in passages), default=0.0)
        future = m.cites_future_weeks([p.weeks for p in passages], item.week)
        rows.append((item, best, decided_by_similarity, future))
        progress.advance()
    refusals = m.refusal_scores([i.expect for i in items], decisions)
    return {
        "refusal": refusals.__dict__,
        "context_future_weeks": round(sum(r[3] for r in rows) / len(rows), 4),
        "calibration": _calibrate([(i, s) for i, s, by_sim, _ in rows if by_sim]),
        "declined": {i.id: d for i, d in zip(items, decisions, strict=True)},
    }


def _calibrate(scored: list[tuple[EvalItem, float]]) -> dict[str, Any]:
    """Fit the cut-off on dev items, report it and the shipped one on test items."""

    def split(name: str, expect: str) -> list[float]:
        return [s for i, s in scored if i.split == name and i.expect == expect]

    dev_in, dev_out = split("dev", "answer"), split("dev", "decline")
    test_in, test_out = split("test", "answer"), split("test", "decline")
    if not (dev_in and dev_out and test_in and test_out):
        return {"note": "too few items on each side of the cut-off to calibrate"}
    fitted, dev_balanced = m.best_threshold(dev_in, dev_out)

    def on_test(cut: float) -> dict[str, float]:
        answered = sum(s >= cut for s in test_in) / len(test_in)
        declined = sum(s < cut for s in test_out) / len(test_out)
        return {
            "answered_in_scope": round(answered, 4),
            "declined_out_of_scope": round(declined, 4),
            "balanced_accuracy": round((answered + declined) / 2, 4),
        }

    return {
        "shipped": MIN_SIMILARITY,
        "fitted_on_dev": fitted,
        "dev_balanced_accuracy": round(dev_balanced, 4),
        "test_at_shipped": on_test(MIN_SIMILARITY),
        "test_at_fitted": on_test(fitted),
        "items": {"dev": [len(dev_in), len(dev_out)], "test": [len(test_in), len(test_out)]},
    }


# -- answers (the model speaks) -------------------------------------------------------------------


@dataclass
class Generated:
    """One scored answer as the learner got it, with what the tutor saw and how long it took."""

    answer: Answer
    streamed: str  # the token events joined: what the learner watched arrive
    earlier: str  # a follow-up's earlier answer in the same conversation ("" otherwise)
    context: list[str]  # the passages' full text, numbered from 1
    weeks: list[list[int]]  # each passage's week tags
    latency_ms: float
    first_token_ms: float | None

    @property
    def raw(self) -> str:
        """The model's own words before the check ("" when the sources wrote the answer)."""
        return self.answer.raw


@dataclass
class Scored:
    item: EvalItem
    generated: Generated
    scores: dict[str, float | bool | str | None]


def answer_once(tutor: Tutor, item: EvalItem, memory: Memory) -> Generated:
    """Ask like a learner (the first question of a pair first, in one conversation kept in
    `memory`) and time the scored answer."""
    earlier = tutor.ask(item.question, item.week, memory=memory) if item.followup else None
    started = time.perf_counter()
    prepared = tutor.prepare(
        item.asked,
        item.week,
        conversation_id=earlier.conversation_id if earlier else None,
        memory=memory,
    )
    streamed, first, answer = [], None, None
    for event, data in tutor.respond(prepared):
        if event == "token":
            first = first or (time.perf_counter() - started) * 1000
            streamed.append(data)
        elif event == "answer":
            answer = data
    assert answer is not None  # respond always ends with the answer
    return Generated(
        answer,
        "".join(streamed),
        earlier.answer if earlier else "",
        [p.text for p in prepared.passages],
        [list(p.weeks) for p in prepared.passages],
        (time.perf_counter() - started) * 1000,
        first,
    )


# The lines the tutor says in its own words, not the notes' ("{ask}" stands for any words).
TUTOR_LINES = re.compile(
    "|".join(
        re.escape(prompt(name).template).replace(re.escape("{ask}"), ".*")
        for name in ("nothing_new", "socratic_question", "ask_not_covered")
    )
)


def score_answer(
    item: EvalItem, g: Generated, similarity: m.Similarity, embed: Callable[[list[str]], np.ndarray]
) -> dict[str, float | bool | str | None]:
    wants_answer = item.expect == "answer" and bool(item.key_points)
    answer, raw, context, weeks = g.answer, g.raw, g.context, g.weeks
    text = answer.answer
    # What the answer claims: the tutor's own lines ("nothing more on this…") claim nothing.
    claims = TUTOR_LINES.sub("", text).strip()
    numbers = [c.n for c in answer.citations]
    cited = [
        i for i in (_passage_of(c, answer, context) for c in answer.citations) if i is not None
    ]
    cited_weeks = [weeks[i] for i in cited]
    recall = (
        m.key_point_recall(text, item.key_points, similarity)
        if wants_answer and answer.grounded
        else (0.0 if wants_answer else None)
    )
    # the plan writer quotes no passage: its answers have no such ceiling
    ceiling = (
        m.ceiling(context, item.key_points, item.reference, similarity)
        if wants_answer and answer.grounded and answer.writer != "plan"
        else None
    )
    return {
        "declined": not answer.grounded,
        "key_point_recall": recall,
        "answer_precision": m.answer_precision(text, item.key_points, item.reference, similarity)
        if wants_answer and answer.grounded
        else None,
        "lead": m.leads_with_a_key_point(text, item.key_points, item.reference, similarity)
        if wants_answer and answer.grounded
        else None,
        "unasked_questions": m.unasked_questions(text, item.asked, similarity)
        if answer.grounded and answer.writer != "plan"
        else None,
        # a several-ask question: the share of its asks answered; an ask for an example:
        # whether the notes' worked example is in the answer (half its own numbers and terms)
        "parts_covered": m.parts_covered(text, item.parts, similarity)
        if item.parts and answer.grounded
        else (0.0 if item.parts else None),
        "example_given": recall >= m.PART_COVERED
        if item.kind == "example" and recall is not None
        else None,
        "followup_key_point_recall": recall if item.kind == "followup" else None,
        "key_point_recall_held": ceiling.held if ceiling else None,
        "key_point_recall_selectable": ceiling.selectable if ceiling else None,
        "lead_possible": ceiling.lead_possible if ceiling else None,
        "key_point_recall_raw": m.key_point_recall(raw, item.key_points, similarity)
        if wants_answer and raw
        else None,
        "faithfulness": m.faithfulness(claims, [context[i] for i in cited] or context)
        if answer.grounded and claims
        else None,
        "faithfulness_raw": m.faithfulness(raw, context) if raw else None,
        "citation_validity": m.citation_validity(text, len(numbers)) if answer.grounded else None,
        "citation_validity_raw": m.citation_validity(raw, len(context)) if raw else None,
        "cites_raw": m.has_markers(raw) if raw else None,
        "citation_precision": m.citation_precision(
            [c.source for c in answer.citations], item.relevant
        ),
        "context_hit": any(r["source"] in item.relevant for r in answer.retrieved)
        if item.relevant and answer.grounded
        else None,
        "week_leakage": m.cites_future_weeks(cited_weeks, item.week),
        "canary_leak": m.leaked(text, item.must_not_contain) if item.must_not_contain else None,
        "repeated_sentence": m.repeats_a_sentence(text),
        "dangling_markers": m.dangling_markers(g.streamed, numbers),
        "duplicate_citations": m.duplicate_citations(numbers),
        "streamed_mismatch": g.streamed != text,
        "followup_novel": m.adds_something(text, g.earlier)
        if item.followup and answer.grounded and g.earlier
        else None,
        "followup_hit@3": any(r["source"] in item.relevant for r in answer.retrieved[:3])
        if item.followup and item.relevant
        else None,
        "wrong_claim": m.states_wrong_claim(text, item.must_not, embed) if item.must_not else None,
    }


def _shows(snippet: str, passage: str) -> bool:
    """Is every window of a card's excerpt a piece of this passage's text?"""
    text = " ".join(readable_text(passage).split())
    windows = snippet.removeprefix("… ").removesuffix(" …").split(WINDOW)
    return all(" ".join(w.removesuffix(" …").split()) in text for w in windows)


def _passage_of(citation: Citation, answer: Answer, context: list[str]) -> int | None:
    """The retrieval rank (0-based) of a cited passage (a source and heading can have several
    chunks: the card's excerpt tells them apart)."""
    return next(
        (
            i
            for i, (r, text) in enumerate(zip(answer.retrieved, context, strict=True))
            if (r["source"], r["heading"]) == (citation.source, citation.heading)
            and _shows(citation.snippet, text)
        ),
        None,
    )


def run_answers(
    items: list[EvalItem],
    tutor: Tutor,
    similarity: m.Similarity,
    judge: LLMJudge | None,
    progress: Progress,
) -> list[Scored]:
    progress.start(f"answers ({model_label(tutor.settings)})", len(items))
    # Load the models first: latency is per answer, not start-up. But forget the sentences
    # the grounding pass embedded: each answer starts as on a new server, warmed only by the
    # answers before it (passages shared between questions), as a running server is.
    tutor.retriever.embedder.embed(["warm up"])
    tutor.retriever.embedder.forget()
    if tutor.settings.resolved_answer_writer == "model":
        tutor.model.invoke("Hi", max_tokens=1)
    results = []
    with throwaway_memory() as memory:
        for item in items:
            generated = answer_once(tutor, item, memory)
            scores = score_answer(item, generated, similarity, tutor.retriever.embedder.embed)
            if judge and generated.answer.grounded:
                text = generated.answer.answer
                faith = judge.faithfulness(text, generated.context)
                relevancy = judge.relevancy(item.asked, text)
                scores |= {
                    "judge_faithfulness": faith.score,
                    "judge_relevancy": relevancy.score,
                    "judge_failures": (faith.score is None) + (relevancy.score is None),
                    "judge_errors": "; ".join(e for e in (faith.error, relevancy.error) if e),
                }
            results.append(Scored(item, generated, scores))
            progress.advance()
    return results


def summarize_answers(results: list[Scored]) -> dict[str, dict[str, float | None]]:
    """Two rows from one set of generations: the tutor's answers, and the model's raw words."""

    def avg(key: str) -> float | None:
        value = m.mean(_number(r.scores.get(key)) for r in results)
        return None if value is None else round(value, 4)

    refusals = m.refusal_scores(
        [r.item.expect for r in results], [bool(r.scores["declined"]) for r in results]
    )
    latencies = [r.generated.latency_ms for r in results]
    composed = [r.generated for r in results if r.generated.answer.writer in ("sources", "model")]
    firsts = [g.first_token_ms for g in composed if g.first_token_ms is not None]
    modelled = [g for g in composed if g.answer.model_tokens]

    def count(key: str) -> int:
        return int(sum(float(r.scores.get(key) or 0) for r in results))

    checked = {
        "key_point_recall": avg("key_point_recall"),
        "answer_precision": avg("answer_precision"),
        "lead": avg("lead"),
        "answers_with_unasked_questions": sum(
            bool(r.scores.get("unasked_questions")) for r in results
        ),
        "faithfulness": avg("faithfulness"),
        "citation_validity": avg("citation_validity"),
        "citation_precision": avg("citation_precision"),
        "context_hit": avg("context_hit"),
        "refusal_accuracy": round(refusals.accuracy, 4),
        "week_leakage": avg("week_leakage"),
        "canary_leaks": sum(bool(r.scores.get("canary_leak")) for r in results),
        "latency_p50_ms": round(m.percentile(latencies, 50)),
        "latency_p95_ms": round(m.percentile(latencies, 95)),
        "first_token_p50_ms": round(m.percentile(firsts, 50)) if firsts else None,
        "tokens_mean": round(sum(g.answer.model_tokens for g in modelled) / len(modelled), 1)
        if modelled
        else None,
        "answers_repeating": count("repeated_sentence"),
        "dangling_markers": count("dangling_markers"),
        "duplicate_citations": count("duplicate_citations"),
        "streamed_mismatch": count("streamed_mismatch"),
        "multipart_coverage": avg("parts_covered"),
        "example_asks_answered": avg("example_given"),
        "followup_key_point_recall": avg("followup_key_point_recall"),
        "followup_novelty": avg("followup_novel"),
        "followup_hit@3": avg("followup_hit@3"),
        "wrong_claims": count("wrong_claim"),
        # what the passages allowed (evals.metrics.ceiling): retrieval's loss is 1 - held,
        # selection's is selectable - key_point_recall and lead_possible - lead
        "key_point_recall_held": avg("key_point_recall_held"),
        "key_point_recall_selectable": avg("key_point_recall_selectable"),
        "lead_possible": avg("lead_possible"),
    }
    if any("judge_faithfulness" in r.scores for r in results):
        checked |= {
            "judge_faithfulness": avg("judge_faithfulness"),
            "judge_relevancy": avg("judge_relevancy"),
            "judge_failures": sum(int(r.scores.get("judge_failures") or 0) for r in results),
        }
    raw = {
        "key_point_recall": avg("key_point_recall_raw"),
        "faithfulness": avg("faithfulness_raw"),
        "citation_validity": avg("citation_validity_raw"),
        "answers_citing": avg("cites_raw"),
    }
    return {"checked": checked, "raw": raw}


def _number(value: float | bool | str | None) -> float | None:
    """A score as a number; None for none, and for the text some rows carry (judge errors)."""
    return None if value is None or isinstance(value, str) else float(value)


# -- the whole run --------------------------------------------------------------------------------

# Other ways to answer, each a second pass over the same questions (--ablations): the local
# model writing its own prose (checked sentence by sentence) instead of the sources' sentences.
ANSWER_ABLATIONS: dict[str, dict[str, Any]] = {
    "local model writes": {"answer_writer": "model"},
}


def answer_models(settings: Settings, ablations: bool = False) -> dict[str, Settings]:
    """The local model always; the API model when one is configured; ablations when asked."""
    local = settings.model_copy(update={"llm_provider": "local"})
    models = {"local": local}
    if settings.openai_base_url and settings.openai_model:
        models["api"] = settings.model_copy(update={"llm_provider": "openai"})
    if ablations:
        models |= {
            name: local.model_copy(update=change) for name, change in ANSWER_ABLATIONS.items()
        }
    return models


def run(settings: Settings, options: Options) -> dict[str, Any]:
    """Everything the suite measures, as the report's data (see `evals.report`)."""
    started = time.perf_counter()
    items = select(
        load_dataset(options.datasets) if options.datasets else load_dataset(), options.limit
    )
    index = index_settings(settings, options.public_notes)
    embedder = Embedder(settings.embedding_model, settings.encoder_cache_dir)
    options.progress.start("index", 1)
    ensure_index(index, options.public_notes)
    options.progress.advance()
    retriever = Retriever.from_settings(index)
    everything = retriever.store.all(include=["documents", "metadatas"])
    chunks_by_source: dict[str, list[str]] = defaultdict(list)
    public: set[str] = set()
    for text, meta in zip(everything["documents"], everything["metadatas"], strict=True):
        chunks_by_source[meta["source"]].append(text)
        if meta.get("kind") == "public":
            public.add(meta["source"])
    indexed = set(chunks_by_source)
    retrieval = run_retrieval(items, retriever, indexed, public, options.progress)
    held_out = run_held_out(settings, options, retriever)
    grounding = run_grounding(items, Tutor(index, retriever), options.progress)
    grounding["near_misses"] = near_miss_scores(Tutor(index, retriever))

    configs = [{"name": name, "metrics": row} for name, row in retrieval["configs"].items()]
    product = retrieval["configs"].get(PRODUCT_RETRIEVAL, {})
    headline: dict[str, float | None] = {
        "retrieval_hit@5": product.get("hit_rate@5"),
        "retrieval_mrr@10": product.get("mrr@10"),
        "retrieval_ndcg@10": product.get("ndcg@10"),
        "retrieval_public_test_mrr@10": slice_metric(
            retrieval["slices"], PRODUCT_RETRIEVAL, "public", "test", "mrr@10"
        ),
        "refusal_accuracy": round(grounding["refusal"]["accuracy"], 4),
        "context_future_weeks": grounding["context_future_weeks"],
        "near_miss_probes_declined": grounding["near_misses"]["probes_declined"],
        "near_miss_controls_answered": grounding["near_misses"]["controls_answered"],
    }
    per_quarter = {
        q: {f"retrieval_{k}": v for k, v in row.items()}
        for q, row in retrieval["per_quarter"].items()
    }
    report: dict[str, Any] = {"retrieval": retrieval, "grounding": grounding}
    if held_out:
        report["held_out_retrieval"] = held_out
        headline |= held_out_headline(held_out)
        configs += [
            {"name": f"held-out retrieval: {name}", "metrics": row}
            for name, row in held_out["configs"].items()
        ]
    report["turns"] = turn_accuracy()
    headline |= {f"turns_{k}_accuracy": v["accuracy"] for k, v in report["turns"].items()}
    options.progress.start("quizzes" + (" (the model writes some)" if options.llm_quiz else ""), 1)
    writer = question_writer(index) if options.llm_quiz else None
    report["quiz"] = quiz_quality(
        chunks_by_source,
        writer=writer,
        embedder=embedder,
        weeks=quiz_weeks(options.limit),
        search=lambda query, week: [(h.text, h.week) for h in retriever.search(query, week=week)],
    )
    options.progress.advance()
    headline |= {f"quiz_{k}": v for k, v in report["quiz"]["overall"].items()}

    latency: list[float] = []
    worst: list[dict[str, Any]] = []
    judge = LLMJudge.from_settings(settings) if options.suite == "full" else None
    if options.suite == "full":
        similarity = _similarity(embedder)
        report["answers"] = {}
        for name, model_settings in answer_models(index, options.ablations).items():
            tutor = Tutor(model_settings, retriever)
            results = run_answers(items, tutor, similarity, judge, options.progress)
            rows = summarize_answers(results)
            report["answers"][name] = {
                "model": model_label(model_settings),
                **rows,
                "by_kind": _answer_kinds(results),
                "items": [_item_row(r) for r in results],
            }
            held_back = summarize_answers([r for r in results if r.item.split == "test"])
            report["answers"][name]["test_split"] = held_back["checked"]
            configs.append({"name": f"answers: {name}", "metrics": rows["checked"]})
            configs.append(
                {"name": f"answers: {name}, test split", "metrics": held_back["checked"]}
            )
            configs.append({"name": f"answers: {name}, no post-check", "metrics": rows["raw"]})
            if name == "local":
                headline |= {f"answer_{k}": v for k, v in rows["checked"].items()}
                latency = [round(r.generated.latency_ms, 1) for r in results]
                worst = _worst(results)
                for quarter, row in _answer_quarters(results).items():
                    per_quarter.setdefault(quarter, {}).update(row)

    report |= {
        "suite": options.suite,
        "headline": headline,
        "configs": configs,
        "per_quarter": per_quarter,
        "latency_ms": latency,
        "worst": worst,
        "environment": {
            "model": model_label(settings.model_copy(update={"llm_provider": "local"})),
            "judge": judge.label if judge else "offline (word support + embedding similarity)",
            "index": str(index.data_dir),
            "index_chunks": retriever.store.count(),
            "items": len(items),
            "items_by_kind": dict(Counter(i.kind for i in items)),
            "public_notes": str(options.public_notes) if options.public_notes else None,
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return report


def _similarity(embedder: Embedder) -> m.Similarity:
    return lambda a, b: embedder.embed(a) @ embedder.embed(b).T


def _item_row(r: Scored) -> dict[str, Any]:
    g = r.generated
    return {
        "id": r.item.id,
        "kind": r.item.kind,
        "week": r.item.week,
        "question": r.item.asked,
        "answer": g.answer.answer,
        "grounded": g.answer.grounded,
        "citations": [c.source for c in g.answer.citations],
        "latency_ms": round(g.latency_ms, 1),
        "tokens": g.answer.model_tokens,
        **r.scores,
    }


def _worst(results: list[Scored], n: int = 10) -> list[dict[str, Any]]:
    """The answers that missed most of what they should say, with the context they had."""
    scored = [r for r in results if r.scores["key_point_recall"] is not None]
    scored.sort(key=lambda r: (r.scores["key_point_recall"], r.scores["faithfulness"] or 0.0))
    return [
        {
            "id": r.item.id,
            "question": r.item.asked,
            "week": r.item.week,
            "answer": r.generated.answer.answer,
            "score": r.scores["key_point_recall"],
            "key_points": r.item.key_points,
            "context": [
                {"source": c["source"], "heading": c["heading"], "text": text[:240]}
                for c, text in zip(r.generated.answer.retrieved, r.generated.context)
            ],
        }
        for r in scored[:n]
    ]


def _answer_kinds(results: list[Scored]) -> dict[str, dict[str, float | None]]:
    """Follow-ups and concept questions fail differently; see each kind on its own."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    for r in results:
        groups[r.item.kind].append(r)
    return {
        kind: {
            key: m.mean(_number(r.scores.get(key)) for r in rows)
            for key in (
                "key_point_recall",
                "answer_precision",
                "lead",
                "context_hit",
                "declined",
                "faithfulness",
            )
        }
        for kind, rows in groups.items()
    }


def _answer_quarters(results: list[Scored]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[float]] = defaultdict(list)
    for r in results:
        if r.scores["key_point_recall"] is not None:
            groups[r.item.quarter].append(float(r.scores["key_point_recall"]))
    return {q: {"answer_key_point_recall": round(sum(v) / len(v), 4)} for q, v in groups.items()}
