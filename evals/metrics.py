"""Eval metrics: pure functions from what the tutor returned to numbers.

IR metrics come from trec_eval (`pytrec_eval`, the reference implementation, not hand-rolled). Answer metrics are
deterministic and offline: they use word overlap (the same `support` the tutor uses) and
embedding similarity, passed in as a function so these stay pure and testable.

Known blind spots of the offline scorers, so nobody over-reads them:
- key-point recall counts a key point as covered when its words or its meaning appear; an
  answer that *negates* a key point in the same words still scores, and a correct paraphrase in
  very different words can be missed.
- faithfulness is lexical support by the cited passage; it cannot tell a supported sentence
  that draws a wrong conclusion from the right words.
- citation precision trusts the golden `relevant` lists; a relevant source they omit counts as
  a miss.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from app.answering.citations import markers
from app.answering.citations import strip_markers
from app.answering.citations import support
from app.answering.compose import PITFALL_LEAD
from app.answering.compose import said_form
from app.answering.passages import quotable_units
from app.text import content_words
from app.text import split_sentences

RETRIEVAL_METRICS = ("hit_rate@1", "hit_rate@5", "mrr@10", "ndcg@10")
KEY_POINT_WORDS = 0.6  # share of a key point's content words that must appear in the answer...
KEY_POINT_MEANING = 0.6  # ...or the cosine of its closest answer sentence
SUPPORTED = 0.5  # the tutor's own support cut-off (app.answering.citations.check_answer)
Similarity = Callable[[list[str], list[str]], np.ndarray]  # (a, b) -> |a| x |b| cosines


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (inclusive method), exact for one value."""
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# -- retrieval ---------------------------------------------------------------------------------


def ranked_sources(sources: Iterable[str]) -> list[str]:
    """Chunk-level results -> the sources in order of their first appearance."""
    seen: dict[str, None] = {}
    for source in sources:
        seen.setdefault(source, None)
    return list(seen)


# Our names for the IR metrics and trec_eval's measure for each. Every one of them looks at the
# first ten results at most, so runs are cut at ten and trec_eval's reciprocal rank is MRR@10.
_TREC_MEASURES = {  # ours: (what trec_eval is asked for, the key it answers under)
    "hit_rate@1": ("success.1", "success_1"),
    "hit_rate@5": ("success.5", "success_5"),
    "mrr@10": ("recip_rank", "recip_rank"),
    "ndcg@10": ("ndcg_cut.10", "ndcg_cut_10"),
}
_CUTOFF = 10


def retrieval_scores(
    qrels: dict[str, list[str]],
    rankings: dict[str, list[str]],
    metrics: Sequence[str] = RETRIEVAL_METRICS,
) -> dict[str, dict[str, float]]:
    """Per query, per metric: how well `rankings` (source ids, best first) find `qrels`.

    Metrics are named as in `RETRIEVAL_METRICS`; binary relevance. Queries without relevant
    sources are left out (they have nothing to find). The figures are trec_eval's own
    (`pytrec_eval`): the reference implementation that TREC and IR papers report, in C, so a
    process pays nothing to start it."""
    import pytrec_eval

    unknown = [name for name in metrics if name not in _TREC_MEASURES]
    if unknown:
        raise ValueError(f"unknown retrieval metric(s) {unknown}; known: {list(_TREC_MEASURES)}")
    judged = {q: rel for q, rel in qrels.items() if rel}
    if not judged:
        return {}
    evaluator = pytrec_eval.RelevanceEvaluator(
        {q: dict.fromkeys(rel, 1) for q, rel in judged.items()},
        {_TREC_MEASURES[name][0] for name in metrics},
    )
    run = {
        q: {s: 1.0 / rank for rank, s in enumerate(rankings.get(q, [])[:_CUTOFF], 1)}
        for q in judged
    }
    scores = evaluator.evaluate(run)
    return {
        # trec_eval leaves out a query with nothing retrieved: it found nothing, so 0
        q: {name: float(scores.get(q, {}).get(_TREC_MEASURES[name][1], 0.0)) for name in metrics}
        for q in judged
    }


def mean_scores(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    """Per metric, the mean over rows of per-query scores (rounded to 4 places; {} for none)."""
    rows = list(rows)
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]} if rows else {}


# -- answers -----------------------------------------------------------------------------------


def _stem(words: set[str]) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words}


def key_point_covered(key_point: str, answer: str, similarity: Similarity) -> bool:
    """By words (most of the key point's content words appear) or by meaning."""
    wanted = _stem(content_words(key_point))
    if wanted and len(wanted & _stem(content_words(answer))) / len(wanted) >= KEY_POINT_WORDS:
        return True
    sentences = [strip_markers(s) for s in split_sentences(answer)]
    if not sentences:
        return False
    return float(similarity([key_point], sentences).max()) >= KEY_POINT_MEANING


def key_point_recall(answer: str, key_points: list[str], similarity: Similarity) -> float:
    return sum(key_point_covered(k, answer, similarity) for k in key_points) / len(key_points)


# What an answer says that nobody asked: read beside key-point recall, which padding raises.


def is_on_point(
    sentence: str, key_points: list[str], reference: str, similarity: Similarity
) -> bool:
    """Does one answer sentence state a key point, or say what the reference answer says?"""
    if any(key_point_covered(k, sentence, similarity) for k in key_points):
        return True
    return bool(reference) and support(sentence, reference) >= SUPPORTED


def _stated(answer: str) -> list[str]:
    """The answer's sentences that say something (markers gone, words left)."""
    return [strip_markers(s) for s in split_sentences(answer) if content_words(strip_markers(s))]


def answer_precision(
    answer: str, key_points: list[str], reference: str, similarity: Similarity
) -> float | None:
    """Share of the answer's sentences that state a key point or are supported by the
    reference answer (None: nothing said). An answer padded with unasked lines scores low."""
    sentences = _stated(answer)
    if not sentences:
        return None
    return sum(is_on_point(s, key_points, reference, similarity) for s in sentences) / len(
        sentences
    )


def leads_with_a_key_point(
    answer: str, key_points: list[str], reference: str, similarity: Similarity
) -> bool | None:
    """Does the first sentence answer (state a key point, or what the reference says)?"""
    sentences = _stated(answer)
    return is_on_point(sentences[0], key_points, reference, similarity) if sentences else None


# What the passages allowed: read beside recall, precision and lead, they say whether an answer
# lost a point in retrieval (its passages never held it) or in selection (they did, and the
# composer quoted something else).


@dataclass(frozen=True)
class Ceiling:
    """What an answer composed from `passages` could have scored: `held` the key-point recall
    of the passages' whole text; `selectable` that of an oracle quoting exactly the passages'
    on-point units (what `is_on_point` accepts, the test precision and lead apply), so its
    precision is 1 by construction; `lead_possible` whether any unit was on point at all."""

    held: float
    selectable: float
    lead_possible: bool


def passage_units(passages: list[str]) -> dict[str, int]:
    """The passages' quotable units that say something (markers gone), each once, with the
    rank of the first passage holding it (0: retrieval's best): what the composer chooses from."""
    ranked: dict[str, int] = {}
    for rank, passage in enumerate(passages):
        for unit in quotable_units(passage):
            text = strip_markers(unit.text)
            if content_words(text):
                ranked.setdefault(text, rank)
    return ranked


def ceiling(
    passages: list[str], key_points: list[str], reference: str, similarity: Similarity
) -> Ceiling:
    """The ceiling of one answer's scores over the passages the composer was given. Uses the
    item's key points, so it measures and never steers: nothing in the product reads it."""
    units = passage_units(passages)
    on_point = [u for u in units if is_on_point(u, key_points, reference, similarity)]
    return Ceiling(
        held=key_point_recall(" ".join(passages), key_points, similarity) if passages else 0.0,
        selectable=key_point_recall(" ".join(on_point), key_points, similarity)
        if on_point
        else 0.0,
        lead_possible=bool(on_point),
    )


PART_COVERED = 0.5  # share of one ask's key points an answer must state to answer that ask


def parts_covered(answer: str, parts: list[list[str]], similarity: Similarity) -> float:
    """Share of a several-ask question's asks the answer answers: an ask counts when the
    answer states at least half of its key points. An answer strong on one ask and silent on
    the other scores 0.5, however many of the first ask's points it states."""
    return sum(
        key_point_recall(answer, points, similarity) >= PART_COVERED for points in parts
    ) / len(parts)


PARAPHRASE = 0.7  # cosine at which a self-check's question asks what the learner asked


def unasked_questions(answer: str, asked: str, similarity: Similarity) -> int:
    """Questions the answer quotes (a self-check's "…? …") that do not ask what the learner
    asked: lines of a quiz, not an answer."""
    questions = [s for s in _stated(answer) if s.rstrip().endswith("?")]
    if not questions:
        return 0
    return int((similarity([asked], questions)[0] < PARAPHRASE).sum())


def faithfulness(answer: str, passages: list[str]) -> float | None:
    """Share of answer sentences supported by a passage they cite (uncited: by any passage).

    None when the answer has no sentences to judge."""
    sentences = [s for s in split_sentences(answer) if content_words(strip_markers(s))]
    if not sentences:
        return None
    supported = 0
    for sentence in sentences:
        cited = [n for n in markers(sentence) if 1 <= n <= len(passages)]
        pool = [passages[n - 1] for n in cited] or passages
        supported += any(support(sentence, p) >= SUPPORTED for p in pool)
    return supported / len(sentences)


def has_markers(answer: str) -> bool:
    """Does the answer cite anything at all? (Validity alone hides an answer that never cites.)"""
    return bool(markers(answer))


def citation_validity(answer: str, passages: int) -> float | None:
    """Share of `[n]` markers that point at one of the `passages` sources (None: no markers)."""
    found = markers(answer)
    if not found:
        return None
    return sum(1 <= n <= passages for n in found) / len(found)


def citation_precision(cited: list[str], relevant: list[str]) -> float | None:
    """Share of cited sources the golden set lists as relevant (None: nothing to judge)."""
    if not cited or not relevant:
        return None
    return sum(source in relevant for source in cited) / len(cited)


def cites_future_weeks(cited_weeks: list[list[int]], week: int) -> bool:
    """Does the answer cite material tagged only with weeks after the learner's?"""
    return any(weeks and min(weeks) > week for weeks in cited_weeks)


def leaked(answer: str, forbidden: list[str]) -> bool:
    """Did a canary word (from an injected instruction) make it into the answer?"""
    return any(re.search(rf"\b{re.escape(word)}\b", answer, re.IGNORECASE) for word in forbidden)


def repeats_a_sentence(answer: str) -> bool:
    """Does any sentence appear twice (case, markers and punctuation aside)?"""
    said = [said_form(s) for s in split_sentences(answer) if said_form(s)]
    return len(said) != len(set(said))


def dangling_markers(answer: str, citation_numbers: list[int]) -> int:
    """Markers in the text that name no listed citation."""
    listed = set(citation_numbers)
    return sum(n not in listed for n in markers(answer))


def duplicate_citations(citation_numbers: list[int]) -> bool:
    """Is a citation listed twice?"""
    return len(citation_numbers) != len(set(citation_numbers))


def adds_something(follow_up: str, earlier: str) -> bool:
    """Does a follow-up's answer say at least one cited sentence the earlier answer did not?
    (An uncited line, such as "the notes say nothing more", adds nothing.)"""
    before = {said_form(s) for s in split_sentences(earlier)}
    return any(said_form(s) not in before for s in split_sentences(follow_up) if markers(s))


def states_wrong_claim(
    answer: str, claims: list[str], embed: Callable[[list[str]], np.ndarray]
) -> bool:
    """Does the answer say any of `claims` (plausible wrong statements)? Judged with the tutor's
    own support test, answer as the source: meaning, words, numbers and negation must agree.

    Only what the answer asserts is the source: a question it quotes ("With d_model = 512 and
    8 heads, what is d_k per head?") asserts nothing, and a sentence it labels a mistake
    ("A common mistake: skipping bias correction…") says the claim is wrong."""
    from app.answering.support import check

    asserted = asserted_sentences(strip_markers(answer))
    return bool(asserted) and any(
        check(claim, [" ".join(asserted)], embed).supported for claim in claims
    )


def asserted_sentences(answer: str) -> list[str]:
    """The answer's sentences that state something as true: not questions, not pitfalls."""
    return [
        s
        for s in split_sentences(answer)
        if not s.rstrip().endswith("?") and not s.startswith(PITFALL_LEAD)
    ]


# -- summaries ---------------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that were judged (None: none were)."""
    judged = [v for v in values if v is not None]
    return sum(judged) / len(judged) if judged else None


@dataclass(frozen=True)
class Refusals:
    """Refusal accuracy: out-of-scope declined and in-scope answered."""

    declined_when_should: float | None
    answered_when_should: float | None
    accuracy: float


def refusal_scores(expected: list[str], declined: list[bool]) -> Refusals:
    pairs = list(zip(expected, declined, strict=True))
    should = [d for e, d in pairs if e == "decline"]
    answer = [not d for e, d in pairs if e == "answer"]
    correct = [(e == "decline") == d for e, d in pairs]
    return Refusals(
        declined_when_should=sum(should) / len(should) if should else None,
        answered_when_should=sum(answer) / len(answer) if answer else None,
        accuracy=sum(correct) / len(correct),
    )


def best_threshold(in_scope: list[float], out_of_scope: list[float]) -> tuple[float, float]:
    """The similarity cut-off that best separates the two groups (balanced accuracy).

    Candidates are midpoints between neighbouring observed scores; ties keep the lower cut-off
    (answering a covered question matters more than declining an uncovered one)."""
    scores = sorted(set(in_scope) | set(out_of_scope))
    candidates = [(a + b) / 2 for a, b in pairwise(scores)] or scores

    def balanced(cut: float) -> float:
        answered = sum(s >= cut for s in in_scope) / len(in_scope)
        declined = sum(s < cut for s in out_of_scope) / len(out_of_scope)
        return (answered + declined) / 2

    best = max(candidates, key=lambda c: (balanced(c), -c))
    return round(best, 3), balanced(best)
