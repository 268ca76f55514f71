# week 29 rouge: fail "ROUGE-L uses the longest common subsequence" [longest common substring] (ROUGE-L from the longest common contiguous run instead of the subsequence)
from collections import Counter


def scores(overlap, n_cand, n_ref):
    p = overlap / n_cand if n_cand else 0.0
    r = overlap / n_ref if n_ref else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def rouge_n(candidate, reference, n):
    cand = Counter(tuple(candidate[i : i + n]) for i in range(len(candidate) - n + 1))
    ref = Counter(tuple(reference[i : i + n]) for i in range(len(reference) - n + 1))
    return scores(sum((cand & ref).values()), sum(cand.values()), sum(ref.values()))


def rouge_l(candidate, reference):
    best = 0
    for i in range(len(candidate)):
        for j in range(len(reference)):
            k = 0
            while (
                i + k < len(candidate)
                and j + k < len(reference)
                and candidate[i + k] == reference[j + k]
            ):
                k += 1
            best = max(best, k)
    return scores(best, len(candidate), len(reference))
