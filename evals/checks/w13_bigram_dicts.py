# week 13 bigram: pass (pure-Python counting in dictionaries, perplexity as 2 ** of the mean log2 loss)
import math

import numpy as np


def bigram_probs(corpus, vocab, alpha):
    counts: dict[tuple[str, str], int] = {}
    for sentence in corpus:
        tokens = ["."] + list(sentence) + ["."]
        for prev, nxt in zip(tokens, tokens[1:]):
            counts[(prev, nxt)] = counts.get((prev, nxt), 0) + 1
    probs = np.zeros((len(vocab), len(vocab)))
    for i, prev in enumerate(vocab):
        total = sum(counts.get((prev, nxt), 0) for nxt in vocab)
        for j, nxt in enumerate(vocab):
            probs[i, j] = (counts.get((prev, nxt), 0) + alpha) / (total + alpha * len(vocab))
    return probs


def perplexity(probs, vocab, sequences):
    position = {token: i for i, token in enumerate(vocab)}
    bits, n = 0.0, 0
    for sentence in sequences:
        tokens = ["."] + list(sentence) + ["."]
        for prev, nxt in zip(tokens, tokens[1:]):
            bits -= math.log2(probs[position[prev]][position[nxt]])
            n += 1
    return 2 ** (bits / n)
