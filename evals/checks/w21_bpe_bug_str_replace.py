# week 21 bpe: fail "never joins part of a symbol" [merged inside symbols] (merges with str.replace on the space-joined symbols, so "a b" also matches inside "xa b")
from collections import Counter


def bpe_merges(words, n_merges):
    vocab = {" ".join(w): c for w, c in words.items()}
    merges = []
    for _ in range(n_merges):
        pairs: Counter[tuple[str, str]] = Counter()
        for word, c in vocab.items():
            symbols = word.split()
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        vocab = {w.replace(" ".join(best), "".join(best)): c for w, c in vocab.items()}
    return merges
