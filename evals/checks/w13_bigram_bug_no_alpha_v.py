# week 13 bigram: fail "each row of P(next | prev) sums to 1" [no alpha V] (alpha added to the counts but not alpha * V to the denominator)
import numpy as np


def bigram_probs(corpus, vocab, alpha):
    stoi = {t: i for i, t in enumerate(vocab)}
    N = np.zeros((len(vocab), len(vocab)))
    for s in corpus:
        seq = ["."] + s + ["."]
        for a, b in zip(seq, seq[1:]):
            N[stoi[a], stoi[b]] += 1
    return (N + alpha) / (N.sum(axis=1, keepdims=True) + alpha)


def perplexity(probs, vocab, sequences):
    stoi = {t: i for i, t in enumerate(vocab)}
    nll = []
    for s in sequences:
        seq = ["."] + s + ["."]
        nll += [-np.log(probs[stoi[a], stoi[b]]) for a, b in zip(seq, seq[1:])]
    return float(np.exp(np.mean(nll)))
