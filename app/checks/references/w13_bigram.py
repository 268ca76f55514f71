"""Week 13 reference: an add-alpha (Laplace) smoothed bigram language model and its perplexity.

Conventions: a corpus is a list of sequences, each a list of token strings; `vocab` lists the
V distinct tokens, with the boundary token "." first (vocab[0] == "."), and index i stands for
vocab[i]. Every sequence is read as ["."] + sequence + ["."], so the model also learns how
sequences begin (the row of ".") and end (the column of ".").
"""

from __future__ import annotations

import math

import numpy as np

BOUNDARY = "."


def _bigrams(sequence, index):
    """The (prev, next) index pairs of one sequence with its boundary tokens."""
    padded = [BOUNDARY, *sequence, BOUNDARY]
    return [(index[a], index[b]) for a, b in zip(padded, padded[1:])]


def bigram_probs(corpus, vocab, alpha):
    """corpus: list of token lists; vocab: V tokens (vocab[0] == "."); alpha > 0 ->
    probs (V, V) float, probs[i, j] = P(vocab[j] | vocab[i])
    = (count(i, j) + alpha) / (count(i) + alpha * V), count(i) = the times vocab[i] is a
    context (the row sum of the bigram counts). Each row sums to 1."""
    index = {token: i for i, token in enumerate(vocab)}
    counts = np.zeros((len(vocab), len(vocab)))
    for sequence in corpus:
        for a, b in _bigrams(sequence, index):
            counts[a, b] += 1
    smoothed = counts + alpha
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def perplexity(probs, vocab, sequences):
    """probs (V, V) as bigram_probs returns; sequences: list of token lists ->
    exp(-(1/N) * sum of ln P(next | prev)) over every predicted token of every sequence,
    the closing "." included and the opening one not: N = sum of (len(sequence) + 1)."""
    index = {token: i for i, token in enumerate(vocab)}
    log_probs = [
        math.log(probs[a, b]) for sequence in sequences for a, b in _bigrams(sequence, index)
    ]
    return math.exp(-sum(log_probs) / len(log_probs))
