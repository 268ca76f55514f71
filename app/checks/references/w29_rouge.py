"""Week 29 reference: ROUGE-N and ROUGE-L of a candidate summary against one reference.

Both take token lists and return (precision, recall, f1) as floats, f1 = 2PR / (P + R). A
score whose denominator is 0 (no n-grams on that side, or P + R = 0) is 0.
"""

from __future__ import annotations

from collections import Counter


def _ratio(part, whole):
    return part / whole if whole else 0.0


def _scores(overlap, n_candidate, n_reference):
    precision = _ratio(overlap, n_candidate)
    recall = _ratio(overlap, n_reference)
    return precision, recall, _ratio(2 * precision * recall, precision + recall)


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(candidate, reference, n):
    """ROUGE-N: overlap = sum over n-grams g of min(count in candidate, count in reference)
    (clipped counts); precision = overlap / candidate's n-grams, recall = overlap /
    reference's n-grams."""
    cand, ref = _ngrams(candidate, n), _ngrams(reference, n)
    overlap = sum((cand & ref).values())
    return _scores(overlap, sum(cand.values()), sum(ref.values()))


def lcs_length(a, b):
    """Length of the longest common subsequence (in order, gaps allowed) of two lists."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(candidate, reference):
    """ROUGE-L: precision = LCS / len(candidate), recall = LCS / len(reference)."""
    return _scores(lcs_length(candidate, reference), len(candidate), len(reference))
