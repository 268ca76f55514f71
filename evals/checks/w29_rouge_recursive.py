# week 29 rouge: pass (clipping through the reference side's Counter, LCS by memoised recursion, results as a NumPy array)
from collections import Counter
from functools import cache

import numpy as np


def _f(p, r):
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def rouge_n(candidate, reference, n):
    cand = Counter(zip(*[candidate[i:] for i in range(n)]))
    ref = Counter(zip(*[reference[i:] for i in range(n)]))
    overlap = sum(min(count, cand[g]) for g, count in ref.items())
    p = overlap / max(sum(cand.values()), 1)
    r = overlap / max(sum(ref.values()), 1)
    return np.array([p, r, _f(p, r)])


def rouge_l(candidate, reference):
    a, b = tuple(candidate), tuple(reference)

    @cache
    def lcs(i, j):
        if i == len(a) or j == len(b):
            return 0
        if a[i] == b[j]:
            return 1 + lcs(i + 1, j + 1)
        return max(lcs(i + 1, j), lcs(i, j + 1))

    p, r = lcs(0, 0) / len(a), lcs(0, 0) / len(b)
    return np.array([p, r, _f(p, r)])
