"""Answers composed from the sources' own sentences: true to them by construction.

The packaged 135M model writes fluent sentences that are sometimes false, and no check on its
words can tell a true sentence from a false one made of the same words. So the default answer
is made of what retrieval found: the passages' quotable units (`app.answering.passages`), chosen for the
question by meaning (the embedding model) and words (idf-weighted overlap), kept apart from
each other by maximal marginal relevance (Carbonell & Goldstein, 1998), and ordered as an
answer reads: what it is, why or how, its formula, then an example.

A follow-up ("an example of that?") is scored against the joined question for its topic and
against the new ask for what it wants, and never repeats what the conversation has shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import Stemmer

from app.answering.asks import Ask
from app.answering.passages import Role
from app.answering.passages import Unit
from app.answering.passages import quotable_units
from app.text import content_words
from app.text import normalized
from app.text import split_sentences

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit-length rows

LEXICAL_WEIGHT = 0.25  # idf-weighted share of the question's words, beside the cosine
ASK_WEIGHT = 0.4  # a follow-up: its own ask against the joined question
RANK_PENALTY = 0.02  # per retrieval rank: ties go to the passage search ranked higher
# A passage from weeks the learner hasn't reached, or a plan entry ("Timed practice this week:
# 3 hours"): quoted only where it clearly says more.
DEMOTION = 0.1
MMR_LAMBDA = 0.75  # relevance against novelty when picking the next unit
DUPLICATE = 0.9  # cosine at which two units say the same thing
# A pitfall quoted alone reads as advice ("Dividing by d_k instead of sqrt(d_k)."): its label
# goes with it.
PITFALL_LEAD = "A common mistake: "
# A self-check pair ("Training loss falls while validation loss rises. What is happening?
# Overfitting.") is a line of a quiz: quoted only when its question asks what the learner asked
# (the cosine of the two questions, and most of the self-check's words in the learner's: MiniLM
# puts "What is Q-learning?" at 0.70 to "What is the Q-learning target at a terminal
# transition?", which asks something narrower; "What's the difference between using a pretrained
# ResNet as a feature extractor and fine-tuning it?" is at 0.67 to "What is the difference
# between feature extraction and fine-tuning?", which asks the same), never as filler on a
# nearby topic.
PARAPHRASE = 0.65
PARAPHRASE_WORDS = 0.5  # share of the self-check question's content words (stems)
# What an ask for it gets: an example ("show me", "an example?") or a pitfall ("what goes
# wrong?"). Elsewhere they are what a learner did not ask, quoted only where they answer about
# as well as the best unit ("What does model.eval() change?" is answered by a pitfall).
ON_REQUEST: frozenset[Role] = frozenset({"example", "pitfall", "formula"})
UNASKED_FLOOR = 0.85  # ...of the best unit's score
EXAMPLE_TOPIC = 0.7  # an example leads an ask for one when this close to the topic (cosine share)
# A sentence that points back at one before it ("breaks this symmetry"): it cannot lead.
_POINTS_BACK = re.compile(r"\b(this|these|those|such|the rest|the latter|the former)\s+\w+", re.I)
# A unit must score at least this share of the best unit: on the golden dev split 0.4 -> 0.6
# traded key points 0.576 -> 0.529 for precision 0.431 -> 0.528 (each answer says less that
# was not asked).
RELATIVE_FLOOR = 0.6
ABSOLUTE_FLOOR = 0.2  # ...and have at least this cosine with the question
# Words that ask for an example in so many words: then the notes' worked example answers.
EXAMPLE_ASK = re.compile(
    r"\b(examples?|instance|show me|illustrate|concrete|sample|walk me through|"
    r"work (me )?through|worked|toy|numeric(al)?|(with|plug in|plug) (\w+ )?numbers|"
    r"(compute|calculate|work out) (it|that|this|one)|for a (tiny|small))\b",
    re.I,
)
_INTENT: list[tuple[re.Pattern[str], Role, float]] = [
    (EXAMPLE_ASK, "example", 0.2),
    # A question with its own numbers ("a 32x32 image through a 5x5 conv", "50%, 20%…") or that
    # asks how many or how big wants a computation: the notes' worked case answers it.
    (
        re.compile(
            r"(?<![\w-])(?<!week )(?<!weeks )(?<!month )(?<!day )(?<!chapter )"
            r"\d+(?:[.,]\d+)?(?:%|x\d+)?(?![\w-])|\bhow (many|much|big|large|long)\b",
            re.I,
        ),
        "example",
        0.15,
    ),
    (re.compile(r"\b(formula|equation|math|compute|calculate)\b", re.I), "formula", 0.15),
    (
        re.compile(r"\b(mistakes?|pitfalls?|wrong|avoid|careful|bugs?|gotchas?|traps?)\b", re.I),
        "pitfall",
        0.1,
    ),
    (re.compile(r"\b(why|how come|reason|how does|how do)\b", re.I), "explanation", 0.08),
    (re.compile(r"^\W*(what (is|are|does)|define|definition|meaning)\b", re.I), "definition", 0.08),
]


@dataclass(frozen=True)
class Budget:
    """How much an answer may say: units and words."""

    units: int
    words: int


BUDGETS: dict[str, Budget] = {
    "explain": Budget(units=8, words=220),
    "socratic": Budget(units=2, words=70),
    "quick": Budget(units=2, words=60),
}


@dataclass(frozen=True)
class Quote:
    """One unit chosen for the answer, with the passage (0-based) it is quoted from."""

    text: str
    passage: int
    role: Role


_CITED = re.compile(r"\[\d+(?:,\s*\d+)*\]")


def said_form(sentence: str) -> str:
    """A sentence's identity for "said before": its words (`normalized`), markers gone."""
    return normalized(_CITED.sub(" ", sentence))


# Short names with a digit ("SM-2", "GPT-2", "L2", "F1") and numbers are words here, where
# content_words sees only fragments too short to count.
_NAMED = re.compile(r"\b[a-z]+-?\d+[a-z]*\b|\b\d+\b")  # ... and numbers ("month 14")


_STEMMER = Stemmer.Stemmer("english")  # Snowball: divide, divided, dividing -> divid
# Formulas say in symbols what questions say in words.
_SYMBOLS = {
    "\\sqrt": " square root ",
    "\\frac": " fraction ",
    "\\sum": " sum ",
    "\\exp": " exponential ",
    "\\log": " log ",
    "\\nabla": " gradient ",
}


def stems(text: str) -> set[str]:
    """The Snowball stems of a text's content words, and its short names ("sm2", "gpt2")."""
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    return set(_STEMMER.stemWords(sorted(content_words(text)))) | {
        m.replace("-", "") for m in _NAMED.findall(text.lower())
    }


def lexical_scores(question: str, units: list[str]) -> np.ndarray:
    """Idf-weighted share of the question's content words each unit contains (0..1).

    The idf is over the candidate units themselves, so a word every unit has weighs little and
    the rare word that names the topic weighs most."""
    wanted = stems(question)
    if not wanted or not units:
        return np.zeros(len(units))
    found = [stems(u) for u in units]
    idf = {w: math.log(1 + len(units) / (1 + sum(w in s for s in found))) for w in wanted}
    total = sum(idf.values()) or 1.0
    return np.array([sum(idf[w] for w in wanted & s) / total for s in found])


def intent_boosts(ask: str) -> dict[str, float]:
    """What the latest ask wants more of, by role ("an example of that?" -> examples)."""
    boosts: dict[str, float] = {}
    for pattern, role, boost in _INTENT:
        if pattern.search(ask):
            boosts[role] = max(boosts.get(role, 0.0), boost)
    return boosts


@dataclass(frozen=True)
class Composition:
    """The quotes that answer, and how well the material covers the question at all."""

    quotes: list[Quote]
    similarity: float  # the best unit's cosine with the question (units shown before included)
    shared_words: int  # the question's content words (stems) found in the passages
    question_words: int  # the question's content words
    quoted_words: int = 0  # of those, found in the chosen quotes or what they are about
    uncovered: tuple[str, ...] = ()  # the parts of a question the passages do not answer


def compose(
    question: str,
    passages: list[str],
    embed: Embed,
    ask: str = "",
    shown: Collection[str] = (),
    budget: Budget = BUDGETS["explain"],
    demoted: Collection[int] = (),
    headings: Sequence[str] = (),
) -> Composition:
    """The quotes that answer `question`, in answer order.

    `passages` are best first; `ask` is the learner's latest words when `question` joins a
    follow-up to its topic; `shown` are sentences the conversation already showed: a unit
    that repeats any of them is left out (but still counts as evidence that the material
    covers the topic); `demoted` are the passages (indices) whose units need a clear lead
    (`DEMOTION`) to be chosen: from weeks the learner hasn't reached, or the plan's own entries;
    `headings` are the passages' heading paths (a chunk can start mid-section).
    """
    units: list[tuple[int, Unit]] = [
        (i, u)
        for i, text in enumerate(passages)
        for u in quotable_units(text, headings[i] if i < len(headings) else "")
    ]
    if not units:
        return Composition([], 0.0, 0, len(stems(question)))
    texts = [_said(u) for _, u in units]
    # What a unit is about (its heading and label) helps choose it: "Why divide by sqrt(d_k)"
    # names what the sentences under it explain without repeating it.
    about = [f"{u.context}: {text}" if u.context else text for (_, u), text in zip(units, texts)]
    ask = ask.strip()
    follow_up = bool(ask) and said_form(ask) != said_form(question)
    queries = [question, ask] if follow_up else [question]
    pairs = [k for k, (_, u) in enumerate(units) if u.asks]
    vectors = embed(queries + about + [units[k][1].asks for k in pairs])
    unit_vectors = vectors[len(queries) : len(queries) + len(units)]
    # What the learner's own words ask, against each self-check's question.
    paraphrases = vectors[len(queries) + len(units) :] @ vectors[: len(queries)].T
    learner = stems(" ".join(queries))
    checks = {k: stems(units[k][1].asks) for k in pairs}  # each self-check question's words
    unasked = {
        k
        for k, row in zip(pairs, paraphrases)
        if row.max() < PARAPHRASE or len(checks[k] & learner) < PARAPHRASE_WORDS * len(checks[k])
    }
    for k in set(pairs) - unasked:  # the learner asked it: the self-check's answer answers
        texts[k] = texts[k][len(units[k][1].asks) :].strip()
    similarity = unit_vectors @ vectors[0]
    relevance = (
        similarity
        if not follow_up
        else ((1 - ASK_WEIGHT) * similarity + ASK_WEIGHT * (unit_vectors @ vectors[1]))
    )
    boosts = intent_boosts(ask or question)
    example_asked = bool(EXAMPLE_ASK.search(ask or question))
    if example_asked:
        # A worked example is numbers ("$p = 0.5$, $h = (2, 4, 6, 8)$…") that say little of
        # their topic: it is as close to the question as the passage it works through.
        topic: dict[int, float] = {}
        for k, (i, _) in enumerate(units):
            topic[i] = max(topic.get(i, -math.inf), float(relevance[k]))
        relevance = np.array(
            [
                max(float(r), topic[i]) if u.role == "example" else float(r)
                for r, (i, u) in zip(relevance, units)
            ]
        )
    lexical = lexical_scores(f"{question} {ask}", about)
    scores = (
        relevance
        + LEXICAL_WEIGHT * lexical
        + np.array(
            [
                boosts.get(u.role, 0.0) - RANK_PENALTY * i - DEMOTION * (i in demoted)
                for i, u in units
            ]
        )
    )
    seen = {said_form(sentence) for said in shown for sentence in split_sentences(said)}
    fresh = [
        k
        for k in range(len(units))
        if k not in unasked and not any(said_form(s) in seen for s in split_sentences(texts[k]))
    ]
    best = max(max((float(scores[k]) for k in fresh), default=0.0), 0.0)
    unasked_role = [u.role in ON_REQUEST and u.role not in boosts or u.overview for _, u in units]
    eligible = [
        k
        for k in fresh
        if scores[k] >= best * (UNASKED_FLOOR if unasked_role[k] else RELATIVE_FLOOR)
        and max(similarity[k], relevance[k]) >= ABSOLUTE_FLOOR
    ]
    chosen = _maximal_marginal_relevance(
        eligible, scores, unit_vectors, [len(t.split()) for t in texts], budget
    )
    # The lead answers on its own: not an example or pitfall nobody asked for, and not a
    # sentence that points back at one it no longer follows ("Adding a position signal breaks
    # this symmetry.").
    leads = [
        k
        for k in chosen
        if not unasked_role[k] and not _POINTS_BACK.search(split_sentences(texts[k])[0])
    ]
    # An ask for an example is answered by the example: it leads where the notes hold one.
    # An example of the topic, not of the page's other idea: its closeness to the question (the
    # boost aside) must be near the best unit's.
    if example_asked:
        near = EXAMPLE_TOPIC * max(float(relevance[k]) for k in chosen) if chosen else 0.0
        leads = [
            k for k in leads if units[k][1].role == "example" and relevance[k] >= near
        ] or leads
    lead = max(leads or chosen, key=lambda k: float(scores[k]), default=None)
    quotes = [
        Quote(texts[k], units[k][0], units[k][1].role)
        for k in answer_order(chosen, [u for _, u in units], [i for i, _ in units], scores, lead)
    ]
    asked = stems(question)
    # What the quotes are about: their words and headings, and for a worked example asked for,
    # the passage it works through ("$\\beta=0.1$; chosen log-ratio 2…" under DPO).
    about_quotes = [f"{units[k][1].context} {texts[k]}" for k in chosen] + [
        passages[units[k][0]] for k in chosen if example_asked and units[k][1].role == "example"
    ]
    quoted = stems(" ".join(about_quotes))
    return Composition(
        quotes,
        float(similarity.max()),
        len(asked & stems(" ".join(passages))),
        len(asked),
        len(asked & quoted),
    )


def compose_asks(
    parts: Sequence[Ask],
    passages: list[str],
    embed: Embed,
    budget: Budget = BUDGETS["explain"],
    demoted: Collection[int] = (),
    headings: Sequence[str] = (),
) -> Composition:
    """`compose` for a question that asks several things (`app.answering.asks`): each part
    answered in turn from the same passages, with its share of the budget and without
    repeating what an earlier part quoted. A part the passages do not cover quotes nothing and
    is named in `uncovered`, so the answer can say so instead of padding it."""
    share = Budget(max(2, budget.units // len(parts)), max(budget.words // len(parts), 40))
    quotes: list[Quote] = []
    uncovered: list[str] = []
    parts_composed = []
    for part in parts:
        ask = part.words if part.search != part.words else ""
        composed = compose(
            part.search,
            passages,
            embed,
            ask=ask,
            shown=[q.text for q in quotes],
            budget=share,
            demoted=demoted,
            headings=headings,
        )
        parts_composed.append(composed)
        if covers(composed) and composed.quotes:
            quotes += composed.quotes
        else:
            uncovered.append(part.words)
    return Composition(
        quotes,
        max(c.similarity for c in parts_composed),
        sum(c.shared_words for c in parts_composed),
        sum(c.question_words for c in parts_composed),
        sum(c.quoted_words for c in parts_composed),
        tuple(uncovered) if quotes else (),
    )


def answer_order(
    chosen: list[int],
    units: Sequence[Unit],
    passages: Sequence[int],
    scores: np.ndarray,
    lead: int | None = None,
) -> list[int]:
    """`chosen` (indices into `units`) as an answer reads them: `lead` first (the unit that
    answers), then passage by passage, the one that holds the unit that answers best first (so
    the answer stays on what was asked, not the neighbouring idea), and within a passage in the
    source's own order, so that a sentence never comes before the premise it builds on ("This
    is why the gradients vanish." after what makes them small)."""
    best: dict[int, float] = {}
    for k in chosen:
        best[passages[k]] = max(best.get(passages[k], -math.inf), float(scores[k]))
    first = passages[lead] if lead is not None else None
    return sorted(
        chosen,
        key=lambda k: (
            k != lead,
            passages[k] != first,
            -best[passages[k]],
            passages[k],
            units[k].position,
        ),
    )


def _said(unit: Unit) -> str:
    if unit.role != "pitfall":
        return unit.text
    word = unit.text.split(maxsplit=1)[0]
    proper = word == "I" or len(word) > 1 and not word[1:].islower()  # "PCA", "GPT-2", "ReLU"
    return f"{PITFALL_LEAD}{unit.text if proper else unit.text[0].lower() + unit.text[1:]}"


def _maximal_marginal_relevance(
    candidates: list[int], scores: np.ndarray, vectors: np.ndarray, words: list[int], budget: Budget
) -> list[int]:
    chosen: list[int] = []
    used = 0
    pool = sorted(candidates, key=lambda k: -scores[k])
    while pool and len(chosen) < budget.units:

        def value(k: int) -> float:
            overlap = max((float(vectors[k] @ vectors[c]) for c in chosen), default=0.0)
            return MMR_LAMBDA * float(scores[k]) - (1 - MMR_LAMBDA) * overlap

        best = max(pool, key=value)
        pool.remove(best)
        if any(float(vectors[best] @ vectors[c]) >= DUPLICATE for c in chosen):
            continue
        if chosen and used + words[best] > budget.words:
            continue
        chosen.append(best)
        used += words[best]
    return chosen


# Whether the material covers a question. A passage that shares one rare word with an
# off-topic question ("a recipe for banana bread" and a banana detection dataset) can come
# close enough in meaning to pass a similarity cut-off, so closeness alone is not enough:
# the passages must also share two of the question's words (all of them when it has fewer), or
# a sentence must be very close in meaning. Calibrated on the golden set's 132 in-scope and 15
# out-of-scope questions and 10 off-topic questions that share a word with the notes.
# Then the quotes themselves must name the question's topic: passages on "SQL window
# functions" or "kube-proxy" that share words elsewhere ("running", "route") yield quotes
# about attention windows and routing layers, which name none of the question's words. Every
# in-scope golden question's quotes (or their headings: "Momentum") name at least one.
SHARED_WORDS = 2
CLOSE_MEANING = 0.5
QUOTED_WORDS = 1


def covers(composition: Composition) -> bool:
    """Does the material answer the question? Judged on the sentences that would answer it."""
    if not composition.similarity:
        return False
    if composition.quotes and composition.quoted_words < min(
        QUOTED_WORDS, composition.question_words
    ):
        return False
    wanted = min(SHARED_WORDS, composition.question_words)
    return composition.shared_words >= wanted or composition.similarity >= CLOSE_MEANING
