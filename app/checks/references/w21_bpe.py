"""Week 21 reference: learning byte-pair-encoding (BPE) merges from word counts.

Conventions: every word starts as its characters (no end-of-word marker). A pair's frequency
is the sum, over words, of the word's count times the number of adjacent positions holding
that pair (overlapping positions each count: "aaa" holds ("a", "a") twice). Each step merges
the most frequent pair, ties going to the smallest (first, second) pair as Python compares
tuples of strings, and replaces its occurrences in every word left to right without overlap
("aaa" becomes "aa" + "a"). Merging stops early when no word has two symbols left.
"""

from __future__ import annotations

from collections import Counter


def merge_pair(symbols, pair):
    """`symbols` with every occurrence of `pair` joined, scanning left to right."""
    merged, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            merged.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return merged


def bpe_merges(words, n_merges):
    """words: dict word -> count (count >= 1); n_merges >= 0 -> list of at most n_merges
    merged pairs (first, second) in the order they were learned."""
    segmented = {word: list(word) for word in words}
    merges = []
    for _ in range(n_merges):
        pairs: Counter[tuple[str, str]] = Counter()
        for word, symbols in segmented.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += words[word]
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        segmented = {word: merge_pair(symbols, best) for word, symbols in segmented.items()}
    return merges
