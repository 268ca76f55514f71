"""Week 13: an add-alpha (Laplace) smoothed bigram model and its perplexity.

Corpora are a few short sequences over the tokens "a".."d", with "." (vocab[0]) marking where
each sequence starts and ends; perplexity is tested on its own, with a drawn row-stochastic
matrix, so that a bug in one function does not show up as a failure of the other.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from app.checks.hints import Hint
from app.checks.properties import Check
from app.checks.properties import Diagnosis
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import array
from app.checks.properties import close
from app.checks.properties import matrices
from app.checks.properties import show
from app.checks.references import w13_bigram as ref

BOUNDARY = ref.BOUNDARY
TOKENS = ("a", "b", "c", "d")
ALPHAS = (1.0, 0.5, 0.1, 2.0)

Corpus = tuple[list[list[str]], list[str], float]  # corpus, vocab, alpha
Scored = tuple[np.ndarray, list[str], list[list[str]]]  # probs, vocab, sequences

SMOOTHING = Hint(
    "P(b | a) = (count(a, b) + alpha) / (count(a) + alpha * V), where count(a) is how often "
    "a is a context (the row sum of the counts) and V the vocabulary size.",
    13,
    "n-gram language model",
    "smoothing constant",
)
ALPHA_V = Hint(
    "Add alpha * V to each row's denominator: every one of the V entries of the row got "
    "alpha added to its count.",
    3,
    "Laplace smoothing",
    "Forgetting the $\\alpha V$",
)
BOUNDARIES = Hint(
    'Read each sequence as ["."] + sequence + ["."], so that "." -> first token and last '
    'token -> "." are counted too.',
    13,
    "n-gram language model",
    "Forgetting start/end tokens",
)
ROWS = Hint(
    "Row i is the distribution of the next token after vocab[i]: normalise each row.",
    13,
    "n-gram language model",
    "conditions on just the previous token",
)
MEAN_NLL = Hint(
    "Perplexity is exp of the mean negative log-probability over all N predicted tokens "
    "(each sequence's tokens and its closing '.'), not of their sum.",
    13,
    "Negative log-likelihood",
    "Averaging makes datasets",
)
PREDICTED = Hint(
    'Every token after the opening "." is predicted, the closing "." included: N is the '
    "sum of len(sequence) + 1.",
    13,
    "Negative log-likelihood",
    "number of predicted tokens",
)
UNIFORM = Hint(
    "Perplexity = exp(mean NLL); a uniform model over V tokens has NLL ln V per token.",
    13,
    "Negative log-likelihood",
    "uniform model over 27",
)


def _vocab(size: int) -> list[str]:
    return [BOUNDARY, *TOKENS[: size - 1]]


def _sequences(vocab: list[str]) -> st.SearchStrategy[list[list[str]]]:
    """1-3 sequences of 1-4 tokens (no "." inside a sequence)."""
    return st.lists(
        st.lists(st.sampled_from(vocab[1:]), min_size=1, max_size=4),
        min_size=1,
        max_size=3,
    )


@st.composite
def corpora(draw: st.DrawFn) -> Corpus:
    """A corpus of 1-3 sequences of 1-4 tokens, a vocabulary of 2-5 tokens ("." first, some
    perhaps unseen) and alpha."""
    vocab = _vocab(draw(st.integers(2, 5)))
    return draw(_sequences(vocab)), vocab, draw(st.sampled_from(ALPHAS))


@st.composite
def scored(draw: st.DrawFn, uniform: bool) -> Scored:
    """A bigram matrix (V, V) with rows summing to 1 (uniform, or entries drawn in steps of
    0.01 from 0.01 to 1, then normalised), its vocabulary and 1-3 sequences to score."""
    vocab = _vocab(draw(st.integers(2, 4)))
    size = len(vocab)
    if uniform:
        probs = np.full((size, size), 1 / size)
    else:
        weights = draw(matrices(st.just(size), st.just(size), 0.01, 1.0))
        probs = weights / weights.sum(axis=1, keepdims=True)
    return probs, vocab, draw(_sequences(vocab))


def describe_corpus(example: Corpus) -> str:
    corpus, vocab, alpha = example
    return f"corpus={corpus!r}, vocab={vocab!r}, alpha={alpha}"


def describe_scored(example: Scored) -> str:
    probs, vocab, sequences = example
    return f"probs={show(probs)}, vocab={vocab!r}, sequences={sequences!r}"


# What the common bugs return ---------------------------------------------------------------------


def _counts(corpus: list[list[str]], vocab: list[str], boundaries: bool) -> np.ndarray:
    index = {token: i for i, token in enumerate(vocab)}
    counts = np.zeros((len(vocab), len(vocab)))
    for sequence in corpus:
        padded = [BOUNDARY, *sequence, BOUNDARY] if boundaries else sequence
        for a, b in zip(padded, padded[1:]):
            counts[index[a], index[b]] += 1
    return counts


def _no_alpha_v(example: Corpus, got: np.ndarray) -> bool:
    """Denominator count(a) + alpha, or count(a) alone (inf on unseen contexts)."""
    corpus, vocab, alpha = example
    counts = _counts(corpus, vocab, True)
    row = counts.sum(axis=1, keepdims=True)
    return any(np.allclose(got, (counts + alpha) / d) for d in (row + alpha, row))


def _no_boundaries(example: Corpus, got: np.ndarray) -> bool:
    corpus, vocab, alpha = example
    smoothed = _counts(corpus, vocab, False) + alpha
    return bool(np.allclose(got, smoothed / smoothed.sum(axis=1, keepdims=True)))


def _columns(example: Corpus, got: np.ndarray) -> bool:
    corpus, vocab, alpha = example
    smoothed = _counts(corpus, vocab, True) + alpha
    return bool(np.allclose(got, smoothed / smoothed.sum(axis=0, keepdims=True)))


PROBS_DIAGNOSES = (
    Diagnosis(
        "no alpha V",
        "Your rows sum to more than 1: you added alpha to every count but not alpha * V to "
        "the denominator. Divide by count(a) + alpha * V (the row sum of the smoothed counts).",
        _no_alpha_v,
        ALPHA_V,
    ),
    Diagnosis(
        "no boundary tokens",
        'Your counts leave out the bigrams with ".": pad each sequence as ["."] + sequence '
        '+ ["."] before counting, so the model learns how sequences start and end.',
        _no_boundaries,
        BOUNDARIES,
    ),
    Diagnosis(
        "columns normalised",
        "Your columns sum to 1, not your rows: you normalised down axis 0. Row i holds "
        "P(next | vocab[i]): divide each row of the smoothed counts by its own sum (axis=1).",
        _columns,
        ROWS,
    ),
)


def _log_probs(example: Scored, closing: bool) -> list[list[float]]:
    """ln P(next | prev) of each sequence's predicted tokens (with or without the closing
    ".")."""
    probs, vocab, sequences = example
    index = {token: i for i, token in enumerate(vocab)}
    out = []
    for sequence in sequences:
        padded = [BOUNDARY, *sequence] + ([BOUNDARY] if closing else [])
        out.append([math.log(probs[index[a], index[b]]) for a, b in zip(padded, padded[1:])])
    return out


def _exp_of_sum(example: Scored, got: np.ndarray) -> bool:
    total = -sum(sum(logs) for logs in _log_probs(example, True))
    return bool(np.allclose(got, math.exp(total)))


def _no_closing(example: Scored, got: np.ndarray) -> bool:
    logs = [x for seq in _log_probs(example, False) for x in seq]
    return bool(np.allclose(got, math.exp(-sum(logs) / len(logs))))


def _per_sequence(example: Scored, got: np.ndarray) -> bool:
    nll = np.array([-np.mean(logs) for logs in _log_probs(example, True)])
    return len(nll) > 1 and any(
        np.allclose(got, value) for value in (np.exp(nll.mean()), np.exp(nll).mean())
    )


def _nll(example: Scored, got: np.ndarray) -> bool:
    logs = [x for seq in _log_probs(example, True) for x in seq]
    return bool(np.allclose(got, -sum(logs) / len(logs)))


PERPLEXITY_DIAGNOSES = (
    Diagnosis(
        "exp of the sum",
        "Your perplexity is exp of the total negative log-probability: divide the sum by N, "
        "the number of predicted tokens, before exp.",
        _exp_of_sum,
        MEAN_NLL,
    ),
    Diagnosis(
        "no closing token",
        'Your perplexity leaves out the prediction of each closing ".": score every bigram of '
        '["."] + sequence + ["."], N = sum of len(sequence) + 1.',
        _no_closing,
        PREDICTED,
    ),
    Diagnosis(
        "averaged per sequence",
        "Your perplexity averages over sequences: average the negative log-probabilities "
        "over all predicted tokens of all sequences together, then take exp.",
        _per_sequence,
        PREDICTED,
    ),
    Diagnosis(
        "NLL, not perplexity",
        "You returned the mean negative log-likelihood: perplexity is exp of it.",
        _nll,
        UNIFORM,
    ),
)


# Properties -------------------------------------------------------------------------------------


def _probs(learner: Learner, example: Corpus) -> np.ndarray:
    corpus, vocab, alpha = example
    size = len(vocab)
    return array(learner("bigram_probs", corpus, vocab, alpha), (size, size), "bigram_probs")


def rows_sum_to_one(learner: Learner, example: Corpus) -> None:
    probs = _probs(learner, example)
    sums = probs.sum(axis=1)
    if not np.allclose(sums, 1.0) or (probs <= 0).any():
        raise Mismatch(
            f"the rows of bigram_probs sum to {show(sums)}, expected 1 each "
            f"(and every entry > 0 with alpha > 0): {show(probs)}",
            got=probs,
        )


def probs_match(learner: Learner, example: Corpus) -> None:
    close(_probs(learner, example), ref.bigram_probs(*example), "bigram_probs")


def _perplexity(learner: Learner, example: Scored) -> np.ndarray:
    probs, vocab, sequences = example
    return array(learner("perplexity", probs, vocab, sequences), (), "perplexity")


def uniform_perplexity(learner: Learner, example: Scored) -> None:
    got = _perplexity(learner, example)
    close(got, np.array(float(len(example[1]))), "the perplexity of a uniform model (V)")


def perplexity_matches(learner: Learner, example: Scored) -> None:
    close(_perplexity(learner, example), np.array(ref.perplexity(*example)), "perplexity")


CHECK = Check(
    13,
    "bigram",
    "Add-alpha smoothed bigram model and perplexity",
    ("bigram_probs", "perplexity"),
    "bigram_probs(corpus, vocab, alpha) -> probs (V, V) float: corpus is a list of sequences "
    "(lists of token strings); vocab a list of the V distinct tokens with the boundary token "
    '"." first (vocab[0] == "."); each sequence is read as ["."] + sequence + ["."]; '
    "probs[i, j] = P(vocab[j] | vocab[i]) = (count(i, j) + alpha) / (count(i) + alpha * V), "
    "count(i) = the times vocab[i] is followed by a token (row sum of the counts); alpha > 0. "
    "perplexity(probs, vocab, sequences) -> float: exp of the mean of -ln probs[prev, next] "
    'over every predicted token, i.e. all bigrams of ["."] + sequence + ["."] of all '
    "sequences (N = sum of len(sequence) + 1).",
    (
        Property(
            "each row of P(next | prev) sums to 1",
            corpora(),
            rows_sum_to_one,
            SMOOTHING,
            describe_corpus,
            PROBS_DIAGNOSES,
        ),
        Property(
            "P(next | prev) = (count(prev, next) + alpha) / (count(prev) + alpha V)",
            corpora(),
            probs_match,
            SMOOTHING,
            describe_corpus,
            PROBS_DIAGNOSES,
        ),
        Property(
            "a uniform model has perplexity V",
            scored(uniform=True),
            uniform_perplexity,
            UNIFORM,
            describe_scored,
            PERPLEXITY_DIAGNOSES,
        ),
        Property(
            "perplexity is exp of the mean NLL over all predicted tokens",
            scored(uniform=False),
            perplexity_matches,
            PREDICTED,
            describe_scored,
            PERPLEXITY_DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)
