# week 21 bpe: pass (words as tuples of symbols in a Counter, the best pair by sorting (-count, pair), each tuple rebuilt after a merge)
from collections import Counter


def merge(symbols, a, b):
    out, i = [], 0
    while i < len(symbols):
        if symbols[i : i + 2] == (a, b):
            out.append(a + b)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def bpe_merges(words, n_merges):
    corpus = Counter({tuple(w): c for w, c in words.items()})
    merges: list[tuple[str, str]] = []
    while len(merges) < n_merges:
        pairs: Counter[tuple[str, str]] = Counter()
        for symbols, count in corpus.items():
            for a, b in zip(symbols, symbols[1:]):
                pairs[a, b] += count
        if not pairs:
            break
        (a, b), _ = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append((a, b))
        corpus = Counter({merge(s, a, b): c for s, c in corpus.items()})
    return merges
