"""Week 22: TF-IDF weights, tf = raw count and idf = ln(N / df), as the notes define them.

Inputs are 2-4 short documents over the words "movie", "great", "awful", "plot", with a
vocabulary of some of those words in any order (so tokens outside it occur); one property
puts "movie" in every document, another adds "boring", a vocabulary word no document holds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from app.checks.hints import Hint
from app.checks.properties import Check
from app.checks.properties import Diagnosis
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import array
from app.checks.properties import close
from app.checks.properties import show
from app.checks.references import w22_tfidf as ref

WORDS = ("movie", "great", "awful", "plot")
UNSEEN = "boring"

Example = tuple[list[list[str]], list[str]]  # docs, vocab

FORMULA = Hint(
    "tfidf(t, d) = count of t in d * ln(N / df(t)), df(t) = the number of documents that "
    "contain t (each document once, however often t occurs in it).",
    22,
    "Bag of words and TF-IDF",
    "number of documents containing",
)
EVERYWHERE = Hint(
    "A term in all N documents has idf ln(N / N) = 0, so its weight is 0 in every document.",
    22,
    "Bag of words and TF-IDF",
    "so its idf is",
)
LOG = Hint(
    "idf is the natural log of N / df(t), not the ratio itself.",
    22,
    "Bag of words and TF-IDF",
    "\\log\\frac{N}",
)
SKLEARN = Hint(
    "This check uses the plain formula: idf = ln(N / df), no +1 smoothing and no L2 "
    "normalisation (scikit-learn's defaults).",
    22,
    "Bag of words and TF-IDF",
    "scikit-learn's default",
)


@st.composite
def documents(draw: st.DrawFn, everywhere: bool = False, unseen: bool = False) -> Example:
    """2-4 documents of 1-5 words; a vocabulary of 1-4 of the words they use, in any order,
    one of them missing from some document, so that idf is not 0 everywhere and the common
    wrong formulas all give different weights (`everywhere`: "movie" starts every document
    and is in the vocabulary; `unseen`: the vocabulary ends with a word no document holds)."""
    docs = draw(
        st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5), min_size=2, max_size=4)
    )
    if everywhere:
        docs = [["movie", *doc] for doc in docs]
    used = sorted({w for doc in docs for w in doc}, key=WORDS.index)
    vocab = draw(st.lists(st.sampled_from(used), min_size=1, max_size=len(used), unique=True))
    if everywhere and "movie" not in vocab:
        vocab = ["movie", *vocab]
    assume(any(any(term not in doc for doc in docs) for term in vocab))
    return docs, ([*vocab, UNSEEN] if unseen else vocab)


def describe(example: Example) -> str:
    docs, vocab = example
    return f"docs={docs!r}, vocab={vocab!r}"


# What the common bugs return -----------------------------------------------------------------------


def _counts(docs: list[list[str]], vocab: list[str]) -> np.ndarray:
    return np.array([[doc.count(term) for term in vocab] for doc in docs], dtype=float)


def _weights(example: Example, bug: str) -> np.ndarray:
    """TF-IDF as `bug` computes it."""
    docs, vocab = example
    tf = _counts(docs, vocab)
    n = len(docs)
    df = np.maximum((tf > 0).sum(axis=0), 1)
    if bug == "no log":
        return tf * n / df
    if bug == "df counts occurrences":
        return tf * np.log(n / np.maximum(tf.sum(axis=0), 1))
    if bug == "tf divided by length":
        return tf / np.array([[len(doc)] for doc in docs]) * np.log(n / df)
    if bug == "log base 10":
        return tf * np.log10(n / df)
    smoothed = tf * (np.log((1 + n) / (1 + df)) + 1)
    if bug == "smoothed idf":
        return smoothed
    norms = np.linalg.norm(smoothed, axis=1, keepdims=True)
    return smoothed / np.where(norms > 0, norms, 1)  # "scikit-learn's TfidfVectorizer"


def _fits(bug: str) -> Callable[[Example, np.ndarray], bool]:
    """Whether `got` is `bug`'s weights on the columns of terms that occur (and the bug
    differs from the reference there)."""

    def fits(example: Example, got: np.ndarray) -> bool:
        seen = _counts(*example).sum(axis=0) > 0
        wrong, right = _weights(example, bug)[:, seen], ref.tfidf(*example)[:, seen]
        return not np.allclose(wrong, right) and bool(np.allclose(got[:, seen], wrong))

    return fits


def _unseen_nan(example: Example, got: np.ndarray) -> bool:
    seen = _counts(*example).sum(axis=0) > 0
    return (
        not seen.all()
        and not np.isfinite(got[:, ~seen]).all()
        and bool(np.allclose(got[:, seen], ref.tfidf(*example)[:, seen]))
    )


DIAGNOSES = (
    Diagnosis(
        "NaN for an unseen term",
        "Your weights are NaN or infinite for a term that no document contains (ln(N / 0)): "
        "give such a term weight 0, e.g. idf = np.log(N / np.maximum(df, 1)).",
        _unseen_nan,
        FORMULA,
    ),
    Diagnosis(
        "no log",
        "Your idf is N / df(t) itself: take its natural log, np.log(N / df).",
        _fits("no log"),
        LOG,
    ),
    Diagnosis(
        "df counts occurrences",
        "Your df(t) counts every occurrence of t in the collection: count the documents that "
        "contain t, (counts > 0).sum(axis=0).",
        _fits("df counts occurrences"),
        FORMULA,
    ),
    Diagnosis(
        "tf divided by length",
        "Your tf is the count divided by the document's length: this check's tf(t, d) is the "
        "raw count of t in d.",
        _fits("tf divided by length"),
        FORMULA,
    ),
    Diagnosis(
        "log base 10",
        "Your idf uses log base 10: use the natural log, np.log.",
        _fits("log base 10"),
        EVERYWHERE,
    ),
    Diagnosis(
        "smoothed idf",
        "Your idf is scikit-learn's smoothed ln((1 + N) / (1 + df)) + 1: this check asks for "
        "the plain ln(N / df).",
        _fits("smoothed idf"),
        SKLEARN,
    ),
    Diagnosis(
        "scikit-learn's TfidfVectorizer",
        "Your weights are scikit-learn's (smoothed idf, rows L2-normalised): this check asks "
        "for count * ln(N / df), with neither.",
        _fits("scikit-learn's TfidfVectorizer"),
        SKLEARN,
    ),
)


# Properties -------------------------------------------------------------------------------------


def _tfidf(learner: Learner, example: Example) -> np.ndarray:
    docs, vocab = example
    return array(learner("tfidf", docs, vocab), (len(docs), len(vocab)), "tfidf")


def everywhere_zero(learner: Learner, example: Example) -> None:
    got = _tfidf(learner, example)
    column = got[:, example[1].index("movie")]
    if not np.allclose(column, 0.0):
        raise Mismatch(
            f'"movie" is in every document, yet its weights are {show(column)}, expected 0',
            got=got,
        )


def weights_match(learner: Learner, example: Example) -> None:
    close(_tfidf(learner, example), ref.tfidf(*example), "tfidf")


def unseen_zero(learner: Learner, example: Example) -> None:
    got = _tfidf(learner, example)
    close(got[:, -1], np.zeros(len(got)), f'the column of "{UNSEEN}" (in no document)')
    close(got, ref.tfidf(*example), "tfidf")


CHECK = Check(
    22,
    "tfidf",
    "TF-IDF weights from scratch",
    ("tfidf",),
    "tfidf(docs, vocab) -> weights (N, V) float: docs is a list of N documents, each a list "
    "of token strings; vocab a list of V distinct terms; weights[i, j] = tf * idf with tf = "
    "the raw count of vocab[j] in docs[i] and idf = ln(N / df), df = the number of documents "
    "containing vocab[j] (natural log, no smoothing, no normalisation); a term in no "
    "document gets weight 0; tokens not in vocab are ignored.",
    (
        Property(
            "a term in every document gets weight 0",
            documents(everywhere=True),
            everywhere_zero,
            EVERYWHERE,
            describe,
            DIAGNOSES,
        ),
        Property(
            "weights are count * ln(N / df), df counting documents",
            documents(),
            weights_match,
            FORMULA,
            describe,
            DIAGNOSES,
        ),
        Property(
            "a vocabulary term in no document gets weight 0, not NaN",
            documents(unseen=True),
            unseen_zero,
            FORMULA,
            describe,
            DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)
