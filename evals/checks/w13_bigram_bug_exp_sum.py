# week 13 bigram: fail "a uniform model has perplexity V" [exp of the sum] (perplexity as exp of the summed NLL instead of the mean)
import numpy as np


def bigram_probs(corpus, vocab, alpha):
    stoi = {t: i for i, t in enumerate(vocab)}
    N = np.zeros((len(vocab), len(vocab)))
    for s in corpus:
        seq = ["."] + s + ["."]
        for a, b in zip(seq, seq[1:]):
            N[stoi[a], stoi[b]] += 1
    P = N + alpha
    return P / P.sum(axis=1, keepdims=True)


def perplexity(probs, vocab, sequences):
    stoi = {t: i for i, t in enumerate(vocab)}
    nll = 0.0
    for s in sequences:
        seq = ["."] + s + ["."]
        for a, b in zip(seq, seq[1:]):
            nll -= np.log(probs[stoi[a], stoi[b]])
    return float(np.exp(nll))
